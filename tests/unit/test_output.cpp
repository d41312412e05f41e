// Output (common/output.h): escaping of strings from the traced system for
// text and JSON, the JSON object builder, and the buffered writer's flush
// policy and error handling.
#include "errors.h"
#include "output.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <limits>
#include <random>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace test_output {

using namespace corescope;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {

std::string hex(std::string_view s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 0xf];
        out += ' ';
    }
    return out;
}

// True when s is valid UTF-8 (nlohmann's serializer rejects anything else).
bool valid_utf8(const std::string& s) {
    try {
        (void)json(s).dump();
        return true;
    } catch (const json::type_error&) {
        return false;
    }
}

// No byte that a terminal acts on: C0 controls, DEL, and the C1 controls
// U+0080..U+009F (C2 80..C2 9F in UTF-8).
bool terminal_safe(std::string_view s) {
    for (size_t i = 0; i < s.size(); i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) return false;
        if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(s[i + 1]) <= 0x9f)
            return false;
    }
    return true;
}

std::string json_literal(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

// Deterministic random byte strings, biased towards the interesting bytes.
std::vector<std::string> random_byte_strings(size_t n) {
    std::mt19937 rng(20261122);
    const unsigned char interesting[] = {0x00, 0x07, 0x08, 0x0a, 0x0d, 0x1b, 0x22, 0x5c, 0x7f,
                                         0x80, 0x9b, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
                                         0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, '[',  'A'};
    std::uniform_int_distribution<int> length(0, 24);
    std::uniform_int_distribution<int> any(0, 255);
    std::uniform_int_distribution<int> pick(0, sizeof interesting - 1);
    std::vector<std::string> out;
    for (size_t k = 0; k < n; k++) {
        std::string s;
        int len = length(rng);
        for (int i = 0; i < len; i++)
            s += static_cast<char>(rng() % 2 ? interesting[pick(rng)] : any(rng));
        out.push_back(s);
    }
    // Every single byte and every two-byte lead/continuation pair too.
    for (int b = 0; b < 256; b++)
        out.push_back(std::string(1, static_cast<char>(b)));
    for (int lead = 0xc0; lead <= 0xff; lead++)
        for (int cont = 0x80; cont <= 0xbf; cont += 0x0f)
            out.push_back({static_cast<char>(lead), static_cast<char>(cont)});
    return out;
}

std::string read_available(int fd) {
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

off_t file_size(int fd) {
    struct stat st {};
    REQUIRE(fstat(fd, &st) == 0);
    return st.st_size;
}

struct Pipe {
    int fds[2] = {-1, -1};
    Pipe() { REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0); }
    ~Pipe() {
        for (int fd : fds)
            if (fd >= 0) close(fd);
    }
    void close_read() {
        close(fds[0]);
        fds[0] = -1;
    }
};

} // namespace

TEST_CASE("output: text escaping of control characters", "[output][escape]") {
    CHECK(text_escaped("plain text 123") == "plain text 123");
    CHECK(text_escaped("") == "");
    CHECK(text_escaped("a\nb") == "a\\nb");
    CHECK(text_escaped("a\tb") == "a\\tb");
    CHECK(text_escaped("a\rb") == "a\\rb");
    CHECK(text_escaped("\x1b[2J") == "\\e[2J");
    CHECK(text_escaped("\x1b]0;pwned\x07") == "\\e]0;pwned\\x07");
    CHECK(text_escaped("\x01") == "\\x01");
    CHECK(text_escaped("\x08") == "\\x08");
    CHECK(text_escaped("\x1f") == "\\x1f");
    CHECK(text_escaped(std::string_view("a\0b", 3)) == "a\\x00b");
    CHECK(text_escaped("\x7f") == "\\x7f");
    CHECK(text_escaped("back\\slash") == "back\\\\slash");
    // A literal backslash sequence cannot pass for an escaped byte.
    CHECK(text_escaped("\\e[2J") != text_escaped("\x1b[2J"));
    CHECK(text_escaped("\\x41") == "\\\\x41");
}

