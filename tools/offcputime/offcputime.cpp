// offcputime: time threads spend blocked off CPU, summed by user and kernel
// stack, thread and command; classic multi-line stacks, folded lines for
// flame graphs, or JSON Lines.
#include "filters.h"
#include "skeleton.h"
#include "tool.h"

#include "offcputime.skel.h"
#include "offcputime/offcputime.h"
#include <linux/types.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace corescope::tools {

namespace {

struct Settings {
    bool user_stacks_only = false;    // --user-stacks-only
    bool kernel_stacks_only = false;  // --kernel-stacks-only
    bool user_threads_only = false;   // --user-threads-only
    bool kernel_threads_only = false; // --kernel-threads-only
    bool folded = false;              // -f
    std::optional<uint32_t> state;    // --state MASK
    uint64_t min_block_us = 1;
    uint64_t max_block_us = UINT64_MAX / 1000;
    uint32_t stack_storage = OFFCPUTIME_DEFAULT_STACK_STORAGE;
    uint32_t max_stack_depth = OFFCPUTIME_MAX_STACK_DEPTH;
};

// One key of the totals map, with its stacks read (innermost frame first).
struct BlockedStack {
    offcputime_key key{};
    offcputime_value value{};
    std::vector<uint64_t> user;
    std::vector<uint64_t> kernel;
    bool user_missing = false; // asked for, but the kernel could not record it
    bool kernel_missing = false;
};

// --state takes a number, decimal or 0x hex.
uint32_t parse_state_mask(std::string_view text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        std::string digits(text.substr(2));
        char* end = nullptr;
        unsigned long value = std::strtoul(digits.c_str(), &end, 16);
        if (digits.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos && end &&
            *end == '\0' && value <= UINT32_MAX)
            return static_cast<uint32_t>(value);
        throw UsageError("invalid state mask '" + std::string(text) +
                         "': not a number (e.g. 2 for TASK_UNINTERRUPTIBLE)");
    }
    return static_cast<uint32_t>(parse_unsigned("state mask", text, 0, UINT32_MAX));
}

std::vector<uint64_t> read_stack(bpf_map* stacks, int32_t id, uint32_t depth) {
    std::vector<uint64_t> frames(depth);
    if (id < 0 || bpf_map__lookup_elem(stacks, &id, sizeof id, frames.data(),
                                       frames.size() * sizeof(uint64_t), 0) != 0)
        return {};
    auto end = std::find(frames.begin(), frames.end(), 0);
    frames.erase(end, frames.end());
    return frames;
}

std::vector<BlockedStack> read_totals(bpf_map* totals, bpf_map* stacks, const Settings& settings) {
    std::vector<offcputime_key> keys;
    offcputime_key next{};
    const void* prev = nullptr;
    while (keys.size() < OFFCPUTIME_MAX_KEYS &&
           bpf_map__get_next_key(totals, prev, &next, sizeof next) == 0) {
        keys.push_back(next);
        prev = &keys.back();
    }
    std::vector<BlockedStack> out;
    out.reserve(keys.size());
    for (const offcputime_key& key : keys) {
        BlockedStack s;
        s.key = key;
        if (bpf_map__lookup_elem(totals, &key, sizeof key, &s.value, sizeof s.value, 0) != 0)
            continue;
        s.user = read_stack(stacks, key.user_stack_id, settings.max_stack_depth);
        s.kernel = read_stack(stacks, key.kernel_stack_id, settings.max_stack_depth);
        s.user_missing =
            !settings.kernel_stacks_only && key.user_stack_id < 0 && key.user_stack_id != -1;
        s.kernel_missing =
            !settings.user_stacks_only && key.kernel_stack_id < 0 && key.kernel_stack_id != -1;
        out.push_back(std::move(s));
    }
    return out;
}

// Frame names; until the shared symbolizer lands, addresses in hex.
std::string frame_name(uint64_t address) {
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(address));
    return text;
}

