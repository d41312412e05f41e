// biolatency: block device I/O latency as log2 histograms, in all or per
// disk or per operation.
#include "block_devices.h"
#include "clock.h"
#include "decoder.h"
#include "filters.h"
#include "histogram.h"
#include "run.h"

#include <linux/types.h>
#include "biolatency/biolatency.h"
#include "biolatency.skel.h"

#include <algorithm>
#include <bpf/btf.h>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <time.h>
#include <tuple>
#include <unistd.h>

namespace corescope::tools {

namespace {

struct Settings {
    bool queued = false;   // -Q
    bool per_disk = false; // -D
    bool per_op = false;   // -F
    uint32_t disk_dev = 0; // --disk, as its dev_t; 0 for all
};

// Operation names from the running kernel's REQ_OP_* enum (req_op since
// 6.0, req_opf before), whose numbers for the rarer ops differ between
// versions: REQ_OP_WRITE_ZEROES becomes "WriteZeroes".
class OperationNames {
  public:
    OperationNames() {
        const KernelTypes* btf = KernelFeatures::instance().kernel_btf();
        int id = -1;
        for (const char* type : {"req_op", "req_opf"})
            if (btf && id < 0) id = btf->find(type, BTF_KIND_ENUM);
        if (id >= 0) {
            const struct btf_type* t = btf->type(id);
            const struct btf_enum* e = btf_enum(t);
            for (int i = 0; i < btf_vlen(t); i++, e++) {
                std::string_view full = btf->name(e->name_off);
                if (full.rfind("REQ_OP_", 0) == 0 && full != "REQ_OP_LAST")
                    names_.emplace(static_cast<uint32_t>(e->val), camel_case(full.substr(7)));
            }
        }
        KernelFeatures::instance().release_btf();
        if (names_.empty()) // numbers that have held since 4.10
            names_ = {{0, "Read"}, {1, "Write"}, {2, "Flush"}, {3, "Discard"}, {5, "SecureErase"}};
    }

    std::string name(uint32_t op) const {
        if (op == BIOLATENCY_OP_UNKNOWN) return "Other";
        auto it = names_.find(op);
        return it != names_.end() ? it->second : "Op" + std::to_string(op);
    }

  private:
    static std::string camel_case(std::string_view words) {
        std::string out;
        bool upper = true;
        for (char c : words) {
            if (c == '_') {
                upper = true;
                continue;
            }
            out += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            upper = false;
        }
        return out;
    }

