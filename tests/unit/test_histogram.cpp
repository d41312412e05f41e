// Histograms (common/histogram.h): bucket bounds, trimming, totals,
// quantiles, merging, and the text and JSON renderers.
#include "histogram.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace test_histogram {

using namespace corescope;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

struct Row {
    uint64_t low, high, count;
    std::string bar; // between the bars, padding included
};

// "         0 -> 1          : 3        |****        ...|"
const std::regex row_pattern(R"(^ *(\d+) -> (\d+) *: (\d+) *\|(\** *)\|$)");

std::vector<Row> parse_rows(const std::vector<std::string>& lines) {
    std::vector<Row> rows;
    for (size_t i = 1; i < lines.size(); i++) {
        std::smatch m;
        INFO("row: '" << lines[i] << "'");
        REQUIRE(std::regex_match(lines[i], m, row_pattern));
        rows.push_back({std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3]), m[4]});
    }
    return rows;
}

size_t stars(const std::string& bar) {
    size_t n = 0;
    for (char c : bar)
        n += c == '*';
    return n;
}

} // namespace

TEST_CASE("histogram: log2 bucket bounds", "[histogram]") {
    std::vector<uint64_t> slots(64, 0);
    for (size_t i = 0; i < slots.size(); i++)
        slots[i] = i + 1;
    std::vector<Bucket> b = Histogram::log2(slots).buckets();
    REQUIRE(b.size() == 64);
    CHECK(b[0].low == 0);
    CHECK(b[0].high == 1);
    CHECK(b[1].low == 2);
    CHECK(b[1].high == 3);
    CHECK(b[2].low == 4);
    CHECK(b[2].high == 7);
    CHECK(b[10].low == 1024);
    CHECK(b[10].high == 2047);
    CHECK(b[62].low == (uint64_t{1} << 62));
    CHECK(b[62].high == (uint64_t{1} << 63) - 1);
    CHECK(b[63].low == (uint64_t{1} << 63));
    CHECK(b[63].high == UINT64_MAX);
    // Contiguous, no gaps or overlaps, and each carries its slot's count.
    for (size_t i = 0; i < b.size(); i++) {
        CHECK(b[i].count == i + 1);
        if (i > 0) CHECK(b[i].low == b[i - 1].high + 1);
    }
}

TEST_CASE("histogram: log2 buckets trim trailing zeros and keep leading ones", "[histogram]") {
    Histogram h = Histogram::log2({0, 0, 5, 0, 2, 0, 0, 0});
    std::vector<Bucket> b = h.buckets();
    REQUIRE(b.size() == 5);
    CHECK(b.front().low == 0);
    CHECK(b.front().count == 0);
    CHECK(b[2].count == 5);
    CHECK(b[3].count == 0);
    CHECK(b.back().low == 16);
    CHECK(b.back().high == 31);
    CHECK(b.back().count == 2);

    CHECK(Histogram::log2({}).buckets().empty());
    CHECK(Histogram::log2({0, 0, 0}).buckets().empty());
    CHECK(Histogram::log2({0, 0, 0}).empty());
    CHECK_FALSE(h.empty());
}

TEST_CASE("histogram: total", "[histogram]") {
    CHECK(Histogram::log2({1, 2, 3}).total() == 6);
    CHECK(Histogram::log2({}).total() == 0);
}

TEST_CASE("histogram: quantiles", "[histogram]") {
    CHECK(Histogram::log2({}).quantile(0.5) == 0);
    CHECK(Histogram::log2({0, 0, 0}).quantile(0.99) == 0);

    // One bucket: every quantile is its upper bound.
    Histogram one = Histogram::log2({0, 0, 0, 9});
    CHECK(one.quantile(0.0) == 15);
    CHECK(one.quantile(0.5) == 15);
    CHECK(one.quantile(1.0) == 15);

    // 100 samples: 50 in 2..3, 40 in 8..15, 9 in 16..31, 1 in 32..63.
    Histogram h = Histogram::log2({0, 50, 0, 40, 9, 1});
    CHECK(h.quantile(0.01) == 3);
    CHECK(h.quantile(0.50) == 3);
    CHECK(h.quantile(0.51) == 15);
    CHECK(h.quantile(0.90) == 15);
    CHECK(h.quantile(0.91) == 31);
    CHECK(h.quantile(0.99) == 31);
    CHECK(h.quantile(1.0) == 63);
    CHECK(h.quantile(0.5) < h.quantile(0.99));
    // Out-of-range q is clamped.
    CHECK(h.quantile(-1.0) == 3);
    CHECK(h.quantile(2.0) == 63);

    // A long tail: p50 stays low while p99 sees the tail.
    Histogram tail =
        Histogram::log2({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 980, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20});
    CHECK(tail.quantile(0.5) == 2047);
    CHECK(tail.quantile(0.98) == 2047);
    CHECK(tail.quantile(0.99) == (uint64_t{1} << 21) - 1);
}

