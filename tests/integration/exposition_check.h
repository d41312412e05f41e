// Checks of a Prometheus exposition a tool printed (-o prometheus) or
// corescope export served: what promtool check metrics says of it, the
// structure promtool does not check, and the values of its series.
#pragma once

#include "harness.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace itest {

// What promtool check metrics says of an exposition on its stdin.
inline Finished promtool_check(const std::string& exposition) {
    std::string file = "/tmp/" + unique_token("corescope-exposition");
    std::ofstream(file) << exposition;
    Finished r = run({"/bin/sh", "-c", "promtool check metrics < " + file});
    std::remove(file.c_str());
    return r;
}

// The structure promtool does not check: no series twice, buckets
// cumulative, +Inf equal to _count.
inline void check_structure(const std::string& text) {
    std::set<std::string> series;
    std::map<std::string, uint64_t> last_bucket, inf_bucket;
    static const std::regex bucket(R"re(^(\w+)_bucket\{(.*?),?le="([^"]+)"\} (\d+)$)re");
    static const std::regex count(R"re(^(\w+)_count(\{.*\})? (\d+)$)re");
    for (const std::string& line : lines(text)) {
        if (line.empty() || line[0] == '#') continue;
        std::string key = line.substr(0, line.rfind(' '));
        INFO(line);
        CHECK(series.insert(key).second);
        std::smatch m;
        if (std::regex_match(line, m, bucket)) {
            std::string id = m[1].str() + "{" + m[2].str() + "}";
            uint64_t v = std::stoull(m[4]);
            CHECK(v >= last_bucket[id]);
            last_bucket[id] = v;
            if (m[3] == "+Inf") inf_bucket[id] = v;
        } else if (std::regex_match(line, m, count)) {
            std::string labels = m[2].matched ? m[2].str() : "{}";
            std::string id = m[1].str() + labels;
            REQUIRE(inf_bucket.count(id));
            CHECK(inf_bucket[id] == std::stoull(m[3]));
        }
    }
}

// The sum of the values of the series whose line starts with prefix (a
// whole series, `name{labels} `, or a family's `name{`); 0 where none does.
inline double series_sum(const std::string& text, const std::string& prefix) {
    double sum = 0;
    for (const std::string& line : lines(text))
        if (line.rfind(prefix, 0) == 0) sum += std::stod(line.substr(line.rfind(' ') + 1));
    return sum;
}

} // namespace itest
