#include "stacks.h"

#include "errors.h"
#include "flamegraph.h"
#include "tool.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace corescope {

void add_stack_options(CommandLine& cli, StackOptions& stacks) {
    cli.allow_svg();
    cli.add_switch(0, "user-stacks-only", "only user stacks (the classic tools' -U)",
                   &stacks.user_only);
    cli.add_switch(0, "kernel-stacks-only", "only kernel stacks (the classic tools' -K)",
                   &stacks.kernel_only);
    cli.add_switch('f', "folded", "folded output, one line a stack, for flame graphs",
                   &stacks.folded);
    add_stack_storage_option(cli, stacks.storage_size);
    cli.add_option(0, "perf-max-stack-depth", "FRAMES",
                   "the deepest stack recorded (default " + std::to_string(max_stack_depth) + ")",
                   [&](std::string_view v) {
                       stacks.depth = static_cast<uint32_t>(
                           parse_unsigned("stack depth", v, 1, max_stack_depth));
                   });
}

void add_stack_storage_option(CommandLine& cli, uint32_t& storage_size) {
    cli.add_option(0, "stack-storage-size", "COUNT",
                   "distinct stacks the kernel keeps (default " +
                       std::to_string(default_stack_storage_size) + ")",
                   [&storage_size](std::string_view v) {
                       storage_size = static_cast<uint32_t>(
                           parse_unsigned("stack storage size", v, 1, max_stack_storage_size));
                   });
}

void check_stack_options(StackOptions& stacks, const CommonOptions& options) {
    if (stacks.user_only && stacks.kernel_only)
        throw UsageError("--user-stacks-only and --kernel-stacks-only cannot be combined");
    if (stacks.folded && options.format == OutputFormat::json)
        throw UsageError("-f (folded) and -o json cannot be combined: pick one output");
    if (stacks.folded && options.format == OutputFormat::svg)
        throw UsageError("-f (folded) and -o svg cannot be combined: pick one output");
    // The flame graph is drawn from the folded form.
    if (options.format == OutputFormat::svg) stacks.folded = true;
}

void configure_stack_map(bpf_map* stack_map, const StackOptions& stacks) {
    int err = bpf_map__set_max_entries(stack_map, stacks.storage_size);
    // The depth is the value size; StackReader reads it back from the map.
    if (!err) err = bpf_map__set_value_size(stack_map, stacks.depth * sizeof(uint64_t));
    if (err) throw RuntimeError(errno_message("cannot size the stack map", err));
}

StackReader::StackReader(const bpf_map* stack_map, Symbolizer& symbolizer)
    : map_(stack_map), symbolizer_(symbolizer),
      depth_(bpf_map__value_size(stack_map) / sizeof(uint64_t)) {}

std::vector<uint64_t> StackReader::addresses(int32_t id) const {
    std::vector<uint64_t> frames(depth_);
    if (id < 0 || bpf_map__lookup_elem(map_, &id, sizeof id, frames.data(),
                                       frames.size() * sizeof(uint64_t), 0) != 0)
        return {};
    // The kernel zero-fills the slots past the last frame.
    size_t used = 0;
    while (used < frames.size() && frames[used] != 0)
        used++;
    frames.resize(used);
    return frames;
}

ResolvedStack::State stack_state_of(int32_t id) {
    if (id >= 0) return ResolvedStack::State::present;
    // -EFAULT: there was no stack to take (a kernel thread's user stack);
    // any other error lost a stack that existed.
    return id == -EFAULT ? ResolvedStack::State::absent : ResolvedStack::State::missed;
}

ResolvedStack StackReader::kernel(int32_t id) {
    ResolvedStack stack;
    stack.state = stack_state_of(id);
    for (uint64_t address : addresses(id))
        stack.frames.push_back({address, symbolizer_.kernel(address)});
    return stack;
}

ResolvedStack StackReader::user(uint32_t pid, int32_t id) {
    ResolvedStack stack;
    stack.state = stack_state_of(id);
    for (uint64_t address : addresses(id))
        stack.frames.push_back({address, symbolizer_.user(pid, address)});
    return stack;
}

namespace {

// A frame's name, escaped for a terminal.
void append_frame(std::string& out, const Frame& frame, bool show_offset) {
    append_text_escaped(out, symbol_label(frame.symbol, show_offset));
}

} // namespace

