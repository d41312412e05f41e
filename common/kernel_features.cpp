#include "kernel_features.h"
#include "tracepoint_format.h"
#include "text_file.h"

#include "errors.h"
#include "fd.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace corescope {

namespace {

bool path_exists(const std::string& path) {
    return access(path.c_str(), F_OK) == 0;
}

// The loaded module whose text has this function ("md_mod"), from
// /proc/kallsyms ("ADDR t NAME\t[MODULE]"); empty when no module has it.
// Read only for a function the kernel's own BTF lacks.
std::string module_of_function(const std::string& function) {
    std::optional<std::string> text = read_text_file("/proc/kallsyms");
    if (!text) return {};
    std::string needle = " " + function + "\t[";
    for (size_t at = text->find(needle); at != std::string::npos; at = text->find(needle, at + 1)) {
        // The symbol's type: t or T, text.
        if (at < 2 || ((*text)[at - 1] != 't' && (*text)[at - 1] != 'T')) continue;
        size_t open = at + needle.size();
        size_t close = text->find(']', open);
        if (close == std::string::npos) return {};
        return text->substr(open, close - open);
    }
    return {};
}

const char* const running_kernel_btf = "/sys/kernel/btf/vmlinux";

// A minimal program, "r0 = 0; exit", for load-and-attach probes.
struct MinimalProgram {
    struct bpf_insn insns[2];
    MinimalProgram() {
        std::memset(insns, 0, sizeof insns);
        insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
        insns[1].code = BPF_JMP | BPF_EXIT;
    }
};

} // namespace

const char* attach_kind_name(AttachKind kind) {
    switch (kind) {
    case AttachKind::tp_btf:
        return "tp_btf";
    case AttachKind::raw_tp:
        return "raw_tp";
    case AttachKind::tracepoint:
        return "tracepoint";
    case AttachKind::fentry:
        return "fentry";
    case AttachKind::fexit:
        return "fexit";
    case AttachKind::kprobe:
        return "kprobe";
    case AttachKind::kretprobe:
        return "kretprobe";
    case AttachKind::uprobe:
        return "uprobe";
    case AttachKind::uretprobe:
        return "uretprobe";
    case AttachKind::perf_event:
        return "perf_event";
    case AttachKind::usdt:
        return "usdt";
    }
    return "unknown";
}

std::vector<AttachKind> parse_skipped_attach_kinds(std::string_view list) {
    static constexpr AttachKind all[] = {
        AttachKind::tp_btf,    AttachKind::raw_tp,     AttachKind::tracepoint, AttachKind::fentry,
        AttachKind::fexit,     AttachKind::kprobe,     AttachKind::kretprobe,  AttachKind::uprobe,
        AttachKind::uretprobe, AttachKind::perf_event, AttachKind::usdt};
    std::vector<AttachKind> kinds;
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view name = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (name.empty()) continue;
        bool known = false;
        for (AttachKind kind : all) {
            if (name != attach_kind_name(kind)) continue;
            kinds.push_back(kind);
            known = true;
        }
        if (!known) {
            std::string names;
            for (AttachKind kind : all)
                names += (names.empty() ? "" : ", ") + std::string(attach_kind_name(kind));
            throw RuntimeError("CORESCOPE_SKIP_ATTACH: unknown attach kind '" + std::string(name) +
                               "' (known: " + names + ")");
        }
    }
    return kinds;
}

KernelFeatures& KernelFeatures::instance() {
    static KernelFeatures features;
    return features;
}

void KernelFeatures::set_btf_path(const std::string& path) {
    std::lock_guard lock(mutex_);
    btf_path_ = path;
    btf_.reset();
    btf_loaded_ = false;
    supported_.clear();
}

void KernelFeatures::release_btf() {
    std::lock_guard lock(mutex_);
    btf_.reset();
    btf_loaded_ = false;
}

