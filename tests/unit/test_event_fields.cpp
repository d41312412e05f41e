// Paths of events (common/event_fields.h): components joined, and a name
// argument taken from its directory as the kernel would, lexically.
#include "event_fields.h"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>

namespace test_event_fields {

using namespace corescope;

TEST_CASE("path_from_components joins leaf-first components", "[event_fields]") {
    using namespace std::string_view_literals;
    CHECK(path_from_components("log\0var\0"sv, true) == "/var/log");
    CHECK(path_from_components("log\0"sv, false) == ".../log");
    CHECK(path_from_components(""sv, true) == "/");
}

TEST_CASE("tail_array: what was sent of an event's last array, as many as it says",
          "[event_fields]") {
    struct Event {
        uint32_t frames;
        uint32_t pad;
        uint64_t stack[4];
    } e{3, 0, {1, 2, 3, 4}};
    size_t head = offsetof(Event, stack);
    CHECK(tail_array(&e, sizeof e, e.stack, e.frames).size() == 3);
    CHECK(tail_array(&e, sizeof e, e.stack, e.frames)[2] == 3);
    // Sent only two frames' worth (and a stray byte): two, whatever it says.
    CHECK(tail_array(&e, head + 2 * sizeof(uint64_t) + 1, e.stack, e.frames).size() == 2);
    // Says more than the array holds: the array.
    CHECK(tail_array(&e, sizeof e, e.stack, 1000).size() == 4);
    // Nothing sent past the head.
    CHECK(tail_array(&e, head, e.stack, e.frames).empty());
    CHECK(tail_array(&e, 4, e.stack, e.frames).empty());
}

TEST_CASE("join_path_lexically resolves a name against its directory", "[event_fields]") {
    CHECK(join_path_lexically("/tmp/scratch", "a.txt") == "/tmp/scratch/a.txt");
    CHECK(join_path_lexically("/tmp/scratch", "./sub//b") == "/tmp/scratch/sub/b");
    CHECK(join_path_lexically("/tmp/scratch", "../c") == "/tmp/c");
    CHECK(join_path_lexically("/tmp/scratch", "/etc/passwd") == "/etc/passwd");
    CHECK(join_path_lexically("/", "../../x") == "/x");
    CHECK(join_path_lexically("/", "") == "/");
    CHECK(join_path_lexically("/a", "b/..") == "/a");
    // A directory whose top the kernel did not reach keeps its "..." mark.
    CHECK(join_path_lexically(".../deep/dir", "f") == ".../deep/dir/f");
    CHECK(join_path_lexically(".../deep", "../../f") == ".../f");
}

} // namespace test_event_fields
