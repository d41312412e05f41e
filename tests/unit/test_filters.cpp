// The user-space filter helpers (common/filters.h).
#include "filters.h"
#include "run.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

namespace test_filters {

using namespace corescope;
using Catch::Matchers::Contains;

namespace {

// The rodata and maps a skeleton using bpf/filters.bpf.h has, enough for
// configure_filters().
struct FakeFilterSkeleton {
    struct Rodata {
        bool filter_by_pid = false;
        uint32_t filter_single_tgid = 12345;
        uint32_t filter_tid = 12345;
        bool filter_by_uid = false;
        uint32_t filter_uid = 12345;
        bool filter_by_cgroup = false;
    };
    Rodata rodata_storage;
    Rodata* rodata = &rodata_storage;
};

} // namespace

TEST_CASE("filters: comm_matches is a substring match, empty matches all", "[filters]") {
    CHECK(comm_matches("bash", ""));
    CHECK(comm_matches("", ""));
    CHECK(comm_matches("bash", "bash"));
    CHECK(comm_matches("bash", "as"));
    CHECK(comm_matches("kworker/0:1", "worker"));
    CHECK_FALSE(comm_matches("bash", "zsh"));
    CHECK_FALSE(comm_matches("ba", "bash"));
    CHECK_FALSE(comm_matches("", "x"));
    CHECK_FALSE(comm_matches("Bash", "bash")); // case matters, as in the kernel
}

TEST_CASE("filters: fixed_string views kernel char arrays", "[filters]") {
    char full[16];
    std::memcpy(full, "abcdefghijklmnop", 16); // TASK_COMM_LEN bytes, no NUL
    CHECK(fixed_string(full).size() == 16);
    CHECK(fixed_string(full) == "abcdefghijklmnop");

    char terminated[16] = "bash";
    CHECK(fixed_string(terminated) == "bash");
    CHECK(fixed_string(terminated).size() == 4);

    char trailing_garbage[16];
    std::memset(trailing_garbage, 'Z', sizeof trailing_garbage);
    std::memcpy(trailing_garbage, "sh\0", 3);
    CHECK(fixed_string(trailing_garbage) == "sh");

    char empty[16] = {};
    CHECK(fixed_string(empty).empty());

    char one[1] = {'x'};
    CHECK(fixed_string(one) == "x");

    // Together: -n on an unterminated comm.
    CHECK(comm_matches(fixed_string(full), "nop"));
    CHECK_FALSE(comm_matches(fixed_string(trailing_garbage), "ZZ"));
}

TEST_CASE("filters: configure_filters sets the rodata switches", "[filters]") {
    FakeFilterSkeleton skel;
    CommonOptions none;
    configure_filters(&skel, none);
    CHECK_FALSE(skel.rodata->filter_by_pid);
    CHECK(skel.rodata->filter_single_tgid == 0);
    CHECK(skel.rodata->filter_tid == 0);
    CHECK_FALSE(skel.rodata->filter_by_uid);
    CHECK_FALSE(skel.rodata->filter_by_cgroup);

    CommonOptions some;
    some.pids = {10, 20};
    some.uid = 0; // root is a user like any other
    some.cgroup = "/sys/fs/cgroup/system.slice";
    configure_filters(&skel, some);
    CHECK(skel.rodata->filter_by_pid); // two PIDs: the set
    CHECK(skel.rodata->filter_single_tgid == 0);
    CHECK(skel.rodata->filter_by_uid);
    CHECK(skel.rodata->filter_uid == 0);
    CHECK(skel.rodata->filter_by_cgroup);

    CommonOptions single;
    single.pids = {4242};
    configure_filters(&skel, single);
    CHECK_FALSE(skel.rodata->filter_by_pid); // one PID: a compare, no set
    CHECK(skel.rodata->filter_single_tgid == 4242);

    CommonOptions thread;
    thread.tid = 777;
    configure_filters(&skel, thread);
    CHECK(skel.rodata->filter_tid == 777);
    CHECK_FALSE(skel.rodata->filter_by_pid);

    CommonOptions max;
    for (uint32_t p = 1; p <= filter_max_pids; p++)
        max.pids.push_back(p);
    CHECK_NOTHROW(configure_filters(&skel, max));
    max.pids.push_back(1000);
    CHECK_THROWS_AS(configure_filters(&skel, max), UsageError);
}

namespace {
// Stand-ins for skeletons: what check_declared_filters looks for.
struct SkeletonWithoutFilters {
    struct {
        void* events_lost;
    } maps;
    struct {
        bool events_use_ringbuf;
    } * rodata;
};
struct SkeletonWithFilters {
    struct {
        void* events_lost;
        void* filter_pids;
    } maps;
    struct {
        bool failed_only;
    } * rodata;
};
} // namespace

TEST_CASE("a filter flag a tool declares must be one its BPF side applies", "[filters]") {
    CommonOptions options;
    options.accepted = {Flag::pid, Flag::duration};
    ToolSpec<SkeletonWithoutFilters> without{.name = "t", .options = options, .attach_steps = {}};
    CHECK_THROWS_WITH(check_declared_filters(without),
                      Contains("takes -p but its BPF side has no PID filter"));
    ToolSpec<SkeletonWithFilters> with{.name = "t", .options = options, .attach_steps = {}};
    CHECK_NOTHROW(check_declared_filters(with));
    options.accepted = {Flag::failed};
    CHECK_THROWS_WITH(check_declared_filters(without), Contains("-x"));
    CHECK_NOTHROW(check_declared_filters(with));
    options.accepted = {Flag::interval};
    CHECK_THROWS_WITH(check_declared_filters(with), Contains("interval"));
}

} // namespace test_filters
