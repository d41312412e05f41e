// The record model. A tool describes what it prints once, as a layout of
// named, typed fields (each with the JSON key and the text column the
// classic layout gives it), and fills one record per event or summary row;
// the writer renders the records: the classic text columns under one header
// line, or JSON Lines. No tool decides between the formats itself.
//
// Records about a task open with the task's common fields: in JSON time,
// pid, tid, uid and comm (those the layout names), in text TIME (-T) and UID
// (-U); a tool places the task's PID and COMM columns where its classic
// layout has them (pid_column(), comm_column()). -n (the command name
// contains TEXT) is applied here too: begin() returns an empty record for a
// task it excludes.
//
// A tool fills a record's own fields in the layout's order, one call each:
//
//     Record r = records.begin(task);
//     if (!r) return;
//     r.number(fd).number(err).text(path).end();
//
// A field that one format does not show, or that an option turned off,
// still takes its call; lazy() computes a value only where it shows.
#pragma once

#include "cli.h"
#include "clock.h"
#include "output.h"
#include "string_appender.h"

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace corescope {

enum class Align : uint8_t { left, right };

// Where a text column's value comes from: the tool's own call, or the task
// the record is about (the common prefix, which JSON prints first anyway).
enum class From : uint8_t { tool, task_pid, task_tid, task_uid, task_comm, task_time };

struct Field {
    std::string_view key;    // JSON key, snake_case; empty: text only
    std::string_view header; // text column header; empty: JSON only
    int width = 0;           // text column width (a wider value widens its line)
    Align align = Align::left;
    int decimals = 3;        // real numbers: digits after the point
    int text_decimals = -1;  // ... in text, where it differs from JSON
    std::string_view suffix; // text only: written right after the value ("%")
    From from = From::tool;
    bool shown = true;  // false: an option turned it off; its call is still made
    bool octal = false; // integers in text: octal, zero-padded to the width
};

// A field in both formats.
constexpr Field column(std::string_view key, std::string_view header, int width,
                       Align align = Align::left) {
    Field f;
    f.key = key;
    f.header = header;
    f.width = width;
    f.align = align;
    return f;
}
// A field only text shows.
constexpr Field text_column(std::string_view header, int width, Align align = Align::left) {
    return column({}, header, width, align);
}
// A field only JSON shows.
constexpr Field json_field(std::string_view key) {
    return column(key, {}, 0);
}
// A text column of the task's: its PID, command name, thread ID, or its
// time as HH:MM:SS shown always (where -T's TIME is optional).
constexpr Field task_column(From from, std::string_view header, int width) {
    Field f = text_column(header, width);
    f.from = from;
    return f;
}
constexpr Field pid_column(std::string_view header = "PID", int width = 7) {
    return task_column(From::task_pid, header, width);
}
constexpr Field comm_column(std::string_view header = "COMM", int width = 16) {
    return task_column(From::task_comm, header, width);
}
constexpr Field tid_column(std::string_view header = "TID", int width = 7) {
    return task_column(From::task_tid, header, width);
}
constexpr Field time_column(std::string_view header = "TIME", int width = 8) {
    return task_column(From::task_time, header, width);
}
// Digits after the point: in both formats, or in text only.
constexpr Field with_decimals(int decimals, Field field) {
    field.decimals = decimals;
    return field;
}
constexpr Field with_text_decimals(int decimals, Field field) {
    field.text_decimals = decimals;
    return field;
}
// Text only: written right after the value ("%").
constexpr Field with_suffix(std::string_view suffix, Field field) {
    field.suffix = suffix;
    return field;
}
// Integers in text as octal, zero-padded to the width (open flags, modes).
constexpr Field octal(Field field) {
    field.octal = true;
    return field;
}
// A field turned on or off by an option.
constexpr Field shown_if(bool shown, Field field) {
    field.shown = shown;
    return field;
}

// Which task fields open a JSON record, in this order.
enum TaskField : unsigned {
    task_time = 1,
    task_pid = 2,
    task_tid = 4,
    task_uid = 8,
    task_comm = 16,
    task_all = 31,
};

// Who a record is about.
struct Task {
    uint64_t ts_ns = 0; // CLOCK_MONOTONIC, as bpf_ktime_get_ns()
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint32_t uid = 0;
    std::string_view comm;
    // false: the process is not known (a socket whose owner no hook saw in
    // its process, bpf/sock_owners.bpf.h). JSON has null for pid, tid, uid
    // and comm, text "-" for each: never a wrong process.
    bool known = true;
};

struct RecordLayout {
    unsigned task = 0; // TaskField bits: the task fields JSON opens with
    std::vector<Field> fields;
    bool text_header = true; // false: text lines read on their own, no header line
    bool time_prefix = true; // false: -T's TIME is shown elsewhere (a table's time line)
};

class Record;

// What lazy() hands to formatted(): a value already rendered.
struct Formatted {
    std::string text;
};

class RecordWriter {
  public:
    RecordWriter(const CommonOptions& options, Output& out, RecordLayout layout);
    RecordWriter(RecordWriter&&) = default;
    RecordWriter& operator=(RecordWriter&&) = delete;

    // The text header line; nothing in JSON.
    void header();
    // A record about a task; empty when -n excludes its command.
    Record begin(const Task& task);
    // A record about no task (a summary row): -T's TIME is now.
    Record begin();
    // A record written into target instead of the output, in JSON as an
    // object without its newline (to nest in another record's array).
    Record begin_in(std::string& target);
    bool json() const { return json_; }
    Output& output() { return out_; }
    const CommonOptions& options() const { return options_; }
    EventClock& clock() { return clock_; }

  private:
    friend class Record;

    const CommonOptions& options_;
    Output& out_;
    RecordLayout layout_;
    EventClock clock_;
    bool json_;
    size_t last_text_column_ = 0; // the last column text shows: not padded when left-aligned
    // What each field is in this format, looked up per value (a record
    // fills its fields on every event): one entry a field, then an end mark.
    enum Step : uint8_t { hidden, shown, task_shown, task_hidden, end_of_fields };
    std::vector<Step> steps_;
    bool show_time_; // -T's TIME opens text lines
    bool show_uid_;  // -U's UID opens text lines
};

// Made by RecordWriter::begin and filled in the same statement or block:
// neither copied nor moved.
class Record {
  public:
    Record(const Record&) = delete;
    Record& operator=(const Record&) = delete;

    // False when -n excluded the task: every call on it then does nothing.
    explicit operator bool() const { return writer_ != nullptr; }

    template <class Integer>
    requires std::is_integral_v<Integer> &&
        (!std::is_same_v<Integer, bool>)Record& number(Integer v) {
        if constexpr (std::is_signed_v<Integer>)
            return signed_number(static_cast<int64_t>(v));
        else
            return unsigned_number(static_cast<uint64_t>(v));
    }
    Record& real(double v);
    // Text from the traced system or the tool: escaped in text, exact in JSON.
    Record& text(std::string_view v);
    Record& boolean(bool v);
    // A list of strings: a JSON array, or in text the escaped strings joined
    // by spaces, then text_tail ("..." for a list that was cut).
    Record& strings(const std::vector<std::string_view>& v, std::string_view text_tail = {});
    // The value where the record has it, else absent().
    template <class Integer>
    Record& number_if(bool has, Integer v) {
        return has ? number(v) : absent();
    }
    // The value where the record has it, else null() (a packet without
    // ports, a socket without a state).
    template <class Integer>
    Record& number_or_null(bool has, Integer v) {
        return has ? number(v) : null();
    }
    Record& text_or_null(bool has, std::string_view v) { return has ? text(v) : null(); }
    // No value: null in JSON, "-" in text.
    Record& null();
    // Not in this record: JSON leaves the key out, text shows "-".
    Record& absent();
    // A value already rendered for the format that shows the field: JSON
    // (an array, an object), or text whose parts the caller escaped.
    Record& formatted(std::string_view v);
    // A value computed only where the field shows: make() returns a number,
    // a string, a bool, or Formatted.
    template <class Make>
    Record& lazy(Make&& make) {
        if (!next_shows()) {
            skip();
            return *this;
        }
        auto value = make();
        using Value = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<Value, Formatted>)
            return formatted(value.text);
        else if constexpr (std::is_same_v<Value, std::string> ||
                           std::is_same_v<Value, std::string_view> ||
                           std::is_same_v<Value, const char*>)
            return text(value);
        else if constexpr (std::is_floating_point_v<Value>)
            return real(value);
        else if constexpr (std::is_same_v<Value, bool>)
            return boolean(value);
        else
            return number(value);
    }
    // Ends the record (and the line).
    void end();

  private:
    friend class RecordWriter;
    Record() = default;
    Record(RecordWriter* writer, const Task* task, std::string* target = nullptr);

    // The next field this call fills, after the task's own text columns
    // before it; nullptr when the current format does not show it.
    const Field* next() {
        if (!writer_) return nullptr;
        task_columns();
        size_t i = index_;
        assert(writer_->steps_[i] != RecordWriter::end_of_fields &&
               "more values than the layout has fields");
        if (writer_->steps_[i] == RecordWriter::end_of_fields) return nullptr;
        index_++;
        if (writer_->steps_[i] == RecordWriter::hidden) return nullptr;
        const Field& f = writer_->layout_.fields[i];
        if (writer_->json_)
            json_key(f.key);
        else
            separate();
        return &f;
    }
    bool next_shows() {
        if (!writer_) return false;
        task_columns();
        return writer_->steps_[index_] == RecordWriter::shown;
    }
    void json_key(std::string_view key);
    Record& signed_number(int64_t v);
    Record& unsigned_number(uint64_t v);
    void skip() { next(); } // only where the field does not show: writes nothing
    // Renders the task's text columns that come before the next tool field.
    void task_columns() {
        while (writer_->steps_[index_] >= RecordWriter::task_shown &&
               writer_->steps_[index_] != RecordWriter::end_of_fields) {
            size_t i = index_++;
            if (writer_->steps_[i] == RecordWriter::task_shown && has_task_)
                task_column(writer_->layout_.fields[i]);
        }
    }
    void task_column(const Field& f);
    void separate() {
        if (!first_) out_->put(' ');
        first_ = false;
    }
    void pad(const Field& f, size_t start);
    void append_real(const Field& f, double v);

    RecordWriter* writer_ = nullptr;
    StringAppender nested_target_;  // begin_in's target
    StringAppender* out_ = nullptr; // the output's appender, or nested_target_
    Task task_;                     // a copy: records outlive the expression that made their task
    bool has_task_ = false;
    bool nested_ = false; // written into another record: no newline, no flush
    size_t index_ = 0;
    bool first_ = true;
};

} // namespace corescope
