// oomkill: trace OOM kills: who triggered them, who was killed, with its
// memory, and which limit was hit.
#include "cgroups.h"
#include "decoder.h"
#include "event_fields.h"
#include "export_collector.h"
#include "run.h"
#include "text_file.h"

#include <linux/types.h>
#include "oomkill/oomkill.h"
#include "oomkill.skel.h"

#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <unistd.h>

namespace corescope::tools {

namespace {

const char* constraint_name(uint32_t c) {
    switch (c) {
    case OOMKILL_CONSTRAINT_NONE:
        return "global";
    case OOMKILL_CONSTRAINT_CPUSET:
        return "cpuset";
    case OOMKILL_CONSTRAINT_MEMORY_POLICY:
        return "mempolicy";
    case OOMKILL_CONSTRAINT_MEMCG:
        return "memcg";
    default:
        return nullptr;
    }
}

// The text is one sentence per kill, as the kernel's own log puts it.
std::string sentence(const oomkill_event& e, std::string_view trigger, std::string_view victim,
                     const char* constraint, const std::string& cgroup) {
    std::string b = "Triggered by PID " + std::to_string(e.trigger_pid) + " (\"";
    append_text_escaped(b, trigger);
    b += "\"), OOM kill of PID " + std::to_string(e.victim_pid) + " (\"";
    append_text_escaped(b, victim.empty() ? "?" : victim);
    b += "\")";
    if (e.flags & OOMKILL_HAVE_UID) b += ", uid " + std::to_string(e.victim_uid);
    if (e.flags & OOMKILL_HAVE_MEMORY) {
        b += ", total-vm " + std::to_string(e.total_vm_kb) + "kB, anon-rss " +
             std::to_string(e.anon_rss_kb) + "kB, file-rss " + std::to_string(e.file_rss_kb) +
             "kB, shmem-rss " + std::to_string(e.shmem_rss_kb) + "kB, pgtables " +
             std::to_string(e.pgtables_kb) + "kB, oom_score_adj " + std::to_string(e.oom_score_adj);
    }
    if (constraint) {
        b += ", ";
        b += constraint;
        b += " OOM";
        if (e.constraint == OOMKILL_CONSTRAINT_MEMCG) {
            b += " in ";
            append_text_escaped(b,
                                cgroup.empty() ? "cgroup " + std::to_string(e.memcg_id) : cgroup);
        }
        if (e.allowed_kb) b += " (limit " + std::to_string(e.allowed_kb) + "kB)";
    }
    return b;
}

struct Printer {
    // Looks up what the event lacks (the victim's name, the cgroup's path)
    // on the running system; decoders do not.
    std::shared_ptr<MemcgPaths> memcgs;

