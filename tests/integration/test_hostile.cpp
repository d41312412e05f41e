// Hostile input from the traced system: file names, argv and command names
// with newlines, ANSI escape sequences, invalid UTF-8, and at their maximum
// lengths. Text shows them escaped (nothing that could move the cursor or
// change the terminal); JSON carries them exactly, as valid UTF-8 (invalid
// bytes become U+FFFD).
#include "harness.h"
#include "json_lines.h"
#include "utf8.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_hostile {

using namespace itest;
using nlohmann::json;

namespace {

// Nothing in text output that a terminal acts on: no C0 control but the
// newline, no DEL, no C1 control (U+0080..U+009F), no raw invalid UTF-8.
void check_terminal_safe(const std::string& text) {
    for (size_t i = 0; i < text.size(); i++) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        CHECK((c >= 0x20 || c == '\n'));
        CHECK(c != 0x7f);
        if (c == 0xc2 && i + 1 < text.size())
            CHECK(!(static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9f));
    }
    CHECK_NOTHROW(json(text).dump()); // throws on invalid UTF-8
}

// What JSON must give back for s (output.h): every byte that is not part
// of a valid UTF-8 sequence becomes U+FFFD; everything else stays.
std::string json_replaced(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        size_t len = testutf8::sequence_length(s, i);
        if (len > 0) {
            out.append(s, i, len);
            i += len;
        } else {
            out += "\xef\xbf\xbd";
            i++;
        }
    }
    return out;
}

// Forks a child that names itself comm, then runs body.
pid_t spawn_named(const std::string& comm, const std::function<void()>& body) {
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NAME, comm.c_str());
        body();
        _exit(0);
    }
    return pid;
}

} // namespace

TEST_CASE("opensnoop shows a path of the maximum length exactly, and a longer one cut there",
          "[hostile]") {
    REQUIRE_BPF();
    std::string token = unique_token("hostile-max");
    // /tmp/TOKEN/ then 250-byte components up to 4095 bytes, the most a
    // path can have (PATH_MAX with its NUL); the directories do not exist.
    std::string longest = "/tmp/" + token;
    while (longest.size() < 4095) {
        longest += '/';
        longest += std::string(std::min<size_t>(250, 4095 - longest.size()), 'x');
    }
    longest.resize(4095);
    REQUIRE(longest.back() != '/');
    std::string too_long = longest + "/overflow";
    ToolProcess jsonl({tool_path("opensnoop"), "-p", self_pid(), "-o", "json"});
    ToolProcess text({tool_path("opensnoop"), "-p", self_pid()});
    REQUIRE(jsonl.wait_attached());
    REQUIRE(text.wait_attached());
    CHECK(open(longest.c_str(), O_RDONLY) < 0);
    CHECK(errno == ENOENT);
    CHECK(open(too_long.c_str(), O_RDONLY) < 0);
    CHECK(errno == ENAMETOOLONG);
    Finished j = jsonl.stop();
    Finished t = text.stop();
    std::vector<json> events;
    for (const json& e : json_lines(j.out))
        if (e.at("path").get<std::string>().find(token) != std::string::npos) events.push_back(e);
    REQUIRE(events.size() == 2);
    CHECK(events[0].at("path") == longest);
    CHECK(events[0].at("errno") == ENOENT);
    // The kernel refuses the longer one; the tool shows what fits.
    CHECK(events[1].at("path") == longest);
    CHECK(events[1].at("errno") == ENAMETOOLONG);
    auto hits = lines_containing(t.out, token);
    REQUIRE(hits.size() == 2);
    CHECK(hits[0].substr(hits[0].size() - longest.size()) == longest);
}