std::vector<std::string> frame_names(const std::vector<uint64_t>& addresses) {
    std::vector<std::string> names;
    names.reserve(addresses.size());
    for (uint64_t a : addresses)
        names.push_back(frame_name(a));
    return names;
}

uint64_t total_us(const BlockedStack& s) {
    return s.value.total_ns / 1000;
}

// The classic layout: kernel frames innermost first, "--", user frames,
// then "-  COMM (TID)" and the microseconds, a blank line between stacks.
void print_text(const std::vector<BlockedStack>& stacks, Output& out) {
    for (const BlockedStack& s : stacks) {
        std::string& b = out.buffer();
        bool has_kernel = !s.kernel.empty() || s.kernel_missing;
        bool has_user = !s.user.empty() || s.user_missing;
        if (s.kernel_missing) b += "    [Missed Kernel Stack]\n";
        for (const std::string& name : frame_names(s.kernel))
            b += "    " + name + "\n";
        if (has_kernel && has_user) b += "    --\n";
        if (s.user_missing) b += "    [Missed User Stack]\n";
        for (const std::string& name : frame_names(s.user))
            b += "    " + name + "\n";
        b += "    -                ";
        append_text_escaped(b, fixed_string(s.key.comm));
        b += " (" + std::to_string(s.key.tid) + ")\n        ";
        append_unsigned(b, total_us(s));
        b += "\n\n";
        out.end_record();
    }
}

// Folded for flame graphs: COMM;outermost;...;innermost USECS, user frames
// then kernel frames, one line a stack.
void print_folded(const std::vector<BlockedStack>& stacks, Output& out) {
    for (const BlockedStack& s : stacks) {
        std::string& b = out.buffer();
        std::string comm = text_escaped(fixed_string(s.key.comm));
        std::replace(comm.begin(), comm.end(), ' ', '_');
        std::replace(comm.begin(), comm.end(), ';', '_');
        b += comm;
        if (s.user_missing) b += ";[Missed User Stack]";
        std::vector<std::string> user = frame_names(s.user);
        for (auto it = user.rbegin(); it != user.rend(); ++it)
            b += ";" + *it;
        if (s.kernel_missing) b += ";[Missed Kernel Stack]";
        std::vector<std::string> kernel = frame_names(s.kernel);
        for (auto it = kernel.rbegin(); it != kernel.rend(); ++it)
            b += ";" + *it;
        b += ' ';
        append_unsigned(b, total_us(s));
        b += '\n';
        out.end_record();
    }
}

std::string json_frames(const std::vector<uint64_t>& addresses) {
    std::string array = "[";
    for (const std::string& name : frame_names(addresses)) {
        if (array.size() > 1) array += ',';
        append_json_string(array, name);
    }
    return array + "]";
}

void print_json(const std::vector<BlockedStack>& stacks, Output& out) {
    for (const BlockedStack& s : stacks) {
        JsonObject record(out.buffer());
        record.string("type", "stack")
            .unsigned_number("pid", s.key.pid)
            .unsigned_number("tid", s.key.tid)
            .string("comm", fixed_string(s.key.comm))
            .raw("user_stack", json_frames(s.user))
            .raw("kernel_stack", json_frames(s.kernel))
            .boolean("user_stack_missing", s.user_missing)
            .boolean("kernel_stack_missing", s.kernel_missing)
            .unsigned_number("total_us", total_us(s))
            .unsigned_number("count", s.value.count);
        record.end_line();
        out.end_record();
    }
}