    RecordLayout layout() const {
        RecordLayout layout{task_time,
                            {time_column(),
                             json_field("trigger_pid"),
                             json_field("trigger_tid"),
                             json_field("trigger_comm"),
                             json_field("pid"),
                             json_field("tid"),
                             json_field("comm"),
                             json_field("uid"),
                             json_field("total_vm_kb"),
                             json_field("anon_rss_kb"),
                             json_field("file_rss_kb"),
                             json_field("shmem_rss_kb"),
                             json_field("pgtables_kb"),
                             json_field("oom_score_adj"),
                             json_field("constraint"),
                             json_field("constraint_inferred"),
                             json_field("cgroup_id"),
                             json_field("cgroup"),
                             json_field("allowed_kb"),
                             text_column("KILL", 0)}};
        layout.text_header = false;
        return layout;
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<oomkill_event>(data, size);
        if (!event) return;
        oomkill_event e;
        std::memcpy(&e, event, sizeof e);
        std::string_view trigger = fixed_string(e.trigger_comm);
        std::string victim(fixed_string(e.victim_comm));
        bool have_victim_comm = (e.flags & OOMKILL_HAVE_VICTIM_COMM) != 0;
        if (!have_victim_comm && memcgs) {
            // The tracefs tier on kernels before 6.8 names only the victim's PID:
            // its name may still be readable while it dies.
            victim = process_comm(e.victim_tid);
            have_victim_comm = !victim.empty();
        }
        bool memory = (e.flags & OOMKILL_HAVE_MEMORY) != 0;
        const char* constraint = constraint_name(e.constraint);
        std::string cgroup = memcgs ? memcgs->path(e.memcg_id) : std::string();
        auto number_or_null = [](Record& r, bool known, auto value) -> Record& {
            return known ? r.number(value) : r.null();
        };
        Record r = records.begin(task_of(e));
        r.number(e.trigger_pid).number(e.trigger_tid).text(trigger);
        number_or_null(r, e.flags & OOMKILL_HAVE_VICTIM_TGID, e.victim_pid).number(e.victim_tid);
        if (have_victim_comm)
            r.text(victim);
        else
            r.null();
        number_or_null(r, e.flags & OOMKILL_HAVE_UID, e.victim_uid);
        for (uint64_t kb :
             {e.total_vm_kb, e.anon_rss_kb, e.file_rss_kb, e.shmem_rss_kb, e.pgtables_kb})
            number_or_null(r, memory, kb);
        number_or_null(r, memory, e.oom_score_adj);
        if (constraint)
            r.text(constraint);
        else
            r.null();
        r.boolean((e.flags & OOMKILL_CONSTRAINT_INFERRED) != 0);
        number_or_null(r, e.memcg_id != 0, e.memcg_id);
        if (!cgroup.empty())
            r.text(cgroup);
        else
            r.null();
        number_or_null(r, e.allowed_kb != 0, e.allowed_kb);
        r.lazy([&] {
             return Formatted{
                 sentence(e, trigger, have_victim_comm ? victim : "", constraint, cgroup)};
         }).end();
    }
};

// mark_victim(task, ...) since 6.8; (pid) before.
bool mark_victim_has_task() {
    return KernelFeatures::instance().tracepoint_arg_count("mark_victim") >= 2;
}

std::vector<AttachStep> attach_steps(bool mark_victim_has_task) {
    std::vector<AttachWay> ways = function_tiers("OOM kills", {{"oom_kill_process"}}).ways;
    // Before 6.8 the BTF tracepoint passes only the PID; the tracefs one
    // then still gives the PID.
    if (mark_victim_has_task)
        ways.push_back({{{"btf_mark_victim", AttachKind::tp_btf, "mark_victim"}}});
    ways.push_back({{{"tp_mark_victim", AttachKind::tracepoint, "oom:mark_victim"}}});
    return {{"OOM kills", std::move(ways)}};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_oomkill(const CommonOptions& options, uint32_t, Output& out,
                    std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

// corescope export: OOM kills by constraint, counted in the kernel
// (counts_only: no events, the smallest event buffer). Every constraint is
// a series from the start (0 until a kill), so rate() sees the first one.
std::unique_ptr<ExportCollector> export_oomkill(const CommonOptions& options) {
    return export_collector<oomkill_bpf>(
        {.name = "oomkill",
         .options = options,
         .attach_steps = [] { return attach_steps(mark_victim_has_task()); },
         .events = {.ring_bytes = 4096, .wakeup_bytes = 0, .perf_pages_per_cpu = 1},
         .configure =
             [](oomkill_bpf& skel, const AttachPlan&) {
                 skel.rodata->page_shift = static_cast<uint32_t>(
                     __builtin_ctzl(static_cast<unsigned long>(getpagesize())));
                 skel.rodata->mark_victim_has_task = mark_victim_has_task();
                 skel.rodata->counts_only = true;
             }},
        [](oomkill_bpf& skel, Exposition& out) {
            MetricFamily& kills = out.family(
                "corescope_oom_kills", MetricType::counter,
                "Processes the OOM killer killed, by constraint: global (the host out of "
                "memory), memcg (a memory cgroup at its limit), cpuset, mempolicy, or unknown "
                "(a kernel whose hook cannot tell), from oomkill.");
            for (uint32_t slot = 0; slot < OOMKILL_COUNT_SLOTS; slot++) {
                const char* name = constraint_name(slot);
                uint64_t n = __atomic_load_n(&skel.bss->oom_counts.kills[slot], __ATOMIC_RELAXED);
                kills.add({{"constraint", name ? name : "unknown"}}, static_cast<double>(n));
            }
        });
}

int oomkill(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("oomkill",
                    "Trace OOM kills: the triggering and the killed process, and its memory.",
                    {Flag::duration, Flag::prometheus});
    cli.set_examples("  oomkill                   trace OOM kills until Ctrl-C\n"
                     "  oomkill -o json           as JSON Lines\n"
                     "  oomkill -v --dry-run      show which kernel hook it would use\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::prometheus)
        return print_expositions(export_oomkill(options), options);

    EventStreamConfig events;
    events.ring_bytes = 64u << 10; // a few events a minute at most
    events.wakeup_bytes = 0;       // each one at once
    events.perf_pages_per_cpu = 4;
    return run_event_tool<oomkill_bpf>(
        {.name = "oomkill",
         .options = options,
         .attach_steps = [] { return attach_steps(mark_victim_has_task()); },
         .events = events,
         .configure =
             [&](oomkill_bpf& skel, const AttachPlan&) {
                 skel.rodata->page_shift = static_cast<uint32_t>(
                     __builtin_ctzl(static_cast<unsigned long>(getpagesize())));
                 skel.rodata->mark_victim_has_task = mark_victim_has_task();
             },
         .announcement = "Tracing OOM kills... Hit Ctrl-C to end."},
        Printer{std::make_shared<MemcgPaths>()});
}

} // namespace corescope::tools
