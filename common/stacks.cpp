#include "stacks.h"

#include "errors.h"

#include <cerrno>
#include <cstdio>

namespace corescope {

void set_stack_storage_size(bpf_map* stack_map, uint32_t entries) {
    int err = bpf_map__set_max_entries(stack_map, entries);
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

namespace {

ResolvedStack::State state_of(int32_t id) {
    if (id >= 0) return ResolvedStack::State::present;
    // -EFAULT: there was no stack to take (a kernel thread's user stack);
    // any other error lost a stack that existed.
    return id == -EFAULT ? ResolvedStack::State::absent : ResolvedStack::State::missed;
}

} // namespace

ResolvedStack StackReader::kernel(int32_t id) {
    ResolvedStack stack;
    stack.state = state_of(id);
    for (uint64_t address : addresses(id))
        stack.frames.push_back({address, symbolizer_.kernel(address)});
    return stack;
}

ResolvedStack StackReader::user(uint32_t pid, int32_t id) {
    ResolvedStack stack;
    stack.state = state_of(id);
    for (uint64_t address : addresses(id))
        stack.frames.push_back({address, symbolizer_.user(pid, address)});
    return stack;
}

namespace {

// A frame's name, escaped for a terminal.
void append_frame(std::string& out, const Frame& frame) {
    append_text_escaped(out, symbol_label(frame.symbol));
}

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

} // namespace

void append_stack_multiline(std::string& out, const StackRecord& record) {
    bool kernel_shown = record.kernel.state != ResolvedStack::State::absent;
    bool user_shown = record.user.state != ResolvedStack::State::absent;
    if (record.kernel.state == ResolvedStack::State::missed) {
        out += "    [missed kernel stack]\n";
    } else {
        for (const Frame& frame : record.kernel.frames) {
            out += "    ";
            append_frame(out, frame);
            out += '\n';
        }
    }
    if (kernel_shown && user_shown) out += "    --\n";
    if (record.user.state == ResolvedStack::State::missed) {
        out += "    [missed user stack]\n";
    } else {
        for (const Frame& frame : record.user.frames) {
            out += "    ";
            append_frame(out, frame);
            out += '\n';
        }
    }
    char pid[32];
    std::snprintf(pid, sizeof pid, " (%u)\n", record.pid);
    out += "    -                ";
    append_text_escaped(out, record.comm);
    out += pid;
    out += "        ";
    append_unsigned(out, record.value);
    out += "\n\n";
}

void append_stack_folded(std::string& out, const StackRecord& record) {
    append_folded_text(out, record.comm);
    auto half = [&](const ResolvedStack& stack, const char* missed) {
        if (stack.state == ResolvedStack::State::missed) {
            out += ';';
            out += missed;
            return;
        }
        for (auto it = stack.frames.rbegin(); it != stack.frames.rend(); ++it) {
            out += ';';
            append_folded_text(out, symbol_label(it->symbol));
        }
    };
    half(record.user, "[missed user stack]");
    half(record.kernel, "[missed kernel stack]");
    out += ' ';
    append_unsigned(out, record.value);
    out += '\n';
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

void report_missed_stacks(const std::string& tool, uint64_t collisions, uint64_t map_full,
                          uint32_t storage_size, Output& out, bool json) {
    if (collisions == 0 && map_full == 0) return;
    std::fprintf(stderr,
                 "%s: %llu stacks were not recorded (%llu hash collisions, %llu with the stack map "
                 "full); try a larger --stack-storage-size (now %u)\n",
                 tool.c_str(), static_cast<unsigned long long>(collisions + map_full),
                 static_cast<unsigned long long>(collisions),
                 static_cast<unsigned long long>(map_full), storage_size);
    if (json)
        JsonObject(out.buffer())
            .string("type", "missed_stacks")
            .unsigned_number("collisions", collisions)
            .unsigned_number("map_full", map_full)
            .unsigned_number("stack_storage_size", storage_size)
            .end_line();
}

} // namespace corescope
