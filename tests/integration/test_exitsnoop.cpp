// exitsnoop against children this test starts and ends in known ways.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <dirent.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_exitsnoop {

using namespace itest;
using nlohmann::json;

namespace {

// One text line of exitsnoop, split into its columns (EXIT_CODE keeps its spaces).
struct TextExit {
    std::string comm, pid, ppid, tid, age, exit_code;
};

std::vector<TextExit> text_exits(const std::string& out, pid_t pid) {
    std::vector<TextExit> found;
    for (const std::string& line : lines(out)) {
        std::istringstream in(line);
        TextExit e;
        in >> e.comm >> e.pid >> e.ppid >> e.tid >> e.age;
        std::getline(in >> std::ws, e.exit_code);
        if (e.pid == std::to_string(pid)) found.push_back(e);
    }
    return found;
}

std::vector<json> json_exits(const std::string& out, pid_t pid) {
    std::vector<json> found;
    for (const json& e : json_lines(out))
        if (e.at("pid") == pid) found.push_back(e);
    return found;
}

// A child named name (its comm) that runs body and exits with what it returns.
template <class Body>
pid_t spawn(const std::string& name, Body body) {
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NAME, name.c_str());
        _exit(body());
    }
    return pid;
}

void reap(pid_t pid) {
    waitpid(pid, nullptr, 0);
}

// Waits until process pid has taken the command name comm.
void wait_for_comm(pid_t pid, const std::string& comm) {
    for (double deadline = now_s() + 10; now_s() < deadline; usleep(1000)) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
        std::string name;
        if (std::getline(in, name) && name == comm) return;
    }
    FAIL("process " << pid << " never took the name " << comm);
}

// The threads of this process the kernel still has.
size_t own_thread_count() {
    size_t n = 0;
    DIR* d = opendir("/proc/self/task");
    if (!d) return 0;
    while (struct dirent* e = readdir(d))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

} // namespace

TEST_CASE("exitsnoop reports exit codes and signals with PID, PPID and age", "[exitsnoop]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("exs-");
    ToolProcess text({tool_path("exitsnoop")});
    ToolProcess jsonl({tool_path("exitsnoop"), "-o", "json"});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());

    pid_t coded = spawn(comm, [] {
        usleep(300000);
        return 7;
    });
    pid_t killed = spawn(comm, [] {
        for (;;)
            pause();
        return 0;
    });
    pid_t clean = spawn(comm, [] { return 0; });
    // Killed once it runs as itself (named), so its exit shows under comm.
    wait_for_comm(killed, comm);
    kill(killed, SIGKILL);
    reap(coded);
    reap(killed);
    reap(clean);
    REQUIRE(text.wait_for_output(" " + std::to_string(coded) + " "));
    REQUIRE(jsonl.wait_for_output("\"pid\":" + std::to_string(coded)));
    REQUIRE(text.wait_for_output(" " + std::to_string(killed) + " "));
    REQUIRE(jsonl.wait_for_output("\"pid\":" + std::to_string(killed)));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    CHECK(lines(t.out)[0].rfind("PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE", 0) ==
          0);

    auto c = text_exits(t.out, coded);
    REQUIRE(c.size() == 1);
    CHECK(c[0].comm == comm);
    CHECK(c[0].ppid == std::to_string(getpid()));
    CHECK(c[0].tid == std::to_string(coded));
    CHECK(std::stod(c[0].age) >= 0.29);
    CHECK(std::stod(c[0].age) < 5.0);
    CHECK(c[0].exit_code == "code 7");

    auto k = text_exits(t.out, killed);
    REQUIRE(k.size() == 1);
    CHECK(k[0].ppid == std::to_string(getpid()));
    CHECK(k[0].exit_code == "signal 9 (KILL)");

    auto z = text_exits(t.out, clean);
    REQUIRE(z.size() == 1);
    CHECK(z[0].exit_code == "0");

    auto jc = json_exits(j.out, coded);
    REQUIRE(jc.size() == 1);
    CHECK(jc[0].at("comm") == comm);
    CHECK(jc[0].at("ppid") == getpid());
    CHECK(jc[0].at("tid") == coded);
    CHECK(jc[0].at("exit_code") == 7);
    CHECK(jc[0].at("signal").is_null());
    CHECK(jc[0].at("core_dumped") == false);
    CHECK(jc[0].at("age_s").get<double>() >= 0.29);
    CHECK(jc[0].at("age_s").get<double>() < 5.0);
    CHECK(jc[0].at("time").get<std::string>().size() == 27);

    auto jk = json_exits(j.out, killed);
    REQUIRE(jk.size() == 1);
    CHECK(jk[0].at("exit_code").is_null());
    CHECK(jk[0].at("signal") == 9);
    CHECK(jk[0].at("signal_name") == "KILL");
}

