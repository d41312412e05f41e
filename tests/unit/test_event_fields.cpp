// Paths of events (common/event_fields.h): components joined, and a name
// argument taken from its directory as the kernel would, lexically.
#include "event_fields.h"

#include <catch2/catch.hpp>

namespace test_event_fields {

using namespace corescope;

TEST_CASE("path_from_components joins leaf-first components", "[event_fields]") {
    using namespace std::string_view_literals;
    CHECK(path_from_components("log\0var\0"sv, true) == "/var/log");
    CHECK(path_from_components("log\0"sv, false) == ".../log");
    CHECK(path_from_components(""sv, true) == "/");
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
