// An attach plan: each tool lists, per thing it observes, the ways to attach
// in order of preference (tp_btf > raw_tp > tracepoint, fentry > kprobe); the
// plan takes the first way whose kind this kernel supports and whose targets
// exist, disables every program it did not choose before load, attaches the
// chosen ones after load, and describes itself for -v and --dry-run.
#pragma once

#include "kernel_features.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct bpf_object;
struct bpf_link;

namespace corescope {

// For AttachKind::perf_event: the event that runs the program, opened once
// per CPU (perf_event_open with pid -1: every task on that CPU).
struct PerfEventSpec {
    uint32_t type = 1;      // PERF_TYPE_SOFTWARE
    uint64_t config = 0;    // PERF_COUNT_SW_CPU_CLOCK
    uint64_t frequency = 0; // samples a second on each CPU; 0: every `period` events
    uint64_t period = 0;    // for cpu-clock, nanoseconds of CPU time
    std::vector<int> cpus;  // empty: every online CPU
};

struct AttachPoint {
    std::string program; // the program's name in the BPF object
    AttachKind kind;
    // "syscalls:sys_enter_openat", "block_rq_issue", "vfs_read", "cpu-clock";
    // uprobes "BINARY:FUNCTION" or "BINARY:0xFILE_OFFSET"; usdt
    // "BINARY:PROVIDER:NAME"
    std::string target;
    bool optional = false;         // skipped when the target is absent (e.g. openat2 before 5.6)
    PerfEventSpec perf_event = {}; // AttachKind::perf_event only
    // The BPF cookie (bpf_get_attach_cookie; bpf_usdt_cookie for usdt) of a
    // program whose section names no target (SEC("kprobe"), SEC("tracepoint"),
    // SEC("usdt")): one program attached to many targets tells them apart by
    // it (funccount). Kernel 5.15 and later.
    uint64_t cookie = 0;
    // uprobes and uretprobes: only this process's calls run the program (the
    // kernel sets the breakpoint in its memory only); -1: every process.
    int pid = -1;
};

// "0-3,5,7-8" (the form of /sys/devices/system/cpu/online) as CPU numbers;
// throws std::invalid_argument on anything else.
std::vector<int> parse_cpu_list(std::string_view text);
// The CPUs online now. Throws RuntimeError when the kernel does not say.
std::vector<int> online_cpus();

struct AttachWay {
    std::vector<AttachPoint> points; // all of them, or this way is out
};

struct AttachStep {
    std::string what;            // "open entry", "block I/O issue"
    std::vector<AttachWay> ways; // most preferred first
};

// One system call traced, for syscall_tiers().
struct SyscallProgram {
    std::string call;      // "openat"
    bool enter = true;     // tp_enter_CALL on syscalls:sys_enter_CALL
    bool exit = true;      // tp_exit_CALL on syscalls:sys_exit_CALL
    bool optional = false; // a call this architecture or kernel may lack (open, openat2)
};

// The two ways to trace system calls: their own tracepoints (programs
// tp_enter_CALL and tp_exit_CALL; need tracefs), or else the raw
// sys_enter/sys_exit tracepoints (raw_enter, raw_exit), which need no
// tracefs but run for every system call, so their programs must stop early
// for the calls they do not want.
// raw_enter_too: the raw tier needs raw_enter even where the tracepoint
// tier traces only exits (to see the arguments of every call).
AttachStep syscall_tiers(std::string what, const std::vector<SyscallProgram>& calls,
                         bool raw_enter_too = false);

// One kernel tracepoint a program attaches to, for tracepoint_tiers().
struct TracepointProgram {
    std::string program;    // the program's name without its tier prefix
    std::string tracepoint; // "category:name", as tracefs names it
    bool optional = false;  // skipped where the kernel lacks the tracepoint
};

// The three ways to attach programs to kernel tracepoints, most preferred
// first, all programs of a step from the same tier: tp_btf (programs named
// btf_PROGRAM), raw_tp (raw_PROGRAM), and the tracefs tracepoint
// (tp_PROGRAM, needs tracefs). kinds leaves tiers out (a tool whose BPF side
// has no program for one).
AttachStep tracepoint_tiers(std::string what, const std::vector<TracepointProgram>& programs,
                            std::vector<AttachKind> kinds = {AttachKind::tp_btf, AttachKind::raw_tp,
                                                             AttachKind::tracepoint});

// One kernel function programs attach to, for function_tiers().
struct FunctionProgram {
    std::string function;  // "mutex_lock": the programs are named after it
    bool entry = true;     // fentry_FUNCTION, else kprobe_FUNCTION
    bool exit = false;     // fexit_FUNCTION, else kretprobe_FUNCTION
    bool optional = false; // skipped where the kernel lacks the function
    // The programs' names after fentry_ (fexit_, ...), where they are not
    // the function's ("loss_probe": fentry_loss_probe on tcp_send_loss_probe).
    std::string programs = {};
};

// The two ways to attach programs to kernel functions, most preferred
// first: fentry and fexit (programs fentry_FUNCTION, fexit_FUNCTION), else
// kprobes and kretprobes (kprobe_FUNCTION, kretprobe_FUNCTION); all the
// programs of a step from the same way, each function's entry before its
// exit.
AttachStep function_tiers(std::string what, const std::vector<FunctionProgram>& functions);

class Links {
  public:
    Links() = default;
    Links(const Links&) = delete;
    Links& operator=(const Links&) = delete;
    Links(Links&&) noexcept = default;
    Links& operator=(Links&&) noexcept = default;
    ~Links();
    void add(bpf_link* link) { links_.push_back(link); }
    // Takes over every link of other.
    void take(Links&& other) {
        links_.insert(links_.end(), other.links_.begin(), other.links_.end());
        other.links_.clear();
    }
    size_t size() const { return links_.size(); }