TEST_CASE("histogram: classic text rendering", "[histogram][render]") {
    Histogram h = Histogram::log2({3, 0, 10, 80, 40, 1});
    const uint64_t max_count = 80;
    std::string text = render_histogram_text(h, "usecs");
    INFO(text);
    std::vector<std::string> lines = lines_of(text);
    REQUIRE(lines.size() == 1 + h.buckets().size());
    CHECK(text.back() == '\n');

    // Header: the unit over the range columns, then count and distribution.
    CHECK(std::regex_match(lines[0], std::regex(R"(^ +usecs +: count +distribution$)")));

    std::vector<Row> rows = parse_rows(lines);
    std::vector<Bucket> buckets = h.buckets();
    REQUIRE(rows.size() == buckets.size());
    for (size_t i = 0; i < rows.size(); i++) {
        INFO("row " << i);
        CHECK(rows[i].low == buckets[i].low);
        CHECK(rows[i].high == buckets[i].high);
        CHECK(rows[i].count == buckets[i].count);
        CHECK(rows[i].bar.size() == 40); // the bar is always 40 wide
        // Bars are proportional to the count (rounded either way).
        uint64_t scaled = buckets[i].count * 40;
        CHECK(stars(rows[i].bar) >= scaled / max_count);
        CHECK(stars(rows[i].bar) <= (scaled + max_count - 1) / max_count);
    }
    CHECK(stars(rows[3].bar) == 40); // the largest count
    CHECK(stars(rows[4].bar) == 20); // half of it
    CHECK(stars(rows[2].bar) == 5);  // an eighth
    CHECK(stars(rows[1].bar) == 0);  // empty bucket

    // The columns line up: every line is as long as the others and the
    // separating colon sits in the same column, header included.
    size_t colon = lines[0].find(':');
    for (const std::string& line : lines) {
        CHECK(line.find(':') == colon);
        if (&line != &lines[0]) CHECK(line.size() == lines[1].size());
    }
    CHECK(lines[1].rfind("         0 -> 1", 0) == 0); // classic 10-wide columns
}

TEST_CASE("histogram: text rendering with other units and wide values", "[histogram][render]") {
    std::string ms = render_histogram_text(Histogram::log2({0, 1}), "msecs");
    CHECK(std::regex_search(ms, std::regex(R"(^ +msecs +: count +distribution\n)")));
    CHECK_THAT(ms, !Contains("usecs"));

    std::vector<uint64_t> slots(41, 0);
    slots[0] = 1;
    slots[40] = 2;
    std::string wide = render_histogram_text(Histogram::log2(slots), "nsecs");
    std::vector<std::string> lines = lines_of(wide);
    REQUIRE(lines.size() == 42);
    std::vector<Row> rows = parse_rows(lines);
    CHECK(rows.back().low == (uint64_t{1} << 40));
    CHECK(rows.back().high == (uint64_t{1} << 41) - 1);
    CHECK(stars(rows.back().bar) == 40);
    size_t colon = lines[0].find(':');
    for (const std::string& line : lines)
        CHECK(line.find(':') == colon);

    // Nothing counted: no rows.
    std::vector<std::string> empty_lines =
        lines_of(render_histogram_text(Histogram::log2({0, 0}), "usecs"));
    for (size_t i = 0; i < empty_lines.size(); i++)
        CHECK_FALSE(std::regex_match(empty_lines[i], row_pattern));
}

