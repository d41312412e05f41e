// memleak: allocations not yet freed, summed by the stack that made them,
// every interval: a process's (-p, or a command it starts) through uprobes
// on its C library's allocation functions, or the kernel's through the kmem
// tracepoints (the default without a process).
#include "decoder.h"
#include "errors.h"
#include "filters.h"
#include "held_command.h"
#include "host_lookups.h"
#include "map_reader.h"
#include "probe_spec.h"
#include "run.h"
#include "stack_rows.h"
#include "stacks.h"
#include "text_file.h"
#include "user_files.h"

#include <linux/types.h>
#include "memleak.skel.h"
#include "memleak/memleak.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace corescope::tools {

namespace {

struct Settings {
    bool kernel = false;            // --kernel (or no process named)
    bool percpu = false;            // --percpu
    bool show_allocs = false;       // -a
    uint64_t older_ms = 0;          // --older
    uint32_t top = 10;              // --top
    uint64_t min_size = 0;          // -z
    uint64_t max_size = UINT64_MAX; // -Z
    uint32_t sample_rate = 1;       // -s
    std::string object;             // -O
    std::string command;            // --command
    StackOptions stacks;
};

const char* kind_name(uint32_t kind) {
    static const char* const names[MEMLEAK_KINDS] = {"malloc",     "mmap", "kmalloc",
                                                     "kmem_cache", "page", "percpu"};
    return kind < MEMLEAK_KINDS ? names[kind] : "unknown";
}

using Entry = MapEntry<memleak_key, memleak_alloc>;

// One stack's outstanding allocations.
struct Group {
    uint32_t pid = 0;
    int32_t stack_id = 0;
    uint64_t bytes = 0;
    std::vector<const Entry*> allocations; // oldest first
};

// Each interval: the outstanding allocations older than --older, summed by
// (process, stack), the --top largest; in text bcc's "N bytes in M
// allocations from stack" with the frames (the largest last), in JSON one
// record per stack (the largest first).
class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bool live)
        : settings_(settings), live_(live),
          stacks_(options, settings.stacks, out,
                  {json_field("time"), shown_if(!settings.kernel, json_field("pid")),
                   shown_if(!settings.kernel, json_field("comm")), json_field("bytes"),
                   json_field("allocations"), json_field("oldest_ms"),
                   shown_if(settings.show_allocs, json_field("outstanding"))}) {}

    // Live: ages from now.
    void print(const std::vector<Entry>& entries, StackReader* reader) {
        print(entries, reader, monotonic_ns());
    }

    // now_ns: CLOCK_MONOTONIC, what the ages are measured from.
    void print(const std::vector<Entry>& entries, StackReader* reader, uint64_t now_ns) {
        uint64_t older_ns = settings_.older_ms * 1000000;
        std::map<std::pair<uint32_t, int32_t>, Group> groups;
        for (const Entry& e : entries) {
            if (e.value.ts_ns > now_ns || now_ns - e.value.ts_ns < older_ns) continue;
            uint32_t pid = settings_.kernel ? 0 : e.key.pid;
            Group& g = groups[{pid, e.value.stack_id}];
            g.pid = pid;
            g.stack_id = e.value.stack_id;
            g.bytes += e.value.size;
            g.allocations.push_back(&e);
        }
        StackRows<Group> rows;
        for (auto& [key, g] : groups) {
            std::sort(g.allocations.begin(), g.allocations.end(),
                      [](const Entry* a, const Entry* b) {
                          return a->value.ts_ns != b->value.ts_ns ? a->value.ts_ns < b->value.ts_ns
                                                                  : a->key.address < b->key.address;
                      });
            StackRecord record;
            record.pid = g.pid;
            record.value = g.bytes;
            rows.add(std::move(record), std::move(g));
        }
        rows.sort(
            [](const Group& a, const Group& b) {
                return a.pid != b.pid ? a.pid < b.pid : a.stack_id < b.stack_id;
            },
            settings_.top);

        std::string time;
        clock_.append_iso(time, now_ns);
        std::string heading = "[";
        clock_.append_hms(heading, now_ns);
        heading += "] Top " + std::to_string(settings_.top) + " stacks with outstanding " +
                   (settings_.kernel ? "kernel " : "") + "allocations:\n";
        stacks_.text_heading(heading);
        rows.fill([&](StackRecord& record, const Group& g) {
            if (!settings_.kernel && live_) record.comm = comms_.of(g.pid);
            if (reader) {
                if (settings_.kernel) {
                    record.kernel = reader->kernel(g.stack_id);
                    drop_probe_frames(record.kernel);
                } else {
                    record.user = reader->user(g.pid, g.stack_id);
                }
            }
        });
        stacks_.print(
            rows.records(),
            [&](const StackRecord& record, Record& r) {
                const Group& g = rows.of(record);
                r.text(time)
                    .number(g.pid)
                    .text(record.comm)
                    .number(g.bytes)
                    .number(g.allocations.size())
                    .number(age_ms(*g.allocations.front(), now_ns))
                    .lazy([&] { return Formatted{outstanding_json(g, now_ns)}; });
            },
            [&](std::string& out, const StackRecord& record) {
                append_text(out, rows.of(record), record, now_ns);
            });
    }

  private:
    static uint64_t age_ms(const Entry& e, uint64_t now_ns) {
        return now_ns >= e.value.ts_ns ? (now_ns - e.value.ts_ns) / 1000000 : 0;
    }

    std::string outstanding_json(const Group& g, uint64_t now_ns) const {
        std::string out = "[";
        for (const Entry* e : g.allocations) {
            if (out.size() > 1) out += ',';
            JsonObject j(out);
            j.unsigned_number("address", e->key.address)
                .unsigned_number("size", e->value.size)
                .unsigned_number("age_ms", age_ms(*e, now_ns))
                .string("kind", kind_name(e->value.kind));
            j.end();
        }
        return out + "]";
    }

    void append_text(std::string& out, const Group& g, const StackRecord& record,
                     uint64_t now_ns) const {
        char line[160];
        if (settings_.show_allocs) {
            for (const Entry* e : g.allocations) {
                std::snprintf(line, sizeof line, "\taddr = %llx size = %llu age = %llu ms (%s)\n",
                              static_cast<unsigned long long>(e->key.address),
                              static_cast<unsigned long long>(e->value.size),
                              static_cast<unsigned long long>(age_ms(*e, now_ns)),
                              kind_name(e->value.kind));
                out += line;
            }
        }
        std::snprintf(line, sizeof line, "\t%llu bytes in %zu allocations from stack",
                      static_cast<unsigned long long>(g.bytes), g.allocations.size());
        out += line;
        if (!settings_.kernel) {
            out += " (pid " + std::to_string(g.pid);
            if (!record.comm.empty()) {
                out += ' ';
                append_text_escaped(out, record.comm);
            }
            out += ')';
        }
        out += '\n';
        append_frames_multiline(out, settings_.kernel ? record.kernel : record.user,
                                settings_.kernel ? "kernel" : "user");
        out += '\n';
    }

    const Settings& settings_;
    bool live_;
    StackPrinter stacks_;
    EventClock clock_;
    ProcessNames comms_; // kept for when a process has exited
};

