// triage's HTML page: findings first, charts that match the report's
// figures, names escaped, nothing fetched, the same bytes every time; and
// the sample page (tests/golden/triage-html/sample.html) kept current.
#include "html_check.h"
#include "markup.h"
#include "triage_findings.h"
#include "triage_html.h"
#include "triage_render.h"
#include "triage_sample.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace test_triage_html {

using namespace corescope;
using namespace corescope::triage;

namespace {

std::string page_of(const Report& r) {
    return render_html(r, analyze(r));
}

// The text of the element that opens with `opening` (up to its end tag).
std::string element(const std::string& html, const std::string& opening, const std::string& end) {
    size_t at = html.find(opening);
    REQUIRE(at != std::string::npos);
    size_t stop = html.find(end, at);
    REQUIRE(stop != std::string::npos);
    return html.substr(at, stop - at);
}

std::map<std::string, std::string> attributes(const std::string& tag) {
    std::map<std::string, std::string> out;
    static const std::regex attribute(R"re(([a-zA-Z-]+)="([^"]*)")re");
    for (auto it = std::sregex_iterator(tag.begin(), tag.end(), attribute);
         it != std::sregex_iterator(); ++it)
        out[(*it)[1]] = (*it)[2];
    return out;
}

// The attributes of every <rect> in text.
std::vector<std::map<std::string, std::string>> rects(const std::string& text,
                                                      const std::string& cls) {
    std::vector<std::map<std::string, std::string>> out;
    static const std::regex rect(R"re(<rect [^>]*>)re");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), rect);
         it != std::sregex_iterator(); ++it) {
        auto a = attributes(it->str());
        if (a["class"] == cls) out.push_back(a);
    }
    return out;
}

double number(const std::string& s) {
    return std::stod(s);
}

} // namespace

TEST_CASE("triage HTML: findings come first, then the sections, log and not collected last",
          "[triage][html]") {
    Report r = triage_sample::report();
    auto findings = analyze(r);
    REQUIRE(findings.size() >= 3);
    std::string html = render_html(r, findings);
    size_t findings_at = html.find("<section id=\"findings\">");
    REQUIRE(findings_at != std::string::npos);
    CHECK(html.find("<section") == findings_at);
    CHECK(html.find("<figure") > findings_at);
    CHECK(html.find("<svg") > findings_at);
    std::vector<size_t> order;
    for (const char* id : {"findings", "cpu", "memory", "disks", "network", "processes",
                           "kernel-log", "not-collected"}) {
        size_t at = html.find("<section id=\"" + std::string(id) + "\">");
        INFO(id);
        REQUIRE(at != std::string::npos);
        order.push_back(at);
    }
    CHECK(std::is_sorted(order.begin(), order.end()));
    // Each finding, in the analysis's order, with its evidence and threshold.
    std::string section = element(html, "<section id=\"findings\">", "</section>");
    size_t at = 0;
    for (const Finding& f : findings) {
        size_t li =
            section.find(std::string("<li class=\"finding ") + severity_name(f.severity), at);
        REQUIRE(li != std::string::npos);
        size_t evidence = section.find("<p class=\"evidence\">", li);
        REQUIRE(evidence != std::string::npos);
        at = evidence;
    }
    CHECK(section.find("Disk vda is nearly always busy.") != std::string::npos);
    CHECK(section.find("% busy") != std::string::npos);
    // The header: host, kernel, time and window.
    std::string header = element(html, "<header>", "</header>");
    CHECK(header.find("db-7") != std::string::npos);
    CHECK(header.find("6.18.0-1-amd64") != std::string::npos);
    CHECK(header.find("2026-12-06T04:00:00.000000Z") != std::string::npos);
    CHECK(header.find("10 s window") != std::string::npos);

    Report quiet;
    quiet.hostname = "calm";
    quiet.window_s = 10;
    quiet.cpus = 2;
    quiet.cpu.idle = 90;
    quiet.cpu.user = 10;
    quiet.mem_total_kb = 1000000;
    quiet.mem_available_kb = 800000;
    REQUIRE(analyze(quiet).empty());
    CHECK(page_of(quiet).find("No findings: nothing crossed a threshold") != std::string::npos);
}

