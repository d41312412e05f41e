#include "checks.h"
#include "tool_entries.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

namespace fuzz {

const char* check_utf8(std::string_view s) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    for (size_t i = 0; i < s.size();) {
        unsigned char c = byte(i);
        size_t len = c < 0x80                 ? 1
                     : c >= 0xc2 && c <= 0xdf ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
        if (len == 0 || i + len > s.size()) return "invalid UTF-8";
        uint32_t cp = len == 1 ? c : c & (0xff >> (len + 1));
        for (size_t k = 1; k < len; k++) {
            if ((byte(i + k) & 0xc0) != 0x80) return "invalid UTF-8";
            cp = (cp << 6) | (byte(i + k) & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return "invalid UTF-8 (overlong or surrogate)";
        i += len;
    }
    return nullptr;
}

const char* check_terminal_safe(std::string_view s) {
    for (size_t i = 0; i < s.size(); i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 && c != '\n') return "a control byte in text output";
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
