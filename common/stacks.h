// Stacks as the tools that aggregate by stack see them (profile,
// offcputime): the BPF stack-trace map of bpf/stacks.bpf.h (sized before
// load, read by stack ID after the run), frames resolved through the
// Symbolizer, and three printers: the classic multi-line form with a count,
// the folded form for flame graphs (`comm;outer;...;inner count`), and JSON
// arrays of frames.
#pragma once

#include "cli.h"
#include "map_reader.h"
#include "output.h"
#include "record.h"
#include "symbolizer.h"

#include <bpf/libbpf.h>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace corescope {

// Stacks the map holds by default (--stack-storage-size), as the classic tools.
inline constexpr uint32_t default_stack_storage_size = 16384;
inline constexpr uint32_t max_stack_storage_size = 1u << 22;
// STACK_MAX_DEPTH of bpf/stacks.bpf.h: the kernel's default perf_event_max_stack.
inline constexpr uint32_t max_stack_depth = 127;

// The options every stack tool takes, with one meaning and one wording.
struct StackOptions {
    bool user_only = false;   // --user-stacks-only (the classic -U: -U is --print-uid here)
    bool kernel_only = false; // --kernel-stacks-only (the classic -K)
    bool folded = false;      // -f
    uint32_t storage_size = default_stack_storage_size; // --stack-storage-size
    uint32_t depth = max_stack_depth;                   // --perf-max-stack-depth
    // What a stack's value counts, for -o svg's title and tooltips.
    std::string count_name = "samples";
    // The tool's folded form starts with the process (stackcount's only
    // with -P), which -o svg colours apart.
    bool folded_process_first = true;
};

// Adds the stack options to a tool's command line, -o svg included.
void add_stack_options(CommandLine& cli, StackOptions& stacks);
// Only --stack-storage-size, for a tool with one kind of stack.
void add_stack_storage_option(CommandLine& cli, uint32_t& storage_size);
// Throws UsageError for combinations that cannot be honoured. Under -o svg
// it turns on the folded form, which the flame graph is drawn from.
void check_stack_options(StackOptions& stacks, const CommonOptions& options);
// Before load: sizes the stack map (bpf/stacks.bpf.h) for the options.
// Throws RuntimeError.
void configure_stack_map(bpf_map* stack_map, const StackOptions& stacks);

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

// The kernel stack is taken inside the probe: on the tp_btf and raw_tp tiers
// its innermost frames are the BPF program and the tracepoint's own calls
// (on the tracefs tier, its perf handler: perf_trace_*, perf_syscall_*).
// They are the same for every stack and say nothing about the event, so
// the stack starts where the kernel called the tracepoint, as on the
// tracefs tier.
void drop_probe_frames(ResolvedStack& stack);

// A frame's name ("name+0x1a", as symbol_label with offsets), or its
// address in hex when it has none.
std::string frame_label(const Frame& frame);

// A kernel stack a BPF program copied itself (bpf_get_stack), innermost
// first, from the function that called the tracepoint outwards: the frames
// inside the tracepoint and the BPF program go. The frame whose return
// address is location (the tracepoint's call site, as the event carries it)
// is in the caller of the traced function, so the stack starts one frame in
// from it; without it, drop_probe_frames' names do. No addresses: missed.
// Frames are named when symbolizer is given (decoders pass none).
ResolvedStack kernel_stack_from(std::vector<uint64_t> addresses, uint64_t location,
                                Symbolizer* symbolizer);

// A stack's frames in the classic form, one a line, indented: innermost
// first (or outermost first), or one line "[missed KIND stack]";
// show_offsets: "name+0x1a" (stackcount -s).
void append_frames_multiline(std::string& out, const ResolvedStack& stack, const char* kind,
                             bool outermost_first = false, bool show_offsets = false);