TEST_CASE("histogram: JSON rendering", "[histogram][render]") {
    Histogram h = Histogram::log2({0, 50, 0, 40, 9, 1});
    std::string text = render_histogram_json(h, "usecs");
    INFO(text);
    json doc = json::parse(text);
    CHECK(doc["unit"] == "usecs");
    CHECK(doc["total"].is_number_unsigned());
    CHECK(doc["total"].get<uint64_t>() == h.total());
    CHECK(doc["p50"].get<uint64_t>() == h.quantile(0.5));
    CHECK(doc["p99"].get<uint64_t>() == h.quantile(0.99));
    REQUIRE(doc["buckets"].is_array());
    std::vector<Bucket> buckets = h.buckets();
    REQUIRE(doc["buckets"].size() == buckets.size());
    uint64_t sum = 0;
    for (size_t i = 0; i < buckets.size(); i++) {
        const json& b = doc["buckets"][i];
        CHECK(b["low"].get<uint64_t>() == buckets[i].low);
        CHECK(b["high"].get<uint64_t>() == buckets[i].high);
        CHECK(b["count"].get<uint64_t>() == buckets[i].count);
        sum += b["count"].get<uint64_t>();
    }
    CHECK(sum == doc["total"].get<uint64_t>());

    std::vector<uint64_t> slots(64, 0);
    slots[63] = 1;
    json top = json::parse(render_histogram_json(Histogram::log2(slots), "nsecs"));
    CHECK(top["buckets"].back()["high"].get<uint64_t>() == UINT64_MAX);

    json empty = json::parse(render_histogram_json(Histogram::log2({}), "usecs"));
    CHECK(empty["total"] == 0);
    CHECK(empty["buckets"].empty());

    json quoted = json::parse(render_histogram_json(Histogram::log2({1}), "odd \"unit\""));
    CHECK(quoted["unit"] == "odd \"unit\"");
}

TEST_CASE("histogram: linear buckets hold one value each, printed one a row", "[histogram]") {
    Histogram h = Histogram::linear({3, 0, 6, 0, 0});
    std::vector<Bucket> b = h.buckets();
    REQUIRE(b.size() == 3);
    for (size_t i = 0; i < b.size(); i++) {
        CHECK(b[i].low == i);
        CHECK(b[i].high == i);
    }
    CHECK(b[2].count == 6);
    CHECK(h.total() == 9);
    CHECK(h.quantile(0.3) == 0);
    CHECK(h.quantile(0.5) == 2);
    CHECK(render_histogram_text(h, "runqlen") ==
          "     runqlen             : count    distribution\n"
          "         0               : 3        |********************                    |\n"
          "         1               : 0        |                                        |\n"
          "         2               : 6        |****************************************|\n");
    CHECK(histogram_buckets_json(h) ==
          R"([{"low":0,"high":0,"count":3},{"low":1,"high":1,"count":0},)"
          R"({"low":2,"high":2,"count":6}])");
}

TEST_CASE("histogram: linear steps hold a range each, printed from the first non-empty one",
          "[histogram]") {
    // 200 MHz a slot: 0 at 0-199, 0 at 200-399, 4 at 400-599, 0, 2 at 800-999.
    Histogram h = Histogram::linear_steps({0, 0, 4, 0, 2, 0}, 200);
    CHECK(h.step() == 200);
    std::vector<Bucket> b = h.buckets();
    REQUIRE(b.size() == 3);
    CHECK(b[0].low == 400);
    CHECK(b[0].high == 599);
    CHECK(b[0].count == 4);
    CHECK(b[2].low == 800);
    CHECK(b[2].high == 999);
    CHECK(h.total() == 6);
    CHECK(h.quantile(0.5) == 599);
    CHECK(h.quantile(0.9) == 999);
    CHECK(render_histogram_text(h, "MHz") ==
          "     MHz                 : count    distribution\n"
          "       400 -> 599        : 4        |****************************************|\n"
          "       600 -> 799        : 0        |                                        |\n"
          "       800 -> 999        : 2        |********************                    |\n");
    CHECK(histogram_buckets_json(h) ==
          R"([{"low":400,"high":599,"count":4},{"low":600,"high":799,"count":0},)"
          R"({"low":800,"high":999,"count":2}])");
    CHECK(Histogram::linear_steps({0, 0, 0}, 200).buckets().empty());
}

} // namespace test_histogram
