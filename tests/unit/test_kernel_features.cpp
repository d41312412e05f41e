// The feature probes that need no privileges: kernel release, BTF and the
// tracepoint targets and signatures read from it (common/kernel_features.h).
#include "kernel_features.h"

#include <catch2/catch.hpp>

#include <sys/utsname.h>
#include <unistd.h>

using namespace corescope;

namespace {
bool have_kernel_btf() { return access("/sys/kernel/btf/vmlinux", R_OK) == 0; }
} // namespace

TEST_CASE("kernel features: one cached instance, the running kernel's release", "[kernel_features]") {
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
        WARN("SKIPPED: no /sys/kernel/btf/vmlinux");
        return;
    }
    KernelFeatures& k = KernelFeatures::instance();
    CHECK(k.has_target(AttachKind::tp_btf, "sched_switch"));
    CHECK_FALSE(k.has_target(AttachKind::tp_btf, "no_such_tracepoint_xyz"));
    // sched_switch(bool preempt, prev, next[, prev_state]): 3 or 4 since 4.x.
    int n = k.tracepoint_arg_count("sched_switch");
    CHECK(n >= 3);
    CHECK(n <= 4);
    CHECK(k.tracepoint_arg_count("no_such_tracepoint_xyz") == -1);
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