    std::map<uint32_t, std::string> names_;
};

struct KeyedHistogram {
    biolatency_key key;
    Histogram histogram;
};

// Reads every histogram and deletes it, so the next interval starts from
// zero. Lookup-and-delete is one step where the kernel has it (5.14).
std::vector<KeyedHistogram> take_histograms(bpf_map* map) {
    std::vector<biolatency_key> keys;
    biolatency_key key{}, next{};
    const void* prev = nullptr;
    while (keys.size() < BIOLATENCY_MAX_KEYS &&
           bpf_map__get_next_key(map, prev, &next, sizeof next) == 0) {
        keys.push_back(next);
        key = next;
        prev = &key;
    }
    std::vector<KeyedHistogram> out;
    for (const biolatency_key& k : keys) {
        biolatency_hist value{};
        int err = bpf_map__lookup_and_delete_elem(map, &k, sizeof k, &value, sizeof value, 0);
        if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */) {
            err = bpf_map__lookup_elem(map, &k, sizeof k, &value, sizeof value, 0);
            if (err == 0) bpf_map__delete_elem(map, &k, sizeof k, 0);
        }
        if (err) continue; // gone meanwhile
        out.push_back({k, Histogram::log2({std::begin(value.slots), std::end(value.slots)})});
    }
    return out;
}

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), settings_(settings), out_(out),
          unit_(options.milliseconds ? "msecs" : "usecs"), last_(monotonic_seconds()) {
        if (settings.per_op) ops_.emplace();
    }

    void interval(bpf_map* hists) { print(take_histograms(hists)); }

    // One interval's histograms, as read from the map.
    void print(std::vector<KeyedHistogram> taken) {
        double now = monotonic_seconds();
        double span = now - last_;
        last_ = now;
        std::sort(taken.begin(), taken.end(), [&](const KeyedHistogram& a, const KeyedHistogram& b) {
            return sort_key(a.key) < sort_key(b.key);
        });
        // Unsplit, there is one histogram, so an idle interval says so too.
        if (taken.empty() && !settings_.per_disk && !settings_.per_op)
            taken.push_back({biolatency_key{}, Histogram::log2(std::vector<uint64_t>(BIOLATENCY_SLOTS))});
        if (options_.format == OutputFormat::json)
            json(taken, span);
        else
            text(taken);
    }

  private:
    std::tuple<std::string, uint32_t, uint8_t> sort_key(const biolatency_key& k) {
        return {settings_.per_disk ? disks_.name(k.dev) : "", k.op, k.sync};
    }

    std::string operation(const biolatency_key& k) const { return ops_->name(k.op); }

    void text(const std::vector<KeyedHistogram>& taken) {
        std::string& b = out_.buffer();
        if (options_.time) {
            append_wall_time(b);
            b += '\n';
        }
        for (const KeyedHistogram& h : taken) {
            if (h.histogram.empty()) continue;
            if (settings_.per_disk) b += "disk = " + text_escaped(disks_.name(h.key.dev));
            if (settings_.per_disk && settings_.per_op) b += '\t';
            if (settings_.per_op) b += "operation = " + std::string(h.key.sync ? "Sync-" : "") + operation(h.key);
            if (settings_.per_disk || settings_.per_op) b += '\n';
            b += render_histogram_text(h.histogram, unit_);
            b += '\n';
            out_.end_record();
        }
    }

    void json(const std::vector<KeyedHistogram>& taken, double span) {
        std::string time = iso_time_now();
        for (const KeyedHistogram& h : taken) {
            std::string& b = out_.buffer();
            JsonObject record(b);
            record.string("type", "histogram").string("time", time).real("interval_s", span)
                .boolean("queued", settings_.queued);
            if (settings_.per_disk)
                record.string("disk", disks_.name(h.key.dev)).unsigned_number("major", kernel_dev_major(h.key.dev))
                    .unsigned_number("minor", kernel_dev_minor(h.key.dev));
            if (settings_.per_op) record.string("operation", operation(h.key)).boolean("sync", h.key.sync);
            // The histogram's own fields (unit, total, p50, ..., buckets)
            // continue this object rather than nest in it.
            std::string fields = render_histogram_json(h.histogram, unit_);
            b += ',';
            b.append(fields, 1);
            b += '\n';
            out_.end_record();
        }
    }

    const CommonOptions& options_;
    const Settings& settings_;
    Output& out_;
    std::string unit_;
    double last_;
    DiskNames disks_;
    std::optional<OperationNames> ops_;
};

// One step, so that the start and the completion always come from the same
// tier: the tracefs tier keys requests differently from the other two.
std::vector<AttachStep> attach_steps(bool queued) {
    std::vector<AttachWay> ways;
    for (auto [tier_kind, tier_prefix] :
         {std::pair{AttachKind::tp_btf, "btf_"}, std::pair{AttachKind::raw_tp, "raw_"},
          std::pair{AttachKind::tracepoint, "tp_"}}) {
        // Named copies: lambdas cannot capture structured bindings before clang 16.
        AttachKind kind = tier_kind;
        const char* prefix = tier_prefix;
        auto point = [&](const char* event) {
            std::string target = kind == AttachKind::tracepoint ? std::string("block:") + event : event;
            std::string_view suffix = std::string_view(event).substr(std::string_view("block_rq_").size());
            return AttachPoint{prefix + std::string(suffix), kind, target};
        };
        AttachWay way;
        if (queued) way.points.push_back(point("block_rq_insert"));
        way.points.push_back(point("block_rq_issue"));
        way.points.push_back(point("block_rq_complete"));
        ways.push_back(std::move(way));
    }
    return {{"block I/O requests", std::move(ways)}};
}

