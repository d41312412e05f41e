// The symbolizer (common/symbolizer.h): functions of this test binary by
// address, demangled; kernel addresses from kallsyms (a made-up one, and the
// real one when it shows addresses); addresses in no module; processes that
// exited.
#include "skip.h"
#include "symbolizer.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <dlfcn.h>
#include <fstream>
#include <libelf.h>
#include <sched.h>
#include <set>
#include <signal.h>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" [[gnu::noinline]] int corescope_unit_symbolizer_c_target(int x) {
    asm volatile("" ::: "memory"); // keep the body, and so the symbol, distinct
    return x * 3 + 1;
}

// Data of this binary: mapped from its file, but not code.
int corescope_unit_symbolizer_data[64] = {1};

namespace corescope_unit_ns {
[[gnu::noinline]] int symbolizer_cpp_target(int x) {
    asm volatile("" ::: "memory");
    return x * 5 + 2;
}
} // namespace corescope_unit_ns

// The rest in a namespace of its own: the unit tests are compiled several
// files to a translation unit (tests/unit/meson.build). The targets above
// stay outside it, named as the checks expect.
namespace test_symbolizer {

using namespace corescope;
using Catch::Matchers::StartsWith;

namespace {

uint64_t address_of(int (*fn)(int)) {
    return reinterpret_cast<uint64_t>(fn);
}

uint32_t self() {
    return static_cast<uint32_t>(getpid());
}

std::string write_temp(const std::string& text) {
    char path[] = "/tmp/corescope-kallsyms-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
    return path;
}

// Whether /proc/PID/maps shows the mapping holding address as executable,
// as a kernel does for code. Under qemu-user (the arm64 cross build's unit
// tests run under qemu-aarch64-static) another emulated process's maps are
// the host's view, where the guest's code pages are mapped readable only,
// so the symbolizer rightly finds no code there: those checks skip.
bool executable_in_maps(pid_t pid, uint64_t address) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string line;
    while (std::getline(maps, line)) {
        unsigned long long start = 0, end = 0;
        char perms[5] = {};
        if (std::sscanf(line.c_str(), "%llx-%llx %4s", &start, &end, perms) == 3 &&
            address >= start && address < end)
            return perms[2] == 'x';
    }
    return false;
}

} // namespace

TEST_CASE("symbolizer names a C function of this process", "[symbolizer]") {
    Symbolizer symbolizer;
    uint64_t address = address_of(corescope_unit_symbolizer_c_target);
    Symbol start = symbolizer.user(self(), address);
    CHECK(start.name == "corescope_unit_symbolizer_c_target");
    CHECK(start.offset == 0);
    CHECK_FALSE(start.module.empty());
    CHECK(start.module_offset != 0);

    Symbol inside = symbolizer.user(self(), address + 2);
    CHECK(inside.name == "corescope_unit_symbolizer_c_target");
    CHECK(inside.offset == 2);
    CHECK(inside.module == start.module);
    CHECK(symbol_label(inside, true) == "corescope_unit_symbolizer_c_target+0x2");
    CHECK(symbol_label(inside) == "corescope_unit_symbolizer_c_target");
}

TEST_CASE("symbolizer demangles a C++ function in a namespace", "[symbolizer]") {
    Symbolizer symbolizer;
    Symbol symbol = symbolizer.user(self(), address_of(corescope_unit_ns::symbolizer_cpp_target));
    CHECK(symbol.name == "corescope_unit_ns::symbolizer_cpp_target(int)");
    CHECK(symbol.offset == 0);
}

TEST_CASE("symbolizer resolves a shared library function", "[symbolizer]") {
    Symbolizer symbolizer;
    Symbol symbol = symbolizer.user(self(), reinterpret_cast<uint64_t>(&getppid));
    CHECK(symbol.name == "getppid");
    CHECK_THAT(std::string(symbol.module.substr(symbol.module.rfind('/') + 1)), StartsWith("libc"));
}

TEST_CASE("symbolizer says unknown for addresses in no module", "[symbolizer]") {
    Symbolizer symbolizer;
    Symbol none = symbolizer.user(self(), 0x10);
    CHECK_FALSE(none.known());
    CHECK(none.module.empty());
    CHECK(symbol_label(none) == "[unknown]");

    // Data is never code: its module, but no function name.
    Symbol data =
        symbolizer.user(self(), reinterpret_cast<uint64_t>(&corescope_unit_symbolizer_data[8]));
    CHECK_FALSE(data.known());
    CHECK(data.module ==
          symbolizer.user(self(), address_of(corescope_unit_symbolizer_c_target)).module);
    CHECK(symbol_label(data).find("unit_tests+0x") == 0);

    // A PID that cannot exist (above the kernel's PID_MAX_LIMIT).
    Symbol no_process = symbolizer.user(0x7ffffff0, address_of(corescope_unit_symbolizer_c_target));
    CHECK_FALSE(no_process.known());
    CHECK(symbol_label(no_process) == "[unknown]");
}

