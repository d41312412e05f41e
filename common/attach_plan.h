// An attach plan: each tool lists, per thing it observes, the ways to attach
// in order of preference (tp_btf > raw_tp > tracepoint, fentry > kprobe); the
// plan takes the first way whose kind this kernel supports and whose targets
// exist, disables every program it did not choose before load, attaches the
// chosen ones after load, and describes itself for -v and --dry-run.
#pragma once

#include "kernel_features.h"

#include <memory>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_link;

namespace corescope {

struct AttachPoint {
    std::string program; // the program's name in the BPF object
    AttachKind kind;
    std::string target;  // "syscalls:sys_enter_openat", "block_rq_issue", "vfs_read"
    bool optional = false; // skipped when the target is absent (e.g. openat2 before 5.6)
};

struct AttachWay {
    std::vector<AttachPoint> points; // all of them, or this way is out
};

struct AttachStep {
    std::string what;             // "open entry", "block I/O issue"
    std::vector<AttachWay> ways;  // most preferred first
};

class Links {
  public:
    Links() = default;
    Links(const Links&) = delete;
    Links& operator=(const Links&) = delete;
    Links(Links&&) noexcept = default;
    Links& operator=(Links&&) noexcept = default;
    ~Links();
    void add(bpf_link* link) { links_.push_back(link); }
    size_t size() const { return links_.size(); }

  private:
    std::vector<bpf_link*> links_;
};

class AttachPlan {
  public:
    struct Choice {
        std::string what;
        std::vector<AttachPoint> points; // the chosen way, minus absent optional points
        std::vector<std::string> passed_over; // "tp_btf: kernel lacks it", in order
    };

    // Throws RuntimeError naming what the kernel lacks when some step has
    // no usable way.
    static AttachPlan choose(const std::string& tool, const std::vector<AttachStep>& steps,
                             FeatureSource& features);

    // Like choose, but a step with no usable way is left out and its reason
    // ("what: why") added to unavailable, for tools that degrade (triage).
    static AttachPlan choose_available(const std::string& tool, const std::vector<AttachStep>& steps,
                                       FeatureSource& features, std::vector<std::string>& unavailable);

    const std::vector<Choice>& choices() const { return choices_; }
    bool uses(const std::string& program) const;
    // Before load: turn off autoload for every program the plan did not
    // choose, so the verifier never sees them.
    void apply(bpf_object* object) const;
    // After load: attach the chosen programs. Throws RuntimeError naming the
    // program and target that failed.
    Links attach(bpf_object* object) const;
    std::string describe() const;
    std::string describe_json() const;

  private:
    std::string tool_;
    std::vector<Choice> choices_;
};

} // namespace corescope
