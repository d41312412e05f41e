// sigsnoop (and killsnoop, its kill-mode name) against two children of this
// test: a sender that signals a target a known number of times, each kind
// of call once at least, and then kills a PID no process can have.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <climits>
#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_sigsnoop {

using namespace itest;
using nlohmann::json;

namespace {

// What the sender sends the target, in order: SIGUSR1 by kill() 4 times,
// tkill() and tgkill() once each (the target takes each before the next),
// then SIGUSR2 twice, which the target ignores; then kill(INT_MAX, SIGUSR1),
// which fails with ESRCH (no PID is that high).
constexpr int usr1_kills = 4;
constexpr int usr1_sent = usr1_kills + 2;
constexpr int usr2_sent = 2;
constexpr pid_t no_such_pid = INT_MAX;

struct Workload {
    std::string sender_comm = unique_comm("sigs-");
    std::string target_comm = unique_comm("sigt-");
    pid_t sender = -1;
    pid_t target = -1;

    // Starts both; returns once the sender has exited (all signals sent).
    void run() {
        int acks[2];
        REQUIRE(pipe(acks) == 0);
        // The target: SIGUSR1 blocked and taken with sigwaitinfo (each is
        // queued anew: delivered), SIGUSR2 ignored (never queued). It is
        // forked with SIGUSR1 blocked, so none can reach it unblocked.
        sigset_t usr1, old_mask;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
        target = fork();
        if (target != 0) pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
        REQUIRE(target >= 0);
        if (target == 0) {
            prctl(PR_SET_NAME, target_comm.c_str());
            signal(SIGUSR2, SIG_IGN);
            if (write(acks[1], "r", 1) != 1) _exit(2); // named and ready
            for (int i = 0; i < usr1_sent; i++) {
                if (sigwaitinfo(&usr1, nullptr) != SIGUSR1) _exit(1);
                if (write(acks[1], "a", 1) != 1) _exit(2);
            }
            _exit(0);
        }
        sender = fork();
        REQUIRE(sender >= 0);
        if (sender == 0) {
            prctl(PR_SET_NAME, sender_comm.c_str());
            char ack;
            if (read(acks[0], &ack, 1) != 1) _exit(3); // the target is ready
            for (int i = 0; i < usr1_sent; i++) {
                long r = i < usr1_kills    ? kill(target, SIGUSR1)
                         : i == usr1_kills ? syscall(SYS_tkill, target, SIGUSR1)
                                           : syscall(SYS_tgkill, target, target, SIGUSR1);
                if (r != 0 || read(acks[0], &ack, 1) != 1) _exit(3);
            }
            for (int i = 0; i < usr2_sent; i++)
                if (kill(target, SIGUSR2) != 0) _exit(4);
            if (kill(no_such_pid, SIGUSR1) == 0 || errno != ESRCH) _exit(5);
            _exit(0);
        }
        close(acks[0]);
        close(acks[1]);
        for (pid_t child : {sender, target}) {
            int status = 0;
            REQUIRE(waitpid(child, &status, 0) == child);
            REQUIRE(WIFEXITED(status));
            REQUIRE(WEXITSTATUS(status) == 0);
        }
    }
};

// The events a sigsnoop instance showed of the workload's sender.
std::vector<json> sent_by(const std::string& out, const Workload& w) {
    std::vector<json> events;
    for (const json& e : json_lines(out))
        if (e.at("pid") == w.sender) events.push_back(e);
    return events;
}

int count(const std::vector<json>& events, const std::string& key, const json& value) {
    int n = 0;
    for (const json& e : events)
        if (e.at(key) == value) n++;
    return n;
}

} // namespace