TEST_CASE("symbolizer handles a process that exited", "[symbolizer]") {
    uint64_t address = address_of(corescope_unit_symbolizer_c_target);
    auto start_child = [] {
        pid_t pid = fork();
        if (pid == 0) {
            pause();
            _exit(0);
        }
        REQUIRE(pid > 0);
        return pid;
    };
    auto end_child = [](pid_t pid) {
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
    };

    SECTION("unseen before it exited: unknown, no crash") {
        pid_t child = start_child();
        end_child(child);
        Symbolizer symbolizer;
        Symbol symbol = symbolizer.user(static_cast<uint32_t>(child), address);
        CHECK_FALSE(symbol.known());
        CHECK(symbol_label(symbol) == "[unknown]");
    }
    SECTION("remembered while alive: still named") {
        pid_t child = start_child();
        if (!executable_in_maps(child, address)) {
            end_child(child);
            SKIP_CASE("the child's code is not executable in its /proc/PID/maps (qemu-user)");
        }
        Symbolizer symbolizer;
        symbolizer.remember(static_cast<uint32_t>(child));
        end_child(child);
        Symbol symbol = symbolizer.user(static_cast<uint32_t>(child), address);
        CHECK(symbol.name == "corescope_unit_symbolizer_c_target");
    }
}

TEST_CASE("symbolizer reads kallsyms: sorted once, modules, code only", "[symbolizer]") {
    std::string path = write_temp("ffffffff81002000 T second_function\n"
                                  "ffffffff81000000 T _stext\n"
                                  "ffffffff81001000 t first_function\n"
                                  "ffffffff81001800 d some_data\n"
                                  "ffffffff81003000 W weak_function\n"
                                  "ffffffffc0a01000 t ext4_fill_super\t[ext4]\n");
    Symbolizer symbolizer;
    symbolizer.set_kallsyms_path(path);
    CHECK(symbolizer.kernel_addresses_visible());

    Symbol first = symbolizer.kernel(0xffffffff81001010);
    CHECK(first.name == "first_function"); // data symbols are not functions
    CHECK(first.offset == 0x10);
    CHECK(first.module == "[kernel]");
    CHECK(symbolizer.kernel(0xffffffff81001900).name == "first_function");
    CHECK(symbolizer.kernel(0xffffffff81002000).name == "second_function");
    CHECK(symbolizer.kernel(0xffffffff81003004).name == "weak_function");

    Symbol in_module = symbolizer.kernel(0xffffffffc0a01040);
    CHECK(in_module.name == "ext4_fill_super");
    CHECK(in_module.module == "ext4");

    Symbol below = symbolizer.kernel(0x1000);
    CHECK_FALSE(below.known());
    CHECK(symbol_label(below) == "[unknown]");
    std::remove(path.c_str());
}

TEST_CASE("symbolizer says unknown when kptr_restrict hides kernel addresses", "[symbolizer]") {
    std::string path = write_temp("0000000000000000 T _stext\n"
                                  "0000000000000000 T schedule\n");
    Symbolizer symbolizer;
    symbolizer.set_kallsyms_path(path);
    CHECK_FALSE(symbolizer.kernel_addresses_visible());
    Symbol symbol = symbolizer.kernel(0xffffffff81001010);
    CHECK_FALSE(symbol.known());
    CHECK(symbol_label(symbol) == "[unknown]");
    std::remove(path.c_str());
}

TEST_CASE("symbolizer names a known kernel function from /proc/kallsyms", "[symbolizer]") {
    Symbolizer symbolizer;
    if (!symbolizer.kernel_addresses_visible()) {
        SKIP_CASE("/proc/kallsyms shows no addresses here (kptr_restrict, or not root)");
    }
    // Every name at schedule's address (an alias may share it).
    std::ifstream kallsyms("/proc/kallsyms");
    std::string line;
    uint64_t address = 0;
    std::set<std::string> names;
    std::vector<std::pair<uint64_t, std::string>> text;
    while (std::getline(kallsyms, line)) {
        char type = 0;
        char name[256] = {};
        unsigned long long a = 0;
        if (std::sscanf(line.c_str(), "%llx %c %255s", &a, &type, name) != 3) continue;
        if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
        text.emplace_back(a, name);
        if (std::string(name) == "schedule") address = a;
    }
    REQUIRE(address != 0);
    for (const auto& [a, name] : text)
        if (a == address) names.insert(name);
    Symbol symbol = symbolizer.kernel(address + 1);
    CHECK(names.count(symbol.name) == 1);
    CHECK(symbol.offset == 1);
    CHECK(symbol.module == "[kernel]");
}

TEST_CASE("demangle: C++, Rust legacy, and plain names", "[symbolizer]") {
    CHECK(demangle("_ZN3foo3barEv") == "foo::bar()");
    CHECK(demangle("_ZN9corescope10Symbolizer6kernelEm") ==
          "corescope::Symbolizer::kernel(unsigned long)");
    CHECK(demangle("_ZN4core3fmt5write17h0123456789abcdefE") == "core::fmt::write");
    CHECK(demangle("_ZN66_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..drop..Drop$GT$"
                   "4drop17h7d2a2dbd1f7a1a4eE") ==
          "<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop");
    CHECK(demangle("main") == "main");
    CHECK(demangle("_Znotvalid") == "_Znotvalid");
}

