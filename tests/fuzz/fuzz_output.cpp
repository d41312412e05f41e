// The output writer's escaping (common/output.h) with arbitrary strings:
// escaped text is terminal-safe and valid UTF-8, and printable ASCII other
// than the backslash passes unchanged; a JSON string always parses and
// gives back exactly its input when the input is valid UTF-8; an object
// with such strings and arbitrary numbers is one parseable JSON line.
#include "checks.h"
#include "tool_entries.h"
#include "output.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    std::string text = corescope::text_escaped(input);
    if (const char* wrong = fuzz::check_terminal_safe(text)) fuzz::fail(wrong, text);
    bool plain = true;
    for (unsigned char c : input)
        plain = plain && c >= 0x20 && c < 0x7f && c != '\\';
    if (plain && text != input) fuzz::fail("plain ASCII changed by escaping", text);

    std::string padded;
    corescope::append_escaped_padded(padded, input, 16);
    if (padded.size() < 16 || padded.compare(0, text.size(), text) != 0)
        fuzz::fail("padding lost or changed the escaped text", padded);

    std::string quoted;
    corescope::append_json_string(quoted, input);
    if (const char* wrong = fuzz::check_terminal_safe(quoted)) fuzz::fail(wrong, quoted);
    nlohmann::json parsed = nlohmann::json::parse(quoted, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_string())
        fuzz::fail("a JSON string that does not parse", quoted);
    if (!fuzz::check_utf8(input) && parsed.get<std::string>() != input)
        fuzz::fail("valid UTF-8 not given back exactly by JSON", quoted);

    double real = 0;
    int64_t number = 0;
    if (size >= sizeof real + sizeof number) {
        std::memcpy(&real, data, sizeof real);
        std::memcpy(&number, data + sizeof real, sizeof number);
    }
    std::string line;
    corescope::JsonObject(line)
        .string("s", input)
        .real("r", real, static_cast<int>(size % 10))
        .number("n", number)
        .unsigned_number("u", static_cast<uint64_t>(number))
        .boolean("b", size & 1)
        .null("z")
        .end_line();
    if (const char* wrong = fuzz::check_json_lines(line)) fuzz::fail(wrong, line);
    nlohmann::json object = nlohmann::json::parse(line);
    if (std::isfinite(real) && !object.at("r").is_number())
        fuzz::fail("a finite real not a number", line);
    if (object.at("n").get<int64_t>() != number) fuzz::fail("an integer changed", line);
    return 0;
}
