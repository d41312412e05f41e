// Faults a tool must survive with exactly the documented behaviour: killed
// with SIGKILL, two instances at once, a traced process that vanishes
// mid-event, tracefs missing, a PID filter for a process that is not there.
// (Bad usage, no privileges, a missing BTF file, a closed reader and a full
// disk are in test_common.cpp.)
#include "harness.h"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <fstream>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_faults {

using namespace itest;
using nlohmann::json;

namespace {

// Which of ids still exist in the kernel, by kind.
std::set<unsigned> still_loaded(const std::set<unsigned>& ids, int (*next)(__u32, __u32*)) {
    std::set<unsigned> left;
    __u32 id = 0;
    while (next(id, &id) == 0)
        if (ids.count(id)) left.insert(id);
    return left;
}

// Hides tracefs from the child: a private mount namespace without it.
void hide_tracefs() {
    if (unshare(CLONE_NEWNS) != 0) _exit(98);
    mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    umount2("/sys/kernel/tracing", MNT_DETACH);
    umount2("/sys/kernel/debug/tracing", MNT_DETACH);
}

} // namespace

TEST_CASE("a tool killed with SIGKILL leaves no program, link or map behind", "[faults]") {
    REQUIRE_BPF();
    for (const std::string& tool : {std::string("opensnoop"), std::string("execsnoop"),
                                    std::string("biolatency"), std::string("tcpconnect")}) {
        INFO(tool);
        ToolProcess p({tool_path(tool)});
        REQUIRE(p.wait_attached());
        std::set<unsigned> progs = bpf_ids_held_by(p.pid(), "prog_id:");
        std::set<unsigned> maps = bpf_ids_held_by(p.pid(), "map_id:");
        std::set<unsigned> links = bpf_ids_held_by(p.pid(), "link_id:");
        REQUIRE(!progs.empty());
        REQUIRE(!maps.empty());
        REQUIRE(!links.empty());
        Finished r = p.stop(SIGKILL);
        CHECK(r.signal == SIGKILL);
        // The kernel frees them once the last reference goes, tp_btf and
        // raw_tp programs after an RCU grace period: wait up to 5 s.
        std::set<unsigned> left_progs, left_maps, left_links;
        for (int i = 0; i < 250; i++) {
            left_progs = still_loaded(progs, bpf_prog_get_next_id);
            left_maps = still_loaded(maps, bpf_map_get_next_id);
            left_links = still_loaded(links, bpf_link_get_next_id);
            if (left_progs.empty() && left_maps.empty() && left_links.empty()) break;
            usleep(20000);
        }
        CHECK(left_progs.empty());
        CHECK(left_maps.empty());
        CHECK(left_links.empty());
    }
}

TEST_CASE("two instances of the same tool at once each see every event", "[faults]") {
    REQUIRE_BPF();
    SECTION("opensnoop") {
        std::string token = unique_token("faults-twice-open");
        ToolProcess first({tool_path("opensnoop"), "-p", self_pid()});
        ToolProcess second({tool_path("opensnoop"), "-p", self_pid(), "-o", "json"});
        REQUIRE(first.wait_attached());
        REQUIRE(second.wait_attached());
        for (int i = 0; i < 300; i++) {
            std::string path = "/tmp/" + token + "-" + std::to_string(i);
            int fd = open(path.c_str(), O_RDONLY);
            if (fd >= 0) close(fd);
        }
        Finished a = first.stop();
        Finished b = second.stop();
        CHECK(a.exit_code == 0);
        CHECK(b.exit_code == 0);
        CHECK(lines_containing(a.out, token).size() == 300);
        CHECK(lines_containing(b.out, token).size() == 300);
        CHECK(a.err.empty());
        CHECK(b.err.empty());
    }
    SECTION("execsnoop") {
        std::string token = unique_token("faults-twice-exec");
        ToolProcess first({tool_path("execsnoop")});
        ToolProcess second({tool_path("execsnoop")});
        REQUIRE(first.wait_attached());
        REQUIRE(second.wait_attached());
        for (int i = 0; i < 20; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                execl("/bin/true", "/bin/true", token.c_str(), std::to_string(i).c_str(), nullptr);
                _exit(127);
            }
            waitpid(pid, nullptr, 0);
        }
        REQUIRE(first.wait_for_output(token + " 19"));
        REQUIRE(second.wait_for_output(token + " 19"));
        Finished a = first.stop();
        Finished b = second.stop();
        CHECK(a.exit_code == 0);
        CHECK(b.exit_code == 0);
        CHECK(lines_containing(a.out, token).size() == 20);
        CHECK(lines_containing(b.out, token).size() == 20);
    }
    SECTION("biolatency") {
        // Summary tools keep their maps per instance: both print a histogram.
        Finished a, b;
        {
            ToolProcess first({tool_path("biolatency"), "-o", "json", "1", "2"});
            ToolProcess second({tool_path("biolatency"), "-o", "json", "1", "2"});
            a = first.wait(15);
            b = second.wait(15);
        }
        CHECK(a.exit_code == 0);
        CHECK(b.exit_code == 0);
        CHECK(lines(a.out).size() == 2);
        CHECK(lines(b.out).size() == 2);
    }
}

