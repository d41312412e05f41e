// corescope triage -o html on this host: one page with the findings, the
// run-queue chart and the CPU bars, whose figures agree with the report
// it carries (the same run's -o json object).
#include "harness.h"
#include "html_check.h"
#include "markup.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

namespace test_triage_html {

using namespace itest;
using nlohmann::json;

namespace {

std::string between(const std::string& s, const std::string& opening, const std::string& end) {
    size_t at = s.find(opening);
    REQUIRE(at != std::string::npos);
    size_t stop = s.find(end, at);
    REQUIRE(stop != std::string::npos);
    return s.substr(at, stop - at);
}

std::vector<std::map<std::string, std::string>> rects(const std::string& text) {
    std::vector<std::map<std::string, std::string>> out;
    static const std::regex rect(R"re(<rect [^>]*>)re"), attribute(R"re(([a-z-]+)="([^"]*)")re");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), rect);
         it != std::sregex_iterator(); ++it) {
        std::string tag = it->str();
        std::map<std::string, std::string> a;
        for (auto at = std::sregex_iterator(tag.begin(), tag.end(), attribute);
             at != std::sregex_iterator(); ++at)
            a[(*at)[1]] = (*at)[2];
        out.push_back(a);
    }
    return out;
}

} // namespace

TEST_CASE("triage -o html is one self-contained page whose charts agree with its report",
          "[triage][html]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("corescope"), "triage", "-d", "1", "-o", "html"}, 60);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string& html = r.out;
    std::string markup = html_check::check_markup(html);
    if (!markup.empty()) {
        size_t at = std::stoul(markup.substr(markup.rfind(' ') + 1));
        INFO(markup << " in: " << html.substr(at > 300 ? at - 300 : 0, 400));
        CHECK(markup == "");
    }
    std::string opening = "<script type=\"application/json\" id=\"corescope-triage-report\">";
    json report = json::parse(between(html, opening, "</script>").substr(opening.size()));
    CHECK(report.at("type") == "triage");
    CHECK(report.at("window_s").get<double>() >= 0.9);

    // The header names the host; the findings come first, one item each.
    std::string header = between(html, "<header>", "</header>");
    CHECK(header.find(corescope::markup_escaped(report.at("hostname").get<std::string>())) !=
          std::string::npos);
    CHECK(html.find("<section") == html.find("<section id=\"findings\">"));
    std::string findings = between(html, "<section id=\"findings\">", "</section>");
    size_t items = 0;
    for (size_t at = 0; (at = findings.find("<li class=\"finding ", at)) != std::string::npos; at++)
        items++;
    CHECK(items == report.at("findings").size());
    if (report.at("findings").empty()) CHECK(findings.find("No findings") != std::string::npos);

    // A bar per CPU and one for all, each part as long as its percentage
    // (the JSON rounds to a tenth, the chart to a hundredth).
    REQUIRE(report.at("per_cpu").size() >= 1);
    for (size_t i = 0; i <= report.at("per_cpu").size(); i++) {
        std::string name = i == 0 ? "all" : "cpu" + std::to_string(i - 1);
        const json& c = i == 0 ? report.at("cpu") : report.at("per_cpu")[i - 1];
        INFO(name);
        std::string row = between(html, "<tr data-cpu=\"" + name + "\">", "</tr>");
        std::map<std::string, double> widths;
        for (auto& rect : rects(row))
            widths[rect.at("class")] = std::stod(rect.at("width"));
        for (const char* part : {"user", "system", "iowait", "irq", "steal"}) {
            INFO(part);
            CHECK(widths[part] == Approx(c.at(part).get<double>()).margin(0.06));
        }
    }

    // The run-queue histogram (triage's own sleeps wake it up): a bar per
    // slot of the report's, with its counts.
    const json& rq = report.at("run_queue_latency");
    REQUIRE(rq.at("total").get<uint64_t>() > 0);
    std::string chart =
        between(html, "<figure class=\"chart\" id=\"chart-run-queue\">", "</figure>");
    auto bars = rects(chart);
    std::vector<std::map<std::string, std::string>> slots;
    for (auto& b : bars)
        if (b.at("class") == "bar") slots.push_back(b);
    const json& buckets = rq.at("buckets");
    REQUIRE(slots.size() == buckets.size());
    for (size_t i = 0; i < slots.size(); i++) {
        CHECK(std::stoull(slots[i].at("data-low")) == buckets[i].at("low").get<uint64_t>());
        CHECK(std::stoull(slots[i].at("data-count")) == buckets[i].at("count").get<uint64_t>());
    }
    CHECK(chart.find("(" + std::to_string(rq.at("total").get<uint64_t>()) + " wake-ups)") !=
          std::string::npos);

    // Nothing fetched: no tag names anything outside the file.
    static const std::regex fetching(R"re(<[a-z]+ [^>]*(src|href|action)=)re");
    CHECK_FALSE(std::regex_search(html, fetching));
    CHECK(html.find("<link") == std::string::npos);
}

TEST_CASE("-o html is triage's alone", "[triage][html]") {
    Finished wrong = run({tool_path("corescope"), "triage", "-o", "svg"});
    CHECK(wrong.exit_code == 2);
    CHECK(wrong.err.find("must be text, json or html") != std::string::npos);
    // A tool with formats of its own (runqlat: prometheus) and one with none.
    Finished tool = run({tool_path("runqlat"), "-o", "html"});
    CHECK(tool.exit_code == 2);
    CHECK(tool.err.find("must be text, json or prometheus") != std::string::npos);
    Finished plain = run({tool_path("tcpconnect"), "-o", "html"});
    CHECK(plain.exit_code == 2);
    CHECK(plain.err.find("must be text or json") != std::string::npos);
}

} // namespace test_triage_html
