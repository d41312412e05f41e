#include "output.h"

#include "utf8_sequence.h"

#include "clock.h"
#include "errors.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sys/time.h>
#include <poll.h>
#include <unistd.h>

namespace corescope {

Output::~Output() {
    flush(); // what is left; a write error here has no one left to tell
}

void Output::flush() {
    size_t done = 0;
    size_t size = buffered();
    const char* data = appender_.is_open() ? appender_.data() : buffer_.data();
    while (done < size && !closed_) {
        ssize_t n = ::write(fd_, data + done, size - done);
        if (n >= 0) {
            done += static_cast<size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EPIPE) {
            closed_ = true;
            break;
        }
        write_error_ = errno;
        closed_ = true;
        break;
    }
    if (appender_.is_open())
        appender_.rewind();
    else
        buffer_.clear();
}

void Output::check() const {
    if (write_error_) throw RuntimeError(errno_message("cannot write output", write_error_));
}

bool Output::reader_gone() {
    if (closed_) return true;
    struct pollfd pfd {
        fd_, 0, 0
    };
    // A pipe whose read end is closed reports POLLERR; other files never do.
    if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR)) {
        buffer().clear();
        closed_ = true;
    }
    return closed_;
}

size_t utf8_sequence_length(std::string_view s, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

namespace {

bool is_c1_control(std::string_view s, size_t i) {
    // U+0080..U+009F encode as C2 80..C2 9F; some terminals act on them.
    return static_cast<unsigned char>(s[i]) == 0xc2 &&
           static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(s[i + 1]) <= 0x9f;
}

// The end of the run of bytes from s[i] that pass through unchanged:
// printable ASCII other than backslash and quote. Appended as one block,
// since most of what tools print (paths, names) is only that.
size_t plain_run(std::string_view s, size_t i, char quote) {
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c >= 0x7f || c == '\\' || c == static_cast<unsigned char>(quote)) break;
        i++;
    }
    return i;
}

const char hex_digits[] = "0123456789abcdef";

void append_hex_byte(StringAppender& out, std::string_view prefix, unsigned char c) {
    out.put(prefix);
    char digits[2] = {hex_digits[c >> 4], hex_digits[c & 0xf]};
    out.put(std::string_view(digits, 2));
}

} // namespace

void append_text_escaped(StringAppender& out, std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        size_t plain = plain_run(s, i, '\\');
        if (plain > i) {
            out.put(s.substr(i, plain - i));
            i = plain;
            continue;
        }
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\\') {
            out.put("\\\\");
            i++;
            continue;
        }
        if (c < 0x80 || c == 0x7f) {
            switch (c) {
            case '\n':
                out.put("\\n");
                break;
            case '\t':
                out.put("\\t");
                break;
            case '\r':
                out.put("\\r");
                break;
            case 0x1b:
                out.put("\\e");
                break;
            default:
                append_hex_byte(out, "\\x", c);
            }
            i++;
            continue;
        }
        size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            append_hex_byte(out, "\\x", c);
            i++;
        } else if (len == 2 && is_c1_control(s, i)) {
            append_hex_byte(out, "\\u00", static_cast<unsigned char>(s[i + 1]));
            i += 2;
        } else {
            out.put(s.substr(i, len));
            i += len;
        }
    }
}

void append_text_escaped(std::string& out, std::string_view s) {
    StringAppender appender(out, s.size());
    append_text_escaped(appender, s);
}

std::string text_escaped(std::string_view s) {
    std::string out;
    append_text_escaped(out, s);
    return out;
}

void append_json_string(StringAppender& out, std::string_view s) {
    out.put('"');
    for (size_t i = 0; i < s.size();) {
        size_t plain = plain_run(s, i, '"');
        if (plain > i) {
            out.put(s.substr(i, plain - i));
            i = plain;
            continue;
        }
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            char escaped[2] = {'\\', static_cast<char>(c)};
            out.put(std::string_view(escaped, 2));
            i++;
            continue;
        }
        if (c < 0x80) {
            switch (c) {
            case '\n':
                out.put("\\n");
                break;
            case '\t':
                out.put("\\t");
                break;
            case '\r':
                out.put("\\r");
                break;
            default:
                append_hex_byte(out, "\\u00", c);
            }
            i++;
            continue;
        }
        size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            out.put("\\ufffd");
            i++;
        } else if (len == 2 && is_c1_control(s, i)) {
            append_hex_byte(out, "\\u00", static_cast<unsigned char>(s[i + 1]));
            i += 2;
        } else {
            out.put(s.substr(i, len));
            i += len;
        }
    }
    out.put('"');
}