// The kernel does not run a tracefs tracepoint's program on a CPU where a
// BPF program or a BPF syscall's map access is already running: a softirq
// that comes in during the test's own map lookups (softirqs traces it)
// skips the tool's programs. The tool must say how many runs it lost so,
// as many as the kernel counted, not lose them silently.
TEST_CASE("the runs the kernel skipped are reported on stderr and in JSON", "[faults]") {
    REQUIRE_BPF();
    ToolProcess tool({tool_path("softirqs"), "-o", "json"}, ToolProcess::Stdout::pipe,
                     [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf,raw_tp", 1); });
    REQUIRE(tool.wait_attached());
    int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "itest_skip", 4, 4, 1, nullptr);
    REQUIRE(map >= 0);
    uint32_t key = 0, value = 0;
    uint64_t seen = 0;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (seen == 0 && std::chrono::steady_clock::now() < end) {
        for (int i = 0; i < 20000; i++)
            bpf_map_lookup_elem(map, &key, &value);
        seen = bpf_program_runs(tool.pid()).recursion_misses;
    }
    close(map);
    REQUIRE(seen > 0);
    Finished f = tool.stop();
    INFO(f.err);
    CHECK(f.exit_code == 0);
    uint64_t said = skipped_on_stderr(f.err);
    CHECK(said >= seen);
    uint64_t in_json = 0;
    for (const std::string& line : lines(f.out)) {
        nlohmann::json record = nlohmann::json::parse(line);
        if (record.value("type", "") == "skipped") in_json = record.at("skipped_runs");
    }
    CHECK(in_json == said);
}

TEST_CASE("a process killed inside a traced open is reported once and tracing goes on",
          "[faults]") {
    REQUIRE_BPF();
    // open() of a FIFO with no writer blocks in the kernel, between the
    // syscall's entry and exit tracepoints: the process vanishes mid-event.
    std::string fifo = "/tmp/" + unique_token("faults-vanish");
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    ToolProcess p({tool_path("opensnoop"), "-o", "json"}, ToolProcess::Stdout::file);
    REQUIRE(p.wait_attached());
    pid_t child = fork();
    if (child == 0) {
        open(fifo.c_str(), O_RDONLY);
        _exit(0);
    }
    // Until the child sits in the FIFO's open (its wchan names the wait).
    for (int i = 0; i < 500; i++) {
        std::ifstream wchan("/proc/" + std::to_string(child) + "/wchan");
        std::string w;
        std::getline(wchan, w);
        if (w.find("fifo") != std::string::npos || w.find("pipe") != std::string::npos) break;
        usleep(10000);
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status));
    // Tracing continues: a later open is reported.
    std::string after = "/tmp/" + unique_token("faults-after");
    int fd = open(after.c_str(), O_RDONLY);
    if (fd >= 0) close(fd);
    REQUIRE(p.wait_for_output(after));
    Finished r = p.stop();
    unlink(fifo.c_str());
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    int reported = 0;
    for (const std::string& line : lines(r.out)) {
        json e = json::parse(line);
        if (e.value("path", "") != fifo) continue;
        reported++;
        CHECK(e.at("pid") == child);
        CHECK(e.at("fd") == -1);
        // The kernel ends the interrupted call with ERESTARTSYS (512) at
        // the exit tracepoint; the tool reports it as it was seen.
        CHECK(e.at("errno").get<int>() > 0);
    }
    CHECK(reported == 1);
}