const KernelTypes* KernelFeatures::vmlinux_btf() {
    std::lock_guard lock(mutex_);
    if (!btf_loaded_) {
        btf_loaded_ = true;
        btf_error_.clear();
        btf_ = KernelTypes::open(btf_path_.empty() ? running_kernel_btf : btf_path_, &btf_error_);
    }
    return btf_.get();
}

std::string KernelFeatures::btf_error() {
    std::lock_guard lock(mutex_);
    vmlinux_btf();
    return btf_error_;
}

bool KernelFeatures::btf() {
    return path_exists(btf_path_.empty() ? running_kernel_btf : btf_path_);
}

std::string KernelFeatures::tracefs_path() {
    for (const char* p : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"})
        if (path_exists(std::string(p) + "/events")) return p;
    return {};
}

bool KernelFeatures::tracefs() {
    return !tracefs_path().empty();
}

bool KernelFeatures::ringbuf() {
    std::lock_guard lock(mutex_);
    if (!ringbuf_) ringbuf_ = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1;
    return *ringbuf_;
}

bool KernelFeatures::bpf_permitted(std::string* why_not) {
    std::lock_guard lock(mutex_);
    if (!permitted_) {
        FileDescriptor probe(
            bpf_map_create(BPF_MAP_TYPE_ARRAY, "corescope_probe", 4, 4, 1, nullptr));
        if (probe.valid()) {
            permitted_ = {true, ""};
        } else if (errno == EPERM || errno == EACCES) {
            permitted_ = {false, geteuid() != 0 ? "not running as root: run it with sudo, or "
                                                  "grant CAP_BPF and CAP_PERFMON"
                                                : "the kernel refuses BPF to this process "
                                                  "(EPERM): check lockdown and seccomp"};
        } else {
            permitted_ = {false, errno_message("the bpf() system call failed", errno)};
        }
    }
    if (why_not) *why_not = permitted_->second;
    return permitted_->first;
}

std::string KernelFeatures::lockdown() {
    std::string line = read_first_line("/sys/kernel/security/lockdown").value_or("");
    auto open = line.find('[');
    auto close = line.find(']');
    if (open == std::string::npos || close == std::string::npos) return "unknown";
    return line.substr(open + 1, close - open - 1);
}

std::string KernelFeatures::kernel_release() {
    struct utsname u {};
    uname(&u);
    return u.release;
}

int KernelFeatures::tracepoint_arg_count(const std::string& name) {
    const KernelTypes* b = vmlinux_btf();
    if (!b) return -1;
    int id = b->find("btf_trace_" + name, BTF_KIND_TYPEDEF);
    if (id < 0) return -1;
    // typedef -> pointer -> function prototype (void *ctx, args...)
    const struct btf_type* t = b->type(id);
    while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
        t = b->type(t->type);
    if (!t || !btf_is_func_proto(t)) return -1;
    return btf_vlen(t) - 1;
}

std::string KernelFeatures::tracepoint_arg_struct(const std::string& name, int index) {
    const KernelTypes* b = vmlinux_btf();
    if (!b || index < 0) return "";
    int id = b->find("btf_trace_" + name, BTF_KIND_TYPEDEF);
    if (id < 0) return "";
    const struct btf_type* t = b->type(id);
    while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
        t = b->type(t->type);
    if (!t || !btf_is_func_proto(t) || index + 1 >= btf_vlen(t)) return "";
    // Through the pointer, past const, volatile and typedefs, to the struct.
    t = b->type(btf_params(t)[index + 1].type);
    if (!t || !btf_is_ptr(t)) return "";
    t = b->type(t->type);
    while (t && (btf_is_mod(t) || btf_is_typedef(t)))
        t = b->type(t->type);
    if (!t || !btf_is_struct(t)) return "";
    return std::string(b->name(t->name_off));
}

bool KernelFeatures::tracepoint_has_field(const std::string& tracepoint, const std::string& field) {
    size_t colon = tracepoint.find(':');
    std::string root = tracefs_path();
    if (colon == std::string::npos || root.empty()) return false;
    std::string format = read_text_file(root + "/events/" + tracepoint.substr(0, colon) + "/" +
                                        tracepoint.substr(colon + 1) + "/format")
                             .value_or("");
    for (const TracepointField& f : tracepoint_fields(format))
        if (f.name == field) return true;
    return false;
}

bool KernelFeatures::probe_tracing_prog(int attach_type, const std::string& target,
                                        std::string* why_not) {
    // Attach IDs must come from the running kernel: the cached BTF is that
    // one unless --btf named another.
    std::unique_ptr<KernelTypes> own =
        btf_path_.empty() ? nullptr : KernelTypes::open(running_kernel_btf);
    const KernelTypes* b = btf_path_.empty() ? vmlinux_btf() : own.get();
    if (b == nullptr) {
        *why_not = "kernel has no BTF";
        return false;
    }
    bool is_func = attach_type == BPF_TRACE_FENTRY || attach_type == BPF_TRACE_FEXIT;
    int id = b->find(target, is_func ? BTF_KIND_FUNC : BTF_KIND_TYPEDEF);
    if (id < 0) {
        *why_not = "kernel BTF lacks " + target;
        return false;
    }
    MinimalProgram prog;
    LIBBPF_OPTS(bpf_prog_load_opts, opts,
                .expected_attach_type = static_cast<bpf_attach_type>(attach_type),
                .attach_btf_id = static_cast<__u32>(id));
    FileDescriptor prog_fd(
        bpf_prog_load(BPF_PROG_TYPE_TRACING, "corescope_probe", "GPL", prog.insns, 2, &opts));
    if (!prog_fd.valid()) {
        *why_not = errno_message("programs fail to load", errno);
        return false;
    }
    // For tp_btf, loading checks what attaching needs (the tracepoint's BTF
    // type, the kernel's support), and attaching for a moment has a price:
    // a tracepoint enabled again soon after it was disabled waits out an RCU
    // grace period, which made back-to-back runs take 11 to 27 ms to plan
    // instead of 2.
    if (attach_type == BPF_TRACE_RAW_TP) return true;
    FileDescriptor link_fd(bpf_raw_tracepoint_open(nullptr, prog_fd.get()));
    if (!link_fd.valid()) {
        *why_not = errno_message("programs fail to attach", errno);
        return false;
    }
    return true;
}

bool KernelFeatures::probe_raw_tp(std::string* why_not) {
    // Loading is the test: every kernel with BTF attaches raw tracepoints,
    // and attaching one here would cost what the tp_btf probe avoids.
    MinimalProgram prog;
    FileDescriptor prog_fd(bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "corescope_probe", "GPL",
                                         prog.insns, 2, nullptr));
    if (!prog_fd.valid()) {
        *why_not = errno_message("programs fail to load", errno);
        return false;
    }
    return true;
}