// The allocation functions probed: the function, its entry program and its
// return program (empty: none), and whether a C library must have it.
constexpr FunctionProbe probed[] = {
    {"malloc", "malloc_entry", "alloc_return", true},
    {"free", "free_entry", "", true},
    {"calloc", "calloc_entry", "alloc_return", false},
    {"realloc", "realloc_entry", "alloc_return", false},
    {"reallocarray", "reallocarray_entry", "alloc_return", false},
    {"posix_memalign", "posix_memalign_entry", "posix_memalign_return", false},
    {"aligned_alloc", "aligned_entry", "alloc_return", false},
    {"memalign", "aligned_entry", "alloc_return", false},
    {"valloc", "valloc_entry", "alloc_return", false},
    {"pvalloc", "valloc_entry", "alloc_return", false},
    {"mmap", "mmap_entry", "mmap_return", false},
    {"munmap", "munmap_entry", "", false},
};

// The uprobes for one library, for process pid (-1: every process).
void add_library_probes(AttachWay& way, const std::string& lib, int pid) {
    add_function_uprobes(way, lib, pid, probed,
                         "(not an allocator?): name the allocator's library with -O");
}

std::vector<AttachStep> attach_steps(const Settings& settings, const std::vector<uint32_t>& pids,
                                     std::optional<uint32_t> command_pid) {
    if (settings.kernel) {
        std::vector<TracepointProgram> programs = {
            {"kmalloc", "kmem:kmalloc"},
            {"kfree", "kmem:kfree"},
            {"cache_alloc", "kmem:kmem_cache_alloc"},
            {"cache_free", "kmem:kmem_cache_free"},
            {"page_alloc", "kmem:mm_page_alloc"},
            {"page_free", "kmem:mm_page_free"},
            {"page_free_batched", "kmem:mm_page_free_batched", true},
        };
        std::vector<AttachStep> steps = {
            tracepoint_tiers("kernel allocations and frees", programs,
                             {AttachKind::raw_tp, AttachKind::tracepoint})};
        if (settings.percpu)
            steps.push_back(tracepoint_tiers("per-CPU allocations and frees",
                                             {{"percpu_alloc", "percpu:percpu_alloc_percpu"},
                                              {"percpu_free", "percpu:percpu_free_percpu"}},
                                             {AttachKind::raw_tp, AttachKind::tracepoint}));
        return steps;
    }
    AttachWay uprobes;
    auto library_of = [&](std::vector<uint32_t> in) {
        if (!settings.object.empty()) return find_user_library(settings.object, in);
        return libc_paths({}, in).front();
    };
    if (command_pid) {
        // Not started yet: the system's library, as the command will map it;
        // and its exit(), where it stops to have its mappings read.
        add_library_probes(uprobes, library_of({}), static_cast<int>(*command_pid));
        if (std::optional<AttachPoint> stop = exit_stop_probe(static_cast<pid_t>(*command_pid)))
            uprobes.points.push_back(*stop);
    } else {
        for (uint32_t pid : pids)
            add_library_probes(uprobes, library_of({pid}), static_cast<int>(pid));
    }
    return {{"user allocations and frees", {std::move(uprobes)}}};
}

