#include "triage_findings.h"

#include "output.h"

#include <algorithm>

namespace corescope::triage {

const char* severity_name(Severity s) {
    switch (s) {
    case Severity::critical:
        return "critical";
    case Severity::warning:
        return "warning";
    case Severity::notice:
        return "notice";
    }
    return "?";
}

std::vector<Finding> analyze(const Report& r, const Thresholds& t) {
    std::vector<Finding> findings;
    auto add = [&](Severity s, std::string what, std::string evidence, std::string threshold) {
        findings.push_back({s, std::move(what), std::move(evidence), std::move(threshold)});
    };
    double window = r.window_s > 0 ? r.window_s : 1;

    // Memory: OOM kills first, they are the loudest symptom.
    if (!r.oom_kills.empty() || r.oom_kill_counter > 0) {
        std::string victims;
        for (size_t i = 0; i < r.oom_kills.size() && i < 5; i++)
            victims += (i ? ", " : "") + text_escaped(r.oom_kills[i].comm) + " (PID " +
                       std::to_string(r.oom_kills[i].pid) + ")";
        uint64_t count = std::max<uint64_t>(r.oom_kill_counter, r.oom_kills.size());
        add(Severity::critical, "The kernel killed processes for lack of memory.",
            std::to_string(count) + " OOM kill(s)" + (victims.empty() ? "" : ": " + victims),
            "any OOM kill");
    }
    for (const LogLine& line : r.kernel_log) {
        if (line.kind == "oom_kill") continue; // reported above
        if (!line.during_window && line.kind == "kernel_bug") continue;
        Severity s = (line.kind == "hung_task" || line.kind == "io_error" || line.kind == "lockup")
                         ? Severity::critical
                         : Severity::warning;
        std::string what = line.kind == "hung_task"  ? "Tasks hung in the kernel."
                           : line.kind == "io_error" ? "The kernel logged I/O errors."
                           : line.kind == "segfault" ? "A process crashed (segfault or trap)."
                           : line.kind == "lockup"   ? "The kernel detected a CPU lockup or stall."
                                                     : "The kernel logged a warning or bug.";
        // One finding per kind: the first line is the evidence.
        bool seen = false;
        for (const Finding& f : findings)
            seen = seen || f.what == what;
        if (seen) continue;
        add(s, what,
            std::string(line.during_window ? "during the window: " : "before the window: ") +
                text_escaped(line.text),
            "any such kernel log line");
    }

    // CPU.
    uint64_t rq_p99 = r.run_queue_us.quantile(0.99);
    if (!r.run_queue_us.empty() && static_cast<double>(rq_p99) / 1000.0 > t.run_queue_p99_ms) {
        std::string who;
        for (size_t i = 0; i < r.waiters.size() && i < 3; i++)
            who += (i ? ", " : "") + text_escaped(r.waiters[i].comm) + " (PID " +
                   std::to_string(r.waiters[i].pid) + ", waited " + as_ms(r.waiters[i].wait_us) +
                   ")";
        add(Severity::warning, "Threads wait long for a CPU: the CPUs are saturated.",
            "run-queue latency p99 " + as_ms(rq_p99) + ", p50 " +
                as_ms(r.run_queue_us.quantile(0.5)) + (who.empty() ? "" : "; waiting most: " + who),
            "run-queue latency p99 above " + format_value("%.0f ms", t.run_queue_p99_ms));
    }
    if (r.cpus > 0 && r.load1 / r.cpus > t.load_per_cpu)
        add(Severity::warning, "The load average is high for the number of CPUs.",
            format_value("load %.2f", r.load1) + " on " + std::to_string(r.cpus) + " CPUs",
            format_value("load above %.0f per CPU", t.load_per_cpu));
    if (r.cpu.busy() > t.cpu_busy_percent) {
        std::string top;
        for (size_t i = 0; i < r.busiest.size() && i < 3; i++)
            top += (i ? ", " : "") + text_escaped(r.busiest[i].comm) + " (PID " +
                   std::to_string(r.busiest[i].pid) +
                   format_value(", %.0f%%)", r.busiest[i].cpu_percent);
        add(Severity::warning, "The CPUs are nearly fully busy.",
            format_value("%.0f%% busy", r.cpu.busy()) + format_value(" (user %.0f%%", r.cpu.user) +
                format_value(", system %.0f%%)", r.cpu.system) +
                (top.empty() ? "" : "; busiest: " + top),
            format_value("above %.0f%% busy", t.cpu_busy_percent));
    }
    if (r.cpu.iowait > t.iowait_percent)
        add(Severity::warning, "CPUs sit idle waiting for I/O.",
            format_value("iowait %.0f%%", r.cpu.iowait),
            format_value("iowait above %.0f%%", t.iowait_percent));
    if (r.cpu.steal > t.steal_percent)
        add(Severity::warning, "The hypervisor is taking CPU time from this guest.",
            format_value("steal %.0f%%", r.cpu.steal),
            format_value("steal above %.0f%%", t.steal_percent));

    double hard = r.hardirqs.percent_of_cpu(r.window_s, r.cpus);
    double soft = r.softirqs.percent_of_cpu(r.window_s, r.cpus);
    if (hard + soft > t.interrupt_percent) {
        std::vector<InterruptTime> all = r.hardirqs.handlers;
        all.insert(all.end(), r.softirqs.handlers.begin(), r.softirqs.handlers.end());
        std::stable_sort(all.begin(), all.end(),
                         [](auto& a, auto& b) { return a.time_us > b.time_us; });
        std::string top;
        for (size_t i = 0; i < all.size() && i < 3; i++)
            top += (i ? ", " : "") + text_escaped(all[i].name) + " " + as_ms(all[i].time_us);
        add(Severity::warning, "Interrupt handling takes a large share of the CPUs.",
            format_value("hard IRQ handlers %.1f%%", hard) +
                format_value(", softirqs %.1f%% of CPU time", soft) +
                (top.empty() ? "" : "; busiest: " + top),
            format_value("above %.0f%% of CPU time in interrupt handlers", t.interrupt_percent));
    }

    // Memory.
    if (r.mem_total_kb > 0) {
        double available =
            100.0 * static_cast<double>(r.mem_available_kb) / static_cast<double>(r.mem_total_kb);
        if (available < t.mem_available_percent)
            add(Severity::warning, "Memory is nearly exhausted.",
                format_value("%.1f%% available", available) + " (" +
                    std::to_string(r.mem_available_kb / 1024) + " MiB of " +
                    std::to_string(r.mem_total_kb / 1024) + " MiB)",
                format_value("below %.0f%% available", t.mem_available_percent));
    }
    double swap_rate = static_cast<double>(r.swap_in_pages + r.swap_out_pages) / window;
    if (swap_rate > static_cast<double>(t.swap_pages_per_s))
        add(Severity::warning, "The system is swapping.",
            format_value("%.0f pages/s swapped in and out", swap_rate),
            "above " + std::to_string(t.swap_pages_per_s) + " pages/s");

    double misses_per_s = static_cast<double>(r.page_cache.misses) / window;
    if (r.page_cache.measured && r.page_cache.hit_percent() < t.page_cache_hit_percent &&
        misses_per_s > t.page_cache_misses_per_s)
        add(Severity::warning, "Reads miss the page cache: files are read from disk.",
            format_value("hit ratio %.1f%%", r.page_cache.hit_percent()) +
                format_value(", %.0f misses/s", misses_per_s) + " (" +
                std::to_string(r.page_cache.hits) + " hits, " +
                std::to_string(r.page_cache.misses) + " misses)",
            format_value("hit ratio below %.0f%%", t.page_cache_hit_percent) +
                format_value(" with more than %.0f misses/s", t.page_cache_misses_per_s));

    // Disks: a busy one names the processes doing the most I/O.
    std::string io_top;
    for (size_t i = 0; i < r.io_busiest.size() && i < 3; i++)
        io_top += (i ? ", " : "") + text_escaped(r.io_busiest[i].comm) + " (PID " +
                  std::to_string(r.io_busiest[i].pid) +
                  format_value(", %.0f kB/s)", r.io_busiest[i].kb_per_s());
    std::string files_top;
    for (size_t i = 0; i < r.io_files.size() && i < 3; i++) {
        const FileIo& f = r.io_files[i];
        files_top += (i ? ", " : "") + text_escaped(f.file) + " (" + text_escaped(f.comm) +
                     format_value(", %.0f kB/s)", f.kb_per_s(f.bytes(), r.window_s));
    }
    for (const Disk& d : r.disks) {
        if (d.util_percent <= t.disk_util_percent) continue;
        std::string latency =
            d.latency_us.empty() ? "" : ", I/O latency p99 " + as_ms(d.latency_us.quantile(0.99));
        add(Severity::warning, "Disk " + d.name + " is nearly always busy.",
            format_value("%.0f%% busy", d.util_percent) +
                format_value(", %.0f IOPS", d.reads_per_s + d.writes_per_s) + latency +
                (io_top.empty() ? "" : "; most I/O: " + io_top) +
                (files_top.empty() ? "" : "; files read and written most: " + files_top),
            format_value("above %.0f%% busy", t.disk_util_percent));
    }
    for (const Disk& d : r.disks) {
        if (d.latency_us.empty()) continue;
        uint64_t p99 = d.latency_us.quantile(0.99);
        if (static_cast<double>(p99) / 1000.0 > t.disk_p99_ms &&
            d.util_percent <= t.disk_util_percent)
            add(Severity::warning, "Disk " + d.name + " answers slowly.",
                "I/O latency p99 " + as_ms(p99) + format_value(" at %.0f%% busy", d.util_percent),
                format_value("p99 above %.0f ms", t.disk_p99_ms));
    }

    // Network.
    if (r.tcp.out_segs > 0 && r.tcp.retrans_percent() > t.retrans_percent)
        add(Severity::warning, "TCP is retransmitting: packets are being lost or delayed.",
            std::to_string(r.tcp.retrans_segs) + " of " + std::to_string(r.tcp.out_segs) +
                " segments retransmitted" + format_value(" (%.1f%%)", r.tcp.retrans_percent()),
            format_value("above %.0f%% of segments", t.retrans_percent));
    for (const NetDevice& n : r.net)
        if (n.rx_drops + n.tx_drops + n.rx_errors + n.tx_errors > 0)
            add(Severity::notice, "Interface " + n.name + " dropped or lost packets.",
                std::to_string(n.rx_drops) + " received and " + std::to_string(n.tx_drops) +
                    " sent dropped, " + std::to_string(n.rx_errors + n.tx_errors) + " errors",
                "any drop or error");
    if (static_cast<double>(r.packet_drops) / window > t.drops_per_s)
        add(Severity::warning, "The kernel is dropping packets.",
            format_value("%.0f drops/s", static_cast<double>(r.packet_drops) / window) + " (" +
                std::to_string(r.packet_drops) +
                " in all); by reason: " + top_names(r.drop_reasons, 3),
            format_value("above %.0f drops/s", t.drops_per_s));
    uint64_t connects = r.connect_latency_us.total();
    if (connects > 0 &&
        static_cast<double>(r.connect_latency_us.quantile(0.99)) / 1000.0 > t.connect_p99_ms)
        add(Severity::warning, "TCP connects are slow: SYNs may be lost or a backlog full.",
            std::to_string(connects) + " connects, p50 " +
                as_ms(r.connect_latency_us.quantile(0.5)) + ", p99 " +
                as_ms(r.connect_latency_us.quantile(0.99)),
            format_value("connect latency p99 above %.0f ms", t.connect_p99_ms));
    if (r.tcp.attempt_fails > 0)
        add(Severity::notice, "TCP connection attempts failed.",
            std::to_string(r.tcp.attempt_fails) + " failed attempts, " +
                std::to_string(r.tcp.out_resets) + " resets sent",
            "any failed attempt");

    // Processes and files.
    if (static_cast<double>(r.execs) / window > t.execs_per_s)
        add(Severity::notice, "Many new processes are being started.",
            format_value("%.0f execs/s", static_cast<double>(r.execs) / window) +
                "; most frequent: " + top_names(r.exec_commands, 3),
            format_value("above %.0f execs/s", t.execs_per_s));
    if (static_cast<double>(r.failed_opens) / window > t.failed_opens_per_s)
        add(Severity::notice, "Many file opens fail.",
            format_value("%.0f failed opens/s", static_cast<double>(r.failed_opens) / window) +
                " (" + top_names(r.failed_open_errors, 3) + "); by " +
                top_names(r.failed_open_commands, 3),
            format_value("above %.0f failed opens/s", t.failed_opens_per_s));
    if (r.dns_lookups > 0 &&
        static_cast<double>(r.dns_latency_us.quantile(0.99)) / 1000.0 > t.dns_p99_ms)
        add(Severity::warning, "DNS lookups are slow.",
            std::to_string(r.dns_lookups) + " lookups, p99 " +
                as_ms(r.dns_latency_us.quantile(0.99)),
            format_value("p99 above %.0f ms", t.dns_p99_ms));

    std::stable_sort(findings.begin(), findings.end(),
                     [](const Finding& a, const Finding& b) { return a.severity < b.severity; });
    return findings;
}

} // namespace corescope::triage
