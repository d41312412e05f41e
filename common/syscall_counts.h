// System calls counted by number or by process (bpf/syscall_counts.bpf.h),
// for syscount and vfscount: reading the per-CPU counters every interval,
// the rows since the last read, and the table that prints them (the most
// frequent first, the top N).
#pragma once

#include "attach_plan.h"
#include "decoder.h"
#include "map_reader.h"
#include "table_printer.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "syscall_count_values.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace corescope {

struct SyscallCountSettings {
    bool by_process = false; // -P: rows by process instead of by system call
    bool latency = false;    // -L: the time in the calls too
    uint64_t top = 10;       // the N most frequent rows; 0: all
    int errno_value = 0;     // -e: only calls failing with this errno
};

struct SyscallCountRow {
    uint32_t key; // system call number or PID
    std::string comm;
    syscall_counts counts;
};

// Reads the cumulative per-CPU counts and turns them into per-interval rows.
class SyscallCountReader {
  public:
    SyscallCountReader(const bpf_map* by_nr, bpf_map* by_pid, bool by_process);
    std::vector<SyscallCountRow> interval_rows();

  private:
    std::vector<SyscallCountRow> syscall_rows();
    std::vector<SyscallCountRow> process_rows();

    const bpf_map* by_nr_map_;
    bpf_map* by_pid_map_;
    bool by_process_;
    std::vector<syscall_counts> by_nr_;
    std::map<uint32_t, syscall_counts> by_pid_;
};

// The rows of one recorded interval (key, then the counts summed over the
// CPUs, as syscall_counts or, by process, syscall_process_counts), for the
// decoders of tests/golden and tests/fuzz.
std::vector<SyscallCountRow> recorded_syscall_count_rows(std::span<const RecordedEvent> events,
                                                         bool by_process);

class SyscallCountPrinter {
  public:
    SyscallCountPrinter(const CommonOptions& options, const SyscallCountSettings& settings,
                        Output& out);

    // One interval's rows: the most frequent (or, with -L, the slowest) first.
    void print(std::vector<SyscallCountRow> rows);

  private:
    RecordLayout row_layout() const;
    RecordLayout table_layout() const;

    const CommonOptions& options_;
    SyscallCountSettings settings_;
    TablePrinter table_;
    double last_;
};

// What prints one interval, for run_summary_tool.
struct SyscallCountSummary {
    SyscallCountPrinter printer;
    SyscallCountReader reader;
    void print() { printer.print(reader.interval_rows()); }
};

// On the exit of every call (and its entry with latency).
std::vector<AttachStep> syscall_count_attach_steps(bool latency);

// Before load: the settings into the BPF side's rodata; the maps this run
// does not use take one slot (their code is dead).
template <class Skeleton>
void configure_syscall_counts(Skeleton& skel, const SyscallCountSettings& settings,
                              uint32_t self_tgid) {
    skel.rodata->by_process = settings.by_process;
    skel.rodata->measure_latency = settings.latency;
    skel.rodata->only_errno = settings.errno_value;
    skel.rodata->self_tgid = self_tgid;
    set_map_entries(settings.by_process ? skel.maps.by_nr : skel.maps.by_pid, 1);
    if (!settings.latency) set_map_entries(skel.maps.start, 1);
}

} // namespace corescope
