// The Prometheus exposition writer (common/exposition.h): numbers as Go
// prints them, the log2 slot-to-`le` mapping at its edges, label and HELP
// escaping, ordering, the histogram invariants, both formats, the series
// cap, and the format chosen from an Accept header.
#include "exposition.h"

#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace test_exposition {

using namespace corescope;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// The samples whose line starts with prefix: their values, in order.
std::vector<std::string> values_of(const std::string& text, const std::string& prefix) {
    std::vector<std::string> values;
    for (const std::string& line : lines_of(text))
        if (line.rfind(prefix, 0) == 0) values.push_back(line.substr(line.rfind(' ') + 1));
    return values;
}

} // namespace

TEST_CASE("exposition: numbers as Go's FormatFloat 'g' -1", "[exposition]") {
    CHECK(prometheus_number(0) == "0");
    CHECK(prometheus_number(1) == "1");
    CHECK(prometheus_number(42) == "42");
    CHECK(prometheus_number(0.5) == "0.5");
    CHECK(prometheus_number(2e-06) == "2e-06");
    CHECK(prometheus_number(1.6e-05) == "1.6e-05");
    CHECK(prometheus_number(0.000128) == "0.000128");
    CHECK(prometheus_number(0.0001) == "0.0001");
    CHECK(prometheus_number(123456) == "123456");
    CHECK(prometheus_number(1e6) == "1e+06");
    CHECK(prometheus_number(1048576) == "1.048576e+06");
    CHECK(prometheus_number(-2.5) == "-2.5");
    CHECK(prometheus_number(1e21) == "1e+21");
    CHECK(prometheus_number(1.0 / 0.0) == "+Inf");
    CHECK(prometheus_number(-1.0 / 0.0) == "-Inf");
}

TEST_CASE("exposition: log2 slot i's upper bound is 2^(i+1) units", "[exposition]") {
    // Slot 0 holds 0 and 1 us (every value below 2 us), slot 1 2-3 us,
    // slot 3 8-15 us: the bound is above every value the slot holds and is
    // the next slot's lowest value (the off-by-one of ebpf_exporter 488).
    double us = 1e-6;
    CHECK(prometheus_number(log2_slot_upper_bound(0, us)) == "2e-06");
    CHECK(prometheus_number(log2_slot_upper_bound(1, us)) == "4e-06");
    CHECK(prometheus_number(log2_slot_upper_bound(3, us)) == "1.6e-05");
    CHECK(prometheus_number(log2_slot_upper_bound(6, us)) == "0.000128");
    CHECK(prometheus_number(log2_slot_upper_bound(19, us)) == "1.048576");
    CHECK(prometheus_number(log2_slot_upper_bound(30, us)) == "2147.483648");
    CHECK(prometheus_number(log2_slot_upper_bound(0, 1e-3)) == "0.002");

    // 32 slots: 31 finite bounds (slots 0-30), the last slot only in +Inf.
    std::vector<uint64_t> slots(32, 0);
    slots[0] = 1;  // 0-1 us
    slots[3] = 2;  // 8-15 us
    slots[31] = 4; // 2^31 us and above
    HistogramValue h = log2_histogram(slots, us, 0.25);
    REQUIRE(h.bounds.size() == 31);
    REQUIRE(h.counts.size() == 32);
    CHECK(h.bounds.front() == log2_slot_upper_bound(0, us));
    CHECK(h.bounds.back() == log2_slot_upper_bound(30, us));
    CHECK(h.counts[0] == 1);
    CHECK(h.counts[3] == 2);
    CHECK(h.counts[31] == 4);
    CHECK(h.sum == 0.25);
}