void report_dropped(uint64_t dropped, const CommonOptions& options, Output& out) {
    if (dropped == 0) return;
    warn("%llu allocations not followed (table of %u outstanding allocations full: narrow the "
         "trace with -p, -z, -Z or -s)",
         static_cast<unsigned long long>(dropped), MEMLEAK_MAX_ALLOCS);
    json_notice(options, out, "dropped", {{"allocations_dropped", dropped}});
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the allocs map's
// entries (key, then value), their stacks not named; ages from one second
// after the newest. Variant bits: 1 kernel mode, 2 -a, 4 --older 1500.
void decode_memleak(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    settings.kernel = (variant & 1) != 0;
    settings.show_allocs = (variant & 2) != 0;
    settings.older_ms = (variant & 4) != 0 ? 1500 : 0;
    std::vector<Entry> entries = recorded_entries<memleak_key, memleak_alloc>(events);
    uint64_t newest = 0;
    for (const Entry& e : entries)
        newest = std::max<uint64_t>(newest, e.value.ts_ns);
    Printer(options, settings, out, false).print(entries, nullptr, newest + 1000000000);
}

int memleak(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("memleak",
                    "Show outstanding (not yet freed) allocations by stack: a process's (-p, "
                    "--command) through its C library, else the kernel's.",
                    {Flag::pid, Flag::duration, Flag::interval});
    cli.add_switch(0, "kernel",
                   "kernel allocations (kmalloc, kmem_cache, pages); the default "
                   "without -p or --command",
                   &settings.kernel);
    cli.add_switch(0, "percpu", "with kernel allocations, the per-CPU allocator's too",
                   &settings.percpu);
    cli.add_switch('a', "show-allocs", "list each outstanding allocation: address, size, age",
                   &settings.show_allocs);
    cli.add_number(0, "older", "MS", "only allocations older than MS milliseconds (bcc's -o)",
                   &settings.older_ms, 0, 86400000);
    cli.add_number(0, "top", "N", "the N stacks with the most bytes (default 10; bcc's -T)",
                   &settings.top, 1, 100000);
    cli.add_number('z', "min-size", "BYTES", "only allocations of at least BYTES",
                   &settings.min_size, 0, UINT64_MAX);
    cli.add_number('Z', "max-size", "BYTES", "only allocations of at most BYTES",
                   &settings.max_size, 0, UINT64_MAX);
    cli.add_number('s', "sample-rate", "N", "follow one allocation in N, at random (default 1)",
                   &settings.sample_rate, 1, 1u << 30);
    cli.add_text('O', "obj", "LIB",
                 "the allocator's library (a path, or a name as \"jemalloc\"; default the C "
                 "library)",
                 &settings.object);
    cli.add_text(0, "command", "CMD", "start CMD (words split at spaces) and trace it; bcc's -c",
                 &settings.command);
    add_stack_storage_option(cli, settings.stacks.storage_size);
    cli.allow_svg();
    settings.stacks.count_name = "bytes";
    cli.set_examples("  memleak                      kernel allocations, summary at Ctrl-C\n"
                     "  memleak -p 181 5             process 181, every 5 seconds\n"
                     "  memleak -p 181 -a --older 5000   with each allocation, 5 s old or more\n"
                     "  memleak --command './app -x'  start ./app and trace it to its end\n"
                     "  memleak -p 181 -O jemalloc   a process using jemalloc\n"
                     "  memleak -o json -p 181 -d 10 JSON after 10 seconds\n");
    cli.exclusive({"--command", "-p"}, "pick one");
    cli.exclusive({"--command", "--kernel"}, "the command's kernel allocations are not told apart");
    cli.ordered("--min-size", &settings.min_size, "--max-size", &settings.max_size);
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (settings.percpu && !settings.kernel && (!options.pids.empty() || !settings.command.empty()))
        throw UsageError("--percpu needs --kernel with -p");
    // No process: the kernel's allocations (bcc's default too).
    if (options.pids.empty() && settings.command.empty()) settings.kernel = true;
    if (settings.kernel && !settings.object.empty())
        throw UsageError("-O names a user library: it needs -p or --command");

    std::optional<HeldCommand> command;
    if (!settings.command.empty()) {
        // Checked before the child exists: its PID goes in the filters.
        command.emplace("memleak", settings.command);
        options.pids = {static_cast<uint32_t>(command->pid())};
    }
    std::optional<uint32_t> command_pid;
    if (command) command_pid = static_cast<uint32_t>(command->pid());

    return run_summary_tool<memleak_bpf>(
        {.name = "memleak",
         .options = options,
         .attach_steps = [&] { return attach_steps(settings, options.pids, command_pid); },
         .configure =
             [&](memleak_bpf& skel, const AttachPlan&) {
                 skel.rodata->min_size = settings.min_size;
                 skel.rodata->max_size = settings.max_size;
                 skel.rodata->sample_every = settings.sample_rate;
                 skel.rodata->command_pid = command_pid.value_or(0);
                 configure_stack_map(skel.maps.stack_traces, settings.stacks);
             },
         .announcement = interval_announcement(
             options, settings.kernel ? "Tracing outstanding kernel allocations"
                                      : "Tracing outstanding allocations")},
        [&](memleak_bpf& skel, const AttachPlan&, Output& out) {
            std::function<void(StackCollector&)> tick;
            if (command) {
                command->go();
                tick = [&](StackCollector& collector) {
                    command->stop_run_when_exited(
                        [&](pid_t pid) { collector.remember(static_cast<uint32_t>(pid)); });
                };
            }
            StackSummaryHooks<memleak_key> hooks{.tick = tick};
            // Kernel allocations: no process's mappings to read.
            if (settings.kernel) hooks.remember = [](StackCollector&, const memleak_key&) {};
            return StackSummary<memleak_key, memleak_alloc, Printer>(
                skel.maps.allocs, MEMLEAK_MAX_ALLOCS, skel.maps.stack_traces,
                Printer(options, settings, out, true),
                [&](Symbolizer&) {
                    report_missed_stacks(skel, settings.stacks.storage_size, options, out);
                    report_dropped(skel.bss->counters[MEMLEAK_ALLOCS_DROPPED], options, out);
                },
                hooks);
        });
}

} // namespace corescope::tools