// What the kernel side could not record, on stderr (and as a JSON record).
void report_errors(const __u64 (&errors)[OFFCPUTIME_ERROR_KINDS], uint32_t stack_storage,
                   const CommonOptions& options, Output& out) {
    uint64_t user = errors[OFFCPUTIME_USER_STACK_ERRORS];
    uint64_t kernel = errors[OFFCPUTIME_KERNEL_STACK_ERRORS];
    uint64_t threads = errors[OFFCPUTIME_THREADS_DROPPED];
    uint64_t keys = errors[OFFCPUTIME_KEYS_DROPPED];
    if (user + kernel > 0)
        std::fprintf(stderr,
                     "offcputime: %llu user and %llu kernel stacks not recorded (unreadable, or "
                     "the stack table of %u is full: raise --stack-storage-size)\n",
                     static_cast<unsigned long long>(user), static_cast<unsigned long long>(kernel),
                     stack_storage);
    if (threads > 0)
        std::fprintf(stderr, "offcputime: %llu blocks not timed (more than %u threads off CPU)\n",
                     static_cast<unsigned long long>(threads), OFFCPUTIME_MAX_THREADS);
    if (keys > 0)
        std::fprintf(stderr, "offcputime: %llu blocks not counted (table of %u stacks full)\n",
                     static_cast<unsigned long long>(keys), OFFCPUTIME_MAX_KEYS);
    if (options.format == OutputFormat::json && user + kernel + threads + keys > 0) {
        JsonObject record(out.buffer());
        record.string("type", "errors")
            .unsigned_number("user_stack_errors", user)
            .unsigned_number("kernel_stack_errors", kernel)
            .unsigned_number("threads_dropped", threads)
            .unsigned_number("stacks_dropped", keys);
        record.end_line();
        out.end_record();
    }
}

std::vector<AttachStep> attach_steps() {
    return {{"scheduler switches",
             {{{{"btf_switch", AttachKind::tp_btf, "sched_switch"}}},
              {{{"raw_switch", AttachKind::raw_tp, "sched_switch"}}},
              {{{"tp_switch", AttachKind::tracepoint, "sched:sched_switch"}}}}}};
}

} // namespace