TEST_CASE("exposition: a histogram is cumulative, +Inf equals _count", "[exposition]") {
    Exposition e;
    std::vector<uint64_t> slots(32, 0);
    slots[0] = 1;
    slots[3] = 2;
    slots[31] = 4;
    e.family("corescope_wait_seconds", MetricType::histogram, "Waits.", "seconds")
        .add({{"device", "sda"}}, log2_histogram(slots, 1e-6, 1.5));
    std::string text = e.render(ExpositionFormat::text);
    std::vector<std::string> lines = lines_of(text);
    REQUIRE(lines.size() == 2 + 32 + 2);
    CHECK(lines[0] == "# HELP corescope_wait_seconds Waits.");
    CHECK(lines[1] == "# TYPE corescope_wait_seconds histogram");
    CHECK(lines[2] == "corescope_wait_seconds_bucket{device=\"sda\",le=\"2e-06\"} 1");
    CHECK(lines[3] == "corescope_wait_seconds_bucket{device=\"sda\",le=\"4e-06\"} 1");
    CHECK(lines[5] == "corescope_wait_seconds_bucket{device=\"sda\",le=\"1.6e-05\"} 3");
    CHECK(lines[32] == "corescope_wait_seconds_bucket{device=\"sda\",le=\"2147.483648\"} 3");
    CHECK(lines[33] == "corescope_wait_seconds_bucket{device=\"sda\",le=\"+Inf\"} 7");
    CHECK(lines[34] == "corescope_wait_seconds_sum{device=\"sda\"} 1.5");
    CHECK(lines[35] == "corescope_wait_seconds_count{device=\"sda\"} 7");
    // Monotonic buckets.
    std::vector<std::string> buckets = values_of(text, "corescope_wait_seconds_bucket");
    for (size_t i = 1; i < buckets.size(); i++)
        CHECK(std::stoull(buckets[i - 1]) <= std::stoull(buckets[i]));
}