TEST_CASE("triage HTML: each histogram is a chart with one bar per slot, heights as the counts",
          "[triage][html]") {
    Report r = triage_sample::report();
    std::string html = page_of(r);
    std::vector<std::pair<std::string, const Histogram*>> charts = {
        {"chart-run-queue", &r.run_queue_us},
        {"chart-disk-0", &r.disks[0].latency_us},
        {"chart-tcp-connect", &r.connect_latency_us},
        {"chart-dns", &r.dns_latency_us}};
    for (const auto& [id, h] : charts) {
        INFO(id);
        std::string chart =
            element(html, "<figure class=\"chart\" id=\"" + id + "\">", "</figure>");
        auto bars = rects(chart, "bar");
        std::vector<Bucket> buckets = h->buckets();
        REQUIRE(bars.size() == buckets.size());
        uint64_t most = 0;
        for (const Bucket& b : buckets)
            most = std::max(most, b.count);
        double tallest = 0;
        for (const auto& bar : bars)
            tallest = std::max(tallest, number(bar.at("height")));
        REQUIRE(tallest > 100);
        for (size_t i = 0; i < bars.size(); i++) {
            CHECK(number(bars[i].at("data-count")) == static_cast<double>(buckets[i].count));
            CHECK(number(bars[i].at("data-low")) == static_cast<double>(buckets[i].low));
            double expected =
                tallest * static_cast<double>(buckets[i].count) / static_cast<double>(most);
            CHECK(std::abs(number(bars[i].at("height")) - expected) <= 0.01);
            // Bars stand on the same base line, left to right.
            CHECK(std::abs(number(bars[i].at("y")) + number(bars[i].at("height")) -
                           (number(bars[0].at("y")) + number(bars[0].at("height")))) <= 0.011);
            if (i > 0) CHECK(number(bars[i].at("x")) > number(bars[i - 1].at("x")));
        }
        // Labelled axes with units.
        CHECK(chart.find(">count</text>") != std::string::npos);
        CHECK(chart.find("latency, µs") != std::string::npos);
    }
    // The run-queue caption carries the text's percentiles.
    std::string rq = element(html, "<figure class=\"chart\" id=\"chart-run-queue\">", "</figure>");
    CHECK(rq.find("p99 " + as_ms(r.run_queue_us.quantile(0.99))) != std::string::npos);
    CHECK(rq.find("(77 wake-ups)") != std::string::npos);

    // An empty histogram is no chart but a sentence.
    Report empty = triage_sample::report();
    empty.run_queue_us = Histogram::log2({});
    std::string none = page_of(empty);
    CHECK(none.find("id=\"chart-run-queue\"") == std::string::npos);
    CHECK(none.find("run-queue latency: none in the window.") != std::string::npos);
}

TEST_CASE("triage HTML: per-CPU, disk and process bars are as long as their figures",
          "[triage][html]") {
    Report r = triage_sample::report();
    std::string html = page_of(r);
    auto check_cpu = [&](const std::string& name, const CpuShare& c) {
        INFO(name);
        std::string row = element(html, "<tr data-cpu=\"" + name + "\">", "</tr>");
        double x = 0;
        for (const auto& [cls, value] :
             std::vector<std::pair<std::string, double>>{{"user", c.user},
                                                         {"system", c.system},
                                                         {"iowait", c.iowait},
                                                         {"irq", c.irq},
                                                         {"steal", c.steal}}) {
            auto part = rects(row, cls);
            if (value == 0) {
                CHECK(part.empty());
                continue;
            }
            REQUIRE(part.size() == 1);
            CHECK(std::abs(number(part[0].at("width")) - value) <= 0.005);
            CHECK(std::abs(number(part[0].at("x")) - x) <= 0.005);
            x += value;
        }
        CHECK(row.find(format_value("%.1f", c.idle)) != std::string::npos);
    };
    check_cpu("all", r.cpu);
    for (size_t i = 0; i < r.per_cpu.size(); i++)
        check_cpu("cpu" + std::to_string(i), r.per_cpu[i]);

    // Disks: utilization of 100 % is the whole track.
    std::string disks = element(html, "<table class=\"bars\" id=\"disk-bars\">", "</table>");
    auto util = rects(disks, "value");
    REQUIRE(util.size() == 2);
    CHECK(number(util[0].at("width")) == Approx(92.5));
    CHECK(number(util[1].at("width")) == Approx(3));
    CHECK(disks.find("92%") != std::string::npos);

    // Busiest processes: % of one CPU, on a scale of the most (180.5 %).
    std::string busiest = element(html, "<table class=\"bars\" id=\"busiest\"", "</table>");
    auto bars = rects(busiest, "value");
    REQUIRE(bars.size() == r.busiest.size());
    for (size_t i = 0; i < bars.size(); i++)
        CHECK(number(bars[i].at("width")) ==
              Approx(100 * r.busiest[i].cpu_percent / 180.5).margin(0.005));
    CHECK(busiest.find("180.5%") != std::string::npos);
    CHECK(busiest.find(">4242<") != std::string::npos);

    // Storage I/O: read and written stacked, on the busiest's total.
    std::string io = element(html, "<table class=\"bars\" id=\"io-busiest\">", "</table>");
    auto reads = rects(io, "read"), writes = rects(io, "write");
    REQUIRE(reads.size() == 2);
    REQUIRE(writes.size() == 1); // rsync wrote nothing
    CHECK(number(reads[0].at("width")) == Approx(100.0 * 5000 / 16000).margin(0.005));
    CHECK(number(writes[0].at("width")) == Approx(100.0 * 11000 / 16000).margin(0.005));
    CHECK(number(reads[1].at("width")) == Approx(100.0 * 900 / 16000).margin(0.005));
}

