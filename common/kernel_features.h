// What this kernel and this process can do. Each probe runs at most once per
// process and only when asked, so a tool pays only for the probes its attach
// plan needs (start-up time matters on a sick host).
#pragma once

#include "kernel_types.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

enum class AttachKind {
    tp_btf,
    raw_tp,
    tracepoint,
    fentry,
    fexit,
    kprobe,
    kretprobe,
    uprobe,
    uretprobe,
    perf_event,
    usdt, // a USDT probe (uprobes at each of its sites, through libbpf)
};

const char* attach_kind_name(AttachKind kind);

// The kinds named in CORESCOPE_SKIP_ATTACH ("fentry,tp_btf"): every probe
// says the kernel lacks them, so an attach plan takes its next tier on a
// kernel that has them all (the kernel matrix tests each tier that way).
// Throws RuntimeError naming an unknown kind.
std::vector<AttachKind> parse_skipped_attach_kinds(std::string_view list);

// The questions an attach plan asks. An interface so that plan choice can
// be unit-tested against made-up kernels.
class FeatureSource {
  public:
    virtual ~FeatureSource() = default;
    // Can programs of this kind be loaded and attached at all? When not,
    // why_not says why in a few words ("kernel has no kprobes").
    virtual bool supports(AttachKind kind, std::string* why_not) = 0;
    // Does this particular target exist (a tracepoint, a kernel function)?
    virtual bool has_target(AttachKind kind, const std::string& target) = 0;
};

class KernelFeatures : public FeatureSource {
  public:
    static KernelFeatures& instance();

    bool supports(AttachKind kind, std::string* why_not) override;
    bool has_target(AttachKind kind, const std::string& target) override;

    bool btf();                 // kernel BTF present
    bool tracefs();             // tracefs (or debugfs tracing) mounted
    std::string tracefs_path(); // e.g. /sys/kernel/tracing; empty when absent
    bool ringbuf();             // BPF ring buffer map
    bool bpf_permitted(std::string* why_not = nullptr); // may this process load BPF?
    std::string lockdown(); // none, integrity, confidentiality, or unknown
    std::string kernel_release();
    // Parameters of a BTF-typed tracepoint (btf_trace_NAME), not counting
    // the context pointer; -1 when the tracepoint is not in BTF.
    int tracepoint_arg_count(const std::string& name);
    // The struct that parameter index (0 for the first after ctx) of that
    // tracepoint points to ("kmem_cache" for kmem_cache_alloc's third since
    // 6.1); empty when it is not a pointer to a struct, or unknown.
    std::string tracepoint_arg_struct(const std::string& name, int index);
    // Does the tracefs tracepoint "category:name" record a field of that
    // name (its format file has "... field_name;")? False without tracefs.
    bool tracepoint_has_field(const std::string& tracepoint, const std::string& field);
    // Override the BTF used for target checks (--btf).
    void set_btf_path(const std::string& path);
    // The kernel's types (from --btf if given), read once; nullptr when
    // there are none. Owned here.
    const KernelTypes* kernel_btf() { return vmlinux_btf(); }
    // Why kernel_btf() is nullptr ("FILE: not a BTF file"); empty otherwise.
    std::string btf_error();
    // Frees the types (several MiB) until they are asked for again. Called
    // before a skeleton loads, since libbpf then parses its own copy: peak
    // memory holds one copy, not two.
    void release_btf();

  private:
    KernelFeatures() = default;
    const KernelTypes* vmlinux_btf();
    bool probe_tracing_prog(int attach_type, const std::string& target, std::string* why_not);
    bool probe_raw_tp(std::string* why_not);
    bool probe_perf_event(std::string* why_not);

    std::recursive_mutex mutex_;
    std::map<AttachKind, std::pair<bool, std::string>> supported_;
    std::optional<bool> ringbuf_;
    std::optional<std::pair<bool, std::string>> permitted_;
    std::string btf_path_;
    std::unique_ptr<KernelTypes> btf_;
    std::string btf_error_;
    bool btf_loaded_ = false;
};

} // namespace corescope
