// Skeleton ownership (common/skeleton.h) with a fake skeleton type that
// counts its destroy() calls.
#include "errors.h"
#include "skeleton.h"

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace test_skeleton {

using namespace corescope;
using Catch::Matchers::Contains;

namespace {

struct FakeSkeleton {
    int id = 0;

    static inline int destroyed = 0;
    static inline int last_destroyed_id = -1;
    static inline bool open_fails = false;
    static inline int open_errno = 0;

    static FakeSkeleton* open(const bpf_object_open_opts* /*opts*/) {
        if (open_fails) {
            errno = open_errno;
            return nullptr;
        }
        return new FakeSkeleton{};
    }
    static void destroy(FakeSkeleton* skeleton) {
        // bpftool's destroy accepts NULL; count only real ones.
        if (skeleton == nullptr) return;
        destroyed++;
        last_destroyed_id = skeleton->id;
        delete skeleton;
    }
    static void reset() {
        destroyed = 0;
        last_destroyed_id = -1;
        open_fails = false;
        open_errno = 0;
    }
};

using Ptr = SkeletonPtr<FakeSkeleton>;

static_assert(!std::is_copy_constructible_v<Ptr>, "a skeleton has one owner");
static_assert(!std::is_copy_assignable_v<Ptr>, "a skeleton has one owner");
static_assert(std::is_nothrow_move_constructible_v<Ptr>);
static_assert(std::is_nothrow_move_assignable_v<Ptr>);

Ptr make(int id) {
    Ptr p(new FakeSkeleton{});
    p->id = id;
    return p;
}

} // namespace

TEST_CASE("skeleton: destroyed exactly once on scope exit", "[skeleton]") {
    FakeSkeleton::reset();
    {
        Ptr p = make(1);
        CHECK(FakeSkeleton::destroyed == 0);
    }
    CHECK(FakeSkeleton::destroyed == 1);
    CHECK(FakeSkeleton::last_destroyed_id == 1);

    // An empty owner destroys nothing.
    { Ptr empty; }
    CHECK(FakeSkeleton::destroyed == 1);
}

TEST_CASE("skeleton: destroyed exactly once when an exception unwinds", "[skeleton]") {
    FakeSkeleton::reset();
    auto body = [] {
        Ptr p = make(2);
        throw RuntimeError("attach failed");
    };
    CHECK_THROWS_AS(body(), RuntimeError);
    CHECK(FakeSkeleton::destroyed == 1);
    CHECK(FakeSkeleton::last_destroyed_id == 2);
}

TEST_CASE("skeleton: moving hands over ownership", "[skeleton]") {
    FakeSkeleton::reset();
    {
        Ptr a = make(3);
        Ptr b = std::move(a);
        CHECK(a == nullptr); // NOLINT(bugprone-use-after-move): checking the moved-from state
        CHECK(b != nullptr);
        CHECK(FakeSkeleton::destroyed == 0);

        Ptr c;
        c = std::move(b);
        CHECK(FakeSkeleton::destroyed == 0);
        CHECK(c->id == 3);
    }
    CHECK(FakeSkeleton::destroyed == 1);
    CHECK(FakeSkeleton::last_destroyed_id == 3);

    // Assigning over an owner destroys what it held, right away.
    FakeSkeleton::reset();
    {
        Ptr old = make(4);
        old = make(5);
        CHECK(FakeSkeleton::destroyed == 1);
        CHECK(FakeSkeleton::last_destroyed_id == 4);
    }
    CHECK(FakeSkeleton::destroyed == 2);
    CHECK(FakeSkeleton::last_destroyed_id == 5);

    // Returned from a function: still one destroy.
    FakeSkeleton::reset();
    {
        auto factory = [] { return make(6); };
        Ptr from_factory = factory();
        CHECK(FakeSkeleton::destroyed == 0);
    }
    CHECK(FakeSkeleton::destroyed == 1);
}

TEST_CASE("skeleton: open_skeleton owns what it opened", "[skeleton]") {
    FakeSkeleton::reset();
    {
        Ptr p = open_skeleton<FakeSkeleton>("opensnoop", nullptr);
        REQUIRE(p != nullptr);
        CHECK(FakeSkeleton::destroyed == 0);
    }
    CHECK(FakeSkeleton::destroyed == 1);
}

TEST_CASE("skeleton: open_skeleton failure names the tool and the error", "[skeleton]") {
    FakeSkeleton::reset();
    FakeSkeleton::open_fails = true;
    FakeSkeleton::open_errno = ENOMEM;
    try {
        open_skeleton<FakeSkeleton>("opensnoop", nullptr);
        FAIL("open_skeleton did not throw");
    } catch (const RuntimeError& e) {
        CHECK_THAT(e.what(), Contains("opensnoop"));
        CHECK_THAT(e.what(), Contains(std::strerror(ENOMEM)));
        CHECK(e.exit_code() == exit_runtime_error);
    }

    // No errno from open: still an error that says something.
    FakeSkeleton::open_errno = 0;
    CHECK_THROWS_WITH(open_skeleton<FakeSkeleton>("execsnoop", nullptr),
                      Contains("execsnoop") && Contains(std::strerror(EINVAL)));
    CHECK(FakeSkeleton::destroyed == 0);
    FakeSkeleton::reset();
}

TEST_CASE("errors: errno_message and exit codes", "[errors]") {
    CHECK(errno_message("cannot open x", ENOENT) ==
          std::string("cannot open x: ") + std::strerror(ENOENT));
    CHECK(errno_message("cannot open x", -ENOENT) == errno_message("cannot open x", ENOENT));
    CHECK(UsageError("u").exit_code() == 2);
    CHECK(RuntimeError("r").exit_code() == 1);
    CHECK(exit_ok == 0);
}

} // namespace test_skeleton
