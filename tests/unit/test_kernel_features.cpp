// The feature probes that need no privileges: kernel release, BTF and the
// tracepoint targets and signatures read from it (common/kernel_features.h).
#include "kernel_features.h"
#include "skip.h"

#include <bpf/btf.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sys/utsname.h>
#include <unistd.h>

namespace test_kernel_features {

using namespace corescope;

namespace {
bool have_kernel_btf() {
    return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}
} // namespace

TEST_CASE("kernel features: one cached instance, the running kernel's release",
          "[kernel_features]") {
    KernelFeatures& a = KernelFeatures::instance();
    KernelFeatures& b = KernelFeatures::instance();
    CHECK(&a == &b);
    struct utsname u {};
    REQUIRE(uname(&u) == 0);
    CHECK(a.kernel_release() == u.release);
    CHECK(a.btf() == have_kernel_btf());
    // Answers do not change once probed.
    bool ringbuf = a.ringbuf();
    CHECK(a.ringbuf() == ringbuf);
}

TEST_CASE("kernel features: tracepoint targets and signatures come from BTF", "[kernel_features]") {
    if (!have_kernel_btf()) {
        SKIP_CASE("no /sys/kernel/btf/vmlinux");
    }
    KernelFeatures& k = KernelFeatures::instance();
    CHECK(k.has_target(AttachKind::tp_btf, "sched_switch"));
    CHECK_FALSE(k.has_target(AttachKind::tp_btf, "no_such_tracepoint_xyz"));
    // Functions: the kernel's own from its BTF; one it lacks is looked for
    // in the loaded modules' symbols (md_flush_request in md_mod: the 6.1
    // guest's mdflush check shows that side), and found nowhere here.
    CHECK(k.has_target(AttachKind::kprobe, "vfs_read"));
    CHECK(k.has_target(AttachKind::fentry, "vfs_read"));
    CHECK_FALSE(k.has_target(AttachKind::kprobe, "no_such_function_xyz"));
    CHECK_FALSE(k.has_target(AttachKind::fentry, "no_such_function_xyz"));
    // sched_switch(bool preempt, prev, next[, prev_state]): 3 or 4 since 4.x.
    int n = k.tracepoint_arg_count("sched_switch");
    CHECK(n >= 3);
    CHECK(n <= 4);
    CHECK(k.tracepoint_arg_count("no_such_tracepoint_xyz") == -1);
    // sched_switch(preempt, prev, next, ...): prev points to a task_struct,
    // preempt is no pointer.
    CHECK(k.tracepoint_arg_struct("sched_switch", 1) == "task_struct");
    CHECK(k.tracepoint_arg_struct("sched_switch", 0).empty());
    CHECK(k.tracepoint_arg_struct("sched_switch", 9).empty());
    CHECK(k.tracepoint_arg_struct("no_such_tracepoint_xyz", 0).empty());
}

TEST_CASE("kernel features: a tracefs tracepoint's fields come from its format",
          "[kernel_features]") {
    KernelFeatures& k = KernelFeatures::instance();
    if (!k.tracefs()) {
        SKIP_CASE("no tracefs");
    }
    // sched_switch records prev_comm[16], prev_pid and next_pid.
    CHECK(k.tracepoint_has_field("sched:sched_switch", "prev_comm"));
    CHECK(k.tracepoint_has_field("sched:sched_switch", "next_pid"));
    CHECK(k.tracepoint_has_field("sched:sched_switch", "common_pid"));
    CHECK_FALSE(k.tracepoint_has_field("sched:sched_switch", "prev"));
    CHECK_FALSE(k.tracepoint_has_field("sched:sched_switch", "no_such_field"));
    CHECK_FALSE(k.tracepoint_has_field("sched:no_such_tracepoint_xyz", "prev_pid"));
    CHECK_FALSE(k.tracepoint_has_field("no_colon", "prev_pid"));
}

TEST_CASE("kernel types: the in-place index answers as libbpf's full parse does",
          "[kernel_features]") {
    if (!have_kernel_btf()) {
        SKIP_CASE("no /sys/kernel/btf/vmlinux");
    }
    std::string error;
    auto types = KernelTypes::open("/sys/kernel/btf/vmlinux", &error);
    REQUIRE(types != nullptr);
    CHECK(error.empty());
    struct btf* reference = btf__load_vmlinux_btf();
    REQUIRE(reference != nullptr);
    CHECK(types->type_count() + 1 == btf__type_cnt(reference));
    struct Lookup {
        const char* name;
        int kind;
    };
    for (Lookup l :
         {Lookup{"btf_trace_sched_switch", BTF_KIND_TYPEDEF},
          Lookup{"task_struct", BTF_KIND_STRUCT}, Lookup{"vfs_read", BTF_KIND_FUNC},
          Lookup{"req_op", BTF_KIND_ENUM}, Lookup{"no_such_type_xyz", BTF_KIND_STRUCT}}) {
        INFO(l.name);
        int id = types->find(l.name, l.kind);
        int expected = btf__find_by_name_kind(reference, l.name, l.kind);
        CHECK(id == (expected < 0 ? -1 : expected));
        if (id > 0) {
            const struct btf_type* ours = types->type(id);
            const struct btf_type* theirs = btf__type_by_id(reference, id);
            REQUIRE(ours != nullptr);
            CHECK(ours->info == theirs->info);
            CHECK(types->name(ours->name_off) == l.name);
        }
    }
    // Every type's offset agrees: spot-check the last one, which depends on
    // the size of every type before it.
    uint32_t last = types->type_count();
    CHECK(types->name(types->type(last)->name_off) ==
          btf__name_by_offset(reference, btf__type_by_id(reference, last)->name_off));
    CHECK(types->type(0) == nullptr);
    CHECK(types->type(last + 1) == nullptr);
    btf__free(reference);
}

TEST_CASE("kernel types: a missing or malformed file is an error, not a crash",
          "[kernel_features]") {
    std::string error;
    CHECK(KernelTypes::open("/nonexistent/btf", &error) == nullptr);
    CHECK(error == "No such file or directory");
    char path[] = "/tmp/corescope-btf-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    // BTF magic, then a header whose type section runs past the end.
    const unsigned char bad[] = {0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0,
                                 0xff, 0xff, 0, 0, 0,  0, 0, 0, 1, 0, 0, 0};
    REQUIRE(write(fd, bad, sizeof bad) == static_cast<ssize_t>(sizeof bad));
    close(fd);
    error.clear();
    CHECK(KernelTypes::open(path, &error) == nullptr);
    CHECK(error.find("malformed") != std::string::npos);
    unlink(path);
}

TEST_CASE("kernel features: CORESCOPE_SKIP_ATTACH names the attach kinds to treat as missing",
          "[kernel_features]") {
    CHECK(parse_skipped_attach_kinds("").empty());
    CHECK(parse_skipped_attach_kinds("fentry") == std::vector<AttachKind>{AttachKind::fentry});
    CHECK(parse_skipped_attach_kinds("fentry,kprobe,,tp_btf") ==
          std::vector<AttachKind>{AttachKind::fentry, AttachKind::kprobe, AttachKind::tp_btf});
    CHECK(parse_skipped_attach_kinds("raw_tp,") == std::vector<AttachKind>{AttachKind::raw_tp});
    CHECK_THROWS_WITH(parse_skipped_attach_kinds("fentry,kprobes"),
                      Catch::Contains("unknown attach kind 'kprobes'") &&
                          Catch::Contains("tp_btf, raw_tp"));
}

} // namespace test_kernel_features