TEST_CASE("exposition: text 0.0.4 and OpenMetrics 1.0", "[exposition]") {
    Exposition e;
    e.family("corescope_execs", MetricType::counter, "Exec calls.").add({}, 12);
    e.family("corescope_build_info", MetricType::gauge, "Build \"info\"\\x")
        .add({{"version", "0.1.0"}}, 1);
    e.family("corescope_lat_seconds", MetricType::histogram, "Latency.", "seconds")
        .add({}, log2_histogram({1, 1}, 1e-6, 3e-6));

    std::string text = e.render(ExpositionFormat::text);
    CHECK(text == "# HELP corescope_build_info Build \"info\"\\\\x\n"
                  "# TYPE corescope_build_info gauge\n"
                  "corescope_build_info{version=\"0.1.0\"} 1\n"
                  "# HELP corescope_execs_total Exec calls.\n"
                  "# TYPE corescope_execs_total counter\n"
                  "corescope_execs_total 12\n"
                  "# HELP corescope_lat_seconds Latency.\n"
                  "# TYPE corescope_lat_seconds histogram\n"
                  "corescope_lat_seconds_bucket{le=\"2e-06\"} 1\n"
                  "corescope_lat_seconds_bucket{le=\"+Inf\"} 2\n"
                  "corescope_lat_seconds_sum 3e-06\n"
                  "corescope_lat_seconds_count 2\n");

    std::string om = e.render(ExpositionFormat::openmetrics);
    CHECK(om == "# HELP corescope_build_info Build \\\"info\\\"\\\\x\n"
                "# TYPE corescope_build_info gauge\n"
                "corescope_build_info{version=\"0.1.0\"} 1\n"
                "# HELP corescope_execs Exec calls.\n"
                "# TYPE corescope_execs counter\n"
                "corescope_execs_total 12\n"
                "# HELP corescope_lat_seconds Latency.\n"
                "# TYPE corescope_lat_seconds histogram\n"
                "# UNIT corescope_lat_seconds seconds\n"
                "corescope_lat_seconds_bucket{le=\"2e-06\"} 1\n"
                "corescope_lat_seconds_bucket{le=\"+Inf\"} 2\n"
                "corescope_lat_seconds_sum 3e-06\n"
                "corescope_lat_seconds_count 2\n"
                "# EOF\n");
    CHECK_THAT(om, !Contains("_created"));
    CHECK(exposition_content_type(ExpositionFormat::text) ==
          "text/plain; version=0.0.4; charset=utf-8");
    CHECK(exposition_content_type(ExpositionFormat::openmetrics) ==
          "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

TEST_CASE("exposition: label values are escaped, series ordered by labels", "[exposition]") {
    Exposition e;
    MetricFamily& f = e.family("corescope_x", MetricType::gauge, "X.");
    f.add({{"name", "b"}}, 2);
    f.add({{"name", "a\"quote\\back\nline"}}, 1);
    f.add({{"name", std::string("bad\xff")}}, 3);
    std::vector<std::string> lines = lines_of(e.render(ExpositionFormat::text));
    REQUIRE(lines.size() == 5);
    CHECK(lines[2] == "corescope_x{name=\"a\\\"quote\\\\back\\nline\"} 1");
    CHECK(lines[3] == "corescope_x{name=\"b\"} 2");
    CHECK(lines[4] == "corescope_x{name=\"bad\xef\xbf\xbd\"} 3");
    // The same input in another order gives the same output.
    Exposition again;
    MetricFamily& g = again.family("corescope_x", MetricType::gauge, "X.");
    g.add({{"name", std::string("bad\xff")}}, 3);
    g.add({{"name", "b"}}, 2);
    g.add({{"name", "a\"quote\\back\nline"}}, 1);
    CHECK(again.render(ExpositionFormat::text) == e.render(ExpositionFormat::text));
}

TEST_CASE("exposition: counters add up, the series cap sums the rest into one", "[exposition]") {
    Exposition e;
    MetricFamily& f = e.family("corescope_opens", MetricType::counter, "Opens.");
    f.set_max_series(3);
    for (int i = 0; i < 6; i++)
        f.add({{"errno", "E" + std::to_string(i)}}, i + 1);
    f.add({{"errno", "E0"}}, 10); // the same series again: adds
    std::vector<std::string> lines = lines_of(e.render(ExpositionFormat::text));
    REQUIRE(lines.size() == 2 + 3);
    CHECK(lines[2] == "corescope_opens_total{errno=\"E0\"} 11");
    CHECK(lines[3] == "corescope_opens_total{errno=\"E1\"} 2");
    CHECK(lines[4] == "corescope_opens_total{errno=\"__overflow__\"} 18"); // 3+4+5+6

    Exposition h;
    MetricFamily& hist = h.family("corescope_h_seconds", MetricType::histogram, "H.", "seconds");
    hist.set_max_series(2);
    for (int i = 0; i < 4; i++)
        hist.add({{"device", "d" + std::to_string(i)}}, log2_histogram({1, 2, 3}, 1e-6, 1));
    std::string text = h.render(ExpositionFormat::text);
    CHECK_THAT(text, Contains("corescope_h_seconds_count{device=\"d0\"} 6"));
    CHECK_THAT(text, Contains("corescope_h_seconds_count{device=\"__overflow__\"} 18"));
    CHECK_THAT(text,
               Contains("corescope_h_seconds_bucket{device=\"__overflow__\",le=\"4e-06\"} 9"));
    CHECK_THAT(text, Contains("corescope_h_seconds_sum{device=\"__overflow__\"} 3"));
    CHECK_THAT(text, !Contains("d1"));
}

TEST_CASE("exposition: the format from the Accept header", "[exposition]") {
    // What Prometheus 2.42 sends.
    CHECK(format_from_accept("application/openmetrics-text;version=1.0.0,application/"
                             "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                             "q=0.5,*/*;q=0.1") == ExpositionFormat::openmetrics);
    CHECK(format_from_accept("") == ExpositionFormat::text);
    CHECK(format_from_accept("*/*") == ExpositionFormat::text);
    CHECK(format_from_accept("text/plain;version=0.0.4") == ExpositionFormat::text);
    CHECK(format_from_accept("application/openmetrics-text") == ExpositionFormat::openmetrics);
    CHECK(format_from_accept("Application/OpenMetrics-Text; version=1.0.0; q=0.9") ==
          ExpositionFormat::openmetrics);
    CHECK(format_from_accept("application/openmetrics-text;version=0.0.1") ==
          ExpositionFormat::text);
    CHECK(format_from_accept("application/openmetrics-text;q=0.4, text/plain;q=0.5") ==
          ExpositionFormat::text);
    CHECK(format_from_accept("application/openmetrics-text;q=0") == ExpositionFormat::text);
    CHECK(format_from_accept(",,;;=,q=") == ExpositionFormat::text);
}

} // namespace test_exposition
