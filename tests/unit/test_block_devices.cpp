// common/block_devices.h: request operation names (from the kernel's BTF,
// or given), and the case changes between the kernel's names, the text
// output's and Prometheus label values.
#include "block_devices.h"

#include <catch2/catch.hpp>

namespace test_block_devices {

using namespace corescope;

TEST_CASE("block operations: the kernel's names, Other, OpN", "[block_devices]") {
    BlockOperationNames given(0xffff, {{0, "Read"}, {9, "WriteZeroes"}});
    CHECK(given.name(0) == "Read");
    CHECK(given.name(9) == "WriteZeroes");
    CHECK(given.name(0xffff) == "Other");
    CHECK(given.name(42) == "Op42");

    // This kernel's (its BTF's REQ_OP_*, else the numbers held since 4.10):
    // the first four have kept their numbers.
    BlockOperationNames kernel(0xffff);
    CHECK(kernel.name(0) == "Read");
    CHECK(kernel.name(1) == "Write");
    CHECK(kernel.name(2) == "Flush");
    CHECK(kernel.name(3) == "Discard");
    CHECK(kernel.name(0xffff) == "Other");
    CHECK(kernel.name(200) == "Op200");
}

TEST_CASE("block operations: WRITE_ZEROES, WriteZeroes, write_zeroes", "[block_devices]") {
    CHECK(camel_case("WRITE_ZEROES") == "WriteZeroes");
    CHECK(camel_case("READ") == "Read");
    CHECK(camel_case("ZONE_RESET_ALL") == "ZoneResetAll");
    CHECK(snake_case("WriteZeroes") == "write_zeroes");
    CHECK(snake_case("Read") == "read");
    CHECK(snake_case("Op9") == "op9");
    CHECK(snake_case("") == "");
}

} // namespace test_block_devices
