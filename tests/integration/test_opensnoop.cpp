// opensnoop against opens this test makes itself.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace test_opensnoop {

using namespace itest;
using nlohmann::json;

namespace {

int try_open(const std::string& path, int flags = O_RDONLY) {
    int fd = open(path.c_str(), flags, 0600);
    if (fd >= 0) close(fd);
    return fd;
}

} // namespace

TEST_CASE("opensnoop reports a failed open with ERR 2 and the exact path", "[opensnoop]") {
    REQUIRE_BPF();
    std::string path = "/nonexistent-dir/" + unique_token("opensnoop-missing");
    ToolProcess p({tool_path("opensnoop")});
    REQUIRE(p.wait_attached());
    REQUIRE(try_open(path) < 0);
    REQUIRE(p.wait_for_output(path));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    auto hits = lines_containing(r.out, path);
    REQUIRE(hits.size() == 1);
    std::istringstream fields(hits[0]);
    std::string pid, comm, fd, err, shown_path;
    fields >> pid >> comm >> fd >> err >> shown_path;
    CHECK(pid == self_pid());
    CHECK(fd == "-1");
    CHECK(err == "2");
    CHECK(shown_path == path);
    CHECK(lines(r.out)[0].find("PID") == 0);
}

TEST_CASE("opensnoop -x shows failed opens and hides successful ones", "[opensnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("opensnoop-x");
    std::string existing = "/tmp/" + token + "-exists";
    std::string missing = "/tmp/" + token + "-missing";
    REQUIRE(try_open(existing, O_CREAT | O_WRONLY) >= 0);
    ToolProcess p({tool_path("opensnoop"), "-x", "-p", self_pid()});
    REQUIRE(p.wait_attached());
    REQUIRE(try_open(existing) >= 0);
    REQUIRE(try_open(missing) < 0);
    REQUIRE(p.wait_for_output(missing));
    Finished r = p.stop();
    unlink(existing.c_str());
    CHECK(lines_containing(r.out, existing).empty());
    CHECK(lines_containing(r.out, missing).size() == 1);
}

TEST_CASE("opensnoop -p, -t and -u keep only the chosen process, thread and user", "[opensnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("opensnoop-filter");
    SECTION("-p hides other processes") {
        ToolProcess p({tool_path("opensnoop"), "-p", self_pid()});
        REQUIRE(p.wait_attached());
        pid_t child = fork();
        if (child == 0) {
            try_open("/tmp/" + token + "-child");
            _exit(0);
        }
        waitpid(child, nullptr, 0);
        try_open("/tmp/" + token + "-parent");
        REQUIRE(p.wait_for_output(token + "-parent"));
        Finished r = p.stop();
        CHECK(lines_containing(r.out, token + "-child").empty());
    }
    SECTION("-t hides other threads of the same process") {
        std::string tid_of_thread;
        ToolProcess p({tool_path("opensnoop"), "-t", std::to_string(gettid())});
        REQUIRE(p.wait_attached());
        std::thread other([&] { try_open("/tmp/" + token + "-thread"); });
        other.join();
        try_open("/tmp/" + token + "-main");
        REQUIRE(p.wait_for_output(token + "-main"));
        Finished r = p.stop();
        CHECK(lines_containing(r.out, token + "-thread").empty());
    }
    SECTION("-u hides other users") {
        ToolProcess p({tool_path("opensnoop"), "-u", "0", "-U"});
        REQUIRE(p.wait_attached());
        pid_t child = fork();
        if (child == 0) {
            if (setuid(65534) != 0) _exit(1);
            try_open("/tmp/" + token + "-nobody");
            _exit(0);
        }
        int status = 0;
        waitpid(child, &status, 0);
        REQUIRE(WEXITSTATUS(status) == 0);
        try_open("/tmp/" + token + "-root");
        REQUIRE(p.wait_for_output(token + "-root"));
        Finished r = p.stop();
        CHECK(lines_containing(r.out, token + "-nobody").empty());
        auto root_lines = lines_containing(r.out, token + "-root");
        REQUIRE(root_lines.size() == 1);
        CHECK(root_lines[0].rfind("0 ", 0) == 0); // the UID column comes first
    }
}