TEST_CASE("sigsnoop shows each signal a process sends: target, signal, result", "[sigsnoop]") {
    REQUIRE_BPF();
    Workload w;
    ToolProcess text({tool_path("sigsnoop"), "-n", w.sender_comm});
    ToolProcess jsonl({tool_path("sigsnoop"), "-o", "json", "-n", w.sender_comm});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    w.run();
    // The sender's exit sends its parent (this test) SIGCHLD: its last signal.
    REQUIRE(jsonl.wait_for_output("\"signal_name\":\"SIGCHLD\""));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);

    std::vector<json> events = sent_by(j.out, w);
    std::map<std::string, int> seen;
    for (const json& e : events) {
        INFO(e.dump());
        CHECK(e.at("comm") == w.sender_comm);
        if (e.at("signal_name") == "SIGCHLD") {
            CHECK(e.at("target_pid") == getpid());
            continue;
        }
        REQUIRE(e.at("target_pid") == w.target);
        CHECK(e.at("target_comm") == w.target_comm);
        std::string name = e.at("signal_name");
        seen[name + " " + e.at("result").get<std::string>()]++;
        if (name == "SIGUSR1") CHECK(e.at("signal") == SIGUSR1);
        // kill() reaches the process (SI_USER), tkill and tgkill one thread (SI_TKILL).
        CHECK(e.at("group") == (e.at("code") == 0));
        CHECK((e.at("code") == 0 || e.at("code") == -6));
        CHECK_FALSE(e.contains("call"));
    }
    CHECK(count(events, "code", -6) == 2);
    // The kill of a PID nobody has generates no signal.
    CHECK(count(events, "target_pid", no_such_pid) == 0);
    CHECK(seen == std::map<std::string, int>{{"SIGUSR1 delivered", usr1_sent},
                                             {"SIGUSR2 ignored", usr2_sent}});
    CHECK(count(events, "signal_name", "SIGCHLD") == 1);

    std::vector<std::string> rows = lines_containing(t.out, w.sender_comm);
    CHECK(lines(t.out)[0].find("PID     COMM             SIG       TPID    RESULT") == 0);
    std::map<std::string, int> text_seen;
    for (const std::string& row : rows) {
        std::vector<std::string> f = fields(row);
        REQUIRE(f.size() == 5);
        CHECK(f[0] == std::to_string(w.sender));
        if (f[3] == std::to_string(w.target)) text_seen[f[2] + " " + f[4]]++;
    }
    CHECK(rows.size() == usr1_sent + usr2_sent + 1);
    CHECK(text_seen == std::map<std::string, int>{{"SIGUSR1 delivered", usr1_sent},
                                                  {"SIGUSR2 ignored", usr2_sent}});
}

TEST_CASE("sigsnoop -x shows only signals not queued, -s only the one signal", "[sigsnoop]") {
    REQUIRE_BPF();
    Workload w;
    ToolProcess failed({tool_path("sigsnoop"), "-x", "-o", "json", "-n", w.sender_comm});
    ToolProcess usr2({tool_path("sigsnoop"), "-s", "SIGUSR2", "-o", "json", "-n", w.sender_comm});
    ToolProcess usr1(
        {tool_path("sigsnoop"), "-s", std::to_string(SIGUSR1), "-o", "json", "-n", w.sender_comm});
    ToolProcess all({tool_path("sigsnoop"), "-o", "json", "-n", w.sender_comm});
    for (ToolProcess* p : {&failed, &usr2, &usr1, &all})
        REQUIRE(p->wait_attached());
    w.run();
    // Once the unfiltered instance shows the sender's last signal, every
    // instance was handed everything, and each prints it before it exits.
    REQUIRE(all.wait_for_output("\"signal_name\":\"SIGCHLD\""));
    std::vector<json> f = sent_by(failed.stop().out, w);
    std::vector<json> s2 = sent_by(usr2.stop().out, w);
    std::vector<json> s1 = sent_by(usr1.stop().out, w);
    std::vector<json> every = sent_by(all.stop().out, w);

    CHECK(every.size() == usr1_sent + usr2_sent + 1);
    // -x: the two ignored SIGUSR2s, none of the delivered ones. (The SIGCHLD
    // to this test counts wherever this test's thread leaves it ignored.)
    CHECK(count(f, "signal_name", "SIGUSR2") == usr2_sent);
    CHECK(count(f, "signal_name", "SIGUSR1") == 0);
    for (const json& e : f)
        CHECK(e.at("result") != "delivered");
    CHECK(s2.size() == usr2_sent);
    CHECK(count(s2, "signal_name", "SIGUSR2") == usr2_sent);
    CHECK(s1.size() == usr1_sent);
    CHECK(count(s1, "signal_name", "SIGUSR1") == usr1_sent);
}