TEST_CASE("triage HTML: names from the traced system are escaped, the markup is the renderer's",
          "[triage][html]") {
    Report r = triage_sample::report();
    std::string html = page_of(r);
    CHECK(html_check::check_markup(html) == "");
    CHECK(html.find("<script>") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    CHECK(html.find("<img") == std::string::npos);
    CHECK(html.find("&lt;/td&gt;&lt;img src=x&gt;") != std::string::npos);
    CHECK(html.find("sd\\xff&lt;b&gt;") != std::string::npos); // the disk: bad UTF-8 shown
    CHECK(html.find("a\\e[2Jb") != std::string::npos);         // the waiter's escape byte
    CHECK(html.find("eth0 &amp; &quot;friends&quot;") != std::string::npos);
    CHECK(html.find("segfault &quot;&amp;&lt;&#39;&gt;&quot; \\x01\\x7f\\xc3") !=
          std::string::npos);
    for (char c = 0; c < 0x20; c++)
        if (c != '\n') CHECK(html.find(c) == std::string::npos);
    CHECK(html.find('\x7f') == std::string::npos);
    // A finding's evidence is escaped for the terminal once, not twice:
    // the waiter's name reads as in the text rendering.
    std::string text = render_text(r, analyze(r));
    CHECK(text.find("a\\e[2Jb") != std::string::npos);
    std::string findings = element(html, "<section id=\"findings\">", "</section>");
    CHECK(findings.find("a\\e[2Jb") != std::string::npos);
    CHECK(findings.find("a\\\\e") == std::string::npos);
}

TEST_CASE("triage HTML: nothing outside the file, and the same bytes every time",
          "[triage][html]") {
    Report r = triage_sample::report();
    r.hostname = "http://evil.example/";
    r.kernel_log.push_back({259199.0, "warning", "see https://bugs.example//x", true});
    std::string html = page_of(r);
    // Outside the places the report's own text is (escaped), no URL at all.
    std::string without_data = html;
    std::string json = element(html, "<script type=\"application/json\"", "</script>");
    without_data.erase(without_data.find(json), json.size());
    for (const std::string& data :
         {markup_escaped(r.hostname), markup_escaped("see https://bugs.example//x"),
          markup_escaped(r.io_files[1].file)}) {
        for (size_t at; (at = without_data.find(data)) != std::string::npos;)
            without_data.erase(at, data.size());
    }
    for (const char* url : {"http:", "https:", "//", "url(", "@import", "src=", "href=", "<link",
                            "<img", "<iframe", "<object", "<embed"}) {
        size_t at = without_data.find(url);
        INFO(url << " in: " << (at == std::string::npos ? "" : without_data.substr(at - 100, 200)));
        CHECK(at == std::string::npos);
    }
    // No attribute of any tag fetches anything, in the whole page.
    static const std::regex fetching(R"re(<[a-z]+ [^>]*(src|href|xlink:href|action)=)re");
    CHECK_FALSE(std::regex_search(html, fetching));
    // No script runs: the one <script> element is JSON data.
    size_t scripts = 0;
    for (size_t at = 0; (at = html.find("<script", at)) != std::string::npos; at++)
        scripts++;
    CHECK(scripts == 1);
    CHECK(html.find("<script type=\"application/json\" id=\"corescope-triage-report\">") !=
          std::string::npos);
    CHECK(html.find("<meta name=\"viewport\"") != std::string::npos);
    CHECK(html.find("@media print") != std::string::npos);

    CHECK(page_of(r) == html);
    CHECK(page_of(triage_sample::report()) == page_of(triage_sample::report()));
}

TEST_CASE("triage HTML: the page carries the report as -o json prints it", "[triage][html]") {
    Report r = triage_sample::report();
    auto findings = analyze(r);
    std::string html = render_html(r, findings);
    std::string opening = "<script type=\"application/json\" id=\"corescope-triage-report\">";
    std::string data = element(html, opening, "</script>").substr(opening.size());
    nlohmann::json embedded = nlohmann::json::parse(data);
    CHECK(embedded == nlohmann::json::parse(render_json(r, findings)));
    CHECK(embedded["busiest"][1]["comm"] == "<script>alert(1)</script>");
}

TEST_CASE("triage HTML: the sample page is current", "[triage][html]") {
    // tests/golden/triage-html/sample.html: the sample report's page, for
    // a browser test to load without running triage.
    std::string path = std::string(CORESCOPE_GOLDEN_DIR) + "/triage-html/sample.html";
    std::string html = page_of(triage_sample::report());
    if (std::getenv("CORESCOPE_UPDATE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << html;
        SUCCEED("rewrote " + path);
        return;
    }
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    CHECK(s.str() == html);
}

} // namespace test_triage_html
