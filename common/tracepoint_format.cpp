#include "tracepoint_format.h"

#include "errors.h"
#include "kernel_features.h"
#include "output.h"
#include "text_file.h"

#include <cerrno>
#include <cstdlib>
#include <unistd.h>

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

std::string tracepoint_fields_json(const std::vector<TracepointField>& fields) {
    std::string list = "[";
    for (const TracepointField& f : fields) {
        if (f.common()) continue;
        if (list.size() > 1) list += ',';
        JsonObject(list)
            .string("name", f.name)
            .string("type", f.type)
            .unsigned_number("offset", f.offset)
            .unsigned_number("size", f.size)
            .boolean("signed", f.is_signed)
            .end();
    }
    return list + ']';
}

void append_tracepoint_fields_text(std::string& out, const std::vector<TracepointField>& fields) {
    for (const TracepointField& f : fields) {
        if (f.common()) continue;
        out += "\n    ";
        append_text_escaped(out, f.declaration);
        out += ';';
    }
}

TracepointFormat read_tracepoint_format(const std::string& events_dir, const std::string& category,
                                        const std::string& event) {
    std::string base = events_dir + "/" + category + "/" + event;
    TracepointFormat format;
    format.fields = tracepoint_fields(read_text_file(base + "/format").value_or(""));
    format.id = std::strtoull(read_first_line(base + "/id").value_or("0").c_str(), nullptr, 10);
    return format;
}

std::string readable_tracefs() {
    std::string dir = KernelFeatures::instance().tracefs_path();
    if (dir.empty()) {
        if (geteuid() != 0 && access("/sys/kernel/tracing", F_OK) == 0)
            throw RuntimeError("not running as root: tracefs (/sys/kernel/tracing) is readable "
                               "by root only; run it with sudo");
        throw RuntimeError("tracepoints need tracefs, which is not mounted: mount -t tracefs "
                           "nodev /sys/kernel/tracing");
    }
    if (access((dir + "/events").c_str(), R_OK | X_OK) != 0)
        throw RuntimeError(geteuid() != 0 ? "not running as root: tracefs (" + dir +
                                                ") is readable by root only; run it with sudo"
                                          : errno_message("cannot read " + dir + "/events", errno));
    return dir;
}

} // namespace corescope