TEST_CASE("opensnoop -n keeps only commands whose name contains the text", "[opensnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("opensnoop-name");
    ToolProcess p({tool_path("opensnoop"), "-n", "cs-wanted"});
    REQUIRE(p.wait_attached());
    for (const char* name : {"cs-wanted-one", "cs-other"}) {
        pid_t child = fork();
        if (child == 0) {
            prctl(PR_SET_NAME, name);
            try_open("/tmp/" + token + "-" + name);
            _exit(0);
        }
        waitpid(child, nullptr, 0);
    }
    REQUIRE(p.wait_for_output(token + "-cs-wanted-one"));
    Finished r = p.stop();
    CHECK(lines_containing(r.out, token + "-cs-other").empty());
}

TEST_CASE("opensnoop JSON output parses and carries the same events as text", "[opensnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("opensnoop-json");
    ToolProcess text({tool_path("opensnoop"), "-p", self_pid()});
    ToolProcess jsonl({tool_path("opensnoop"), "-o", "json", "-p", self_pid()});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    for (int i = 0; i < 20; i++)
        try_open("/tmp/" + token + "/" + std::to_string(i));
    REQUIRE(text.wait_for_output(token + "/19"));
    REQUIRE(jsonl.wait_for_output(token + "/19"));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    std::vector<json> events = json_lines(j.out);
    std::set<std::string> json_paths;
    for (const json& e : events) {
        std::string path = e.at("path");
        if (path.find(token) == std::string::npos) continue;
        json_paths.insert(path);
        CHECK(e.at("pid") == getpid());
        CHECK(e.at("fd") == -1);
        CHECK(e.at("errno") == 2);
        CHECK(e.at("comm").is_string());
        CHECK(e.at("time").is_string());
    }
    std::set<std::string> text_paths;
    for (const std::string& line : lines_containing(t.out, token))
        text_paths.insert(line.substr(line.rfind(' ') + 1));
    CHECK(json_paths.size() == 20);
    CHECK(json_paths == text_paths);
}

TEST_CASE("opensnoop escapes hostile file names in text and keeps them exact in JSON",
          "[opensnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("opensnoop-hostile");
    std::string hostile = "/tmp/" + token + "-a\nb\x1b[2J\x1b]0;pwned\x07-\xff\xfe";
    ToolProcess text({tool_path("opensnoop"), "-p", self_pid()});
    ToolProcess jsonl({tool_path("opensnoop"), "--json", "-p", self_pid()});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    try_open(hostile);
    REQUIRE(text.wait_for_output(token));
    REQUIRE(jsonl.wait_for_output(token));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    for (char c : t.out)
        CHECK((c == '\n' || static_cast<unsigned char>(c) >= 0x20));
    for (unsigned char c : t.out)
        CHECK(c != 0x7f);
    auto hits = lines_containing(t.out, token);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].find("-a\\nb\\e[2J\\e]0;pwned\\x07-\\xff\\xfe") != std::string::npos);
    bool found = false;
    for (const json& e : json_lines(j.out)) {
        std::string path = e.at("path");
        if (path.find(token) == std::string::npos) continue;
        found = true;
        CHECK(path == "/tmp/" + token + "-a\nb\x1b[2J\x1b]0;pwned\x07-\xef\xbf\xbd\xef\xbf\xbd");
    }
    CHECK(found);
}

