// The JSON Lines a tool printed with -o json, for tests that read them.
#pragma once

#include "harness.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace itest {

// Every line of text as JSON; throws if one is not valid JSON.
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
    std::vector<nlohmann::json> out;
    for (const std::string& line : lines(text))
        out.push_back(nlohmann::json::parse(line));
    return out;
}

// The interval_s of a summary tool's records, which it measures itself.
// Prints are due on a fixed grid (start + k intervals) and come late on a
// busy machine, never early: the first interval is at least the one asked
// for, all of them together at least that many intervals, and they fit in
// wall_s, the time the test saw the tool run. A tool that printed the
// asked interval instead of the measured one, or measured from an earlier
// start, fails the last check. (Printed to the millisecond: 0.005 s slack.)
inline void check_intervals(const std::vector<nlohmann::json>& records, double asked_s,
                            double wall_s) {
    double measured = 0;
    for (const nlohmann::json& r : records) {
        CHECK(r.at("interval_s").get<double>() > 0);
        measured += r.at("interval_s").get<double>();
    }
    if (!records.empty()) CHECK(records[0].at("interval_s").get<double>() >= asked_s - 0.005);
    CHECK(measured >= static_cast<double>(records.size()) * asked_s - 0.005);
    CHECK(measured < wall_s);
}

// Whether a stack's frames ({"address":N,"symbol":"name"|null,"offset":N,
// "module":...}) have one whose symbol is name, or has part in it.
inline bool has_frame(const nlohmann::json& frames, const std::string& name) {
    for (const nlohmann::json& f : frames)
        if (f.at("symbol").is_string() && f.at("symbol").get<std::string>() == name) return true;
    return false;
}
inline bool has_frame_containing(const nlohmann::json& frames, const std::string& part) {
    for (const nlohmann::json& f : frames)
        if (f.at("symbol").is_string() &&
            f.at("symbol").get<std::string>().find(part) != std::string::npos)
            return true;
    return false;
}

// Checks that a log2 histogram in milliseconds (-m) holds the same values
// as one in microseconds taken over the same events, divided by 1000. A
// bucket [low, high] holds values from low to high (the first one 0 and 1),
// so for each boundary t, each histogram bounds how many values are at or
// above t (buckets wholly above it, buckets reaching it), and the two ranges
// must meet. A tool that put microseconds into the millisecond buckets, or
// the other way round, fails it.
inline void check_same_in_milliseconds(const nlohmann::json& us, const nlohmann::json& ms) {
    INFO("usecs: " << us.dump() << "\nmsecs: " << ms.dump());
    CHECK(us.at("unit") == "usecs");
    CHECK(ms.at("unit") == "msecs");
    CHECK(ms.at("total") == us.at("total"));
    // How many values of hist are surely, and at most, at or above t (in the
    // histogram's unit).
    auto at_or_above = [](const nlohmann::json& hist, uint64_t t) {
        std::pair<uint64_t, uint64_t> range{0, 0};
        for (const nlohmann::json& b : hist.at("buckets")) {
            uint64_t count = b.at("count").get<uint64_t>();
            if (b.at("low").get<uint64_t>() >= t) range.first += count;
            if (b.at("high").get<uint64_t>() >= t) range.second += count;
        }
        return range;
    };
    uint64_t highest = 1;
    for (const nlohmann::json& b : us.at("buckets"))
        highest = std::max<uint64_t>(highest, b.at("high").get<uint64_t>() / 1000 + 1);
    for (const nlohmann::json& b : ms.at("buckets"))
        highest = std::max<uint64_t>(highest, b.at("high").get<uint64_t>() + 1);
    for (uint64_t t = 1; t <= highest; t *= 2) {
        auto [us_least, us_most] = at_or_above(us, t * 1000);
        auto [ms_least, ms_most] = at_or_above(ms, t);
        INFO("at or above " << t << " ms: " << us_least << " to " << us_most << " in usecs, "
                            << ms_least << " to " << ms_most << " in msecs");
        CHECK(ms_least <= us_most);
        CHECK(ms_most >= us_least);
    }
}

} // namespace itest
