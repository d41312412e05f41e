// System call numbers to names (common/syscall_names.h) and the numbers the
// BPF programs on the raw sys_enter tracepoint pick their calls by
// (bpf/syscall_nr.bpf.h), for x86_64 and for arm64 (the generic table of
// asm-generic/unistd.h). The expected numbers are those of the kernel's
// arm64 and x86_64 UAPI headers (Debian's linux-libc-dev, both
// architectures).
#include <catch2/catch.hpp>

#include <string>

#include "syscall_names.h"

// The BPF header's arm64 branch: it only defines SYSCALL_NR_* macros.
#define __TARGET_ARCH_arm64
#include "syscall_nr.bpf.h"
#undef __TARGET_ARCH_arm64

namespace test_syscall_names {

using corescope::syscall_name;
namespace tables = corescope::syscall_tables;

TEST_CASE("arm64's system calls by number: the generic table", "[syscall_names]") {
    struct Known {
        size_t nr;
        const char* name;
    };
    for (auto [nr, name] :
         {Known{0, "io_setup"},    Known{38, "renameat"},     Known{56, "openat"},
          Known{57, "close"},      Known{63, "read"},         Known{64, "write"},
          Known{79, "newfstatat"}, Known{80, "fstat"},        Known{94, "exit_group"},
          Known{98, "futex"},      Known{101, "nanosleep"},   Known{115, "clock_nanosleep"},
          Known{129, "kill"},      Known{163, "getrlimit"},   Known{172, "getpid"},
          Known{198, "socket"},    Known{203, "connect"},     Known{220, "clone"},
          Known{221, "execve"},    Known{222, "mmap"},        Known{260, "wait4"},
          Known{280, "bpf"},       Known{281, "execveat"},    Known{435, "clone3"},
          Known{437, "openat2"},   Known{447, "memfd_secret"}}) {
        INFO(nr);
        REQUIRE(nr < std::size(tables::generic));
        CHECK(std::string(tables::generic[nr]) == name);
    }
    // arm64 has no open(), creat(), fork() or stat(): no slot names them.
    for (const auto& name : tables::generic)
        CHECK((name != "open" && name != "creat" && name != "fork" && name != "stat"));
    // The numbers shared by every architecture since 424 (cachestat, 451).
    CHECK(tables::generic[451] == "cachestat");
    CHECK(tables::x86_64[451] == "cachestat");
}

TEST_CASE("x86_64's system calls by number", "[syscall_names]") {
    CHECK(tables::x86_64[0] == "read");
    CHECK(tables::x86_64[2] == "open");
    CHECK(tables::x86_64[59] == "execve");
    CHECK(tables::x86_64[85] == "creat");
    CHECK(tables::x86_64[257] == "openat");
}

TEST_CASE("syscall_name uses the table of the architecture built for", "[syscall_names]") {
#if defined(__aarch64__)
    CHECK(syscall_name(56) == "openat");
    CHECK(syscall_name(221) == "execve");
    CHECK(corescope::syscall_table_size() == std::size(tables::generic));
#elif defined(__x86_64__)
    CHECK(syscall_name(257) == "openat");
    CHECK(syscall_name(59) == "execve");
    CHECK(corescope::syscall_table_size() == std::size(tables::x86_64));
#endif
    CHECK(syscall_name(100000).empty());
}

TEST_CASE("syscall_name reads another architecture's table in the golden tests",
          "[syscall_names]") {
    struct Restore {
        ~Restore() { corescope::use_decode_arch_for_tests(corescope::DecodeArch::native); }
    } restore;
    corescope::use_decode_arch_for_tests(corescope::DecodeArch::x86_64);
    CHECK(syscall_name(257) == "openat");
    CHECK(syscall_name(89) == "readlink");
    corescope::use_decode_arch_for_tests(corescope::DecodeArch::aarch64);
    CHECK(syscall_name(56) == "openat");
    CHECK(syscall_name(78) == "readlinkat");
    CHECK(syscall_name(100000).empty());
    corescope::use_decode_arch_for_tests(corescope::DecodeArch::native);
#if defined(__x86_64__)
    CHECK(syscall_name(257) == "openat");
#elif defined(__aarch64__)
    CHECK(syscall_name(56) == "openat");
#endif
}

TEST_CASE("the BPF programs' arm64 numbers (raw sys_enter tier)", "[syscall_names]") {
    CHECK(SYSCALL_NR_OPENAT == 56);
    CHECK(SYSCALL_NR_OPENAT2 == 437);
    CHECK(SYSCALL_NR_EXECVE == 221);
    CHECK(SYSCALL_NR_CLOSE == 57);
    CHECK(SYSCALL_NR_NEWFSTATAT == 79);
    // Calls arm64 lacks are -1, which no system call number matches.
    CHECK(SYSCALL_NR_OPEN == -1);
    CHECK(SYSCALL_NR_CREAT == -1);
    CHECK(SYSCALL_NR_STAT == -1);
}

} // namespace test_syscall_names
