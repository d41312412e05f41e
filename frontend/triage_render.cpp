#include "triage_render.h"

#include "output.h"

#include <algorithm>

namespace corescope::triage {

namespace {

// Appends text as one line, wrapped at 80 columns at spaces (a word longer
// than a line is broken, never cut): continuation lines are indented by
// continuation_indent, or four more than the line itself when that is
// negative. The report must read well in an 80-column terminal.
void line(std::string& b, const std::string& text, int continuation_indent = -1) {
    constexpr size_t width = 80;
    size_t indent = text.find_first_not_of(' ');
    if (indent == std::string::npos) indent = 0;
    std::string continuation(
        continuation_indent < 0 ? indent + 4 : static_cast<size_t>(continuation_indent), ' ');
    std::string rest = text;
    std::string prefix;
    while (prefix.size() + rest.size() > width) {
        size_t room = width - prefix.size();
        size_t cut = rest.rfind(' ', room);
        // One long word, or a space no further than where the next line
        // starts: break inside the word.
        if (cut == std::string::npos || cut <= indent || prefix.size() + cut <= continuation.size())
            cut = room;
        b += prefix + rest.substr(0, cut) + "\n";
        rest = rest.substr(cut);
        rest.erase(0, rest.find_first_not_of(' ') == std::string::npos
                          ? rest.size()
                          : rest.find_first_not_of(' '));
        prefix = continuation;
        indent = 0;
    }
    b += prefix + rest + "\n";
}

std::string pct(double v) {
    return format_value("%5.1f", v);
}

std::string histogram_json(const Histogram& h, const char* unit) {
    return render_histogram_json(h, unit);
}

} // namespace

std::string render_text(const Report& r, const std::vector<Finding>& findings) {
    std::string b;
    line(b, "corescope triage: " + r.hostname + ", Linux " + r.kernel + ", " +
                std::to_string(r.cpus) + " CPUs");
    line(b, format_value("%.0f s window", r.window_s) + " from " + r.started_at);
    line(b, format_value("up %.1f days", r.uptime_s / 86400) +
                format_value(", load average %.2f", r.load1) + format_value(" %.2f", r.load5) +
                format_value(" %.2f", r.load15));
    b += "\n== Findings\n";
    if (findings.empty()) line(b, "No findings: nothing crossed a threshold in this window.");
    for (const Finding& f : findings) {
        line(b, std::string("[") + severity_name(f.severity) + "] " + f.what);
        line(b, "    " + f.evidence);
        line(b, "    threshold: " + f.threshold);
    }

    b += "\n== CPU        user   sys iowait  irq steal  idle\n";
    auto cpu_row = [&](const std::string& name, const CpuShare& c) {
        std::string row = "   ";
        append_padded(row, name, 9);
        row += pct(c.user) + " " + pct(c.system) + "  " + pct(c.iowait) + pct(c.irq) + " " +
               pct(c.steal) + " " + pct(c.idle);
        line(b, row);
    };
    cpu_row("all", r.cpu);
    for (size_t i = 0; i < r.per_cpu.size(); i++)
        cpu_row("cpu" + std::to_string(i), r.per_cpu[i]);
    line(b, format_value("   context switches %.0f/s", r.context_switches_per_s));
    // Where the irq column's time went, by handler (BPF): the busiest three,
    // as "time  runs  name".
    auto interrupt_line = [&](const std::string& what, const InterruptTimes& t) {
        line(b,
             "   " + what + ": " + as_ms(t.time_us()) +
                 format_value(" in all, %.2f%% of CPU time", t.percent_of_cpu(r.window_s, r.cpus)));
        for (size_t i = 0; i < t.handlers.size() && i < 3; i++) {
            std::string row = "     ";
            append_padded(row, as_ms(t.handlers[i].time_us), 11);
            append_padded(row, std::to_string(t.handlers[i].count), 9);
            append_text_escaped(row, t.handlers[i].name);
            line(b, row);
        }
    };
    interrupt_line("hard IRQ handlers", r.hardirqs);
    interrupt_line("softirqs", r.softirqs);
    if (!r.busiest.empty()) {
        b += "   busiest processes (% of one CPU):\n";
        for (size_t i = 0; i < r.busiest.size() && i < 5; i++) {
            std::string row = "     ";
            append_padded(row, format_value("%.1f%%", r.busiest[i].cpu_percent), 8);
            append_padded(row, std::to_string(r.busiest[i].pid), 8);
            append_text_escaped(row, r.busiest[i].comm);
            line(b, row);
        }
    }
    if (!r.run_queue_us.empty()) {
        line(b, "   run-queue latency: p50 " + as_ms(r.run_queue_us.quantile(0.5)) + ", p90 " +
                    as_ms(r.run_queue_us.quantile(0.9)) + ", p99 " +
                    as_ms(r.run_queue_us.quantile(0.99)) + " (" +
                    std::to_string(r.run_queue_us.total()) + " wake-ups)");
        for (size_t i = 0; i < r.waiters.size() && i < 5; i++) {
            std::string row = "     waited ";
            append_padded(row, as_ms(r.waiters[i].wait_us), 11);
            append_padded(row, std::to_string(r.waiters[i].pid), 8);
            append_text_escaped(row, r.waiters[i].comm);
            line(b, row);
        }
    }

    b += "\n== Memory\n";
    line(b,
         "   available " + std::to_string(r.mem_available_kb / 1024) + " MiB of " +
             std::to_string(r.mem_total_kb / 1024) + " MiB; swap used " +
             std::to_string((r.swap_total_kb - std::min(r.swap_total_kb, r.swap_free_kb)) / 1024) +
             " MiB of " + std::to_string(r.swap_total_kb / 1024) + " MiB");
    line(b, "   swapped in " + std::to_string(r.swap_in_pages) + ", out " +
                std::to_string(r.swap_out_pages) + " pages; major faults " +
                std::to_string(r.major_faults));
    if (r.page_cache.measured)
        line(b, format_value("   page cache: hit ratio %.1f%%", r.page_cache.hit_percent()) + " (" +
                    std::to_string(r.page_cache.hits) + " hits, " +
                    std::to_string(r.page_cache.misses) + " misses, " +
                    std::to_string(r.page_cache.dirtied) + " pages dirtied)");
    line(b, "   OOM kills: " +
                std::to_string(std::max<uint64_t>(r.oom_kill_counter, r.oom_kills.size())));
    for (const OomKill& k : r.oom_kills) {
        std::string row = "     killed PID " + std::to_string(k.pid) + " ";
        append_text_escaped(row, k.comm);
        line(b, row + " (" + std::to_string(k.rss_kb / 1024) + " MiB resident)");
    }

    b += "\n== Disks      r/s     w/s   rkB/s   wkB/s  util   p50 ms   p99 ms\n";
    for (const Disk& d : r.disks) {
        std::string row = "   ";
        append_padded(row, d.name, 8);
        row += format_value("%7.0f ", d.reads_per_s) + format_value("%7.0f ", d.writes_per_s) +
               format_value("%7.0f ", d.read_kb_per_s) + format_value("%7.0f ", d.write_kb_per_s) +
               format_value("%4.0f%%", d.util_percent);
        if (!d.latency_us.empty())
            row += format_value(" %8.2f", static_cast<double>(d.latency_us.quantile(0.5)) / 1000) +
                   format_value(" %8.2f", static_cast<double>(d.latency_us.quantile(0.99)) / 1000);
        line(b, row);
    }
    if (!r.io_busiest.empty()) {
        b += "   busiest processes by storage I/O (kB/s read, written):\n";
        for (size_t i = 0; i < r.io_busiest.size() && i < 5; i++) {
            const IoProcess& p = r.io_busiest[i];
            std::string row = "     ";
            append_padded(row, format_value("%.0f", p.read_kb_per_s), 9);
            append_padded(row, format_value("%.0f", p.write_kb_per_s), 9);
            append_padded(row, std::to_string(p.pid), 8);
            append_text_escaped(row, p.comm);
            line(b, row);
        }
    }
    if (!r.io_files.empty()) {
        b += "   files read and written most (kB/s read, written; cached or not):\n";
        for (size_t i = 0; i < r.io_files.size() && i < 5; i++) {
            const FileIo& f = r.io_files[i];
            std::string row = "     ";
            append_padded(row, format_value("%.0f", f.kb_per_s(f.read_bytes, r.window_s)), 9);
            append_padded(row, format_value("%.0f", f.kb_per_s(f.write_bytes, r.window_s)), 9);
            append_padded(row, std::to_string(f.pid), 8);
            append_padded(row, text_escaped(f.comm), 16);
            row += ' ';
            append_text_escaped(row, f.file);
            line(b, row);
        }
    }

    b += "\n== Network    rxkB/s  txkB/s  drops  errors\n";
    for (const NetDevice& n : r.net) {
        std::string row = "   ";
        append_padded(row, n.name, 10);
        row += format_value("%7.1f ", n.rx_kb_per_s) + format_value("%7.1f ", n.tx_kb_per_s) +
               format_value("%6.0f ", static_cast<double>(n.rx_drops + n.tx_drops)) +
               format_value("%7.0f", static_cast<double>(n.rx_errors + n.tx_errors));
        line(b, row);
    }
    line(b, "   TCP: " + std::to_string(r.tcp.active_opens) + " active opens, " +
                std::to_string(r.tcp.passive_opens) + " passive, " +
                std::to_string(r.tcp.retrans_segs) + " retransmits" +
                format_value(" (%.2f%% of segments)", r.tcp.retrans_percent()) + ", " +
                std::to_string(r.tcp.out_resets) + " resets sent, " +
                std::to_string(r.tcp.attempt_fails) + " failed attempts");
    uint64_t connects = r.connect_latency_us.total();
    if (connects > 0 || r.connects_failed > 0)
        line(b, "   TCP connects: " + std::to_string(connects) + ", p50 " +
                    as_ms(r.connect_latency_us.quantile(0.5)) + ", p99 " +
                    as_ms(r.connect_latency_us.quantile(0.99)) + ", max " +
                    as_ms(r.connect_latency_us.quantile(1.0)) + "; " +
                    std::to_string(r.connects_failed) + " failed");
    else
        line(b, "   TCP connects: none seen");
    line(b, "   packet drops: " + std::to_string(r.packet_drops) +
                (r.drop_reasons.empty() ? "" : "; by reason: " + top_names(r.drop_reasons, 4)));

    b += "\n== Processes and files\n";
    line(b,
         "   new processes: " + std::to_string(r.execs) +
             (r.exec_commands.empty() ? "" : "; most frequent: " + top_names(r.exec_commands, 5)));
    line(b,
         "   failed opens: " + std::to_string(r.failed_opens) +
             (r.failed_open_errors.empty() ? ""
                                           : "; " + top_names(r.failed_open_errors, 4) + "; by " +
                                                 top_names(r.failed_open_commands, 3)));
    std::vector<NameCount> signal_targets;
    for (const FatalSignal& f : r.fatal_signal_targets)
        signal_targets.push_back({f.signal + " to " + f.target, f.count});
    line(b, "   fatal signals: " + std::to_string(r.fatal_signals) +
                (signal_targets.empty() ? "" : "; " + top_names(signal_targets, 5)));
    if (r.dns_lookups > 0)
        line(b, "   DNS lookups: " + std::to_string(r.dns_lookups) + ", p50 " +
                    as_ms(r.dns_latency_us.quantile(0.5)) + ", p99 " +
                    as_ms(r.dns_latency_us.quantile(0.99)) + ", max " +
                    as_ms(r.dns_latency_us.quantile(1.0)));
    else
        line(b, "   DNS lookups: none seen");

    if (r.kernel_log_read) {
        b += "\n== Kernel log: trouble in the window and the " +
             std::to_string(kernel_log_minutes_before) + " minutes before it\n";
        // The latest lines, oldest first as dmesg prints them, each whole.
        constexpr size_t most = 20;
        size_t first = r.kernel_log.size() > most ? r.kernel_log.size() - most : 0;
        for (size_t i = first; i < r.kernel_log.size(); i++) {
            std::string row = format_value("   [%10.3f] ", r.kernel_log[i].seconds_since_boot);
            int text_column = static_cast<int>(row.size());
            append_text_escaped(row, r.kernel_log[i].text);
            line(b, row, text_column);
        }
        uint64_t not_shown = first + r.kernel_log_older;
        if (not_shown > 0)
            line(b, "   " + std::to_string(not_shown) + " earlier line" +
                        (not_shown == 1 ? "" : "s") +
                        " of trouble since boot not shown (dmesg has them)");
        else if (r.kernel_log.empty())
            line(b, "   none");
    }
    if (!r.unavailable.empty()) {
        b += "\n== Not collected\n";
        for (const std::string& u : r.unavailable)
            line(b, "   " + u);
    }
    line(b, "");
    line(b, format_value("triage's own CPU time: %.2f s", r.self_cpu_seconds) +
                format_value(" (%.2f%% of one CPU over the window)",
                             100.0 * r.self_cpu_seconds / (r.window_s > 0 ? r.window_s : 1)));
    return b;
}

std::string render_json(const Report& r, const std::vector<Finding>& findings) {
    auto array = [](auto& items, auto&& each) {
        std::string out = "[";
        bool first = true;
        for (auto& item : items) {
            if (!first) out += ',';
            first = false;
            JsonObject o(out);
            each(o, item);
            o.end();
        }
        return out + "]";
    };
    auto cpu = [](JsonObject& o, const CpuShare& c) {
        o.real("user", c.user, 1)
            .real("system", c.system, 1)
            .real("iowait", c.iowait, 1)
            .real("irq", c.irq, 1)
            .real("steal", c.steal, 1)
            .real("idle", c.idle, 1);
    };
    auto names = [&](const std::vector<NameCount>& v) {
        return array(v, [](JsonObject& o, const NameCount& n) {
            o.string("name", n.name).unsigned_number("count", n.count);
        });
    };
    auto interrupt_times = [&](const InterruptTimes& t, const char* id_key) {
        std::string out;
        JsonObject o(out);
        o.real("time_ms", static_cast<double>(t.time_us()) / 1000.0, 3)
            .real("percent_of_cpu", t.percent_of_cpu(r.window_s, r.cpus), 3)
            .raw("handlers", array(t.handlers, [&](JsonObject& h, const InterruptTime& i) {
                     h.number(id_key, i.id)
                         .string("name", i.name)
                         .unsigned_number("count", i.count)
                         .real("time_ms", static_cast<double>(i.time_us) / 1000.0, 3);
                 }));
        o.end();
        return out;
    };
    std::string all_cpu;
    {
        JsonObject o(all_cpu);
        cpu(o, r.cpu);
        o.end();
    }
    std::string out;
    JsonObject top(out);
    top.string("type", "triage")
        .string("hostname", r.hostname)
        .string("kernel", r.kernel)
        .string("started_at", r.started_at)
        .real("window_s", r.window_s, 3)
        .real("uptime_s", r.uptime_s, 0)
        .unsigned_number("cpus", r.cpus)
        .real("load1", r.load1, 2)
        .real("load5", r.load5, 2)
        .real("load15", r.load15, 2)
        .raw("findings", array(findings,
                               [](JsonObject& o, const Finding& f) {
                                   o.string("severity", severity_name(f.severity))
                                       .string("what", f.what)
                                       .string("evidence", f.evidence)
                                       .string("threshold", f.threshold);
                               }))
        .raw("cpu", all_cpu)
        .raw("per_cpu", array(r.per_cpu, cpu))
        .real("context_switches_per_s", r.context_switches_per_s, 0)
        .raw("busiest", array(r.busiest,
                              [](JsonObject& o, const BusyProcess& p) {
                                  o.unsigned_number("pid", p.pid)
                                      .string("comm", p.comm)
                                      .real("cpu_percent", p.cpu_percent, 1);
                              }))
        .raw("run_queue_latency", histogram_json(r.run_queue_us, "usecs"))
        .raw("waiters", array(r.waiters, [](JsonObject& o, const Waiter& w) {
                 o.unsigned_number("pid", w.pid)
                     .string("comm", w.comm)
                     .unsigned_number("wait_us", w.wait_us)
                     .unsigned_number("count", w.count);
             }));
    std::string memory;
    {
        JsonObject m(memory);
        m.unsigned_number("total_kb", r.mem_total_kb)
            .unsigned_number("available_kb", r.mem_available_kb)
            .unsigned_number("swap_total_kb", r.swap_total_kb)
            .unsigned_number("swap_free_kb", r.swap_free_kb)
            .unsigned_number("swap_in_pages", r.swap_in_pages)
            .unsigned_number("swap_out_pages", r.swap_out_pages)
            .unsigned_number("major_faults", r.major_faults);
        if (r.page_cache.measured) {
            std::string pages;
            JsonObject(pages)
                .unsigned_number("hits", r.page_cache.hits)
                .unsigned_number("misses", r.page_cache.misses)
                .unsigned_number("dirtied", r.page_cache.dirtied)
                .end();
            m.real("page_cache_hit_percent", r.page_cache.hit_percent(), 1)
                .raw("page_cache", pages);
        } else
            m.null("page_cache_hit_percent").null("page_cache");
        m.unsigned_number("oom_kill_counter", r.oom_kill_counter)
            .raw("oom_kills", array(r.oom_kills, [](JsonObject& o, const OomKill& k) {
                     o.unsigned_number("pid", k.pid)
                         .string("comm", k.comm)
                         .unsigned_number("rss_kb", k.rss_kb)
                         .string("source", k.source);
                 }));
        m.end();
    }
    std::string tcp;
    JsonObject(tcp)
        .unsigned_number("active_opens", r.tcp.active_opens)
        .unsigned_number("passive_opens", r.tcp.passive_opens)
        .unsigned_number("attempt_fails", r.tcp.attempt_fails)
        .unsigned_number("estab_resets", r.tcp.estab_resets)
        .unsigned_number("out_segs", r.tcp.out_segs)
        .unsigned_number("retrans_segs", r.tcp.retrans_segs)
        .real("retrans_percent", r.tcp.retrans_percent(), 2)
        .unsigned_number("out_resets", r.tcp.out_resets)
        .unsigned_number("in_errors", r.tcp.in_errors)
        .end();
    std::string drops;
    JsonObject(drops)
        .unsigned_number("count", r.packet_drops)
        .raw("reasons", names(r.drop_reasons))
        .end();
    std::string connects;
    JsonObject(connects)
        .unsigned_number("established", r.connect_latency_us.total())
        .unsigned_number("failed", r.connects_failed)
        .raw("latency", histogram_json(r.connect_latency_us, "usecs"))
        .end();
    std::string dns;
    JsonObject(dns)
        .unsigned_number("lookups", r.dns_lookups)
        .raw("latency", histogram_json(r.dns_latency_us, "usecs"))
        .end();
    std::vector<std::string> unavailable = r.unavailable;
    std::string unavailable_json = "[";
    for (size_t i = 0; i < unavailable.size(); i++) {
        if (i) unavailable_json += ',';
        append_json_string(unavailable_json, unavailable[i]);
    }
    unavailable_json += ']';
    top.raw("memory", memory)
        .raw("disks", array(r.disks,
                            [&](JsonObject& o, const Disk& d) {
                                o.string("name", d.name)
                                    .real("reads_per_s", d.reads_per_s, 1)
                                    .real("writes_per_s", d.writes_per_s, 1)
                                    .real("read_kb_per_s", d.read_kb_per_s, 1)
                                    .real("write_kb_per_s", d.write_kb_per_s, 1)
                                    .real("util_percent", d.util_percent, 1)
                                    .raw("latency", histogram_json(d.latency_us, "usecs"));
                            }))
        .raw("io_busiest", array(r.io_busiest,
                                 [](JsonObject& o, const IoProcess& p) {
                                     o.unsigned_number("pid", p.pid)
                                         .string("comm", p.comm)
                                         .real("read_kb_per_s", p.read_kb_per_s, 1)
                                         .real("write_kb_per_s", p.write_kb_per_s, 1);
                                 }))
        .raw("io_files", array(r.io_files,
                               [](JsonObject& o, const FileIo& f) {
                                   o.unsigned_number("pid", f.pid)
                                       .string("comm", f.comm)
                                       .string("file", f.file)
                                       .unsigned_number("reads", f.reads)
                                       .unsigned_number("writes", f.writes)
                                       .unsigned_number("read_bytes", f.read_bytes)
                                       .unsigned_number("write_bytes", f.write_bytes);
                               }))
        .raw("network", array(r.net,
                              [](JsonObject& o, const NetDevice& n) {
                                  o.string("name", n.name)
                                      .real("rx_kb_per_s", n.rx_kb_per_s, 1)
                                      .real("tx_kb_per_s", n.tx_kb_per_s, 1)
                                      .unsigned_number("rx_drops", n.rx_drops)
                                      .unsigned_number("tx_drops", n.tx_drops)
                                      .unsigned_number("rx_errors", n.rx_errors)
                                      .unsigned_number("tx_errors", n.tx_errors);
                              }))
        .raw("tcp", tcp)
        .raw("tcp_connects", connects)
        .raw("packet_drops", drops)
        .raw("hardirq_time", interrupt_times(r.hardirqs, "irq"))
        .raw("softirq_time", interrupt_times(r.softirqs, "vec"))
        .unsigned_number("execs", r.execs)
        .raw("exec_commands", names(r.exec_commands))
        .unsigned_number("failed_opens", r.failed_opens)
        .raw("failed_open_errors", names(r.failed_open_errors))
        .raw("failed_open_commands", names(r.failed_open_commands))
        .unsigned_number("fatal_signals", r.fatal_signals)
        .raw("fatal_signal_targets", array(r.fatal_signal_targets,
                                           [](JsonObject& o, const FatalSignal& f) {
                                               o.string("signal", f.signal)
                                                   .string("target_comm", f.target)
                                                   .unsigned_number("count", f.count);
                                           }))
        .raw("dns", dns)
        .raw("kernel_log", array(r.kernel_log,
                                 [](JsonObject& o, const LogLine& l) {
                                     o.real("seconds_since_boot", l.seconds_since_boot, 3)
                                         .string("kind", l.kind)
                                         .string("text", l.text)
                                         .boolean("during_window", l.during_window);
                                 }))
        .unsigned_number("kernel_log_minutes_before", kernel_log_minutes_before)
        .unsigned_number("kernel_log_older", r.kernel_log_older)
        .raw("not_collected", unavailable_json)
        .real("self_cpu_seconds", r.self_cpu_seconds, 3)
        .end_line();
    return out;
}

} // namespace corescope::triage
