// mdflush: where the kernel has no md (software RAID), one line saying what
// is missing and exit 1, checked against the kernel itself; where it has
// md, the plan it picks. (An md array needs mdadm or md's ioctls and
// member devices: the kernel-matrix guest makes one.)
#include "harness.h"
#include "kernel_types.h"

#include <algorithm>
#include <bpf/btf.h>
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

namespace test_mdflush {

using namespace itest;

namespace {

// What says this kernel has md: the "md" block major, the module loaded,
// md_flush_request in the kernel's BTF.
bool md_major_listed() {
    return kernel_lacks_for("mdflush").empty();
}

bool md_flush_request_in_btf() {
    auto btf = corescope::KernelTypes::open("/sys/kernel/btf/vmlinux");
    return btf && btf->find("md_flush_request", BTF_KIND_FUNC) >= 0;
}

} // namespace

TEST_CASE("mdflush without md in the kernel says so in one line and exits 1; with md it plans",
          "[mdflush]") {
    REQUIRE_BPF();
    bool md = md_major_listed();
    bool loaded = access("/sys/module/md_mod", F_OK) == 0;
    Finished r = run({tool_path("mdflush"), "--dry-run"});
    Finished live = run({tool_path("mdflush"), "-d", "1"});
    if (!md) {
        // Truly absent: not registered, not loaded, not built in.
        CHECK(!loaded);
        CHECK(!md_flush_request_in_btf());
        for (const Finished* f : {&r, &live}) {
            CHECK(f->exit_code == 1);
            CHECK(std::count(f->err.begin(), f->err.end(), '\n') == 1);
            CHECK(f->err.find("mdflush: ") == 0);
            CHECK(f->err.find("no md (software RAID)") != std::string::npos);
            CHECK(f->err.find("/proc/devices") != std::string::npos);
            CHECK(f->out.empty());
        }
        return;
    }
    // md is here: the plan picks md_flush_request where it can be traced,
    // else the block layer's bio queue.
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("md flushes: ") != std::string::npos);
    CHECK((r.out.find("md_flush_request") != std::string::npos ||
           r.out.find("block_bio_queue") != std::string::npos));
    CHECK(live.exit_code == 0);
}

} // namespace test_mdflush