bool KernelFeatures::probe_perf_event(std::string* why_not) {
    struct perf_event_attr attr {};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.sample_freq = 49;
    attr.freq = 1;
    FileDescriptor fd(
        static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
    if (!fd.valid()) {
        *why_not = errno_message("perf_event_open fails", errno);
        return false;
    }
    return true;
}

bool KernelFeatures::supports(AttachKind kind, std::string* why_not) {
    std::lock_guard lock(mutex_);
    auto it = supported_.find(kind);
    if (it == supported_.end()) {
        std::string reason;
        bool ok = false;
        const char* skip = std::getenv("CORESCOPE_SKIP_ATTACH");
        std::vector<AttachKind> skipped = parse_skipped_attach_kinds(skip ? skip : "");
        if (std::find(skipped.begin(), skipped.end(), kind) != skipped.end()) {
            reason = "skipped by CORESCOPE_SKIP_ATTACH";
            it = supported_.emplace(kind, std::make_pair(false, reason)).first;
            if (why_not) *why_not = reason;
            return false;
        }
        switch (kind) {
        case AttachKind::tp_btf:
            ok = probe_tracing_prog(BPF_TRACE_RAW_TP, "btf_trace_sched_switch", &reason);
            break;
        case AttachKind::raw_tp:
            ok = probe_raw_tp(&reason);
            break;
        case AttachKind::tracepoint:
            ok = tracefs();
            if (!ok)
                reason = "tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)";
            break;
        case AttachKind::fentry:
        case AttachKind::fexit:
            ok = false;
            // fentry and fexit can load and still fail to attach (no
            // trampolines on the architecture), so these probes attach, to
            // what the system rarely runs: attaching patches the function's
            // code, and patching a hot one (vfs_read) while other CPUs ran
            // through it hung both CPUs of the 6.1 guest under qemu's TCG.
            // The hot ones are fallbacks, for kernels without the rare one.
            for (const char* func : {"bpf_fentry_test1", "do_nanosleep", "vfs_read"}) {
                ok = probe_tracing_prog(
                    kind == AttachKind::fentry ? BPF_TRACE_FENTRY : BPF_TRACE_FEXIT, func, &reason);
                if (ok || reason.find("lacks") == std::string::npos) break;
            }
            break;
        case AttachKind::kprobe:
        case AttachKind::kretprobe:
            ok = path_exists("/sys/bus/event_source/devices/kprobe/type");
            if (!ok) reason = "kernel has no kprobes (CONFIG_KPROBES)";
            break;
        case AttachKind::uprobe:
        case AttachKind::uretprobe:
        case AttachKind::usdt:
            ok = path_exists("/sys/bus/event_source/devices/uprobe/type");
            if (!ok) reason = "kernel has no uprobes (CONFIG_UPROBE_EVENTS)";
            break;
        case AttachKind::perf_event:
            ok = probe_perf_event(&reason);
            break;
        }
        it = supported_.emplace(kind, std::make_pair(ok, reason)).first;
    }
    if (why_not) *why_not = it->second.second;
    return it->second.first;
}

bool KernelFeatures::has_target(AttachKind kind, const std::string& target) {
    switch (kind) {
    case AttachKind::tracepoint: {
        auto colon = target.find(':');
        if (colon == std::string::npos) return false;
        return path_exists(tracefs_path() + "/events/" + target.substr(0, colon) + "/" +
                           target.substr(colon + 1));
    }
    case AttachKind::tp_btf:
    case AttachKind::raw_tp: {
        const KernelTypes* b = vmlinux_btf();
        // Without BTF a raw tracepoint can still exist; let attach decide.
        if (!b) return kind == AttachKind::raw_tp;
        return b->find("btf_trace_" + target, BTF_KIND_TYPEDEF) >= 0;
    }
    case AttachKind::fentry:
    case AttachKind::fexit:
    case AttachKind::kprobe:
    case AttachKind::kretprobe: {
        const KernelTypes* b = vmlinux_btf();
        if (!b) return kind == AttachKind::kprobe || kind == AttachKind::kretprobe;
        if (b->find(target, BTF_KIND_FUNC) >= 0) return true;
        // A loaded module's function (md_flush_request in md_mod): kprobes
        // need its symbol, fentry and fexit its module's BTF too (libbpf
        // finds the function there).
        std::string module = module_of_function(target);
        if (module.empty()) return false;
        return kind == AttachKind::kprobe || kind == AttachKind::kretprobe ||
               path_exists("/sys/kernel/btf/" + module);
    }
    case AttachKind::uprobe:
    case AttachKind::uretprobe: {
        auto colon = target.rfind(':');
        return path_exists(colon == std::string::npos ? target : target.substr(0, colon));
    }
    case AttachKind::usdt: // "BINARY:PROVIDER:NAME"
        return path_exists(target.substr(0, target.find(':')));
    case AttachKind::perf_event:
        return true;
    }
    return false;
}

} // namespace corescope
