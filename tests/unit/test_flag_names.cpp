#include "decode_arch.h"
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

TEST_CASE("open_flag_names reads the four bits arm64 moves by the architecture's values",
          "[flag_names]") {
    struct Restore {
        ~Restore() { use_decode_arch_for_tests(DecodeArch::native); }
    } restore;
    // The C library's values are those of the architecture built for.
    std::string native = open_flag_names(O_RDONLY | O_DIRECT | O_DIRECTORY | O_NOFOLLOW);
    CHECK(native == "O_RDONLY|O_DIRECT|O_DIRECTORY|O_NOFOLLOW");
#if defined(__x86_64__)
    use_decode_arch_for_tests(DecodeArch::x86_64);
#elif defined(__aarch64__)
    use_decode_arch_for_tests(DecodeArch::aarch64);
#endif
    CHECK(open_flag_names(O_RDONLY | O_DIRECT | O_DIRECTORY | O_NOFOLLOW) == native);
    // x86_64's (and asm-generic's) O_DIRECT 040000, O_DIRECTORY 0200000,
    // O_NOFOLLOW 0400000; arm64's O_DIRECTORY 040000, O_NOFOLLOW 0100000,
    // O_DIRECT 0200000 (O_LARGEFILE, 0100000 and 0400000, is never named:
    // the C library's is 0 on 64-bit systems).
    use_decode_arch_for_tests(DecodeArch::x86_64);
    CHECK(open_flag_names(040000) == "O_RDONLY|O_DIRECT");
    CHECK(open_flag_names(0200000 | 02000000) == "O_RDONLY|O_DIRECTORY|O_CLOEXEC");
    CHECK(open_flag_names(0400000) == "O_RDONLY|O_NOFOLLOW");
    use_decode_arch_for_tests(DecodeArch::aarch64);
    CHECK(open_flag_names(040000) == "O_RDONLY|O_DIRECTORY");
    CHECK(open_flag_names(0200000 | 02000000) == "O_RDONLY|O_DIRECT|O_CLOEXEC");
    CHECK(open_flag_names(0100000) == "O_RDONLY|O_NOFOLLOW");
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