TEST_CASE("killsnoop shows kill, tkill and tgkill calls with their result; -x, -s",
          "[sigsnoop][killsnoop]") {
    REQUIRE_BPF();
    Workload w;
    ToolProcess text({tool_path("killsnoop"), "-n", w.sender_comm});
    ToolProcess jsonl({tool_path("killsnoop"), "-o", "json", "-n", w.sender_comm});
    ToolProcess failed({tool_path("killsnoop"), "-x", "-o", "json", "-n", w.sender_comm});
    ToolProcess usr2(
        {tool_path("sigsnoop"), "-k", "-s", "usr2", "-o", "json", "-n", w.sender_comm});
    for (ToolProcess* p : {&text, &jsonl, &failed, &usr2})
        REQUIRE(p->wait_attached());
    w.run();
    // The failed kill is the sender's last call.
    REQUIRE(jsonl.wait_for_output("\"errno\":3"));
    Finished t = text.stop();
    std::vector<json> events = sent_by(jsonl.stop().out, w);
    std::vector<json> f = sent_by(failed.stop().out, w);
    std::vector<json> s2 = sent_by(usr2.stop().out, w);

    std::map<std::string, int> seen;
    for (const json& e : events) {
        INFO(e.dump());
        CHECK(e.at("comm") == w.sender_comm);
        CHECK_FALSE(e.contains("result"));
        CHECK_FALSE(e.contains("target_comm"));
        std::string call = e.at("call");
        if (e.at("errno") == ESRCH) {
            CHECK(call == "kill");
            CHECK(e.at("target_pid") == no_such_pid);
            CHECK(e.at("signal_name") == "SIGUSR1");
            seen["ESRCH"]++;
            continue;
        }
        CHECK(e.at("errno") == 0);
        CHECK(e.at("target_pid") == w.target);
        seen[call + " " + e.at("signal_name").get<std::string>()]++;
    }
    CHECK(seen == std::map<std::string, int>{{"kill SIGUSR1", usr1_kills},
                                             {"tkill SIGUSR1", 1},
                                             {"tgkill SIGUSR1", 1},
                                             {"kill SIGUSR2", usr2_sent},
                                             {"ESRCH", 1}});
    REQUIRE(f.size() == 1);
    CHECK(f[0].at("errno") == ESRCH);
    CHECK(f[0].at("target_pid") == no_such_pid);
    CHECK(s2.size() == usr2_sent);
    CHECK(count(s2, "signal_name", "SIGUSR2") == usr2_sent);

    // Text: bcc's killsnoop columns, the result as the call's return.
    CHECK(lines(t.out)[0].find("PID     COMM             SIG       TPID    RESULT") == 0);
    std::vector<std::string> rows = lines_containing(t.out, w.sender_comm);
    CHECK(rows.size() == usr1_sent + usr2_sent + 1);
    std::map<std::string, int> text_seen;
    for (const std::string& row : rows) {
        std::vector<std::string> r = fields(row);
        REQUIRE(r.size() == 5);
        CHECK(r[0] == std::to_string(w.sender));
        text_seen[r[2] + " " + r[3] + " " + r[4]]++;
    }
    std::string target = std::to_string(w.target);
    CHECK(text_seen ==
          std::map<std::string, int>{{"SIGUSR1 " + target + " 0", usr1_sent},
                                     {"SIGUSR2 " + target + " 0", usr2_sent},
                                     {"SIGUSR1 " + std::to_string(no_such_pid) + " -3", 1}});
}

TEST_CASE("sigsnoop and killsnoop reject a bad -s, naming it", "[sigsnoop][killsnoop]") {
    for (const char* tool : {"sigsnoop", "killsnoop"})
        for (const char* bad : {"SIGFOO", "65", "-3"}) {
            Finished r = run({tool_path(tool), "-s", bad});
            INFO(tool << " -s " << bad << ": " << r.err);
            CHECK(r.exit_code == 2);
            CHECK(r.err.find(std::string("'") + bad + "'") != std::string::npos);
        }
}

} // namespace test_sigsnoop