TEST_CASE("a process that exits before its summary still shows with its name", "[faults]") {
    REQUIRE_BPF();
    ToolProcess p({tool_path("runqlat"), "-P", "-o", "json", "2", "1"});
    REQUIRE(p.wait_attached());
    std::string self_comm;
    std::getline(std::ifstream("/proc/self/comm"), self_comm);
    pid_t child = fork();
    if (child == 0) {
        for (int i = 0; i < 50; i++)
            sched_yield(), usleep(1000);
        _exit(0);
    }
    waitpid(child, nullptr, 0);
    Finished r = p.wait(15);
    CHECK(r.exit_code == 0);
    bool found = false;
    for (const std::string& line : lines(r.out)) {
        json e = json::parse(line);
        if (e.at("pid") != child) continue;
        found = true;
        // The name it had when the kernel side first saw it (this test's,
        // inherited at fork): it is gone, so /proc cannot say better.
        CHECK(e.at("comm") == self_comm);
        CHECK(e.at("total").get<uint64_t>() > 0);
    }
    CHECK(found);
}

TEST_CASE("without tracefs every tool falls back or says in one line that it needs tracefs",
          "[faults]") {
    REQUIRE_BPF();
    for (const std::string& tool : tools_that_run_here()) {
        INFO(tool);
        Finished r = run({tool_path(tool), "--dry-run"}, 30, hide_tracefs);
        if (r.exit_code == 0) {
            // The plan chose no tracefs tracepoint.
            CHECK(r.out.find("attach plan") != std::string::npos);
            for (const std::string& line : lines(r.out))
                if (line.find("tracepoint:") != std::string::npos)
                    CHECK(line.find("passed over") != std::string::npos);
        } else {
            CHECK(r.exit_code == 1);
            CHECK(r.err.find("tracefs") != std::string::npos);
            CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        }
    }
}

namespace {

// One event of each kind the tools with -p trace, made by this process and
// its children: an exec, an exit, a failed open, an O_DIRECT write and read
// of a file on a disk (block I/O, and file system calls), a loopback TCP
// connection accepted and closed, a line written to a terminal, and a short
// sleep (off CPU, a wake-up).
void make_events_of_every_kind() {
    pid_t child = fork();
    if (child == 0) {
        execl("/bin/true", "true", static_cast<char*>(nullptr));
        _exit(127);
    }
    waitpid(child, nullptr, 0);
    std::string missing = "/tmp/" + unique_token("missing");
    close(open(missing.c_str(), O_RDONLY));
    struct stat st;
    stat(missing.c_str(), &st);
    syscall(SYS_umount2, missing.c_str(), 0); // fails (ENOENT): a mount call all the same
    syscall(SYS_setresuid, -1, -1, -1);       // changes nothing: a set*id call all the same
    uint32_t word = 0;                        // a futex wait that times out after 1 ms: futexctn
    struct timespec timeout {
        0, 1000000
    };
    syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &timeout, nullptr, 0);
    {
        ScratchFile file(1 << 20);
        CHECK(file.direct_writes(4096, 4));
        CHECK(file.direct_reads(4096, 4));
        // A buffered read of the file out of the page cache: pages read
        // ahead and used (readahead).
        int fd = open(file.path().c_str(), O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
        char buffer[65536];
        while (read(fd, buffer, sizeof buffer) > 0) {
        }
        close(fd);
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage addr = loopback(AF_INET, 0);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(sockaddr_in)) == 0);
    REQUIRE(listen(listener, 1) == 0);
    addr = loopback(AF_INET, local_port(listener));
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(sockaddr_in)) == 0);
    int server = accept(listener, nullptr, nullptr);
    CHECK(server >= 0);
    // Bytes each way, read by the other side (tcptop, tcpsubnet, tcppktlat).
    char bytes[16] = "0123456789abcde";
    CHECK(send(client, bytes, sizeof bytes, 0) == sizeof bytes);
    CHECK(recv(server, bytes, sizeof bytes, MSG_WAITALL) == sizeof bytes);
    CHECK(send(server, bytes, sizeof bytes, 0) == sizeof bytes);
    CHECK(recv(client, bytes, sizeof bytes, MSG_WAITALL) == sizeof bytes);
    close(client);
    close(server);
    close(listener);
    // A line written to a pseudo-terminal of this test's own (ttysnoop).
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(grantpt(master) == 0);
    REQUIRE(unlockpt(master) == 0);
    int terminal = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(terminal >= 0);
    CHECK(write(terminal, "tty\n", 4) == 4);
    close(terminal);
    close(master);
    // A descriptor passed over a Unix socket pair (sofdsnoop).
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) == 0);
    char byte = 'f';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &pair[1], sizeof(int));
    CHECK(sendmsg(pair[0], &msg, 0) == 1);
    close(pair[0]);
    close(pair[1]);
    usleep(20000);
}