TEST_CASE("exitsnoop -x shows only failed exits, -p only one process, -n by name", "[exitsnoop]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("exf-");
    int go[2];
    REQUIRE(pipe(go) == 0);
    pid_t wanted = spawn(comm, [&] {
        char ch;
        close(go[1]);
        return read(go[0], &ch, 1) == 1 ? 4 : 1;
    });
    close(go[0]);
    ToolProcess failed({tool_path("exitsnoop"), "-x"});
    ToolProcess one({tool_path("exitsnoop"), "-p", std::to_string(wanted)});
    ToolProcess named({tool_path("exitsnoop"), "-n", comm});
    REQUIRE(failed.wait_attached());
    REQUIRE(one.wait_attached());
    REQUIRE(named.wait_attached());
    pid_t ok = spawn(comm, [] { return 0; });
    pid_t bad = spawn(comm, [] { return 3; });
    pid_t other = spawn("exf-other", [] { return 5; });
    reap(ok);
    reap(bad);
    reap(other);
    REQUIRE(write(go[1], "x", 1) == 1);
    close(go[1]);
    reap(wanted);
    REQUIRE(failed.wait_for_output(" " + std::to_string(wanted) + " "));
    REQUIRE(one.wait_for_output(" " + std::to_string(wanted) + " "));
    REQUIRE(named.wait_for_output(" " + std::to_string(wanted) + " "));
    Finished f = failed.stop();
    Finished o = one.stop();
    Finished n = named.stop();

    CHECK(text_exits(f.out, ok).empty());
    REQUIRE(text_exits(f.out, bad).size() == 1);
    CHECK(text_exits(f.out, bad)[0].exit_code == "code 3");
    CHECK(text_exits(f.out, wanted)[0].exit_code == "code 4");

    CHECK(lines(o.out).size() == 2); // the header and the one process
    CHECK(text_exits(o.out, wanted).size() == 1);

    CHECK(text_exits(n.out, ok).size() == 1);
    CHECK(text_exits(n.out, other).empty());
}

namespace {
void* thread_body(void*) {
    return nullptr;
}
} // namespace

TEST_CASE("exitsnoop reports a process once, and each thread with --threads", "[exitsnoop]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("ext-");
    ToolProcess processes({tool_path("exitsnoop"), "-o", "json"});
    ToolProcess threads({tool_path("exitsnoop"), "--threads", "-o", "json"});
    REQUIRE(processes.wait_attached());
    REQUIRE(threads.wait_attached());
    pid_t child = spawn(comm, [] {
        pthread_t t;
        if (pthread_create(&t, nullptr, thread_body, nullptr) != 0) return 1;
        pthread_join(t, nullptr);
        // pthread_join returns when the thread's TID is cleared, before it
        // has quite left the kernel: the leader's exit must come after it,
        // as the process's end.
        while (own_thread_count() > 1)
            usleep(1000);
        return 5;
    });
    reap(child);
    REQUIRE(processes.wait_for_output("\"pid\":" + std::to_string(child)));
    // The leader's record: every record opens with time, pid, tid.
    REQUIRE(threads.wait_for_output("\"pid\":" + std::to_string(child) +
                                    ",\"tid\":" + std::to_string(child) + ","));
    Finished p = processes.stop();
    Finished t = threads.stop();

    auto once = json_exits(p.out, child);
    REQUIRE(once.size() == 1);
    CHECK(once[0].at("tid") == child);
    CHECK(once[0].at("exit_code") == 5);

    auto each = json_exits(t.out, child);
    REQUIRE(each.size() == 2);
    const json& thread = each[0].at("tid") == child ? each[1] : each[0];
    const json& leader = each[0].at("tid") == child ? each[0] : each[1];
    CHECK(thread.at("tid") != child);
    CHECK(thread.at("process_exit") == false);
    CHECK(thread.at("exit_code") == 0);
    CHECK(leader.at("process_exit") == true);
    CHECK(leader.at("exit_code") == 5);
}

} // namespace test_exitsnoop
