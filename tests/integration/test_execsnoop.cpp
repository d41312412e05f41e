// execsnoop against processes this test starts.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

namespace test_execsnoop {

using namespace itest;
using nlohmann::json;

namespace {

// Forks, then execs argv in the child; returns the child's exit status.
int spawn_and_wait(const std::vector<std::string>& argv, int* child_pid = nullptr) {
    pid_t pid = fork();
    if (pid == 0) {
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    if (child_pid) *child_pid = pid;
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

} // namespace

TEST_CASE("execsnoop reports each of 200 short-lived children exactly once", "[execsnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("execsnoop-200");
    ToolProcess p({tool_path("execsnoop")}, ToolProcess::Stdout::file);
    REQUIRE(p.wait_attached());
    std::map<std::string, pid_t> pids;
    for (int i = 0; i < 200; i++) {
        int pid = 0;
        std::string arg = token + "-" + std::to_string(i);
        spawn_and_wait({"/bin/true", arg}, &pid);
        pids[arg] = pid;
    }
    REQUIRE(p.wait_for_output(token + "-199"));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    std::map<std::string, int> seen;
    for (const std::string& line : lines_containing(r.out, token)) {
        std::istringstream fields(line);
        std::string comm, pid, ppid, ret, argv0, arg;
        fields >> comm >> pid >> ppid >> ret >> argv0 >> arg;
        CHECK(comm == "true");
        CHECK(ppid == std::to_string(getpid()));
        CHECK(ret == "0");
        CHECK(argv0 == "/bin/true");
        REQUIRE(pids.count(arg));
        CHECK(pid == std::to_string(pids[arg]));
        seen[arg]++;
    }
    CHECK(seen.size() == 200);
    for (auto& [arg, count] : seen)
        CHECK(count == 1);
}

TEST_CASE("execsnoop shows failed execs with their error, and -x shows only those", "[execsnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("execsnoop-fail");
    std::string missing = "/nonexistent/" + token;
    ToolProcess all({tool_path("execsnoop")});
    ToolProcess failed({tool_path("execsnoop"), "-x"});
    REQUIRE(all.wait_attached());
    REQUIRE(failed.wait_attached());
    spawn_and_wait({"/bin/true", token + "-ok"});
    spawn_and_wait({missing, "arg1"});
    REQUIRE(all.wait_for_output(missing));
    REQUIRE(failed.wait_for_output(missing));
    Finished a = all.stop();
    Finished f = failed.stop();
    CHECK(lines_containing(a.out, token + "-ok").size() == 1);
    CHECK(lines_containing(f.out, token + "-ok").empty());
    auto hits = lines_containing(f.out, missing);
    REQUIRE(hits.size() == 1);
    std::istringstream fields(hits[0]);
    std::string comm, pid, ppid, ret, argv0, arg1;
    fields >> comm >> pid >> ppid >> ret >> argv0 >> arg1;
    CHECK(ret == "-2");
    CHECK(argv0 == missing);
    CHECK(arg1 == "arg1");
}

TEST_CASE("execsnoop JSON carries argv exactly, hostile bytes included", "[execsnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("execsnoop-json");
    std::vector<std::string> argv = {"/bin/true",       token,       "two words",
                                     "esc\x1b[2Jclear", "new\nline", ""};
    ToolProcess jsonl({tool_path("execsnoop"), "-o", "json"});
    ToolProcess text({tool_path("execsnoop")});
    REQUIRE(jsonl.wait_attached());
    REQUIRE(text.wait_attached());
    int pid = 0;
    spawn_and_wait(argv, &pid);
    REQUIRE(jsonl.wait_for_output(token));
    REQUIRE(text.wait_for_output(token));
    Finished j = jsonl.stop();
    Finished t = text.stop();
    int found = 0;
    for (const json& e : json_lines(j.out)) {
        if (e.at("args").size() < 2 || e.at("args")[1] != token) continue;
        found++;
        CHECK(e.at("args") == json(argv));
        CHECK(e.at("pid") == pid);
        CHECK(e.at("ppid") == getpid());
        CHECK(e.at("ret") == 0);
        CHECK(e.at("comm") == "true");
        CHECK(e.at("args_truncated") == false);
    }
    CHECK(found == 1);
    auto hits = lines_containing(t.out, token);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].find("esc\\e[2Jclear new\\nline") != std::string::npos);
    for (char c : t.out)
        CHECK((c == '\n' || static_cast<unsigned char>(c) >= 0x20));
}

TEST_CASE("execsnoop limits arguments by count and size, and says so", "[execsnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("execsnoop-limit");
    std::vector<std::string> argv = {"/bin/true", token};
    for (int i = 0; i < 30; i++)
        argv.push_back("a" + std::to_string(i));
    ToolProcess count({tool_path("execsnoop"), "--max-args", "3", "-o", "json"});
    ToolProcess size({tool_path("execsnoop"), "--args-size", "64"});
    ToolProcess classic({tool_path("execsnoop")});
    REQUIRE(count.wait_attached());
    REQUIRE(size.wait_attached());
    REQUIRE(classic.wait_attached());
    spawn_and_wait(argv);
    REQUIRE(count.wait_for_output(token));
    REQUIRE(size.wait_for_output(token));
    REQUIRE(classic.wait_for_output(token));
    Finished c = count.stop();
    Finished s = size.stop();
    Finished d = classic.stop();
    bool found = false;
    for (const json& e : json_lines(c.out)) {
        if (e.at("args").size() < 2 || e.at("args")[1] != token) continue;
        found = true;
        CHECK(e.at("args").size() == 3);
        CHECK(e.at("args_truncated") == true);
    }
    CHECK(found);
    auto cut = lines_containing(s.out, token);
    REQUIRE(cut.size() == 1);
    CHECK(cut[0].size() < 160);
    CHECK(cut[0].substr(cut[0].size() - 4) == " ...");
    // The default shows 20 arguments, as the classic tool does.
    auto classic_line = lines_containing(d.out, token);
    REQUIRE(classic_line.size() == 1);
    CHECK(classic_line[0].find(" a17 ...") != std::string::npos);
}

TEST_CASE("execsnoop filters by name, argument line, UID and PID", "[execsnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("execsnoop-filter");
    SECTION("-n matches the command name") {
        ToolProcess p({tool_path("execsnoop"), "-n", "ech"});
        REQUIRE(p.wait_attached());
        spawn_and_wait({"/bin/true", token + "-true"});
        spawn_and_wait({"/bin/echo", token + "-echo"});
        REQUIRE(p.wait_for_output(token + "-echo"));
        Finished r = p.stop();
        CHECK(lines_containing(r.out, token + "-true").empty());
    }
    SECTION("-l matches the argument line") {
        ToolProcess p({tool_path("execsnoop"), "-l", token + "-wanted"});
        REQUIRE(p.wait_attached());
        spawn_and_wait({"/bin/true", token + "-other"});
        spawn_and_wait({"/bin/true", "x", token + "-wanted"});
        REQUIRE(p.wait_for_output(token + "-wanted"));
        Finished r = p.stop();
        CHECK(lines_containing(r.out, token + "-other").empty());
    }
    SECTION("-u matches the user, -U prints it") {
        ToolProcess p({tool_path("execsnoop"), "-u", "65534", "-U"});
        REQUIRE(p.wait_attached());
        spawn_and_wait({"/bin/true", token + "-root"});
        pid_t child = fork();
        if (child == 0) {
            if (setuid(65534) != 0) _exit(1);
            execl("/bin/true", "/bin/true", (token + "-nobody").c_str(), nullptr);
            _exit(127);
        }
        waitpid(child, nullptr, 0);
        REQUIRE(p.wait_for_output(token + "-nobody"));
        Finished r = p.stop();
        CHECK(lines_containing(r.out, token + "-root").empty());
        CHECK(lines_containing(r.out, token + "-nobody")[0].rfind("65534 ", 0) == 0);
    }
    SECTION("-p matches the process") {
        int go[2];
        REQUIRE(pipe(go) == 0);
        pid_t wanted = fork();
        if (wanted == 0) {
            char c;
            close(go[1]);
            if (read(go[0], &c, 1) != 1) _exit(1);
            execl("/bin/true", "/bin/true", (token + "-wanted").c_str(), nullptr);
            _exit(127);
        }
        close(go[0]);
        ToolProcess p({tool_path("execsnoop"), "-p", std::to_string(wanted)});
        REQUIRE(p.wait_attached());
        spawn_and_wait({"/bin/true", token + "-other"});
        REQUIRE(write(go[1], "x", 1) == 1);
        close(go[1]);
        waitpid(wanted, nullptr, 0);
        REQUIRE(p.wait_for_output(token + "-wanted"));
        Finished r = p.stop();
        CHECK(lines_containing(r.out, token + "-other").empty());
    }
}

TEST_CASE("execsnoop -T prints the time of each exec", "[execsnoop]") {
    REQUIRE_BPF();
    std::string token = unique_token("execsnoop-time");
    ToolProcess p({tool_path("execsnoop"), "-T"});
    REQUIRE(p.wait_attached());
    spawn_and_wait({"/bin/true", token});
    REQUIRE(p.wait_for_output(token));
    Finished r = p.stop();
    CHECK(lines(r.out)[0].rfind("TIME     PCOMM", 0) == 0);
    auto hits = lines_containing(r.out, token);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0][2] == ':');
    CHECK(hits[0][5] == ':');
}

} // namespace test_execsnoop
