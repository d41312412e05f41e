#include "tracepoint_format.h"

#include "text_file.h"

namespace corescope {

namespace {

// The decimal number right after key in line; 0 without one.
uint64_t number_after(std::string_view line, std::string_view key) {
    size_t at = line.find(key);
    if (at == std::string_view::npos) return 0;
    uint64_t v = 0;
    for (size_t i = at + key.size(); i < line.size() && line[i] >= '0' && line[i] <= '9'; i++) {
        if (v > UINT64_MAX / 10 - 9) break;
        v = v * 10 + static_cast<uint64_t>(line[i] - '0');
    }
    return v;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::vector<TracepointField> tracepoint_fields(std::string_view format) {
    std::vector<TracepointField> fields;
    for (std::string_view line : split_lines(format)) {
        size_t start = line.find("field:");
        if (start == std::string_view::npos) continue;
        size_t end = line.find(';', start);
        if (end == std::string_view::npos) continue;
        std::string_view decl = trimmed(line.substr(start + 6, end - start - 6));
        // An array's size follows its name ("char comm[16]"); a __data_loc
        // field's "[]" follows its type ("__data_loc char[] filename").
        std::string_view head = decl;
        std::string_view suffix;
        if (decl.ends_with(']')) {
            size_t bracket = decl.rfind('[');
            suffix = decl.substr(bracket);
            head = trimmed(decl.substr(0, bracket));
        }
        size_t name_at = head.find_last_of(" *\t");
        if (name_at == std::string_view::npos || name_at + 1 == head.size()) continue;
        TracepointField f;
        f.declaration = std::string(decl);
        f.name = std::string(head.substr(name_at + 1));
        f.type = std::string(trimmed(head.substr(0, name_at + 1))) + std::string(suffix);
        std::string_view rest = line.substr(end);
        f.offset = number_after(rest, "offset:");
        f.size = number_after(rest, "size:");
        f.is_signed = number_after(rest, "signed:") != 0;
        fields.push_back(std::move(f));
    }
    return fields;
}

uint64_t tracepoint_id(std::string_view format) {
    for (std::string_view line : split_lines(format))
        if (line.starts_with("ID:")) return number_after(line, "ID: ");
    return 0;
}

} // namespace corescope