void append_json_string(std::string& out, std::string_view s) {
    StringAppender appender(out, s.size() + 2);
    append_json_string(appender, s);
}

void append_padded(std::string& out, std::string_view s, int width) {
    out.append(s);
    if (static_cast<int>(s.size()) < width) out.append(width - s.size(), ' ');
}

void append_escaped_padded(std::string& out, std::string_view s, int width) {
    size_t start = out.size();
    append_text_escaped(out, s);
    // Width counts bytes: exact for the ASCII that comm names almost always are.
    size_t written = out.size() - start;
    if (static_cast<int>(written) < width) out.append(width - written, ' ');
}

namespace {
// A number right-aligned in width, formatted in place.
template <class Integer>
void append_integer(StringAppender& out, Integer v, int width) {
    char* at = out.room(24 + static_cast<size_t>(width > 0 ? width : 0));
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    size_t len = static_cast<size_t>(end - digits);
    size_t fill = static_cast<int>(len) < width ? static_cast<size_t>(width) - len : 0;
    std::memset(at, ' ', fill);
    std::memcpy(at + fill, digits, len);
    out.advance(fill + len);
}
} // namespace

void append_number(StringAppender& out, int64_t v, int width) {
    append_integer(out, v, width);
}

void append_unsigned(StringAppender& out, uint64_t v, int width) {
    append_integer(out, v, width);
}

void append_number(std::string& out, int64_t v, int width) {
    StringAppender appender(out, 24 + static_cast<size_t>(width > 0 ? width : 0));
    append_integer(appender, v, width);
}

void append_unsigned(std::string& out, uint64_t v, int width) {
    StringAppender appender(out, 24 + static_cast<size_t>(width > 0 ? width : 0));
    append_integer(appender, v, width);
}

void append_wall_time(StringAppender& out) {
    time_t now = static_cast<time_t>(realtime_ns() / 1000000000ull);
    struct tm tm {};
    localtime_r(&now, &tm);
    char buf[16];
    size_t n = strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    out.put(std::string_view(buf, n));
}

std::string hex_number(uint64_t v) {
    char digits[24] = "0x";
    auto [end, ec] = std::to_chars(digits + 2, digits + sizeof digits, v, 16);
    return std::string(digits, end);
}

void append_wall_time(std::string& out) {
    StringAppender appender(out, 16);
    append_wall_time(appender);
}

std::string iso_time_now() {
    uint64_t now = realtime_ns();
    struct timeval tv {};
    tv.tv_sec = static_cast<time_t>(now / 1000000000ull);
    tv.tv_usec = static_cast<suseconds_t>(now % 1000000000ull / 1000);
    struct tm tm {};
    gmtime_r(&tv.tv_sec, &tm);
    char buf[40];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%06ldZ", static_cast<long>(tv.tv_usec));
    return buf;
}

void JsonObject::key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_.append(k);
    out_ += "\":";
}

JsonObject& JsonObject::number(std::string_view k, int64_t v) {
    key(k);
    append_number(out_, v);
    return *this;
}

JsonObject& JsonObject::unsigned_number(std::string_view k, uint64_t v) {
    key(k);
    append_unsigned(out_, v);
    return *this;
}

JsonObject& JsonObject::real(std::string_view k, double v, int decimals) {
    key(k);
    char buf[64];
    if (v != v || v == 1.0 / 0.0 || v == -1.0 / 0.0) {
        out_ += "null"; // JSON has no NaN or infinity
        return *this;
    }
    // Fixed notation reads best; past 1e15 it would print noise digits (or
    // overflow the buffer), so large magnitudes use the shortest exact form.
    if (v > 1e15 || v < -1e15)
        snprintf(buf, sizeof buf, "%.17g", v);
    else
        snprintf(buf, sizeof buf, "%.*f", decimals, v);
    out_ += buf;
    return *this;
}

JsonObject& JsonObject::boolean(std::string_view k, bool v) {
    key(k);
    out_ += v ? "true" : "false";
    return *this;
}

JsonObject& JsonObject::string(std::string_view k, std::string_view v) {
    key(k);
    append_json_string(out_, v);
    return *this;
}

JsonObject& JsonObject::null(std::string_view k) {
    key(k);
    out_ += "null";
    return *this;
}

JsonObject& JsonObject::raw(std::string_view k, std::string_view json) {
    key(k);
    out_.append(json);
    return *this;
}

} // namespace corescope