// Escaped, and with ';' (the frame separator of the folded form) and ' '
// before the count kept unambiguous: a semicolon becomes \x3b.
void append_folded_text(std::string& out, std::string_view text) {
    std::string escaped = text_escaped(text);
    for (char c : escaped) {
        if (c == ';')
            out += "\\x3b";
        else
            out += c;
    }
}

void drop_probe_frames(ResolvedStack& stack) {
    auto is_probe = [](const Frame& f) {
        const std::string& name = f.symbol.name;
        return f.symbol.module == "bpf" || name.starts_with("bpf_prog_") ||
               name.starts_with("bpf_trace_run") || name.starts_with("__traceiter_") ||
               name.starts_with("__bpf_trace_") || name.starts_with("perf_trace_") ||
               name.starts_with("perf_syscall_");
    };
    auto first_kept = std::find_if_not(stack.frames.begin(), stack.frames.end(), is_probe);
    if (first_kept != stack.frames.end()) stack.frames.erase(stack.frames.begin(), first_kept);
}

std::string frame_label(const Frame& frame) {
    if (frame.symbol.known()) return symbol_label(frame.symbol, true);
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(frame.address));
    return b;
}

ResolvedStack kernel_stack_from(std::vector<uint64_t> addresses, uint64_t location,
                                Symbolizer* symbolizer) {
    ResolvedStack stack;
    stack.state = ResolvedStack::State::present;
    if (addresses.empty()) {
        stack.state = ResolvedStack::State::missed;
        return stack;
    }
    auto at = std::find(addresses.begin(), addresses.end(), location);
    bool trimmed = at != addresses.end();
    if (trimmed) addresses.erase(addresses.begin(), at == addresses.begin() ? at : at - 1);
    for (uint64_t address : addresses) {
        Frame f;
        f.address = address;
        if (symbolizer) f.symbol = symbolizer->kernel(address);
        stack.frames.push_back(std::move(f));
    }
    if (!trimmed && symbolizer) drop_probe_frames(stack);
    return stack;
}

void append_frames_multiline(std::string& out, const ResolvedStack& stack, const char* kind,
                             bool outermost_first, bool show_offsets) {
    if (stack.state == ResolvedStack::State::missed) {
        out += "    [missed ";
        out += kind;
        out += " stack]\n";
        return;
    }
    auto one = [&](const Frame& frame) {
        out += "    ";
        append_frame(out, frame, show_offsets);
        out += '\n';
    };
    if (outermost_first)
        std::for_each(stack.frames.rbegin(), stack.frames.rend(), one);
    else
        std::for_each(stack.frames.begin(), stack.frames.end(), one);
}

void append_event_stack(std::string& out, const ResolvedStack& stack, const char* kind) {
    if (stack.state == ResolvedStack::State::missed) {
        out += "    [missed ";
        out += kind;
        out += " stack]\n";
    }
    for (const Frame& frame : stack.frames) {
        out += "    ";
        if (frame.symbol.known())
            append_frame(out, frame, false);
        else
            out += frame_label(frame);
        out += '\n';
    }
    out += '\n';
}

void append_frames_folded(std::string& out, const ResolvedStack& stack, const char* kind,
                          bool innermost_first, bool show_offsets) {
    if (stack.state == ResolvedStack::State::missed) {
        out += ";[missed ";
        out += kind;
        out += " stack]";
        return;
    }
    // Kernel frames are marked `_[k]`, as stackcollapse-perf --all and bcc's
    // profile -a write them: flamegraph.pl and corescope flamegraph colour
    // them apart and show the name without it.
    bool mark = std::string_view(kind) == "kernel";
    auto one = [&](const Frame& frame) {
        out += ';';
        append_folded_text(out, symbol_label(frame.symbol, show_offsets));
        if (mark) out += "_[k]";
    };
    if (innermost_first)
        std::for_each(stack.frames.begin(), stack.frames.end(), one);
    else
        std::for_each(stack.frames.rbegin(), stack.frames.rend(), one);
}

