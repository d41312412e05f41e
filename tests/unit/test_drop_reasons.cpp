// Drop reasons by name from a kernel's BTF (common/drop_reasons.h): a BTF
// made here with libbpf, so the numbers are the test's, not the running
// kernel's.
#include "drop_reasons.h"
#include "kernel_types.h"

#include <bpf/btf.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

namespace test_drop_reasons {

using namespace corescope;

namespace {

// Writes a raw BTF with enum skb_drop_reason (numbered unlike any kernel)
// and a subsystem's enum to a file; returns its path.
std::string write_btf(bool with_reasons) {
    struct btf* btf = btf__new_empty();
    REQUIRE(btf);
    if (with_reasons) {
        int id = btf__add_enum(btf, "skb_drop_reason", 4);
        REQUIRE(id > 0);
        btf__add_enum_value(btf, "SKB_NOT_DROPPED_YET", 0);
        btf__add_enum_value(btf, "SKB_CONSUMED", 1);
        btf__add_enum_value(btf, "SKB_DROP_REASON_NOT_SPECIFIED", 2);
        btf__add_enum_value(btf, "SKB_DROP_REASON_TCP_CSUM", 3);
        btf__add_enum_value(btf, "SKB_DROP_REASON_NO_SOCKET", 7);
        btf__add_enum_value(btf, "SKB_DROP_REASON_MAX", 8);
        btf__add_enum_value(btf, "SKB_DROP_REASON_SUBSYS_MASK", static_cast<int64_t>(0xffff0000));
        REQUIRE(btf__add_enum(btf, "ovs_drop_reason", 4) > 0);
        btf__add_enum_value(btf, "OVS_DROP_LAST_ACTION", 0x20001);
        btf__add_enum_value(btf, "OVS_DROP_MAX", 0x20005);
    } else {
        REQUIRE(btf__add_int(btf, "int", 4, BTF_INT_SIGNED) > 0);
    }
    uint32_t size = 0;
    const void* raw = btf__raw_data(btf, &size);
    REQUIRE(raw);
    std::string path = "/tmp/cs-drop-reasons-" + std::to_string(getpid()) + ".btf";
    FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    REQUIRE(std::fwrite(raw, 1, size, f) == size);
    std::fclose(f);
    btf__free(btf);
    return path;
}

} // namespace

TEST_CASE("drop_reasons: names from the kernel's enum, without its prefix", "[drop_reasons]") {
    std::string path = write_btf(true);
    std::string error;
    auto types = KernelTypes::open(path, &error);
    unlink(path.c_str());
    REQUIRE(types);
    DropReasons reasons(types.get());
    CHECK(reasons.name(7) == "NO_SOCKET");
    CHECK(reasons.name(3) == "TCP_CSUM");
    CHECK(reasons.name(1) == "CONSUMED");
    CHECK(reasons.name(0) == "NOT_DROPPED_YET");
    CHECK(reasons.name(8).empty()); // MAX is a bound, not a reason
    CHECK(reasons.name(0xffff0000).empty());
    CHECK(reasons.name(0x20001) == "OVS_DROP_LAST_ACTION"); // a subsystem's, in full
    CHECK(reasons.label(7) == "NO_SOCKET");
    CHECK(reasons.label(99) == "99");
    CHECK(reasons.value("NO_SOCKET") == 7u);
    CHECK(!reasons.value("NETFILTER_DROP"));
    CHECK(reasons.is_drop(7));
    CHECK(!reasons.is_drop(1));
    CHECK(!reasons.is_drop(0));
}

TEST_CASE("drop_reasons: a kernel without the enum names none", "[drop_reasons]") {
    std::string path = write_btf(false);
    auto types = KernelTypes::open(path);
    unlink(path.c_str());
    REQUIRE(types);
    DropReasons reasons(types.get());
    CHECK(reasons.empty());
    CHECK(reasons.label(3) == "3");
    CHECK(DropReasons().empty());
    CHECK(DropReasons(nullptr).empty());
}

TEST_CASE("drop_reasons: the running kernel's, where it has BTF", "[drop_reasons]") {
    auto types = KernelTypes::open("/sys/kernel/btf/vmlinux");
    if (!types) return; // no kernel BTF here: the cases above cover the parsing
    DropReasons reasons(types.get());
    if (reasons.empty()) return; // a kernel before 5.17
    auto no_socket = reasons.value("NO_SOCKET");
    REQUIRE(no_socket);
    CHECK(reasons.name(*no_socket) == "NO_SOCKET");
    CHECK(reasons.value("NOT_SPECIFIED"));
}

} // namespace test_drop_reasons
