// rwsize: bytes read and written per process and the sizes of the reads and
// writes as log2 histograms, from the results of the read and write system
// calls, every interval or at the end; the processes that moved the most
// bytes first.
#include "clock.h"
#include "decoder.h"
#include "filters.h"
#include "histogram.h"
#include "map_reader.h"
#include "run.h"
#include "table_printer.h"

#include <linux/types.h>
#include "rwsize/rwsize.h"
#include "rwsize.skel.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <unistd.h>

namespace corescope::tools {

namespace {

struct Settings {
    bool histograms = false; // -H: the size histograms under the table in text
    uint64_t top = 10;       // the N processes that moved the most bytes; 0: all
};

struct Row {
    uint32_t pid;
    std::string comm;
    rwsize_direction read;
    rwsize_direction write;
    uint64_t bytes() const { return read.bytes + write.bytes; }
    bool idle() const { return !read.calls && !read.errors && !write.calls && !write.errors; }
};

// Applies op to each counter of a direction and its pair in another.
template <class Op>
void each_counter(rwsize_direction& a, const rwsize_direction& b, Op op) {
    op(a.calls, b.calls);
    op(a.bytes, b.bytes);
    op(a.errors, b.errors);
    for (int i = 0; i < RWSIZE_SLOTS; i++)
        op(a.slots[i], b.slots[i]);
}

// The per-CPU copies of a process's entry: the counts added, the newest name.
void add_process(rwsize_process& sum, const rwsize_process& one) {
    auto add = [](auto& total, auto v) { total += v; };
    each_counter(sum.read, one.read, add);
    each_counter(sum.write, one.write, add);
    if (one.comm_ns >= sum.comm_ns) {
        sum.comm_ns = one.comm_ns;
        std::memcpy(sum.comm, one.comm, sizeof sum.comm);
    }
}

// What grew since the last read; anything smaller means the entry was
// reused (a PID recycled), and then all of it is new.
rwsize_direction delta(const rwsize_direction& now, const rwsize_direction& before) {
    rwsize_direction grown = now;
    bool reused = false;
    each_counter(grown, before, [&](auto& v, auto was) {
        reused = reused || v < was;
        v -= was;
    });
    return reused ? now : grown;
}

// Turns the processes' cumulative counts into what each did since the last
// call. Live (with the map), the entry of a process found gone is deleted
// once its last counts are read: it cannot add more.
class Reader {
  public:
    explicit Reader(bpf_map* by_pid = nullptr) : map_(by_pid) {}

    std::vector<Row> interval_rows() {
        return interval_rows(
            read_percpu_map<uint32_t, rwsize_process>(map_, add_process, RWSIZE_MAX_PIDS));
    }
    std::vector<Row> interval_rows(const std::vector<MapEntry<uint32_t, rwsize_process>>& now) {
        std::vector<Row> rows;
        std::map<uint32_t, rwsize_process> seen;
        for (const auto& e : now) {
            const rwsize_process& before = last_[e.key];
            Row row{e.key, std::string(fixed_string(e.value.comm)),
                    delta(e.value.read, before.read), delta(e.value.write, before.write)};
            if (map_ && kill(static_cast<pid_t>(e.key), 0) != 0 && errno == ESRCH)
                bpf_map__delete_elem(map_, &e.key, sizeof e.key, 0);
            else
                seen[e.key] = e.value;
            if (!row.idle()) rows.push_back(std::move(row));
        }
        last_ = std::move(seen);
        return rows;
    }

  private:
    bpf_map* map_;
    std::map<uint32_t, rwsize_process> last_;
};

std::string histogram_json(const rwsize_direction& d) {
    return render_histogram_json(Histogram::log2_slots(d.slots), "bytes");
}

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : settings_(settings), out_(out), table_(options, out, row_layout(), table_layout()),
          last_(monotonic_seconds()) {}

