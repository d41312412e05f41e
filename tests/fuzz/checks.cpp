#include "checks.h"
#include "tool_entries.h"
#include "utf8.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

namespace fuzz {

const char* check_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        size_t len = testutf8::sequence_length(s, i);
        if (len == 0) return "invalid UTF-8 (a bad, cut, overlong or surrogate sequence)";
        i += len;
    }
    return nullptr;
}

const char* check_terminal_safe(std::string_view s, bool layout_tabs) {
    for (size_t i = 0; i < s.size(); i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 && c != '\n' && !(c == '\t' && layout_tabs))
            return "a control byte in text output";
        if (c == 0x7f) return "DEL in text output";
        if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(s[i + 1]) <= 0x9f)
            return "a C1 control in text output";
    }
    return check_utf8(s);
}

const char* check_json_lines(std::string_view s) {
    if (!s.empty() && s.back() != '\n') return "JSON output does not end with a newline";
    size_t start = 0;
    while (start < s.size()) {
        size_t end = s.find('\n', start);
        std::string_view line = s.substr(start, end - start);
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) return "a JSON line that does not parse";
        if (!j.is_object()) return "a JSON line that is not an object";
        start = end + 1;
    }
    return check_utf8(s);
}

void fail(const char* what, std::string_view output) {
    std::fprintf(stderr, "fuzz property broken: %s\noutput (%zu bytes):\n", what, output.size());
    std::fwrite(output.data(), 1, std::min<size_t>(output.size(), 4096), stderr);
    std::fputc('\n', stderr);
    std::abort();
}

} // namespace fuzz