TEST_CASE("output: text escaping of bytes that are not valid UTF-8", "[output][escape]") {
    CHECK(text_escaped("\xff") == "\\xff");
    CHECK(text_escaped("\xfe") == "\\xfe");
    CHECK(text_escaped("a\x80z") == "a\\x80z");      // lone continuation byte
    CHECK(text_escaped("\xc3") == "\\xc3");          // truncated at the end
    CHECK(text_escaped("\xc3(") == "\\xc3(");        // lead without continuation
    CHECK(text_escaped("\xe2\x82") == "\\xe2\\x82"); // truncated 3-byte sequence
    // Overlong encodings ('/' and NUL in disguise).
    CHECK(text_escaped("\xc0\xaf") == "\\xc0\\xaf");
    CHECK(text_escaped("\xc1\xbf") == "\\xc1\\xbf");
    CHECK(text_escaped("\xc0\x80") == "\\xc0\\x80");
    CHECK(text_escaped("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");
    CHECK(text_escaped("\xf0\x80\x80\xaf") == "\\xf0\\x80\\x80\\xaf");
    // UTF-16 surrogates are not characters.
    CHECK(text_escaped("\xed\xa0\x80") == "\\xed\\xa0\\x80");
    CHECK(text_escaped("\xed\xbf\xbf") == "\\xed\\xbf\\xbf");
    // Past U+10FFFF.
    CHECK(text_escaped("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
    CHECK(text_escaped("\xf5\x80\x80\x80") == "\\xf5\\x80\\x80\\x80");
}

TEST_CASE("output: text escaping of C1 controls", "[output][escape]") {
    CHECK(text_escaped("\xc2\x9b"
                       "2J") == "\\u009b2J"); // CSI
    CHECK(text_escaped("\xc2\x80") == "\\u0080");
    CHECK(text_escaped("\xc2\x85") == "\\u0085"); // NEL
    CHECK(text_escaped("\xc2\x9f") == "\\u009f");
    CHECK(text_escaped("\xc2\xa0") == "\xc2\xa0"); // U+00A0 is not a control
}

TEST_CASE("output: valid multi-byte UTF-8 passes through unchanged", "[output][escape]") {
    for (const char* s :
         {"caf\xc3\xa9", "\xe2\x82\xac 5", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
          "\xf0\x9f\x98\x80", "\xd0\x9f\xd1\x80\xd0\xb8", "\xef\xbf\xbd", "\xed\x9f\xbf",
          "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\xdf\xbf", "\xe0\xa0\x80", "\xf0\x90\x80\x80"}) {
        INFO(hex(s));
        CHECK(text_escaped(s) == s);
    }
}

TEST_CASE("output: escaped text never holds a byte a terminal acts on", "[output][escape]") {
    size_t bad = 0;
    for (const std::string& s : random_byte_strings(3000)) {
        std::string out = text_escaped(s);
        if (!terminal_safe(out) || !valid_utf8(out)) {
            bad++;
            FAIL_CHECK("input " << hex(s) << " escaped to " << hex(out));
        }
        // Appending keeps what was there.
        std::string appended = "prefix|";
        append_text_escaped(appended, s);
        if (appended != "prefix|" + out) {
            bad++;
            FAIL_CHECK("append_text_escaped differs from text_escaped for " << hex(s));
        }
    }
    CHECK(bad == 0);
}

TEST_CASE("output: text padding helpers", "[output]") {
    std::string out;
    append_padded(out, "abc", 6);
    CHECK(out == "abc   ");
    out.clear();
    append_padded(out, "abcdefgh", 4); // never truncates
    CHECK(out == "abcdefgh");
    out.clear();
    append_escaped_padded(out, "a\nb", 6); // width counts the escaped text
    CHECK(out == "a\\nb  ");
    out.clear();
    append_escaped_padded(out, "\x1b[2J", 3);
    CHECK(out == "\\e[2J");
    out.clear();
    append_number(out, -42, 5);
    CHECK(out == "  -42");
    out.clear();
    append_number(out, std::numeric_limits<int64_t>::min());
    CHECK(out == "-9223372036854775808");
    out.clear();
    append_unsigned(out, 7, 3);
    CHECK(out == "  7");
    out.clear();
    append_unsigned(out, UINT64_MAX, 3);
    CHECK(out == "18446744073709551615");
}

TEST_CASE("output: JSON strings round-trip valid UTF-8", "[output][json]") {
    const std::vector<std::string> inputs = {
        "",
        "hello",
        "with \"quotes\"",
        "back\\slash\\",
        "\"\\\"",
        "tab\tnewline\ncarriage\r",
        std::string("nul\0inside", 10),
        "\x01\x02\x1f\x7f",
        "\x1b[2J\x1b]0;title\x07",
        "\x08\x0c",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac",
        "\xc2\x9b"
        "2J \xc2\x85",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    };
    for (const std::string& s : inputs) {
        std::string literal = json_literal(s);
        INFO("input " << hex(s) << " literal " << literal);
        REQUIRE(literal.size() >= 2);
        CHECK(literal.front() == '"');
        CHECK(literal.back() == '"');
        CHECK(terminal_safe(literal));
        json parsed = json::parse(literal);
        REQUIRE(parsed.is_string());
        CHECK(parsed.get<std::string>() == s);
    }
    CHECK(json_literal("a\"b") == "\"a\\\"b\"");
    CHECK(json_literal("a\\b") == "\"a\\\\b\"");
    CHECK(json_literal("a\nb") == "\"a\\nb\"");
    CHECK(json_literal("\xe2\x82\xac") == "\"\xe2\x82\xac\""); // not \u-escaped
}

TEST_CASE("output: invalid UTF-8 in JSON strings becomes U+FFFD", "[output][json]") {
    const std::string fffd = "\xef\xbf\xbd";
    auto decoded = [](std::string_view s) {
        return json::parse(json_literal(s)).get<std::string>();
    };

    CHECK(decoded("\xff") == fffd);
    CHECK(decoded("a\xff"
                  "b") == "a" + fffd + "b");
    CHECK(decoded("\x80") == fffd);
    CHECK(decoded("\xc0\xaf") == fffd + fffd);            // overlong '/'
    CHECK(decoded("\xed\xa0\x80") == fffd + fffd + fffd); // surrogate, one per byte
    CHECK(decoded("\xf4\x90\x80\x80") == fffd + fffd + fffd + fffd);
    // An invalid byte never swallows the quote or backslash after it.
    CHECK(decoded("\xc3\"") == fffd + "\"");
    CHECK(decoded("\xe2\\") == fffd + "\\");
    CHECK(decoded("\xe2\x82") == fffd + fffd);
    // Valid text around invalid bytes survives.
    std::string mixed = decoded("caf\xc3\xa9\xff\xe2\x82\xac");
    CHECK(mixed == "caf\xc3\xa9" + fffd + "\xe2\x82\xac");
}

TEST_CASE("output: every byte string gives a JSON string that parses", "[output][json]") {
    size_t bad = 0;
    for (const std::string& s : random_byte_strings(3000)) {
        std::string literal = json_literal(s);
        try {
            json parsed = json::parse(literal);
            if (!parsed.is_string()) throw std::runtime_error("not a string");
            // Valid UTF-8 comes back unchanged; invalid bytes only add U+FFFD.
            if (valid_utf8(s) && parsed.get<std::string>() != s)
                throw std::runtime_error("valid UTF-8 changed");
            if (!valid_utf8(s) &&
                parsed.get<std::string>().find("\xef\xbf\xbd") == std::string::npos)
                throw std::runtime_error("invalid UTF-8 without U+FFFD");
            if (!terminal_safe(literal)) throw std::runtime_error("raw control byte");
        } catch (const std::exception& e) {
            bad++;
            FAIL_CHECK("input " << hex(s) << " -> " << hex(literal) << ": " << e.what());
        }
    }
    CHECK(bad == 0);
}

TEST_CASE("output: JsonObject builds parseable objects", "[output][json]") {
    std::string line;
    JsonObject(line)
        .number("pid", 1234)
        .number("ret", -2)
        .number("min", std::numeric_limits<int64_t>::min())
        .unsigned_number("bytes", UINT64_MAX)
        .real("ms", 1.5)
        .real("ratio", 0.123456, 2)
        .boolean("failed", true)
        .boolean("ok", false)
        .string("comm", "ba\"sh\n\x1b")
        .null("path")
        .raw("args", "[\"-c\",1]")
        .end_line();

    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1); // one line: JSON Lines
    json obj = json::parse(line);
    REQUIRE(obj.is_object());
    CHECK(obj.size() == 11);
    CHECK(obj["pid"].is_number_integer());
    CHECK(obj["pid"].get<int64_t>() == 1234);
    CHECK(obj["ret"].get<int64_t>() == -2);
    CHECK(obj["min"].get<int64_t>() == std::numeric_limits<int64_t>::min());
    CHECK(obj["bytes"].is_number_unsigned());
    CHECK(obj["bytes"].get<uint64_t>() == UINT64_MAX);
    CHECK(obj["ms"].is_number_float());
    CHECK(obj["ms"].get<double>() == Approx(1.5));
    CHECK(obj["ratio"].get<double>() == Approx(0.12));
    CHECK(obj["failed"] == true);
    CHECK(obj["ok"] == false);
    CHECK(obj["comm"] == "ba\"sh\n\x1b");
    CHECK(obj["path"].is_null());
    CHECK(obj["args"] == json::array({"-c", 1}));

    std::string nested;
    JsonObject(nested).string("k", "v").end();
    CHECK(nested == "{\"k\":\"v\"}");
    std::string empty;
    JsonObject(empty).end();
    CHECK(json::parse(empty) == json::object());
}

TEST_CASE("output: JsonObject real() writes null for NaN and infinities", "[output][json]") {
    std::string line;
    JsonObject(line)
        .real("nan", std::nan(""))
        .real("inf", std::numeric_limits<double>::infinity())
        .real("ninf", -std::numeric_limits<double>::infinity())
        .real("zero", 0.0)
        .real("neg", -2.25)
        .end_line();
    json obj = json::parse(line);
    CHECK(obj["nan"].is_null());
    CHECK(obj["inf"].is_null());
    CHECK(obj["ninf"].is_null());
    CHECK(obj["zero"].get<double>() == 0.0);
    CHECK(obj["neg"].get<double>() == Approx(-2.25));
}

// Was a bug (common/output.cpp, JsonObject::real): the value went through
// "%.*f" into a 64-byte buffer, and snprintf cut longer text, so from
// |v| >= 1e60 the line was invalid JSON or the value wrong. Large magnitudes
// now use the shortest exact form.
TEST_CASE("output: JsonObject real() keeps the value of large numbers", "[output][json]") {
    for (double v : {1e59, -1e61, 1e63, 1e70, std::numeric_limits<double>::max(), -1e100}) {
        std::string line;
        JsonObject(line).real("v", v).end();
        INFO("value " << v << " written as " << line);
        json obj = json::parse(line, nullptr, false);
        CHECK_FALSE(obj.is_discarded());
        if (!obj.is_discarded()) CHECK(obj["v"].get<double>() == Approx(v));
    }
}

TEST_CASE("output: writer buffers until flush and writes everything to a pipe",
          "[output][writer]") {
    Pipe p;
    {
        Output out(p.fds[1]);
        out.buffer() += "first line\n";
        out.end_record();
        CHECK(read_available(p.fds[0]).empty()); // small records wait for flush()
        out.buffer() += "second line\n";
        out.flush();
        CHECK(out.buffer().empty());
        CHECK_FALSE(out.closed());
        CHECK(read_available(p.fds[0]) == "first line\nsecond line\n");

        out.buffer() += "left over\n"; // the destructor flushes
    }
    CHECK(read_available(p.fds[0]) == "left over\n");
}

TEST_CASE("output: flush writes past the pipe's capacity completely", "[output][writer]") {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0); // blocking: write() returns short counts
    std::string expected;
    for (int i = 0; expected.size() < 1024 * 1024; i++)
        expected += std::to_string(i) + "\n";
    std::string received;
    std::thread reader([&] {
        char buf[8192];
        for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
            received.append(buf, static_cast<size_t>(n));
    });
    {
        Output out(fds[1]);
        out.buffer() = expected;
        out.flush();
        CHECK_FALSE(out.closed());
    }
    close(fds[1]);
    reader.join();
    close(fds[0]);
    CHECK(received.size() == expected.size());
    CHECK(received == expected);
}

TEST_CASE("output: a reader that went away closes the output quietly", "[output][writer]") {
    signal(SIGPIPE, SIG_IGN);
    Pipe p;
    p.close_read();
    Output out(p.fds[1]);
    out.buffer() += "nobody reads this\n";
    CHECK_NOTHROW(out.flush());
    CHECK(out.closed());
    CHECK(out.buffer().empty());
    // Later output is dropped without errors.
    out.buffer() += "more\n";
    CHECK_NOTHROW(out.flush());
    CHECK(out.closed());
}

TEST_CASE("output: a write error closes the output and check() throws it, saying why",
          "[output][writer]") {
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    {
        Output out(fd);
        out.buffer() += "data\n";
        // Flushing runs inside libbpf's callback: it must not throw.
        CHECK_NOTHROW(out.flush());
        CHECK(out.closed());
        try {
            out.check();
            FAIL("check() after a failed write did not throw");
        } catch (const RuntimeError& e) {
            CHECK_THAT(e.what(), Contains("No space left on device"));
            CHECK(e.exit_code() == exit_runtime_error);
        }
        out.buffer() += "more\n";
        // Nor does the destructor throw (it would terminate the process).
    }
    close(fd);
}

TEST_CASE("output: end_record flushes past 64 KiB, not before", "[output][writer]") {
    int fd = memfd_create("output-test", MFD_CLOEXEC);
    REQUIRE(fd >= 0);
    {
        Output out(fd);
        REQUIRE(Output::flush_threshold == 64 * 1024);
        out.buffer().append(Output::flush_threshold - 1, 'a');
        out.end_record();
        CHECK(file_size(fd) == 0);
        CHECK(out.buffer().size() == Output::flush_threshold - 1);

        out.buffer() += '\n';
        out.end_record();
        CHECK(file_size(fd) == static_cast<off_t>(Output::flush_threshold));
        CHECK(out.buffer().empty());

        out.buffer().append(100, 'b');
        out.end_record();
        CHECK(file_size(fd) == static_cast<off_t>(Output::flush_threshold));
    }
    CHECK(file_size(fd) == static_cast<off_t>(Output::flush_threshold + 100));
    close(fd);
}

TEST_CASE("output: wall-clock helpers", "[output]") {
    std::string hms;
    append_wall_time(hms);
    CHECK_THAT(hms, Catch::Matchers::Matches("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"));
    CHECK_THAT(iso_time_now(),
               Catch::Matchers::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)"));
}

TEST_CASE("string appender: writes in place, grows past its window, cuts to what was written",
          "[output][appender]") {
    std::string s = "ab";
    {
        StringAppender a(s, 4); // a small window, so the writes below outgrow it
        CHECK(a.size() == 2);
        a.put('c');
        a.put(std::string_view("defgh"));
        a.fill(3, '.');
        size_t start = a.size();
        a.put(std::string_view("42"));
        a.pad_before(start, 3); // right-aligns "42" in 5 columns
        std::string long_text(5000, 'x');
        a.put(long_text);
        CHECK(a.size() == 2 + 1 + 5 + 3 + 5 + 5000);
    } // the destructor cuts the window off
    CHECK(s == "abcdefgh...   42" + std::string(5000, 'x'));
    StringAppender nowhere; // a skipped record's: finishing it is harmless
    nowhere.finish();
}

TEST_CASE("output: records through the appender and through buffer() interleave in order",
          "[output][appender]") {
    int fd = memfd_create("appender", MFD_CLOEXEC);
    REQUIRE(fd >= 0);
    std::string expected;
    {
        Output out(fd);
        for (int i = 0; i < 3000; i++) { // 150 KB: several flushes past 64 KiB
            std::string line = "line " + std::to_string(i) + std::string(40, '-') + "\n";
            if (i % 7 == 0)
                out.buffer() += line; // closes the appender; the next put opens it
            else
                out.appender().put(line);
            expected += line;
            out.end_record();
            CHECK(out.buffered() < Output::flush_threshold + line.size());
        }
        out.flush();
        CHECK(out.buffered() == 0);
        CHECK_FALSE(out.closed());
    }
    std::string got(static_cast<size_t>(file_size(fd)), '\0');
    REQUIRE(pread(fd, got.data(), got.size(), 0) == static_cast<ssize_t>(got.size()));
    close(fd);
    CHECK(got == expected);
}

} // namespace test_output
