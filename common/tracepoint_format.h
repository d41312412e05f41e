// A tracepoint's format file in tracefs (events/CATEGORY/EVENT/format): its
// ID and the fields of its record, as tplist lists them and as a tool asks
// whether a kernel's tracepoint has a field (KernelFeatures).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

// One line "field:pid_t prev_pid;	offset:24;	size:4;	signed:1;".
struct TracepointField {
    std::string declaration; // "pid_t prev_pid", "char prev_comm[16]"
    std::string type;        // "pid_t", "char[16]", "__data_loc char[]"
    std::string name;        // "prev_pid", "prev_comm", "filename"
    uint64_t offset = 0;
    uint64_t size = 0;
    bool is_signed = false;
    bool common() const { return name.starts_with("common_"); } // every event's header
};

// Every field of a format file's text, in order (the common_ ones too);
// lines that do not parse are left out.
std::vector<TracepointField> tracepoint_fields(std::string_view format);

// The "ID: N" line's number; 0 without one.
uint64_t tracepoint_id(std::string_view format);

// The fields particular to the event (not the common_ header), as a JSON
// array: [{"name":S,"type":S,"offset":N,"size":N,"signed":B}, ...].
std::string tracepoint_fields_json(const std::vector<TracepointField>& fields);

// With each field particular to the event on a line of its own after a
// newline, indented: "\n    pid_t prev_pid;" (escaped).
void append_tracepoint_fields_text(std::string& out, const std::vector<TracepointField>& fields);

// An event's format file and its id file (events/CATEGORY/EVENT/ under
// events_dir): its fields and ID; none and 0 where they cannot be read.
struct TracepointFormat {
    uint64_t id = 0;
    std::vector<TracepointField> fields;
};
TracepointFormat read_tracepoint_format(const std::string& events_dir, const std::string& category,
                                        const std::string& event);

// Where tracefs is mounted, with its events readable; throws RuntimeError
// saying why not (not mounted, not root) and what to do.
std::string readable_tracefs();

} // namespace corescope