// A child reads 32 MiB in a memory cgroup limited to 16 MiB: memory cgroup
// reclaim, for drsnoop (too slow to make for every tool).
void reclaim_in_a_cgroup() {
    MemoryLimitedCgroup cgroup(unique_token("faults-reclaim"), 16 << 20);
    ColdFile file(32 << 20);
    REQUIRE(cgroup.ok());
    REQUIRE(file.ok());
    pid_t child = fork();
    if (child == 0) _exit(read_in_cgroup(cgroup, file.path()));
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

// Compaction of every zone, in a child (compactsnoop; numamove -a counts
// its migrations).
void compact_memory() {
    pid_t child = fork();
    if (child == 0) _exit(write_text("/proc/sys/vm/compact_memory", "1") ? 0 : 1);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

// Swap-ins: a child in a 16 MiB cgroup writes and reads back 32 MiB with a
// swap file on (swapin). False, with a warning, where no swap file can be
// turned on.
bool swap_in_a_cgroup() {
    MemoryLimitedCgroup cgroup(unique_token("faults-swap"), 16 << 20);
    REQUIRE(cgroup.ok());
    REQUIRE(allow_swap(cgroup));
    SwapFile swap(64 << 20);
    if (!swap.ok()) {
        WARN("swapin not checked: " << swap.why());
        return false;
    }
    pid_t child = fork();
    if (child == 0) _exit(swap_out_and_in(cgroup, 32 << 20));
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    return true;
}

// Events or counts in a tool's JSON output: event lines, stacks, or a
// summary's total.
uint64_t reported(const std::string& out) {
    uint64_t n = 0;
    for (const std::string& line : lines(out)) {
        json e = json::parse(line);
        if (e.contains("total"))
            n += e.at("total").get<uint64_t>();
        else if (e.contains("migrations")) // numamove's interval line
            n += e.at("migrations").get<uint64_t>();
        else if (e.contains("entries")) // a table (tcptop, tcpsubnet): its rows
            n += e.at("entries").size();
        else if (e.value("type", "") != "lost" && e.value("type", "") != "skipped")
            n++;
    }
    return n;
}

} // namespace

TEST_CASE("a PID filter for a process that does not exist runs and reports no event", "[faults]") {
    REQUIRE_BPF();
    std::vector<std::string> side_by_side;
    for (const std::string& tool : tools_that_run_here()) {
        Finished help = run({tool_path(tool), "--help"});
        if (help.out.find("--pid") == std::string::npos) continue;
        INFO(tool);
        if (tool == "gethostlatency" || tool == "threadsnoop" || tool == "bashreadline" ||
            tool == "sslsniff" || tool == "funclatency" || tool == "memleak" || tool == "javagc") {
            // Their uprobes go into the process's own files (its C library,
            // bash, libssl, libjvm.so; funclatency's default function is
            // libc's getaddrinfo; memleak -p the process's allocator): they
            // refuse.
            Finished r = run({tool_path(tool), "-p", "4194000", "-d", "1"}, 30);
            CHECK(r.exit_code == 1);
            CHECK(r.err == tool + ": no process 4194000\n");
            continue;
        }
        if (tool == "profile") {
            // It samples running processes: a PID that is not running is a
            // usage error, named.
            Finished r = run({tool_path(tool), "-p", "4194000", "-d", "1"}, 30);
            CHECK(r.exit_code == 2);
            CHECK(r.err.find("invalid PID '4194000': no such process") != std::string::npos);
            continue;
        }
        side_by_side.push_back(tool);
    }
    // Both sides: the same tool without the filter, at the same time,
    // reports the events this test makes (and whatever else runs), so the
    // filtered one had events to drop. A group of tools at a time, side by
    // side, over one workload.
    for (const std::vector<std::string>& group : in_groups(side_by_side)) {
        auto has = [&](const char* tool) {
            return std::find(group.begin(), group.end(), tool) != group.end();
        };
        std::vector<std::unique_ptr<ToolProcess>> none;
        std::vector<std::unique_ptr<ToolProcess>> all;
        for (const std::string& tool : group) {
            std::vector<std::string> args = {"-o", "json"};
            if (tool == "fsslower") args.insert(args.end(), {"--min", "0"});
            if (tool == "dirtop") args.insert(args.end(), {"--dir", "/"}); // every file
            if (tool == "runqslower") args.push_back("0"); // every wait, not only those over 10 ms
            if (tool == "numamove") args.push_back("-a");  // compaction's too: one NUMA node here
            std::vector<std::string> filtered = tool_command(tool);
            filtered.insert(filtered.end(), {"-p", "4194000"});
            std::vector<std::string> unfiltered = tool_command(tool);
            filtered.insert(filtered.end(), args.begin(), args.end());
            unfiltered.insert(unfiltered.end(), args.begin(), args.end());
            none.push_back(std::make_unique<ToolProcess>(filtered));
            all.push_back(std::make_unique<ToolProcess>(unfiltered));
        }
        for (size_t i = 0; i < group.size(); i++) {
            INFO(group[i]);
            REQUIRE(none[i]->wait_attached(60));
            REQUIRE(all[i]->wait_attached(60));
        }
        make_events_of_every_kind();
        if (has("drsnoop")) reclaim_in_a_cgroup();
        if (has("compactsnoop") || has("numamove")) compact_memory();
        bool swapped = !has("swapin") || swap_in_a_cgroup();
        for (size_t i = 0; i < group.size(); i++) {
            INFO(group[i]);
            Finished a = all[i]->stop();
            Finished r = none[i]->stop();
            if (group[i] == "swapin" && !swapped) continue;
            CHECK(a.exit_code == 0);
            CHECK(reported(a.out) > 0);
            CHECK(r.exit_code == 0);
            // Nothing on stderr but, from a tool that runs part of its plan
            // (klockstat without hold times here), the one line that says
            // which part this kernel cannot trace, and the one that says how
            // many runs the kernel skipped (funccount's tracefs programs,
            // with a dozen tools running at once on a loaded machine): what
            // they would have seen, the filter would have dropped too.
            std::string err;
            for (const std::string& line : lines(r.err))
                if (line.find(" not traced: this kernel offers no way (") == std::string::npos &&
                    line.find(": the kernel skipped ") == std::string::npos)
                    err += line + "\n";
            CHECK(err.empty());
            // Event tools print nothing; summary tools an empty summary.
            CHECK(reported(r.out) == 0);
        }
    }
}

} // namespace test_faults
