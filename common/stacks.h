// Stacks as the tools that aggregate by stack see them (profile,
// offcputime): the BPF stack-trace map of bpf/stacks.bpf.h (sized before
// load, read by stack ID after the run), frames resolved through the
// Symbolizer, and three printers: the classic multi-line form with a count,
// the folded form for flame graphs (`comm;outer;...;inner count`), and JSON
// arrays of frames.
#pragma once

#include "output.h"
#include "symbolizer.h"

#include <bpf/libbpf.h>
#include <cstdint>
#include <string>
#include <vector>

namespace corescope {

// Stacks the map holds by default (--stack-storage-size), as the classic tools.
inline constexpr uint32_t default_stack_storage_size = 16384;

// Before load: how many distinct stacks the map can hold. Throws RuntimeError.
void set_stack_storage_size(bpf_map* stack_map, uint32_t entries);

struct Frame {
    uint64_t address = 0;
    Symbol symbol;
};

struct ResolvedStack {
    enum class State {
        absent,  // not collected (a kernel thread has no user stack; -K/-U style options)
        missed,  // collected but not stored: the map was full or a hash bucket taken
        present, // frames below (possibly none)
    };
    State state = State::absent;
    std::vector<Frame> frames; // innermost first
};

// Reads stacks by ID and resolves their frames.
class StackReader {
  public:
    StackReader(const bpf_map* stack_map, Symbolizer& symbolizer);

    // id as bpf_get_stackid returned it: below 0 is -EFAULT (no stack: absent)
    // or another error (missed).
    ResolvedStack kernel(int32_t id);
    ResolvedStack user(uint32_t pid, int32_t id);

    // The raw addresses of a stack, innermost first; empty if the ID is not
    // in the map.
    std::vector<uint64_t> addresses(int32_t id) const;

  private:
    const bpf_map* map_;
    Symbolizer& symbolizer_;
    uint32_t depth_;
};

// One aggregated stack to print: who, both halves, and the value (a sample
// count for profile, microseconds off CPU for offcputime).
struct StackRecord {
    uint32_t pid = 0;
    std::string comm;
    ResolvedStack user;
    ResolvedStack kernel;
    uint64_t value = 0;
};

// The classic form: kernel frames innermost first, "--" between kernel and
// user frames, user frames innermost first, then "-  comm (pid)" and the
// value on its own line, and a blank line:
//
//     do_syscall_64
//     --
//     busy_loop
//     main
//     -                app (4242)
//         17
void append_stack_multiline(std::string& out, const StackRecord& record);

// One line for flamegraph.pl and friends: the command, user frames
// outermost first, then kernel frames outermost first, the value last.
// Semicolons inside a name are written as "\x3b" so they cannot split frames.
void append_stack_folded(std::string& out, const StackRecord& record);

// A JSON array of frames, innermost first:
// [{"address":N,"symbol":"name"|null,"offset":N,"module":"path"|null}, ...]
// offset is from the function's start, or (symbol null) from the module's.
std::string stack_frames_json(const ResolvedStack& stack);

// At the end of a run, when stacks were missed: one line on stderr that says
// how many and what to do, and under -o json a record
// {"type":"missed_stacks","collisions":N,"map_full":M,"stack_storage_size":S}.
void report_missed_stacks(const std::string& tool, uint64_t collisions, uint64_t map_full,
                          uint32_t storage_size, Output& out, bool json);

} // namespace corescope