    void print(std::vector<Row> rows) {
        double now = monotonic_seconds();
        double interval = now - last_;
        last_ = now;
        uint64_t read_bytes = 0, write_bytes = 0, calls = 0;
        for (const Row& r : rows) {
            read_bytes += r.read.bytes;
            write_bytes += r.write.bytes;
            calls += r.read.calls + r.write.calls;
        }
        std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
            if (a.bytes() != b.bytes()) return a.bytes() > b.bytes();
            return a.pid < b.pid;
        });
        size_t processes = rows.size();
        if (settings_.top && rows.size() > settings_.top) rows.resize(settings_.top);
        table_.begin();
        for (const Row& r : rows) {
            table_.row()
                .number(r.pid)
                .text(r.comm)
                .number(r.read.calls)
                .number(r.read.bytes)
                .number(r.read.errors)
                .lazy([&] { return Formatted{histogram_json(r.read)}; })
                .number(r.write.calls)
                .number(r.write.bytes)
                .number(r.write.errors)
                .lazy([&] { return Formatted{histogram_json(r.write)}; })
                .end();
        }
        table_.end([&](Record& t) {
            t.text(iso_time_now())
                .real(interval)
                .number(read_bytes)
                .number(write_bytes)
                .number(calls)
                .number(processes);
        });
        if (settings_.histograms && !table_.json()) print_histograms(rows);
    }

  private:
    // Under the table, each row's histograms, labelled as the classic
    // per-process histograms are.
    void print_histograms(const std::vector<Row>& rows) {
        for (const Row& r : rows)
            for (auto [what, d] : {std::pair{"read", &r.read}, std::pair{"write", &r.write}}) {
                Histogram h = Histogram::log2_slots(d->slots);
                if (h.empty()) continue;
                out_.buffer() += "\npid = " + std::to_string(r.pid) + " " + text_escaped(r.comm) +
                                 " " + what + " sizes\n" + render_histogram_text(h, "bytes");
                out_.end_record();
            }
    }

    static RecordLayout row_layout() {
        return {0,
                {column("pid", "PID", 7), column("comm", "COMM", 16),
                 column("reads", "READS", 10, Align::right),
                 column("read_bytes", "READ_BYTES", 14, Align::right), json_field("read_errors"),
                 json_field("read_sizes"), column("writes", "WRITES", 10, Align::right),
                 column("write_bytes", "WRITE_BYTES", 14, Align::right), json_field("write_errors"),
                 json_field("write_sizes")}};
    }
    static RecordLayout table_layout() {
        return {0,
                {json_field("time"), json_field("interval_s"), json_field("read_bytes"),
                 json_field("write_bytes"), json_field("total"), json_field("processes")}};
    }

    Settings settings_;
    Output& out_;
    TablePrinter table_;
    double last_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval (each process's values summed over the CPUs); variant bit 0: -H,
// bit 1: --top 2.
void decode_rwsize(const CommonOptions& options, uint32_t variant, Output& out,
                   std::span<const RecordedEvent> events) {
    Settings settings;
    settings.histograms = (variant & 1) != 0;
    settings.top = (variant & 2) ? 2 : 0;
    Printer(options, settings, out)
        .print(Reader().interval_rows(recorded_entries<uint32_t, rwsize_process>(events)));
}

int rwsize(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("rwsize",
                    "Bytes read and written per process, and the sizes of the reads and writes "
                    "as histograms.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval});
    cli.add_switch('H', "histograms", "print each process's read and write size histograms",
                   &settings.histograms);
    cli.add_option(
        0, "top", "N", "print the N processes that moved the most bytes (default 10; 0 for all)",
        [&](std::string_view v) { settings.top = parse_unsigned("--top", v, 0, 100000); });
    cli.set_examples("  rwsize                     bytes per process until Ctrl-C, top 10\n"
                     "  rwsize -H                  with each process's size histograms\n"
                     "  rwsize 1 5                 every second, five times\n"
                     "  rwsize -p 181 -H           only process 181\n"
                     "  rwsize --top 0 -o json 10  every process, JSON Lines every 10 seconds\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_summary_tool<rwsize_bpf>(
        {.name = "rwsize",
         .options = options,
         .attach_steps =
             [] {
                 return std::vector<AttachStep>{
                     tracepoint_tiers("system call exit", {{"exit", "raw_syscalls:sys_exit"}})};
             },
         .configure =
             [&](rwsize_bpf& skel, const AttachPlan&) {
                 skel.rodata->self_tgid = static_cast<uint32_t>(getpid());
             },
         .announcement = interval_announcement(options, "Tracing reads and writes")},
        [&](rwsize_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out),
                    reader = Reader(skel.maps.by_pid)]() mutable {
                printer.print(reader.interval_rows());
            };
        });
}

} // namespace corescope::tools