void append_stack_multiline(std::string& out, const StackRecord& record, const StackForm& form) {
    if (!form.leaf.empty()) {
        out += "    ";
        append_text_escaped(out, form.leaf);
        out += '\n';
    }
    bool kernel_shown = record.kernel.state != ResolvedStack::State::absent;
    bool user_shown = record.user.state != ResolvedStack::State::absent;
    append_frames_multiline(out, record.kernel, "kernel", false, form.show_offsets);
    if (kernel_shown && user_shown) out += "    --\n";
    append_frames_multiline(out, record.user, "user", false, form.show_offsets);
    if (form.show_process) {
        char pid[32];
        std::snprintf(pid, sizeof pid, " (%u)\n", record.pid);
        out += "    -                ";
        append_text_escaped(out, record.comm);
        out += pid;
    }
    out += "        ";
    append_unsigned(out, record.value);
    out += "\n\n";
}

void append_stack_multiline(std::string& out, const StackRecord& record) {
    append_stack_multiline(out, record, StackForm{});
}

void append_stack_folded(std::string& out, const StackRecord& record, const StackForm& form) {
    std::string line;
    if (form.show_process) {
        line += ';';
        append_folded_text(line, record.comm);
    }
    append_frames_folded(line, record.user, "user", false, form.show_offsets);
    append_frames_folded(line, record.kernel, "kernel", false, form.show_offsets);
    if (!form.leaf.empty()) {
        line += ';';
        append_folded_text(line, form.leaf);
    }
    if (line.empty()) line = ";[no stack]";
    out.append(line, 1);
    out += ' ';
    append_unsigned(out, record.value);
    out += '\n';
}

void append_stack_folded(std::string& out, const StackRecord& record) {
    append_stack_folded(out, record, StackForm{});
}

std::string stack_identity(const ResolvedStack& stack) {
    std::string key = std::to_string(static_cast<int>(stack.state));
    for (const Frame& f : stack.frames) {
        // A frame without a name is told apart by its address.
        key += ";" + f.symbol.module + "`" + symbol_label(f.symbol, true);
        if (!f.symbol.known()) key += "@" + std::to_string(f.address);
    }
    return key;
}

bool warn_if_kernel_names_hidden(Symbolizer& symbolizer) {
    if (symbolizer.kernel_addresses_visible()) return false;
    warn("/proc/kallsyms shows no addresses, so kernel frames are [unknown]; set "
         "kernel.kptr_restrict to 0 or 1 and run as root");
    return true;
}

void resolve_stacks(StackRecord& record, StackReader* reader, int32_t user_id, int32_t kernel_id) {
    if (!reader) {
        record.user.state = stack_state_of(user_id);
        record.kernel.state = stack_state_of(kernel_id);
        return;
    }
    record.user = reader->user(record.pid, user_id);
    record.kernel = reader->kernel(kernel_id);
    drop_probe_frames(record.kernel);
}

std::string stack_frames_json(const ResolvedStack& stack) {
    std::string out = "[";
    for (size_t i = 0; i < stack.frames.size(); i++) {
        const Frame& frame = stack.frames[i];
        if (i) out += ',';
        JsonObject j(out);
        j.unsigned_number("address", frame.address);
        if (frame.symbol.known())
            j.string("symbol", frame.symbol.name).unsigned_number("offset", frame.symbol.offset);
        else
            j.null("symbol").unsigned_number("offset", frame.symbol.module_offset);
        if (frame.symbol.module.empty())
            j.null("module");
        else
            j.string("module", frame.symbol.module);
        j.end();
    }
    out += ']';
    return out;
}

namespace {

bool has_text_columns(const std::vector<Field>& fields) {
    for (const Field& f : fields)
        if (!f.header.empty()) return true;
    return false;
}

RecordLayout stack_layout(std::vector<Field> fields) {
    RecordLayout layout{0, {json_field("type")}};
    layout.fields.insert(layout.fields.end(), fields.begin(), fields.end());
    // Both stacks always, empty when the run did not collect one.
    for (const char* key :
         {"user_stack", "user_stack_missed", "kernel_stack", "kernel_stack_missed"})
        layout.fields.push_back(json_field(key));
    // Text is a table only where the tool gives text columns; -T's time is
    // then a heading of the tool's own, not a column.
    layout.text_header = has_text_columns(fields);
    layout.time_prefix = false;
    return layout;
}

} // namespace

StackPrinter::StackPrinter(const CommonOptions& options, const StackOptions& stacks, Output& out,
                           std::vector<Field> fields)
    : options_(options), stacks_(stacks), records_(options, out, stack_layout(fields)),
      json_(options.format == OutputFormat::json), svg_(options.format == OutputFormat::svg),
      table_(has_text_columns(fields)) {}