// A stack under an event's own line (tcpdrop's classic form): one line
// "[missed KIND stack]", or a frame a line, indented, by name, or where it
// has none by its address in hex (an event's stack is all the user gets:
// the address is the lead to follow); then a blank line.
void append_event_stack(std::string& out, const ResolvedStack& stack, const char* kind);
// A stack's frames in the folded form, each after a ';': outermost first
// (or innermost first), or ";[missed KIND stack]"; a kernel frame (KIND
// "kernel") ends in `_[k]`, the annotation flame graph tools colour by.
void append_frames_folded(std::string& out, const ResolvedStack& stack, const char* kind,
                          bool innermost_first = false, bool show_offsets = false);
// Text for the folded form: escaped, a ';' written as "\x3b".
void append_folded_text(std::string& out, std::string_view text);

// How the classic and the folded form (below) show a record, where a tool
// asks for more or less than the default.
struct StackForm {
    bool show_offsets = false; // frames as "name+0x1a" (stackcount -s)
    // The "-  comm (pid)" line, the command first in the folded form; not
    // where stacks are merged across processes (stackcount without -P). A
    // folded line with no frame at all is then "[no stack]".
    bool show_process = true;
    // A frame above the innermost (the probe a stack reached, the lock it
    // waited on): the first line of the classic form, the last frame of the
    // folded form; none when empty.
    std::string leaf;
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
void append_stack_multiline(std::string& out, const StackRecord& record, const StackForm& form);
void append_stack_multiline(std::string& out, const StackRecord& record);

// One line for flamegraph.pl and friends: the command, user frames
// outermost first, then kernel frames outermost first (each `name_[k]`),
// the value last.
// Semicolons inside a name are written as "\x3b" so they cannot split frames.
void append_stack_folded(std::string& out, const StackRecord& record);
void append_stack_folded(std::string& out, const StackRecord& record, const StackForm& form);

// A stack's state from the ID bpf_get_stackid gave (StackReader's, and the
// decoders' where there is no map to read): -EFAULT (no stack to take)
// absent, any other error missed, an ID present.
ResolvedStack::State stack_state_of(int32_t id);

// What tells a stack apart from another when stacks are merged by their
// frames rather than their IDs (stackcount without -P: one stack from many
// processes, each with its own ID): its state and each frame's module and
// name (an unnamed frame's address).
std::string stack_identity(const ResolvedStack& stack);

// A warning, where /proc/kallsyms hides the kernel's addresses, that kernel
// frames print as [unknown]; whether it warned.
bool warn_if_kernel_names_hidden(Symbolizer& symbolizer);

// Both halves of a record from the IDs bpf_get_stackid gave: read and named
// through reader (the kernel half without the probe's own frames,
// drop_probe_frames), or where there is no stack map (decoders, reader
// nullptr) their states alone (stack_state_of).
void resolve_stacks(StackRecord& record, StackReader* reader, int32_t user_id, int32_t kernel_id);

// A JSON array of frames, innermost first:
// [{"address":N,"symbol":"name"|null,"offset":N,"module":"path"|null}, ...]
// offset is from the function's start, or (symbol null) from the module's.
std::string stack_frames_json(const ResolvedStack& stack);

// Reads the mappings of processes while they run, so that their stacks are
// named even if they exit before the end (remember() each PID as it shows
// up in the tool's map, every second), and reads stacks by ID at the end.
class StackCollector {
  public:
    explicit StackCollector(const bpf_map* stack_map)
        : stack_map_(stack_map), reader_(stack_map, symbolizer_) {}
    StackCollector(const StackCollector&) = delete; // reader_ points at symbolizer_
    StackCollector& operator=(const StackCollector&) = delete;
    void remember(uint32_t pid) {
        if (pid != 0 && seen_.insert(pid).second) symbolizer_.remember(pid);
    }
    StackReader& reader() { return reader_; }
    Symbolizer& symbolizer() { return symbolizer_; }
    // Deletes a stack from the stack map (no key names it any more).
    void forget_stack(int32_t id) { bpf_map__delete_elem(stack_map_, &id, sizeof id, 0); }
    // Deletes the stacks the keys of taken entries named (their
    // user_stack_id and kernel_stack_id, those the key has), each once.
    template <class Entry>
    void forget_stacks(const std::vector<Entry>& entries) {
        std::set<int32_t> ids;
        for (const Entry& e : entries) {
            if constexpr (requires { e.key.user_stack_id; }) ids.insert(e.key.user_stack_id);
            if constexpr (requires { e.key.kernel_stack_id; }) ids.insert(e.key.kernel_stack_id);
        }
        for (int32_t id : ids)
            if (id >= 0) forget_stack(id);
    }

