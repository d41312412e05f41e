// A triage report with every section filled and known figures (and one
// hostile name of each kind), for the HTML renderer's unit tests, its fuzz
// target's base report and the sample page (tests/unit/triage_sample.html).
#pragma once

#include "triage_report.h"

#include <string>
#include <vector>

namespace triage_sample {

inline corescope::Histogram log2_of(std::vector<uint64_t> slots) {
    slots.resize(32, 0);
    return corescope::Histogram::log2(slots);
}

inline corescope::triage::Report report() {
    using namespace corescope::triage;
    Report r;
    r.hostname = "db-7";
    r.kernel = "6.18.0-1-amd64";
    r.started_at = "2026-12-06T04:00:00.000000Z";
    r.window_s = 10;
    r.uptime_s = 3 * 86400;
    r.cpus = 4;
    r.load1 = 9.5;
    r.load5 = 6.25;
    r.load15 = 3;
    r.cpu = {60, 25, 5, 2, 0, 8};
    r.per_cpu = {
        {90, 8, 0, 1, 0, 1}, {70, 20, 4, 2, 0, 4}, {50, 30, 10, 3, 0, 7}, {30, 42, 6, 2, 0, 20}};
    r.busiest = {{4242, "postgres", 180.5},
                 {77, "<script>alert(1)</script>", 42.0},
                 {9, "kworker/1:2", 3.2}};
    r.context_switches_per_s = 12345;
    r.hardirqs.handlers = {{11, "virtio1-req.0", 900, 12000}, {24, "eth0 & \"friends\"", 120, 800}};
    r.softirqs.handlers = {{3, "net_rx", 4000, 30000}, {1, "timer", 2000, 9000}};
    // 2..3 us: 10, 4..7: 40, 8..15: 20, 16..31: 0, 32..63: 5, ..., 16384..32767: 2
    r.run_queue_us = log2_of({0, 10, 40, 20, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 2});
    r.waiters = {{4242, "postgres", 1500000, 900}, {78, "a\x1b[2Jb", 30000, 12}};
    r.mem_total_kb = 16 * 1024 * 1024;
    r.mem_available_kb = 1024 * 1024;
    r.swap_total_kb = 2 * 1024 * 1024;
    r.swap_free_kb = 1024 * 1024;
    r.swap_in_pages = 1500;
    r.swap_out_pages = 3000;
    r.major_faults = 77;
    r.page_cache = {true, 9000, 3000, 500};
    r.oom_kills = {{5150, "java", 8 * 1024 * 1024, "bpf"}};
    r.oom_kill_counter = 1;
    Disk vda;
    vda.name = "vda";
    vda.reads_per_s = 150;
    vda.writes_per_s = 300;
    vda.read_kb_per_s = 6000;
    vda.write_kb_per_s = 12000;
    vda.util_percent = 92.5;
    vda.latency_us = log2_of({0, 0, 0, 0, 0, 0, 0, 30, 60, 20, 10, 0, 5});
    Disk odd;
    odd.name = "sd\xff<b>";
    odd.reads_per_s = 1;
    odd.util_percent = 3;
    r.disks = {vda, odd};
    r.io_busiest = {{4242, "postgres", 5000, 11000}, {600, "rsync", 900, 0}};
    r.io_files = {{4242, "postgres", "base/16384/2619", 10, 300, 40960, 12288000},
                  {600, "rsync", "</td><img src=x>", 200, 0, 8192000, 0}};
    r.net = {{"lo", 10, 10, 0, 0, 0, 0}, {"eth0", 2048.5, 512.25, 3, 0, 0, 1}};
    r.tcp = {100, 20, 4, 1, 50000, 900, 7, 0};
    r.connect_latency_us =
        log2_of({0, 0, 0, 0, 0, 0, 0, 4, 10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    r.connects_failed = 2;
    r.packet_drops = 120;
    r.drop_reasons = {{"NO_SOCKET", 100}, {"unknown", 20}};
    r.execs = 900;
    r.exec_commands = {{"sh", 600}, {"date", 300}};
    r.failed_opens = 2500;
    r.failed_open_errors = {{"ENOENT", 2400}, {"EACCES", 100}};
    r.failed_open_commands = {{"postgres", 2500}};
    r.fatal_signals = 1;
    r.fatal_signal_targets = {{"SIGKILL", "java", 1}};
    r.dns_lookups = 8;
    r.dns_latency_us = log2_of({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, 1, 2});
    r.kernel_log = {
        {250000.5, "io_error", "blk_update_request: I/O error, dev vda, sector 42", false},
        {259190.25, "oom_kill", "Out of memory: Killed process 5150 (java) <total-vm>", true},
        {259195.0, "segfault", "evil[1]: segfault \"&<'>\" \x01\x7f\xc3", true}};
    r.kernel_log_older = 3;
    r.kernel_log_read = true;
    r.unavailable = {"DNS latency: no C library found in /proc/1/root (a <container>?)"};
    r.self_cpu_seconds = 0.12;
    return r;
}

} // namespace triage_sample