TEST_CASE("a hostile command name is escaped in text and valid in JSON", "[hostile]") {
    REQUIRE_BPF();
    // 15 bytes, the most a comm holds: ESC, a newline, DEL, a C1 CSI and an
    // invalid byte.
    std::string comm = "\x1b[2J\n\x7f\xc2\x9b\xff-evil!";
    REQUIRE(comm.size() == 15);
    std::string path = "/tmp/" + unique_token("hostile-comm");
    ToolProcess jsonl({tool_path("opensnoop"), "-o", "json"}, ToolProcess::Stdout::file);
    ToolProcess text({tool_path("opensnoop")}, ToolProcess::Stdout::file);
    REQUIRE(jsonl.wait_attached());
    REQUIRE(text.wait_attached());
    pid_t child = spawn_named(comm, [&] {
        int fd = open(path.c_str(), O_RDONLY);
        if (fd >= 0) close(fd);
    });
    waitpid(child, nullptr, 0);
    REQUIRE(jsonl.wait_for_output(path));
    REQUIRE(text.wait_for_output(path));
    Finished j = jsonl.stop();
    Finished t = text.stop();
    int found = 0;
    for (const json& e : json_lines(j.out)) {
        if (e.at("path") != path) continue;
        found++;
        CHECK(e.at("comm") == "\x1b[2J\n\x7f\xc2\x9b\xef\xbf\xbd-evil!");
    }
    CHECK(found == 1);
    auto hits = lines_containing(t.out, path);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].find("\\e[2J\\n\\x7f\\u009b\\xff-evil!") != std::string::npos);
    check_terminal_safe(t.out);
}

TEST_CASE("execsnoop shows invalid UTF-8 and escapes in argv, and the longest argument block",
          "[hostile]") {
    REQUIRE_BPF();
    std::string token = unique_token("hostile-argv");
    // 16 KiB of arguments is execsnoop's maximum (--args-size 16384); the
    // last argument is long and full of hostile bytes.
    std::string big;
    while (big.size() < 12000)
        big += "ab\x1b[31m\xff\xfe\n\xc2\x9b\xe2\x82\xac\t";
    std::vector<std::string> argv = {"/bin/true", token, "\xc3\x28 invalid", big};
    size_t block = 0;
    for (const std::string& a : argv)
        block += a.size() + 1;
    REQUIRE(block <= 16384);
    ToolProcess jsonl({tool_path("execsnoop"), "-o", "json", "--args-size", "16384"},
                      ToolProcess::Stdout::file);
    ToolProcess text({tool_path("execsnoop"), "--args-size", "16384"}, ToolProcess::Stdout::file);
    ToolProcess cut({tool_path("execsnoop"), "-o", "json"}, ToolProcess::Stdout::file);
    REQUIRE(jsonl.wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(cut.wait_attached());
    pid_t pid = fork();
    if (pid == 0) {
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    waitpid(pid, nullptr, 0);
    REQUIRE(jsonl.wait_for_output(token));
    REQUIRE(text.wait_for_output(token));
    REQUIRE(cut.wait_for_output(token));
    Finished j = jsonl.stop();
    Finished t = text.stop();
    Finished c = cut.stop();

    int found = 0;
    for (const json& e : json_lines(j.out)) {
        if (e.at("args").size() < 2 || e.at("args")[1] != token) continue;
        found++;
        REQUIRE(e.at("args").size() == 4);
        CHECK(e.at("args")[2] == json_replaced(argv[2]));
        CHECK(e.at("args")[3] == json_replaced(big));
        CHECK(e.at("args_truncated") == false);
    }
    CHECK(found == 1);

    auto hits = lines_containing(t.out, token);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].find("\\xc3( invalid ab\\e[31m\\xff\\xfe\\n\\u009b\xe2\x82\xac\\tab") !=
          std::string::npos);
    check_terminal_safe(t.out);

    // At the default 4 KiB the block is cut, and says so.
    found = 0;
    for (const json& e : json_lines(c.out)) {
        if (e.at("args").size() < 2 || e.at("args")[1] != token) continue;
        found++;
        CHECK(e.at("args_truncated") == true);
        size_t shown = 0;
        for (const json& a : e.at("args"))
            shown += a.get<std::string>().size() + 1;
        CHECK(shown > 1000);
        CHECK(shown <= 3 * 4096); // at most 4096 bytes read; U+FFFD takes 3 bytes a byte
        std::string last = e.at("args").back();
        CHECK(last.substr(0, 64) == json_replaced(big).substr(0, 64));
    }
    CHECK(found == 1);
}

} // namespace test_hostile
