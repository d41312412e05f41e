// The findings triage draws from its report: each a plain sentence, the
// numbers behind it and the threshold it crossed, most severe first. A pure
// function of the report, so each threshold is unit-tested without a kernel.
#pragma once

#include "triage_report.h"

namespace corescope::triage {

enum class Severity { critical, warning, notice };
const char* severity_name(Severity s);

struct Finding {
    Severity severity;
    std::string what;      // one plain sentence
    std::string evidence;  // the numbers behind it
    std::string threshold; // what it crossed
};

// The thresholds, one place.
struct Thresholds {
    double run_queue_p99_ms = 10;
    double load_per_cpu = 2;
    double cpu_busy_percent = 90;
    double iowait_percent = 20;
    double steal_percent = 10;
    double interrupt_percent = 10; // hard IRQ and softirq handlers, of all CPU time
    double mem_available_percent = 10;
    double disk_util_percent = 80;
    double disk_p99_ms = 50;
    double retrans_percent = 1;
    double execs_per_s = 50;
    double failed_opens_per_s = 100;
    double dns_p99_ms = 100;
    double drops_per_s = 10; // packets the kernel dropped, any reason
    // A lost SYN costs a connect a 1 s retransmission timeout: a p99 above
    // this says SYNs or SYN-ACKs are being lost, or a backlog overflows.
    double connect_p99_ms = 500;
    uint64_t swap_pages_per_s = 100;
    // Reads that miss the page cache go to disk: a hit ratio below this,
    // with more misses a second than page_cache_misses_per_s (below that
    // the misses cost too little to matter: 1000 pages are 4 MiB).
    double page_cache_hit_percent = 80;
    double page_cache_misses_per_s = 1000;
};

std::vector<Finding> analyze(const Report& report, const Thresholds& thresholds = {});

} // namespace corescope::triage