namespace {

// A copy of libelf loaded in a child: in a private tmpfs of its own mount
// namespace (in_namespace), or deleted after loading (deleted). The child
// sends the copy's elf_begin address and waits to be killed. libelf because
// it is always a shared library here (zlib may be the static wrap fallback).
struct ChildWithLibraryCopy {
    pid_t pid = -1;
    uint64_t address = 0;
    std::string copy_path;
    std::string dir;

    ChildWithLibraryCopy(bool in_namespace) {
        Dl_info info{};
        REQUIRE(dladdr(reinterpret_cast<void*>(&elf_version), &info) != 0);
        char dir_template[] = "/tmp/corescope-symns-XXXXXX";
        REQUIRE(mkdtemp(dir_template) != nullptr);
        dir = dir_template;
        copy_path = dir + "/libelfcopy.so";
        std::string original = info.dli_fname;
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        pid = fork();
        if (pid == 0) {
            close(fds[0]);
            if (in_namespace && (unshare(CLONE_NEWNS) != 0 ||
                                 mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
                                 mount("tmpfs", dir.c_str(), "tmpfs", 0, nullptr) != 0))
                _exit(2);
            std::ifstream in(original, std::ios::binary);
            std::ofstream(copy_path, std::ios::binary) << in.rdbuf();
            void* handle = dlopen(copy_path.c_str(), RTLD_NOW | RTLD_LOCAL);
            void* fn = handle ? dlsym(handle, "elf_begin") : nullptr;
            if (!in_namespace) unlink(copy_path.c_str());
            uint64_t a = reinterpret_cast<uint64_t>(fn);
            if (write(fds[1], &a, sizeof a) != sizeof a) _exit(3);
            pause();
            _exit(0);
        }
        close(fds[1]);
        REQUIRE(pid > 0);
        if (read(fds[0], &address, sizeof address) != sizeof address) address = 0;
        close(fds[0]);
    }
    ~ChildWithLibraryCopy() {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        unlink(copy_path.c_str());
        rmdir(dir.c_str());
    }
};

} // namespace

TEST_CASE("symbolizer names code of another mount namespace, and of deleted files",
          "[symbolizer]") {
    if (geteuid() != 0) {
        SKIP_CASE("needs root (a mount namespace, and /proc/PID/map_files)");
    }
    SECTION("a library only the child's mount namespace has") {
        ChildWithLibraryCopy child(true);
        REQUIRE(child.address != 0);
        // Not there for us: only through /proc/PID/root.
        REQUIRE(access(child.copy_path.c_str(), F_OK) != 0);
        if (!executable_in_maps(child.pid, child.address))
            SKIP_CASE("the child's code is not executable in its /proc/PID/maps (qemu-user)");
        Symbolizer symbolizer;
        Symbol symbol = symbolizer.user(static_cast<uint32_t>(child.pid), child.address);
        CHECK(symbol.name == "elf_begin");
        CHECK(symbol.module == child.copy_path);
    }
    SECTION("a library deleted after it was loaded") {
        ChildWithLibraryCopy child(false);
        REQUIRE(child.address != 0);
        REQUIRE(access(child.copy_path.c_str(), F_OK) != 0);
        if (!executable_in_maps(child.pid, child.address))
            SKIP_CASE("the child's code is not executable in its /proc/PID/maps (qemu-user)");
        Symbolizer symbolizer;
        Symbol symbol = symbolizer.user(static_cast<uint32_t>(child.pid), child.address);
        CHECK(symbol.name == "elf_begin");
        CHECK(symbol.module == child.copy_path); // without " (deleted)"
    }
}

TEST_CASE("a kernel symbol's address by name, from kallsyms", "[symbolizer]") {
    char path[] = "/tmp/corescope-kallsyms-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::string text = "0000000000000000 D hidden_lock\n"
                       "ffffffff82a0c1e0 d hidden_lock\n"
                       "ffffffff82a0c2e0 D tasklist_lock\n"
                       "ffffffffc0a01000 t ext4_fill_super\t[ext4]\n";
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
    CHECK(kernel_symbol_address("tasklist_lock", path) == 0xffffffff82a0c2e0);
    // The first with an address: a zeroed line (kptr_restrict) is passed over.
    CHECK(kernel_symbol_address("hidden_lock", path) == 0xffffffff82a0c1e0);
    CHECK(kernel_symbol_address("ext4_fill_super", path) == 0xffffffffc0a01000);
    CHECK(kernel_symbol_address("tasklist", path) == 0);
    CHECK(kernel_symbol_address("tasklist_lock", "/nonexistent/kallsyms") == 0);
    unlink(path);
}

} // namespace test_symbolizer
