// Events' stacks counted rather than printed one by one. An event tool
// whose events carry a kernel stack (tcpdrop) prints, under -f or -o svg,
// the stacks its events had and how many had each, at the end, as the
// stack tools print theirs (StackPrinter, common/stacks.h): folded lines,
// the largest first, or one flame graph. Each stack stands on a root frame
// the tool names (tcpdrop: the drop reason). Events are counted by root and
// addresses as they come, cheaply; the stacks are named once, at the end,
// and merged where their names agree.
#pragma once

#include "stacks.h"

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

// -f and -o svg for an event tool: adds -f (and lets -o take svg).
void add_event_stack_options(CommandLine& cli, StackOptions& stacks);
// Throws UsageError for -f with -o json or svg, and, where events are
// counted, for -T and -U, which have no place in a stack counted over the
// run. Under -o svg it turns on the folded form, which the graph is drawn
// from: then and with -f, stacks.folded, events are counted (print()), not
// printed each.
void check_event_stack_options(StackOptions& stacks, const CommonOptions& options);

class EventStackCounts {
  public:
    // stacks false: the events carry none (tcpdrop --no-stack): the roots
    // alone are counted.
    explicit EventStackCounts(bool stacks) : stacks_(stacks) {}

    // One event: its root, and its kernel stack as the BPF program copied
    // it (bpf_get_stack: innermost first) with the tracepoint's call site,
    // location (kernel_stack_from). No addresses: the stack was missed.
    void add(std::string_view root, std::vector<uint64_t> stack, uint64_t location);

    // Each root and stack with its count (comm: the root; kernel: the stack,
    // absent without stacks), named through symbolizer (nullptr: unnamed, as
    // in a decoder) and merged where root and names agree; the largest
    // count first, equal counts in the order of their folded lines.
    std::vector<StackRecord> records(Symbolizer* symbolizer) const;

    // records(symbolizer) as the options ask: folded lines
    // ("ROOT;outer_[k];...;inner_[k] COUNT") or one flame graph (-o svg),
    // whose root frames are coloured as a process's. Where kallsyms hides
    // the kernel's addresses, says so (warn_if_kernel_names_hidden).
    void print(const CommonOptions& options, const StackOptions& stacks, Output& out,
               Symbolizer* symbolizer) const;

  private:
    struct Key {
        std::string root;
        uint64_t location = 0;
        std::vector<uint64_t> stack;
        auto operator<=>(const Key&) const = default;
    };
    bool stacks_;
    std::map<Key, uint64_t> counts_;
};

} // namespace corescope
