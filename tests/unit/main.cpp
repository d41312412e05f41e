// Catch2's main() for the unit tests; the test cases live in test_*.cpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