TEST_CASE("opensnoop prints every event read before exit, whatever stops it", "[opensnoop]") {
    REQUIRE_BPF();
    constexpr int opens = 3000;
    auto burst_then = [&](const std::vector<std::string>& extra, int sig) {
        std::string token = unique_token("opensnoop-burst");
        std::vector<std::string> argv = {tool_path("opensnoop"), "-p", self_pid()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        ToolProcess p(argv, ToolProcess::Stdout::file);
        REQUIRE(p.wait_attached());
        for (int i = 0; i < opens; i++)
            try_open("/tmp/" + token + "-" + std::to_string(i));
        Finished r = sig ? p.stop(sig) : p.wait(30);
        CHECK(r.exit_code == 0);
        CHECK(lines_containing(r.out, token).size() == opens);
        CHECK(r.err.find("lost") == std::string::npos);
    };
    SECTION("SIGINT") {
        burst_then({}, SIGINT);
    }
    SECTION("SIGTERM") {
        burst_then({}, SIGTERM);
    }
    SECTION("-d") {
        burst_then({"-d", "3"}, 0);
    }
}

TEST_CASE("opensnoop delivers an event through a pipe within about 100 ms", "[opensnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("opensnoop-latency");
    ToolProcess p({tool_path("opensnoop"), "-p", self_pid()});
    REQUIRE(p.wait_attached());
    std::vector<double> delays;
    for (int i = 0; i < 5; i++) {
        std::string path = "/tmp/" + token + "-" + std::to_string(i);
        auto start = std::chrono::steady_clock::now();
        try_open(path);
        REQUIRE(p.wait_for_output(path, 5));
        delays.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        // Apart, so each open is a lone event on an idle stream: what is
        // timed is the wake-up of a quiet tool, not part of a batch.
        std::this_thread::sleep_for(std::chrono::milliseconds(137));
    }
    p.stop();
    std::sort(delays.begin(), delays.end());
    // The median, so one scheduling hiccup on a loaded CI machine does not fail it.
    CHECK(delays[2] < 0.2);
}

TEST_CASE("opensnoop -T, -U and -e add their columns", "[opensnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("opensnoop-columns");
    std::string path = "/tmp/" + token;
    ToolProcess p({tool_path("opensnoop"), "-T", "-U", "-e", "-p", self_pid()});
    REQUIRE(p.wait_attached());
    try_open(path, O_WRONLY | O_CREAT | O_TRUNC);
    REQUIRE(p.wait_for_output(path));
    Finished r = p.stop();
    unlink(path.c_str());
    CHECK(lines(r.out)[0].rfind("TIME     UID     PID", 0) == 0);
    CHECK(lines(r.out)[0].find("FLAGS") != std::string::npos);
    auto hits = lines_containing(r.out, path);
    REQUIRE(hits.size() == 1);
    std::istringstream fields(hits[0]);
    std::string time, uid, pid, comm, fd, err, flags;
    fields >> time >> uid >> pid >> comm >> fd >> err >> flags;
    CHECK(time.size() == 8);
    CHECK(time[2] == ':');
    CHECK(uid == "0");
    CHECK(pid == self_pid());
    CHECK(std::stoi(fd) >= 0);
    CHECK(err == "0");
    CHECK(std::stoul(flags, nullptr, 8) ==
          static_cast<unsigned long>(O_WRONLY | O_CREAT | O_TRUNC));
}

TEST_CASE("without tracefs opensnoop falls back to raw tracepoints and still works",
          "[opensnoop]") {
    REQUIRE_BPF();
    // A private mount namespace: tracefs disappears for the tool only.
    auto hide_tracefs = [] {
        if (unshare(CLONE_NEWNS) != 0) _exit(98);
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
        umount2("/sys/kernel/tracing", MNT_DETACH);
        umount2("/sys/kernel/debug/tracing", MNT_DETACH);
    };
    Finished plan = run({tool_path("opensnoop"), "--dry-run"}, 20, hide_tracefs);
    CHECK(plan.exit_code == 0);
    CHECK(plan.out.find("raw_tp:sys_enter") != std::string::npos);
    CHECK(plan.out.find("passed over tracepoint: tracefs is not mounted") != std::string::npos);

    std::string path = "/tmp/" + unique_token("opensnoop-rawtp");
    ToolProcess p({tool_path("opensnoop"), "-p", self_pid()}, ToolProcess::Stdout::pipe,
                  hide_tracefs);
    REQUIRE(p.wait_attached());
    try_open(path);
    REQUIRE(p.wait_for_output(path));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    CHECK(lines_containing(r.out, path).size() == 1);
}

TEST_CASE("opensnoop works through the perf buffer, the pre-5.8 event path", "[opensnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("opensnoop-perfbuf");
    ToolProcess p({tool_path("opensnoop"), "-p", self_pid()}, ToolProcess::Stdout::file,
                  [] { setenv("CORESCOPE_PERF_BUFFER", "1", 1); });
    REQUIRE(p.wait_attached());
    // The tool really holds a perf event array (map_type 4) and no ring
    // buffer (27): the environment variable took the fallback path.
    std::set<std::string> map_types;
    std::string fdinfo = "/proc/" + std::to_string(p.pid()) + "/fdinfo/";
    for (int fd = 0; fd < 256; fd++) {
        std::ifstream in(fdinfo + std::to_string(fd));
        for (std::string line; std::getline(in, line);)
            if (line.rfind("map_type:", 0) == 0)
                map_types.insert(line.substr(line.find_first_not_of(" \t", 9)));
    }
    CHECK(map_types.count("4") == 1);
    CHECK(map_types.count("27") == 0);
    for (int i = 0; i < 500; i++)
        try_open("/tmp/" + token + "-" + std::to_string(i));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    CHECK(lines_containing(r.out, token).size() == 500);
    CHECK(r.err.empty());
}

} // namespace test_opensnoop
