// Output: one buffered writer for every tool, with text and JSON Lines
// helpers, and the escaping of every string that came from the traced
// system.
//
// Flush policy (the same for all tools), owned here: records accumulate in
// memory and are written in large blocks; end_record() writes out past 64
// KiB, and the main loops (common/tool.cpp) call flush() after each batch
// they consumed (at most every poll period, ~50 ms) or summary they printed.
// Printers never flush. So an event reaches stdout within about 100 ms
// whether stdout is a terminal, a pipe or a file, and a busy tool still
// makes few write() calls.
//
// Writing never throws (it runs inside libbpf's ring-buffer callback): a
// reader that went away (EPIPE) closes the output quietly; any other error
// closes it and is kept, and check() throws it once, from the main loop.
#pragma once

#include "string_appender.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace corescope {

class Output {
  public:
    explicit Output(int fd = 1) : fd_(fd) { buffer_.reserve(flush_threshold * 2); }
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;
    ~Output();

    // What is buffered, to append to. (Closes the appender, below.)
    std::string& buffer() {
        appender_.finish();
        return buffer_;
    }
    // The same buffer through an appender kept open across records and
    // flushes (common/record writes every event through it); buffer()
    // closes it, and the next call opens it again.
    StringAppender& appender() {
        if (!appender_.is_open()) appender_.open_on(buffer_, 1024);
        return appender_;
    }
    // Call after each record: writes out when the buffer is large.
    void end_record() {
        if (buffered() >= flush_threshold) flush();
    }
    size_t buffered() const { return appender_.is_open() ? appender_.size() : buffer_.size(); }
    // Writes everything buffered. A reader that went away (EPIPE) closes
    // the output quietly; any other error closes it too, for check().
    void flush();
    // The output is closed (the reader went away, or a write failed): stop
    // producing.
    bool closed() const { return closed_; }
    // Throws RuntimeError if a write failed (not for a reader gone away).
    void check() const;
    // Checks, without writing, whether the reader of a pipe went away (so a
    // quiet tool in `tool | head -1` ends promptly); closes the output if so.
    bool reader_gone();

    static constexpr size_t flush_threshold = 64 * 1024;

  private:
    int fd_;
    bool closed_ = false;
    int write_error_ = 0; // errno of a failed write
    std::string buffer_;
    StringAppender appender_; // declared after buffer_: closed before it goes
};

// Appends s so that it cannot move the cursor or change the terminal:
// printable ASCII and valid UTF-8 pass through; control characters, DEL,
// C1 controls, backslash and invalid bytes become C-style escapes
// (\n, \t, \e, \\, \xNN, \u009b).
void append_text_escaped(std::string& out, std::string_view s);
void append_text_escaped(StringAppender& out, std::string_view s);
std::string text_escaped(std::string_view s);

// Appends s as a JSON string literal (with the quotes). Control characters,
// DEL and C1 controls are \u-escaped; bytes that are not valid UTF-8 become
// U+FFFD, so the line is always valid JSON.
void append_json_string(std::string& out, std::string_view s);
void append_json_string(StringAppender& out, std::string_view s);

// Text helpers.
void append_padded(std::string& out, std::string_view s, int width); // left-aligned
void append_escaped_padded(std::string& out, std::string_view s, int width);
void append_number(std::string& out, int64_t v, int width = 0);    // right-aligned
void append_unsigned(std::string& out, uint64_t v, int width = 0); // right-aligned
void append_wall_time(std::string& out);                           // HH:MM:SS
std::string hex_number(uint64_t v);                                // 0x7f1c2a3b4010
void append_number(StringAppender& out, int64_t v, int width = 0);
void append_unsigned(StringAppender& out, uint64_t v, int width = 0);
void append_wall_time(StringAppender& out);
std::string iso_time_now(); // 2026-11-22T07:40:01.123456Z, as events are stamped

// Builds one JSON object; keys are the tool's own snake_case constants.
class JsonObject {
  public:
    explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }
    JsonObject& number(std::string_view key, int64_t v);
    JsonObject& unsigned_number(std::string_view key, uint64_t v);
    JsonObject& real(std::string_view key, double v, int decimals = 3);
    JsonObject& boolean(std::string_view key, bool v);
    JsonObject& string(std::string_view key, std::string_view v);
    JsonObject& null(std::string_view key);
    // The value is already JSON (a nested array or object).
    JsonObject& raw(std::string_view key, std::string_view json);
    // Ends the object and the line.
    void end_line() { out_ += "}\n"; }
    void end() { out_ += '}'; }

  private:
    void key(std::string_view k);
    std::string& out_;
    bool first_ = true;
};

} // namespace corescope