void StackPrinter::print_svg(const std::vector<StackRecord>& records, const TextForm& text) {
    FlameGraph graph;
    if (text && stacks_.folded) {
        // The tool's own folded form (a waker's stack after the woken's,
        // a probe's name): drawn as `corescope flamegraph` would draw it.
        std::string folded;
        for (const StackRecord& record : records)
            text(folded, record);
        graph = flame_graph_from_folded(
            folded, [](size_t, std::string_view, const std::string&) {},
            stacks_.folded_process_first);
    } else {
        for (const StackRecord& record : records) {
            // The process at the root: its name, else its PID (a tool
            // that keys by PID alone), else none (kernel-wide stacks).
            std::vector<FlameFrame> frames;
            if (!record.comm.empty())
                frames.push_back({record.comm, FrameKind::process});
            else if (record.pid != 0)
                frames.push_back({"PID " + std::to_string(record.pid), FrameKind::process});
            auto half = [&](const ResolvedStack& stack, const char* kind, FrameKind k) {
                if (stack.state == ResolvedStack::State::missed) {
                    frames.push_back(
                        {std::string("[missed ") + kind + " stack]", FrameKind::unknown});
                    return;
                }
                for (auto it = stack.frames.rbegin(); it != stack.frames.rend(); ++it)
                    frames.push_back({symbol_label(it->symbol, false),
                                      it->symbol.known() ? k : FrameKind::unknown});
            };
            half(record.user, "user", FrameKind::user);
            half(record.kernel, "kernel", FrameKind::kernel);
            graph.add(frames, record.value);
        }
    }
    FlameOptions flame;
    flame.title = options_.invocation.empty() ? "Flame Graph" : options_.invocation;
    flame.count_name = stacks_.count_name;
    Output& out = records_.output();
    out.buffer() += graph.svg(flame);
    out.end_record();
}

void StackPrinter::text_heading(std::string_view line) {
    if (json_ || svg_) return;
    Output& out = records_.output();
    out.buffer() += line;
    out.end_record();
}

void StackPrinter::print_text(const std::vector<StackRecord>& records, const TextForm& text) {
    Output& out = records_.output();
    auto one = [&](const StackRecord& record) {
        if (text)
            text(out.buffer(), record);
        else if (stacks_.folded)
            append_stack_folded(out.buffer(), record);
        else
            append_stack_multiline(out.buffer(), record);
        out.end_record();
    };
    if (stacks_.folded) {
        for (auto it = records.begin(); it != records.end() && !out.closed(); ++it)
            one(*it);
    } else {
        for (auto it = records.rbegin(); it != records.rend() && !out.closed(); ++it)
            one(*it);
    }
}

void StackPrinter::end_json(Record& r, const StackRecord& record) {
    r.lazy([&] { return Formatted{stack_frames_json(record.user)}; })
        .boolean(record.user.state == ResolvedStack::State::missed)
        .lazy([&] { return Formatted{stack_frames_json(record.kernel)}; })
        .boolean(record.kernel.state == ResolvedStack::State::missed)
        .end();
}

void report_missed_stacks(uint64_t collisions, uint64_t map_full, uint32_t storage_size,
                          const CommonOptions& options, Output& out) {
    if (collisions == 0 && map_full == 0) return;
    warn(
        "%llu stacks were not recorded (%llu hash collisions, %llu with the stack map full); try a "
        "larger --stack-storage-size (now %u)",
        static_cast<unsigned long long>(collisions + map_full),
        static_cast<unsigned long long>(collisions), static_cast<unsigned long long>(map_full),
        storage_size);
    json_notice(
        options, out, "missed_stacks",
        {{"collisions", collisions}, {"map_full", map_full}, {"stack_storage_size", storage_size}});
}

void MissedSinceLastPrint::stacks(Symbolizer& symbolizer, uint64_t collisions, uint64_t no_memory) {
    if (kernel_stacks_ && !warned_names_) warned_names_ = warn_if_kernel_names_hidden(symbolizer);
    report_missed_stacks(collisions - collisions_, no_memory - no_memory_, storage_size_, options_,
                         out_);
    collisions_ = collisions;
    no_memory_ = no_memory;
}

} // namespace corescope