  private:
    const bpf_map* stack_map_;
    Symbolizer symbolizer_;
    StackReader reader_;
    std::set<uint32_t> seen_;
};

// Prints aggregated stacks in the form the options ask for: the classic
// multi-line form (the largest value last, next to the prompt), folded
// lines (the largest first), one JSON record each (the largest first):
// type "stack", the tool's fields (fill(Record&)), then both stacks
// (user_stack, user_stack_missed, kernel_stack, kernel_stack_missed; a
// stack the run did not collect is empty), or under -o svg one flame graph
// (common/flamegraph.h) titled with the command line: drawn from the
// tool's own folded form where it has one (the text form, whose kernel
// frames are marked `_[k]`), else from each record's command, user frames and
// kernel frames, outermost first.
//
// A tool whose fields include text columns (a header: klockstat's CALLER,
// TYPE, COUNT...) prints a table in text instead of the classic form: the
// header line, then a line per record from the same fill (the largest
// value last), each followed by what text (if given) adds below it.
class StackPrinter {
  public:
    StackPrinter(const CommonOptions& options, const StackOptions& stacks, Output& out,
                 std::vector<Field> fields);

    // A tool's own text form of one record (the classic and the folded
    // form of tools whose records are more than one task's stacks).
    using TextForm = std::function<void(std::string&, const StackRecord&)>;

    // records sorted by value, the largest first; fill(record, Record&)
    // fills the tool's fields of one; text, if given, writes one in text.
    template <class Fill>
    void print(const std::vector<StackRecord>& records, Fill&& fill, const TextForm& text = {}) {
        if (svg_) {
            print_svg(records, text);
            return;
        }
        if (!json_ && !table_) {
            print_text(records, text);
            return;
        }
        records_.header(); // a table's, in text
        auto one = [&](const StackRecord& record) {
            Record r = records_.begin();
            r.text("stack");
            fill(record, r);
            end_json(r, record);
            if (!json_ && text) {
                text(records_.output().buffer(), record);
                records_.output().end_record();
            }
            return !records_.output().closed();
        };
        // JSON the largest first; a table the largest last, by the prompt.
        for (size_t i = 0, n = records.size(); i < n; i++)
            if (!one(records[json_ ? i : n - 1 - i])) return;
    }

    // A line of text only (an interval's heading); nothing in JSON or SVG.
    void text_heading(std::string_view line);

  private:
    void print_text(const std::vector<StackRecord>& records, const TextForm& text);
    void print_svg(const std::vector<StackRecord>& records, const TextForm& text);
    void end_json(Record& r, const StackRecord& record);

    const CommonOptions& options_;
    const StackOptions& stacks_;
    RecordWriter records_;
    bool json_;
    bool svg_;
    bool table_; // the fields include text columns: a table in text
};

// What a stack tool's summary does besides reading and printing (below).
// Each member has a default (`= {}`), so that a tool names only those it
// sets ({.tick = ...}) without GCC 12's -Wmissing-field-initializers.
template <class Key>
struct StackSummaryHooks {
    // Remembers the processes whose stacks a key holds: by default key.pid;
    // where a key holds more (a waker's and a woken thread's), each of them;
    // where it holds only kernel stacks, none.
    std::function<void(StackCollector&, const Key&)> remember = {};
    // After each second's remembering (memleak: has its command ended?).
    std::function<void(StackCollector&)> tick = {};
    // Each print takes the totals, so the next starts from zero (intervals,
    // klockstat -R), and then deletes the stacks they named from the stack
    // map, which would otherwise fill with stacks no key names.
    bool take_each_print = false;
    // Processes remembered at once (-p: one may exit before the first second).
    std::vector<uint32_t> pids = {};
};

// A stack tool's summary (common/run.h): the totals map (keys with a pid),
// read and printed at the end (or each interval) by the tool's printer
// (print(entries, StackReader*)); meanwhile, every second, the mappings of
// processes new in it, so a process that exits before the end still has its
// frames named. After printing, `report` says what the run missed.
template <class Key, class Value, class Printer>
class StackSummary {
  public:
    StackSummary(const bpf_map* totals, size_t limit, const bpf_map* stack_map, Printer printer,
                 std::function<void(Symbolizer&)> report, StackSummaryHooks<Key> hooks = {})
        : totals_(totals), limit_(limit), printer_(std::move(printer)), collector_(stack_map),
          report_(std::move(report)), hooks_(std::move(hooks)) {
        for (uint32_t pid : hooks_.pids)
            collector_.remember(pid);
    }