int offcputime(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("offcputime", "Summarize off-CPU time (time blocked) by stack trace.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration});
    cli.add_switch(0, "user-stacks-only", "show only user-space stacks",
                   &settings.user_stacks_only);
    cli.add_switch(0, "kernel-stacks-only", "show only kernel stacks",
                   &settings.kernel_stacks_only);
    cli.add_switch(0, "user-threads-only", "only user threads (no kernel threads)",
                   &settings.user_threads_only);
    cli.add_switch(0, "kernel-threads-only", "only kernel threads (no user threads)",
                   &settings.kernel_threads_only);
    cli.add_switch('f', "folded", "folded output for flame graphs (COMM;frames USECS)",
                   &settings.folded);
    cli.add_option(0, "state", "MASK",
                   "only blocks in these task states (bit mask: 1 interruptible, 2 "
                   "uninterruptible; 0 runnable, i.e. preempted)",
                   [&](std::string_view v) { settings.state = parse_state_mask(v); });
    cli.add_option(0, "min-block", "USECS", "only blocks at least this long (default 1)",
                   [&](std::string_view v) {
                       settings.min_block_us =
                           parse_unsigned("--min-block", v, 0, UINT64_MAX / 1000);
                   });
    cli.add_option(
        0, "max-block", "USECS", "only blocks at most this long", [&](std::string_view v) {
            settings.max_block_us = parse_unsigned("--max-block", v, 0, UINT64_MAX / 1000);
        });
    cli.add_option(0, "stack-storage-size", "COUNT",
                   "distinct stacks the kernel can hold (default 16384)", [&](std::string_view v) {
                       settings.stack_storage = static_cast<uint32_t>(
                           parse_unsigned("stack storage size", v, 1, 1 << 24));
                   });
    cli.add_option(0, "perf-max-stack-depth", "FRAMES", "deepest stack recorded (default 127)",
                   [&](std::string_view v) {
                       settings.max_stack_depth = static_cast<uint32_t>(
                           parse_unsigned("stack depth", v, 1, OFFCPUTIME_MAX_STACK_DEPTH));
                   });
    cli.set_examples("  offcputime                  every thread, until Ctrl-C\n"
                     "  offcputime -d 5             for five seconds\n"
                     "  offcputime -p 185           process 185 only\n"
                     "  offcputime --state 2        only uninterruptible sleeps (D)\n"
                     "  offcputime --min-block 1000 only blocks of 1 ms or more\n"
                     "  offcputime -f -d 10 > out.folded   for flamegraph.pl\n"
                     "  offcputime -o json -p 185   one JSON object per stack\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (settings.user_stacks_only && settings.kernel_stacks_only)
        throw UsageError("--user-stacks-only and --kernel-stacks-only cannot be combined");
    if (settings.user_threads_only && settings.kernel_threads_only)
        throw UsageError("--user-threads-only and --kernel-threads-only cannot be combined");
    if (settings.min_block_us > settings.max_block_us)
        throw UsageError("invalid --min-block " + std::to_string(settings.min_block_us) +
                         ": above --max-block " + std::to_string(settings.max_block_us));
    if (settings.folded && options.format == OutputFormat::json)
        throw UsageError("-f (folded) and -o json cannot be combined: pick one output");

    install_stop_handlers();
    setup_libbpf_logging(options.verbose);
    require_bpf(options);
    KernelFeatures& features = KernelFeatures::instance();
    AttachPlan plan = AttachPlan::choose("offcputime", attach_steps(), features);

    bpf_object_open_opts open_opts = make_open_opts(options);
    auto skel = open_skeleton<offcputime_bpf>("offcputime", &open_opts);
    configure_filters(skel.get(), options);
    skel->rodata->threads = settings.user_threads_only     ? OFFCPUTIME_USER_THREADS
                            : settings.kernel_threads_only ? OFFCPUTIME_KERNEL_THREADS
                                                           : OFFCPUTIME_ALL_THREADS;
    skel->rodata->user_stacks = !settings.kernel_stacks_only;
    skel->rodata->kernel_stacks = !settings.user_stacks_only;
    skel->rodata->filter_state = settings.state.has_value();
    skel->rodata->state_mask = settings.state.value_or(0);
    skel->rodata->min_block_ns = settings.min_block_us * 1000;
    skel->rodata->max_block_ns = settings.max_block_us * 1000;
    // sched_switch(preempt, prev, next, prev_state) since 5.18; no prev_state before.
    skel->rodata->switch_has_state = features.tracepoint_arg_count("sched_switch") >= 4;
    int err = bpf_map__set_max_entries(skel->maps.stacks, settings.stack_storage);
    if (!err)
        err =
            bpf_map__set_value_size(skel->maps.stacks, settings.max_stack_depth * sizeof(uint64_t));
    if (err) throw RuntimeError(errno_message("cannot size the stack table", err));
    load_skeleton("offcputime", skel.get(), plan);
    show_plan(plan, options);
    if (options.dry_run) return exit_ok;
    fill_filter_maps(skel.get(), options);

    Output out;
    Links links = plan.attach(skel->obj);
    announce("Tracing off-CPU time (us) by stack... Hit Ctrl-C to end.");
    run_summary_loop(options, out, [&] {
        std::vector<BlockedStack> stacks =
            read_totals(skel->maps.totals, skel->maps.stacks, settings);
        if (!options.name.empty())
            std::erase_if(stacks, [&](const BlockedStack& s) {
                return !comm_matches(fixed_string(s.key.comm), options.name);
            });
        // Text keeps the classic order, the most time last (next to the
        // prompt); folded and JSON put it first.
        std::sort(stacks.begin(), stacks.end(), [](const BlockedStack& a, const BlockedStack& b) {
            return a.value.total_ns > b.value.total_ns;
        });
        if (settings.folded)
            print_folded(stacks, out);
        else if (options.format == OutputFormat::json)
            print_json(stacks, out);
        else {
            std::reverse(stacks.begin(), stacks.end());
            print_text(stacks, out);
        }
        report_errors(skel->bss->errors, settings.stack_storage, options, out);
    });
    return exit_ok;
}

} // namespace corescope::tools
