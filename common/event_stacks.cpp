#include "event_stacks.h"

#include "errors.h"

#include <algorithm>
#include <utility>

namespace corescope {

void add_event_stack_options(CommandLine& cli, StackOptions& stacks) {
    cli.allow_svg();
    cli.add_switch('f', "folded",
                   "at the end, each stack once with its count (folded), for flame graphs",
                   &stacks.folded);
}

void check_event_stack_options(StackOptions& stacks, const CommonOptions& options) {
    check_stack_options(stacks, options);
    if (!stacks.folded) return;
    for (auto [set, flag] : {std::pair{options.time, "-T"}, {options.print_uid, "-U"}})
        if (set)
            throw UsageError(std::string("-f and -o svg count stacks over the whole run: ") + flag +
                             " does not apply");
}

void EventStackCounts::add(std::string_view root, std::vector<uint64_t> stack, uint64_t location) {
    Key key{std::string(root), 0, {}};
    if (stacks_) {
        key.location = location;
        key.stack = std::move(stack);
    }
    counts_[std::move(key)]++;
}

std::vector<StackRecord> EventStackCounts::records(Symbolizer* symbolizer) const {
    // Merged by their folded line: two call sites in one function are one
    // frame there.
    std::map<std::string, StackRecord> merged;
    for (const auto& [key, count] : counts_) {
        StackRecord record;
        record.comm = key.root;
        if (stacks_) record.kernel = kernel_stack_from(key.stack, key.location, symbolizer);
        std::string line;
        append_stack_folded(line, record);
        auto [at, added] = merged.try_emplace(std::move(line), std::move(record));
        at->second.value += count;
    }
    std::vector<std::pair<std::string, StackRecord>> sorted(merged.begin(), merged.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second.value > b.second.value; });
    std::vector<StackRecord> records;
    for (auto& [line, record] : sorted)
        records.push_back(std::move(record));
    return records;
}

void EventStackCounts::print(const CommonOptions& options, const StackOptions& stacks, Output& out,
                             Symbolizer* symbolizer) const {
    if (stacks_ && symbolizer && !counts_.empty()) warn_if_kernel_names_hidden(*symbolizer);
    StackPrinter printer(options, stacks, out, {});
    printer.print(records(symbolizer), [](const StackRecord&, Record&) {});
}

} // namespace corescope