  private:
    std::vector<bpf_link*> links_;
};

class AttachPlan {
  public:
    struct Choice {
        std::string what;
        std::vector<AttachPoint> points;      // the chosen way, minus absent optional points
        std::vector<std::string> passed_over; // "tp_btf: kernel lacks it", in order
    };

    // Throws RuntimeError naming what the kernel lacks when some step has
    // no usable way.
    static AttachPlan choose(const std::string& tool, const std::vector<AttachStep>& steps,
                             FeatureSource& features);

    // Like choose, but a step with no usable way is left out and its reason
    // ("what: why") added to unavailable, for tools that degrade (triage,
    // klockstat's hold times); the plan keeps it among missing(), which
    // describe() and describe_json() show with the ways it passed over.
    static AttachPlan choose_available(const std::string& tool,
                                       const std::vector<AttachStep>& steps,
                                       FeatureSource& features,
                                       std::vector<std::string>& unavailable);

    const std::vector<Choice>& choices() const { return choices_; }
    // The steps choose_available left out: what, and every way passed over
    // (points empty).
    const std::vector<Choice>& missing() const { return missing_; }
    // Did the plan take a way for the step named what?
    bool has_step(const std::string& what) const;
    bool uses(const std::string& program) const;
    // Before load: turn off autoload for every program the plan did not
    // choose, so the verifier never sees them. Throws RuntimeError when a
    // program named in any way of the plan is missing from the object, so
    // a misspelled name fails every run (and every --dry-run test), not
    // only runs on the kernel that picks that way.
    void apply(bpf_object* object) const;
    // After load: attach the chosen programs. Throws RuntimeError naming the
    // program and target that failed.
    Links attach(bpf_object* object) const;
    // Like attach, but a step that fails to attach is detached again and
    // its reason ("what: why") added to unavailable, for tools that
    // degrade (triage).
    Links attach_available(bpf_object* object, std::vector<std::string>& unavailable) const;
    std::string describe() const;
    std::string describe_json() const;

  private:
    std::string tool_;
    std::vector<Choice> choices_;
    std::vector<Choice> missing_;
    std::vector<std::string> named_programs_; // in every way of every step
};

} // namespace corescope