    void every_second() {
        remember(read_map<Key, Value>(totals_, limit_));
        if (hooks_.tick) hooks_.tick(collector_);
    }

    // Also the processes that came since the last second, before their
    // stacks are named.
    void print() {
        bool take = hooks_.take_each_print;
        std::vector<MapEntry<Key, Value>> entries =
            take ? take_map<Key, Value>(totals_, limit_) : read_map<Key, Value>(totals_, limit_);
        remember(entries);
        printer_.print(entries, &collector_.reader());
        if (take) collector_.forget_stacks(entries);
        report_(collector_.symbolizer());
    }

  private:
    void remember(const std::vector<MapEntry<Key, Value>>& entries) {
        for (const MapEntry<Key, Value>& e : entries) {
            if (hooks_.remember) {
                hooks_.remember(collector_, e.key);
            } else {
                if constexpr (requires { e.key.pid; }) collector_.remember(e.key.pid);
            }
        }
    }

    const bpf_map* totals_;
    size_t limit_;
    Printer printer_;
    StackCollector collector_;
    std::function<void(Symbolizer&)> report_;
    StackSummaryHooks<Key> hooks_;
};

// At the end of a run, when stacks were missed: one line on stderr that says
// how many and what to do, and under -o json a record
// {"type":"missed_stacks","collisions":N,"map_full":M,"stack_storage_size":S}.
void report_missed_stacks(uint64_t collisions, uint64_t map_full, uint32_t storage_size,
                          const CommonOptions& options, Output& out);
// The same, from a skeleton's counters (bpf/stacks.bpf.h's
// stack_id_collisions and stack_id_no_memory, in its .bss).
template <class Skeleton>
void report_missed_stacks(const Skeleton& skel, uint32_t storage_size, const CommonOptions& options,
                          Output& out) {
    report_missed_stacks(skel.bss->stack_id_collisions, skel.bss->stack_id_no_memory, storage_size,
                         options, out);
}

// What a stack tool's kernel side missed, said at each print (each interval)
// for what is new since the last, from the BPF side's running totals:
// stacks not stored (report_missed_stacks), counts the tool's own map had
// no room for (dropped), and once a run, where the run collects kernel
// stacks, kernel frames left unnamed (warn_if_kernel_names_hidden).
class MissedSinceLastPrint {
  public:
    MissedSinceLastPrint(const CommonOptions& options, Output& out, uint32_t storage_size,
                         bool kernel_stacks)
        : options_(options), out_(out), storage_size_(storage_size), kernel_stacks_(kernel_stacks) {
    }

    void stacks(Symbolizer& symbolizer, uint64_t collisions, uint64_t no_memory);
    // A running total of dropped counts: how many are new since the last call.
    uint64_t dropped(uint64_t total) {
        uint64_t added = total > dropped_ ? total - dropped_ : 0;
        dropped_ = total;
        return added;
    }

  private:
    const CommonOptions& options_;
    Output& out_;
    uint32_t storage_size_;
    bool kernel_stacks_;
    bool warned_names_ = false;
    uint64_t collisions_ = 0, no_memory_ = 0, dropped_ = 0;
};

} // namespace corescope