// 2 arguments, (q, rq), before 5.11; (rq) since.
uint32_t request_arg_index(const std::string& tracepoint) {
    return KernelFeatures::instance().tracepoint_arg_count(tracepoint) == 2 ? 1 : 0;
}

} // namespace

// One map entry's bytes (key, then histogram) through the printer, for
// tests/fuzz (common/decoder.h); variant bit 0: -D, bit 1: -Q. Not -F: that
// reads the kernel's BTF, too slow to do per input.
void decode_biolatency(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    std::vector<KeyedHistogram> entries;
    for (const RecordedEvent& e : events) {
        if (e.size < sizeof(biolatency_key) + sizeof(biolatency_hist)) continue;
        KeyedHistogram entry{{}, Histogram::log2({})};
        biolatency_hist value;
        std::memcpy(&entry.key, e.data, sizeof entry.key);
        std::memcpy(&value, static_cast<const char*>(e.data) + sizeof entry.key, sizeof value);
        entry.histogram = Histogram::log2({std::begin(value.slots), std::end(value.slots)});
        entries.push_back(std::move(entry));
    }
    Settings settings;
    settings.per_disk = (variant & 1) != 0;
    settings.queued = (variant & 2) != 0;
    Printer printer(options, settings, out);
    printer.print(std::move(entries));
}

int biolatency(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("biolatency", "Summarize block device I/O latency as a histogram.",
                    {Flag::cgroup, Flag::time, Flag::duration, Flag::milliseconds, Flag::interval});
    cli.add_switch('Q', "queued", "include the time requests wait in the OS queue", &settings.queued);
    cli.add_switch('D', "disks", "one histogram per disk", &settings.per_disk);
    cli.add_switch('F', "flags", "one histogram per operation (Read, Write, Flush, ...), sync or not",
                   &settings.per_op);
    cli.add_option(0, "disk", "NAME", "only this disk (vda, sda, nvme0n1)", [&](std::string_view v) {
        settings.disk_dev = find_disk(v);
    });
    cli.set_examples("  biolatency                one histogram, printed at Ctrl-C\n"
                     "  biolatency 1 10           ten 1-second histograms\n"
                     "  biolatency -mT 1          per second, in milliseconds, with times\n"
                     "  biolatency -Q             include the time queued in the OS\n"
                     "  biolatency -D             one histogram per disk\n"
                     "  biolatency -F             one histogram per operation\n"
                     "  biolatency --disk sda     only sda\n"
                     "  biolatency -c /sys/fs/cgroup/unified/db.slice  only I/O that cgroup submits\n"
                     "  biolatency -o json 5      a JSON Lines record every 5 seconds\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_summary_tool<biolatency_bpf>(
        {.name = "biolatency",
         .options = options,
         .attach_steps = [&] { return attach_steps(settings.queued); },
         .configure =
             [&](biolatency_bpf& skel, const AttachPlan& plan) {
                 skel.rodata->insert_rq_arg = request_arg_index("block_rq_insert");
                 skel.rodata->issue_rq_arg = request_arg_index("block_rq_issue");
                 skel.rodata->queued = settings.queued;
                 skel.rodata->per_disk = settings.per_disk;
                 skel.rodata->per_op = settings.per_op;
                 skel.rodata->only_dev = settings.disk_dev;
                 skel.rodata->unit_ns = options.milliseconds ? 1000000 : 1000;
                 // Every issued request completes, so keyed by its address
                 // (tp_btf, raw_tp) and started at issue, a start is never left
                 // behind: a plain hash, cheaper per I/O than the LRU that -Q and
                 // sector keys need.
                 if (!settings.queued && !plan.uses("tp_issue")) {
                     int err = bpf_map__set_type(skel.maps.starts, BPF_MAP_TYPE_HASH);
                     if (err) throw RuntimeError(errno_message("cannot set up the request map", err));
                 }
             },
         .announcement = "Tracing block device I/O... Hit Ctrl-C to end."},
        [&](biolatency_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out), hists = skel.maps.hists]() mutable {
                printer.interval(hists);
            };
        });
}

} // namespace corescope::tools
