#include "triage_html.h"

#include "markup.h"
#include "triage_render.h"

#include <algorithm>

namespace corescope::triage {

namespace {

// Everything from the traced system (names, paths, log lines) goes
// through esc: the shared escaper, as in the text and the flame graphs.
void esc(std::string& b, std::string_view s) {
    append_markup_escaped(b, s);
}

// The findings' sentences and evidence come text-escaped already (names in
// them went through text_escaped, as the text rendering prints them):
// escaped again, each backslash would double. So the pieces between
// backslashes are escaped, and the backslashes kept: a raw control byte or
// bad UTF-8 in them is still escaped, and "\x1b" reads as in the text.
void esc_escaped(std::string& b, std::string_view s) {
    for (;;) {
        size_t slash = s.find('\\');
        esc(b, s.substr(0, slash));
        if (slash == std::string_view::npos) return;
        b += '\\';
        s.remove_prefix(slash + 1);
    }
}

std::string num(const char* format, double v) {
    return format_value(format, v);
}

// A number as an SVG coordinate: two decimals at most.
std::string coord(double v) {
    std::string s = format_value("%.2f", v);
    while (s.back() == '0')
        s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s == "-0" ? "0" : s;
}

// The lower bound of a log2 bucket, short enough for an axis: 512, 1k, 33k, 1.0M.
std::string axis_label(uint64_t v) {
    double d = static_cast<double>(v);
    if (v < 1000) return std::to_string(v);
    if (v < 10000) return num("%.1fk", d / 1000);
    if (v < 1000000) return num("%.0fk", d / 1000);
    if (v < 10000000) return num("%.1fM", d / 1e6);
    return num("%.0fM", d / 1e6);
}

const char* stylesheet = R"css(
:root { --fg: #1b1b1f; --muted: #5f6368; --line: #d0d4da; --bg: #fff; --panel: #f5f6f8;
  --user: #3a78c9; --system: #e0892b; --iowait: #c94040; --irq: #8a5cc2; --steal: #777;
  --read: #3a78c9; --write: #e0892b; --bar: #3a78c9;
  --critical: #b3261e; --warning: #b36b00; --notice: #2f6db3; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; padding: 1rem; max-width: 60rem; color: var(--fg); background: var(--bg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
header { border-bottom: 2px solid var(--fg); margin-bottom: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 0 0 .5rem; padding-bottom: .2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
header p { margin: .2rem 0; color: var(--muted); }
section { margin: 0 0 1.8rem; }
p { margin: .3rem 0; }
.findings { list-style: none; padding: 0; margin: 0; }
.finding { border-left: 5px solid var(--notice); background: var(--panel); padding: .5rem .8rem;
  margin: 0 0 .6rem; break-inside: avoid; }
.finding.critical { border-color: var(--critical); }
.finding.warning { border-color: var(--warning); }
.severity { display: inline-block; font-size: .75rem; font-weight: 700; text-transform: uppercase;
  letter-spacing: .04em; color: #fff; background: var(--notice); border-radius: 3px;
  padding: 0 .4rem; margin-right: .4rem; vertical-align: .1em; }
.critical .severity { background: var(--critical); }
.warning .severity { background: var(--warning); }
.what { font-weight: 600; }
.evidence, .threshold { overflow-wrap: anywhere; }
.threshold { color: var(--muted); font-size: .9rem; }
.none { color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .3rem 0 .6rem; font-size: .9rem; }
th, td { padding: .15rem .5rem .15rem 0; text-align: left; vertical-align: middle; }
thead th { color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { overflow-wrap: anywhere; }
table.bars { width: 100%; }
td.bar { width: 45%; min-width: 6rem; }
td.bar svg { display: block; width: 100%; height: .9rem; background: var(--panel); }
.user { fill: var(--user); } .system { fill: var(--system); } .iowait { fill: var(--iowait); }
.irq { fill: var(--irq); } .steal { fill: var(--steal); } .read { fill: var(--read); }
.write { fill: var(--write); } rect.value { fill: var(--bar); }
.legend { font-size: .8rem; color: var(--muted); }
.legend i { display: inline-block; width: .8em; height: .8em; margin: 0 .2em 0 .6em;
  vertical-align: -.05em; }
i.user { background: var(--user); } i.system { background: var(--system); }
i.iowait { background: var(--iowait); } i.irq { background: var(--irq); }
i.steal { background: var(--steal); } i.read { background: var(--read); }
i.write { background: var(--write); }
figure.chart { margin: .5rem 0 1rem; break-inside: avoid; }
figure.chart svg { display: block; width: 100%; max-width: 44rem; height: auto; }
figure.chart figcaption { font-size: .9rem; }
.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.chart .axis { stroke: var(--fg); stroke-width: 1; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart rect.bar { fill: var(--bar); }
ol.log { list-style: none; padding: 0; margin: .3rem 0; font: .8rem/1.4 ui-monospace, monospace; }
ol.log li { white-space: pre-wrap; overflow-wrap: anywhere; padding-left: 7.5em; text-indent: -7.5em; }
ol.log li.in-window { background: #fdeceb; }
footer { color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); padding-top: .4rem; }
@media (max-width: 40rem) {
  body { padding: .6rem; font-size: 14px; }
  td.bar { min-width: 4rem; }
  .chart text { font-size: 17px; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section { break-before: page; }
  section#findings { break-before: auto; }
  h2, h3 { break-after: avoid; }
  .scroll { overflow: visible; }
  tr, li, figure { break-inside: avoid; }
  figure.chart svg { max-width: 100%; }
}
)css";

class Page {
  public:
    explicit Page(const Report& r) : r_(r) {}
    std::string& b() { return b_; }

    void open_section(const char* id, const std::string& title) {
        b_ += "<section id=\"";
        b_ += id;
        b_ += "\">\n<h2>" + title + "</h2>\n";
    }
    void close_section() { b_ += "</section>\n"; }

    // A log2 latency histogram as a bar chart: one bar per slot from the
    // first to the last non-empty one's (as the text prints them), heights
    // proportional to the counts, both axes labelled with their units.
    void histogram(const char* id, const std::string& what, const Histogram& h,
                   const std::string& caption) {
        if (h.empty()) {
            b_ += "<p class=\"none\">" + what + ": none in the window.</p>\n";
            return;
        }
        std::vector<Bucket> buckets = h.buckets();
        uint64_t most = 1;
        for (const Bucket& k : buckets)
            most = std::max(most, k.count);
        constexpr double width = 640, height = 250, left = 58, right = 10, top = 12, bottom = 62;
        const double plot_w = width - left - right, plot_h = height - top - bottom;
        const double slot = plot_w / static_cast<double>(buckets.size());
        const double base = top + plot_h;
        b_ += "<figure class=\"chart\" id=\"" + std::string(id) + "\">\n";
        b_ += "<svg class=\"histogram\" viewBox=\"0 0 " + coord(width) + " " + coord(height) +
              "\" role=\"img\" aria-label=\"" + what + "\" data-slots=\"" +
              std::to_string(buckets.size()) + "\">\n";
        // The count axis: grid lines at 0, a half and the most.
        for (int i = 0; i <= 2; i++) {
            double y = base - plot_h * i / 2;
            uint64_t v = most * static_cast<uint64_t>(i) / 2;
            b_ += "<line class=\"grid\" x1=\"" + coord(left) + "\" y1=\"" + coord(y) + "\" x2=\"" +
                  coord(width - right) + "\" y2=\"" + coord(y) + "\"/>";
            b_ += "<text x=\"" + coord(left - 6) + "\" y=\"" + coord(y + 4) +
                  "\" text-anchor=\"end\">" + std::to_string(v) + "</text>\n";
        }
        for (size_t i = 0; i < buckets.size(); i++) {
            const Bucket& k = buckets[i];
            double bar_h = plot_h * static_cast<double>(k.count) / static_cast<double>(most);
            double x = left + slot * static_cast<double>(i);
            b_ += "<rect class=\"bar\" x=\"" + coord(x + slot * 0.1) + "\" y=\"" +
                  coord(base - bar_h) + "\" width=\"" + coord(slot * 0.8) + "\" height=\"" +
                  coord(bar_h) + "\" data-low=\"" + std::to_string(k.low) + "\" data-high=\"" +
                  std::to_string(k.high) + "\" data-count=\"" + std::to_string(k.count) +
                  "\"><title>" + std::to_string(k.low) + " to " + std::to_string(k.high) +
                  " µs: " + std::to_string(k.count) + "</title></rect>\n";
            // Each slot's lower bound under it (every other one when crowded).
            if (buckets.size() <= 16 || i % 2 == 0) {
                double tx = x + slot / 2, ty = base + 12;
                b_ += "<text x=\"" + coord(tx) + "\" y=\"" + coord(ty) +
                      "\" text-anchor=\"end\" transform=\"rotate(-45 " + coord(tx) + " " +
                      coord(ty) + ")\">" + axis_label(k.low) + "</text>\n";
            }
        }
        b_ += "<line class=\"axis\" x1=\"" + coord(left) + "\" y1=\"" + coord(base) + "\" x2=\"" +
              coord(width - right) + "\" y2=\"" + coord(base) + "\"/>";
        b_ += "<line class=\"axis\" x1=\"" + coord(left) + "\" y1=\"" + coord(top) + "\" x2=\"" +
              coord(left) + "\" y2=\"" + coord(base) + "\"/>\n";
        b_ += "<text x=\"" + coord(left + plot_w / 2) + "\" y=\"" + coord(height - 4) +
              "\" text-anchor=\"middle\">latency, µs (log2 slots, each from its label to the "
              "next; k = 1000)</text>\n";
        b_ += "<text x=\"14\" y=\"" + coord(top + plot_h / 2) +
              "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + coord(top + plot_h / 2) +
              ")\">count</text>\n";
        b_ += "</svg>\n<figcaption>" + caption + "</figcaption>\n</figure>\n";
    }

    // One horizontal bar: rects of the given classes and lengths, on a
    // scale of 0 to 100 (the viewBox): a length of 12.3 is 12.3 % of the
    // track.
    void bar_cell(const std::vector<std::pair<const char*, double>>& parts) {
        b_ += "<td class=\"bar\"><svg viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" "
              "aria-hidden=\"true\">";
        double x = 0;
        for (const auto& [cls, length] : parts) {
            double w = length > 0 ? std::min(length, 100.0 - x) : 0; // NaN: 0
            if (w > 0)
                b_ += "<rect class=\"" + std::string(cls) + "\" x=\"" + coord(x) +
                      "\" y=\"0\" width=\"" + coord(w) + "\" height=\"10\"/>";
            x += w;
        }
        b_ += "</svg></td>";
    }

    void num_cell(const std::string& text) { b_ += "<td class=\"n\">" + text + "</td>"; }
    void name_cell(std::string_view name) {
        b_ += "<td class=\"name\">";
        esc(b_, name);
        b_ += "</td>";
    }

    void header() {
        const Report& r = r_;
        b_ += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
              "<meta name=\"generator\" content=\"corescope triage\">\n<title>corescope triage: ";
        esc(b_, r.hostname);
        b_ += ", ";
        esc(b_, r.started_at);
        b_ += "</title>\n<style>";
        b_ += stylesheet;
        b_ += "</style>\n</head>\n<body>\n<header>\n<h1>corescope triage: ";
        esc(b_, r.hostname);
        b_ += "</h1>\n<p id=\"host\">Linux ";
        esc(b_, r.kernel);
        b_ += ", " + std::to_string(r.cpus) + " CPUs; " + num("up %.1f days", r.uptime_s / 86400) +
              num(", load average %.2f", r.load1) + num(" %.2f", r.load5) + num(" %.2f", r.load15) +
              "</p>\n<p id=\"window\">" + num("%.0f s window", r.window_s) + " from <time>";
        esc(b_, r.started_at);
        b_ += "</time></p>\n</header>\n";
    }

    void findings(const std::vector<Finding>& findings) {
        open_section("findings", "Findings");
        if (findings.empty())
            b_ += "<p class=\"none\">No findings: nothing crossed a threshold in this "
                  "window.</p>\n";
        else
            b_ += "<ol class=\"findings\">\n";
        for (const Finding& f : findings) {
            const char* severity = severity_name(f.severity);
            b_ += "<li class=\"finding " + std::string(severity) +
                  "\"><p><span class=\"severity\">" + severity + "</span><span class=\"what\">";
            esc_escaped(b_, f.what);
            b_ += "</span></p>\n<p class=\"evidence\">";
            esc_escaped(b_, f.evidence);
            b_ += "</p>\n<p class=\"threshold\">threshold: ";
            esc_escaped(b_, f.threshold);
            b_ += "</p></li>\n";
        }
        if (!findings.empty()) b_ += "</ol>\n";
        close_section();
    }

    void cpu() {
        const Report& r = r_;
        open_section("cpu", "CPU");
        b_ += "<p class=\"legend\">% of each CPU's time:<i class=\"user\"></i>user"
              "<i class=\"system\"></i>system<i class=\"iowait\"></i>iowait"
              "<i class=\"irq\"></i>irq<i class=\"steal\"></i>steal</p>\n";
        b_ +=
            "<div class=\"scroll\"><table class=\"bars\" id=\"cpu-bars\">\n<thead><tr><th>CPU</th>"
            "<th>busy</th><th class=\"n\">user</th><th class=\"n\">sys</th><th "
            "class=\"n\">iowait</th><th class=\"n\">irq</th><th class=\"n\">steal</th><th "
            "class=\"n\">idle</th></tr></thead>\n<tbody>\n";
        auto row = [&](const std::string& name, const CpuShare& c) {
            b_ += "<tr data-cpu=\"" + name + "\"><th>" + name + "</th>";
            bar_cell({{"user", c.user},
                      {"system", c.system},
                      {"iowait", c.iowait},
                      {"irq", c.irq},
                      {"steal", c.steal}});
            for (double v : {c.user, c.system, c.iowait, c.irq, c.steal, c.idle})
                num_cell(num("%.1f", v));
            b_ += "</tr>\n";
        };
        row("all", r.cpu);
        for (size_t i = 0; i < r.per_cpu.size(); i++)
            row("cpu" + std::to_string(i), r.per_cpu[i]);
        b_ += "</tbody></table></div>\n";
        b_ += "<p>" + num("context switches %.0f/s", r.context_switches_per_s) + "</p>\n";

        if (!r.busiest.empty()) {
            double scale = 100;
            for (const BusyProcess& p : r.busiest)
                scale = std::max(scale, p.cpu_percent);
            b_ += "<h3>Busiest processes (% of one CPU)</h3>\n<div class=\"scroll\"><table "
                  "class=\"bars\" id=\"busiest\" data-scale=\"" +
                  coord(scale) +
                  "\">\n<thead><tr><th class=\"n\">PID</th><th>command</th><th></th><th "
                  "class=\"n\">CPU</th></tr></thead>\n<tbody>\n";
            for (const BusyProcess& p : r.busiest) {
                b_ += "<tr>";
                num_cell(std::to_string(p.pid));
                name_cell(p.comm);
                bar_cell({{"value", 100 * p.cpu_percent / scale}});
                num_cell(num("%.1f%%", p.cpu_percent));
                b_ += "</tr>\n";
            }
            b_ += "</tbody></table></div>\n";
        }

        b_ += "<h3>Run-queue latency</h3>\n";
        const Histogram& rq = r.run_queue_us;
        histogram("chart-run-queue", "run-queue latency", rq,
                  "Time from wake-up to running: p50 " + as_ms(rq.quantile(0.5)) + ", p90 " +
                      as_ms(rq.quantile(0.9)) + ", p99 " + as_ms(rq.quantile(0.99)) + " (" +
                      std::to_string(rq.total()) + " wake-ups)");
        if (!r.waiters.empty()) {
            uint64_t most = 1;
            for (const Waiter& w : r.waiters)
                most = std::max(most, w.wait_us);
            b_ += "<h3>Waited longest for a CPU</h3>\n<div class=\"scroll\"><table "
                  "class=\"bars\" id=\"waiters\">\n<thead><tr><th class=\"n\">PID</th><th>command</"
                  "th><th></th><th class=\"n\">waited</th><th class=\"n\">waits</th></tr></"
                  "thead>\n<tbody>\n";
            for (const Waiter& w : r.waiters) {
                b_ += "<tr>";
                num_cell(std::to_string(w.pid));
                name_cell(w.comm);
                bar_cell({{"value",
                           100.0 * static_cast<double>(w.wait_us) / static_cast<double>(most)}});
                num_cell(as_ms(w.wait_us));
                num_cell(std::to_string(w.count));
                b_ += "</tr>\n";
            }
            b_ += "</tbody></table></div>\n";
        }
        interrupts("hardirqs", "Hard IRQ handlers", "IRQ", r.hardirqs);
        interrupts("softirqs", "Softirqs", "vector", r.softirqs);
        close_section();
    }

    void interrupts(const char* id, const char* what, const char* id_name,
                    const InterruptTimes& t) {
        b_ += "<h3>" + std::string(what) + "</h3>\n<p>" + as_ms(t.time_us()) +
              num(" in all, %.2f%% of CPU time", t.percent_of_cpu(r_.window_s, r_.cpus)) + "</p>\n";
        if (t.handlers.empty()) return;
        b_ += "<div class=\"scroll\"><table id=\"" + std::string(id) +
              "\">\n<thead><tr><th class=\"n\">" + id_name +
              "</th><th>name</th><th class=\"n\">time</th><th class=\"n\">runs</th></tr></"
              "thead>\n<tbody>\n";
        for (size_t i = 0; i < t.handlers.size() && i < 5; i++) {
            const InterruptTime& h = t.handlers[i];
            b_ += "<tr>";
            num_cell(std::to_string(h.id));
            name_cell(h.name);
            num_cell(as_ms(h.time_us));
            num_cell(std::to_string(h.count));
            b_ += "</tr>\n";
        }
        b_ += "</tbody></table></div>\n";
    }

    void memory() {
        const Report& r = r_;
        open_section("memory", "Memory");
        uint64_t used_kb = r.mem_total_kb - std::min(r.mem_total_kb, r.mem_available_kb);
        uint64_t swap_used_kb = r.swap_total_kb - std::min(r.swap_total_kb, r.swap_free_kb);
        auto share = [](uint64_t part, uint64_t whole) {
            return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
        };
        b_ += "<table class=\"bars\" id=\"memory-bars\">\n<tbody>\n<tr><th>memory in use</th>";
        bar_cell({{"value", share(used_kb, r.mem_total_kb)}});
        num_cell(std::to_string(used_kb / 1024) + " of " + std::to_string(r.mem_total_kb / 1024) +
                 " MiB");
        b_ += "</tr>\n<tr><th>swap in use</th>";
        bar_cell({{"value", share(swap_used_kb, r.swap_total_kb)}});
        num_cell(std::to_string(swap_used_kb / 1024) + " of " +
                 std::to_string(r.swap_total_kb / 1024) + " MiB");
        b_ += "</tr>\n</tbody></table>\n";
        b_ += "<p>available " + std::to_string(r.mem_available_kb / 1024) + " MiB; swapped in " +
              std::to_string(r.swap_in_pages) + ", out " + std::to_string(r.swap_out_pages) +
              " pages; major faults " + std::to_string(r.major_faults) + "</p>\n";
        if (r.page_cache.measured)
            b_ += "<p>" + num("page cache: hit ratio %.1f%%", r.page_cache.hit_percent()) + " (" +
                  std::to_string(r.page_cache.hits) + " hits, " +
                  std::to_string(r.page_cache.misses) + " misses, " +
                  std::to_string(r.page_cache.dirtied) + " pages dirtied)</p>\n";
        b_ += "<p>OOM kills: " +
              std::to_string(std::max<uint64_t>(r.oom_kill_counter, r.oom_kills.size())) + "</p>\n";
        if (!r.oom_kills.empty()) {
            b_ += "<ul>\n";
            for (const OomKill& k : r.oom_kills) {
                b_ += "<li>killed PID " + std::to_string(k.pid) + " ";
                esc(b_, k.comm);
                b_ += " (" + std::to_string(k.rss_kb / 1024) + " MiB resident; seen by ";
                esc(b_, k.source);
                b_ += ")</li>\n";
            }
            b_ += "</ul>\n";
        }
        close_section();
    }

    void disks() {
        const Report& r = r_;
        open_section("disks", "Disks");
        if (r.disks.empty())
            b_ += "<p class=\"none\">No disk did any I/O.</p>\n";
        else {
            b_ += "<div class=\"scroll\"><table class=\"bars\" id=\"disk-bars\">\n<thead><tr><th>"
                  "disk</th><th>utilization</th><th class=\"n\">util</th><th class=\"n\">r/s</"
                  "th><th class=\"n\">w/s</th><th class=\"n\">rkB/s</th><th "
                  "class=\"n\">wkB/s</th><th class=\"n\">p50 ms</th><th class=\"n\">p99 "
                  "ms</th></tr></thead>\n<tbody>\n";
            for (const Disk& d : r.disks) {
                b_ += "<tr><th class=\"name\">";
                esc(b_, d.name);
                b_ += "</th>";
                bar_cell({{"value", d.util_percent}});
                num_cell(num("%.0f%%", d.util_percent));
                for (double v : {d.reads_per_s, d.writes_per_s, d.read_kb_per_s, d.write_kb_per_s})
                    num_cell(num("%.0f", v));
                for (double q : {0.5, 0.99})
                    num_cell(
                        d.latency_us.empty()
                            ? "-"
                            : num("%.2f", static_cast<double>(d.latency_us.quantile(q)) / 1000));
                b_ += "</tr>\n";
            }
            b_ += "</tbody></table></div>\n";
        }
        for (size_t i = 0; i < r.disks.size(); i++) {
            const Disk& d = r.disks[i];
            if (d.latency_us.empty()) continue;
            b_ += "<h3>I/O latency of ";
            esc(b_, d.name);
            b_ += "</h3>\n";
            std::string name = markup_escaped(d.name);
            histogram(
                ("chart-disk-" + std::to_string(i)).c_str(), "I/O latency of " + name, d.latency_us,
                "Issue to completion, " + name + ": p50 " + as_ms(d.latency_us.quantile(0.5)) +
                    ", p99 " + as_ms(d.latency_us.quantile(0.99)) + " (" +
                    std::to_string(d.latency_us.total()) + " requests)");
        }
        if (!r.io_busiest.empty()) {
            double most = 0;
            for (const IoProcess& p : r.io_busiest)
                most = std::max(most, p.kb_per_s());
            if (most <= 0) most = 1;
            b_ += "<h3>Busiest processes by storage I/O</h3>\n<p class=\"legend\">kB/s:<i "
                  "class=\"read\"></i>read<i class=\"write\"></i>written</p>\n<div "
                  "class=\"scroll\"><table class=\"bars\" id=\"io-busiest\">\n<thead><tr><th "
                  "class=\"n\">PID</th><th>command</th><th></th><th class=\"n\">read</th><th "
                  "class=\"n\">written</th></tr></thead>\n<tbody>\n";
            for (const IoProcess& p : r.io_busiest) {
                b_ += "<tr>";
                num_cell(std::to_string(p.pid));
                name_cell(p.comm);
                bar_cell({{"read", 100 * p.read_kb_per_s / most},
                          {"write", 100 * p.write_kb_per_s / most}});
                num_cell(num("%.0f", p.read_kb_per_s));
                num_cell(num("%.0f", p.write_kb_per_s));
                b_ += "</tr>\n";
            }
            b_ += "</tbody></table></div>\n";
        }
        if (!r.io_files.empty()) {
            b_ += "<h3>Files read and written most (kB/s; cached or not)</h3>\n<div "
                  "class=\"scroll\"><table id=\"io-files\">\n<thead><tr><th "
                  "class=\"n\">read</th><th class=\"n\">written</th><th class=\"n\">PID</"
                  "th><th>command</th><th>file</th></tr></thead>\n<tbody>\n";
            for (const FileIo& f : r.io_files) {
                b_ += "<tr>";
                num_cell(num("%.0f", f.kb_per_s(f.read_bytes, r.window_s)));
                num_cell(num("%.0f", f.kb_per_s(f.write_bytes, r.window_s)));
                num_cell(std::to_string(f.pid));
                name_cell(f.comm);
                name_cell(f.file);
                b_ += "</tr>\n";
            }
            b_ += "</tbody></table></div>\n";
        }
        close_section();
    }

    void network() {
        const Report& r = r_;
        open_section("network", "Network");
        if (!r.net.empty()) {
            b_ += "<div class=\"scroll\"><table id=\"net\">\n<thead><tr><th>interface</th><th "
                  "class=\"n\">rxkB/s</th><th class=\"n\">txkB/s</th><th "
                  "class=\"n\">drops</th><th class=\"n\">errors</th></tr></thead>\n<tbody>\n";
            for (const NetDevice& n : r.net) {
                b_ += "<tr>";
                name_cell(n.name);
                num_cell(num("%.1f", n.rx_kb_per_s));
                num_cell(num("%.1f", n.tx_kb_per_s));
                num_cell(std::to_string(n.rx_drops + n.tx_drops));
                num_cell(std::to_string(n.rx_errors + n.tx_errors));
                b_ += "</tr>\n";
            }
            b_ += "</tbody></table></div>\n";
        }
        b_ += "<p>TCP: " + std::to_string(r.tcp.active_opens) + " active opens, " +
              std::to_string(r.tcp.passive_opens) + " passive, " +
              std::to_string(r.tcp.retrans_segs) + " retransmits" +
              num(" (%.2f%% of segments)", r.tcp.retrans_percent()) + ", " +
              std::to_string(r.tcp.out_resets) + " resets sent, " +
              std::to_string(r.tcp.attempt_fails) + " failed attempts</p>\n";
        const Histogram& c = r.connect_latency_us;
        if (c.total() > 0 || r.connects_failed > 0) {
            b_ += "<h3>TCP connect latency</h3>\n";
            histogram("chart-tcp-connect", "TCP connect latency", c,
                      "SYN sent to established: " + std::to_string(c.total()) + " connects, p50 " +
                          as_ms(c.quantile(0.5)) + ", p99 " + as_ms(c.quantile(0.99)) + ", max " +
                          as_ms(c.quantile(1.0)) + "; " + std::to_string(r.connects_failed) +
                          " failed");
        } else
            b_ += "<p>TCP connects: none seen</p>\n";
        b_ += "<p>packet drops: " + std::to_string(r.packet_drops) + "</p>\n";
        name_counts("drop-reasons", "reason", r.drop_reasons);
        close_section();
    }

    void name_counts(const char* id, const char* what, const std::vector<NameCount>& items) {
        if (items.empty()) return;
        uint64_t most = 1;
        for (const NameCount& n : items)
            most = std::max(most, n.count);
        b_ += "<div class=\"scroll\"><table class=\"bars\" id=\"" + std::string(id) +
              "\">\n<thead><tr><th>" + what +
              "</th><th></th><th class=\"n\">count</th></tr></thead>\n<tbody>\n";
        for (size_t i = 0; i < items.size() && i < 10; i++) {
            b_ += "<tr>";
            name_cell(items[i].name);
            bar_cell({{"value",
                       100.0 * static_cast<double>(items[i].count) / static_cast<double>(most)}});
            num_cell(std::to_string(items[i].count));
            b_ += "</tr>\n";
        }
        b_ += "</tbody></table></div>\n";
    }

    void processes() {
        const Report& r = r_;
        open_section("processes", "Processes and files");
        b_ += "<p>new processes: " + std::to_string(r.execs) + "</p>\n";
        name_counts("exec-commands", "command", r.exec_commands);
        b_ += "<p>failed opens: " + std::to_string(r.failed_opens) + "</p>\n";
        name_counts("failed-open-errors", "error", r.failed_open_errors);
        name_counts("failed-open-commands", "command", r.failed_open_commands);
        b_ += "<p>fatal signals: " + std::to_string(r.fatal_signals) + "</p>\n";
        if (!r.fatal_signal_targets.empty()) {
            b_ += "<div class=\"scroll\"><table id=\"fatal-signals\">\n<thead><tr><th>signal</"
                  "th><th>to</th><th class=\"n\">count</th></tr></thead>\n<tbody>\n";
            for (const FatalSignal& f : r.fatal_signal_targets) {
                b_ += "<tr>";
                name_cell(f.signal);
                name_cell(f.target);
                num_cell(std::to_string(f.count));
                b_ += "</tr>\n";
            }
            b_ += "</tbody></table></div>\n";
        }
        const Histogram& d = r.dns_latency_us;
        if (r.dns_lookups > 0) {
            b_ += "<h3>DNS lookup latency</h3>\n";
            histogram("chart-dns", "DNS lookup latency", d,
                      std::to_string(r.dns_lookups) + " lookups, p50 " + as_ms(d.quantile(0.5)) +
                          ", p99 " + as_ms(d.quantile(0.99)) + ", max " + as_ms(d.quantile(1.0)));
        } else
            b_ += "<p>DNS lookups: none seen</p>\n";
        close_section();
    }

    void kernel_log() {
        const Report& r = r_;
        if (!r.kernel_log_read) return; // "not collected" says why
        open_section("kernel-log", "Kernel log: trouble in the window and the " +
                                       std::to_string(kernel_log_minutes_before) +
                                       " minutes before it");
        // The latest lines, oldest first, as the text shows them.
        constexpr size_t most = 20;
        size_t first = r.kernel_log.size() > most ? r.kernel_log.size() - most : 0;
        if (first < r.kernel_log.size()) {
            b_ += "<p class=\"legend\">Lines of the window are marked.</p>\n<ol class=\"log\">\n";
            for (size_t i = first; i < r.kernel_log.size(); i++) {
                const LogLine& l = r.kernel_log[i];
                b_ += std::string("<li") + (l.during_window ? " class=\"in-window\"" : "") +
                      " data-kind=\"";
                esc(b_, l.kind);
                b_ += "\">" + num("[%10.3f] ", l.seconds_since_boot);
                esc(b_, l.text);
                b_ += "</li>\n";
            }
            b_ += "</ol>\n";
        }
        uint64_t not_shown = first + r.kernel_log_older;
        if (not_shown > 0)
            b_ += "<p>" + std::to_string(not_shown) + " earlier line" +
                  (not_shown == 1 ? "" : "s") +
                  " of trouble since boot not shown (dmesg has them)</p>\n";
        else if (r.kernel_log.empty())
            b_ += "<p class=\"none\">none</p>\n";
        close_section();
    }

    void not_collected() {
        if (r_.unavailable.empty()) return;
        open_section("not-collected", "Not collected");
        b_ += "<ul>\n";
        for (const std::string& u : r_.unavailable) {
            b_ += "<li>";
            esc(b_, u);
            b_ += "</li>\n";
        }
        b_ += "</ul>\n";
        close_section();
    }

    void footer(const std::vector<Finding>& findings) {
        const Report& r = r_;
        b_ += "<footer><p>" + num("triage's own CPU time: %.2f s", r.self_cpu_seconds) +
              num(" (%.2f%% of one CPU over the window)",
                  100.0 * r.self_cpu_seconds / (r.window_s > 0 ? r.window_s : 1)) +
              ". The report as JSON (<code>corescope triage -o json</code>) is in this file's "
              "<code>script#" +
              html_report_json_id + "</code>.</p></footer>\n";
        // Data, never run: the same report as -o json prints it, for a
        // program reading this file.
        b_ += "<script type=\"application/json\" id=\"" + std::string(html_report_json_id) + "\">";
        std::string json = render_json(r, findings);
        while (!json.empty() && json.back() == '\n')
            json.pop_back();
        b_ += script_safe_json(json);
        b_ += "</script>\n</body>\n</html>\n";
    }

  private:
    const Report& r_;
    std::string b_;
};

} // namespace

std::string render_html(const Report& r, const std::vector<Finding>& findings) {
    Page page(r);
    page.header();
    page.findings(findings);
    page.cpu();
    page.memory();
    page.disks();
    page.network();
    page.processes();
    page.kernel_log();
    page.not_collected();
    page.footer(findings);
    return std::move(page.b());
}

} // namespace corescope::triage
