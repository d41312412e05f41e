#include "flag_names.h"

#include <catch2/catch.hpp>
#include <fcntl.h>

namespace test_flag_names {

using namespace corescope;

TEST_CASE("open_flag_names names the access mode and each flag", "[flag_names]") {
    CHECK(open_flag_names(O_WRONLY | O_CREAT | O_TRUNC) == "O_WRONLY|O_CREAT|O_TRUNC");
    CHECK(open_flag_names(O_RDONLY) == "O_RDONLY");
    CHECK(open_flag_names(O_RDWR | O_SYNC) == "O_RDWR|O_SYNC");
}

TEST_CASE("flag_names joins the names of the bits set, in table order, and the rest in hex",
          "[flag_names]") {
    constexpr FlagName names[] = {{1, "A"}, {2, "B"}, {0x30, "CD"}, {0, "ZERO"}};
    CHECK(flag_names(0, names) == "0");
    CHECK(flag_names(3, names) == "A|B");
    CHECK(flag_names(2 | 1, names) == "A|B");
    // A name of several bits only when all are set.
    CHECK(flag_names(0x30, names) == "CD");
    CHECK(flag_names(0x10, names) == "0x10");
    CHECK(flag_names(0x1 | 0x100, names) == "A|0x100");
    CHECK(flag_names(0x100, names) == "0x100");
}

} // namespace test_flag_names
