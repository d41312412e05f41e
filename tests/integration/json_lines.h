// The JSON Lines a tool printed with -o json, for tests that read them.
#pragma once

#include "harness.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace itest {

// Every line of text as JSON; throws if one is not valid JSON.
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
    std::vector<nlohmann::json> out;
    for (const std::string& line : lines(text))
        out.push_back(nlohmann::json::parse(line));
    return out;
}

} // namespace itest
