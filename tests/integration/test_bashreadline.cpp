// bashreadline against interactive bashes of the test's own, each on a
// pseudo-terminal the test holds the master of: known command lines are
// typed into them (one with raw escape bytes, entered with readline's
// quoted-insert, Ctrl-V), and what the terminals print is read so that no
// write blocks.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace test_bashreadline {

using namespace itest;
using nlohmann::json;

namespace {

const std::string prompt = "cs-prompt> ";

// bash -i --norc --noprofile on a terminal of its own, no history file, a
// known prompt.
class InteractiveBash {
  public:
    InteractiveBash() {
        master_ = posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master_ >= 0);
        REQUIRE(grantpt(master_) == 0);
        REQUIRE(unlockpt(master_) == 0);
        std::string slave = ptsname(master_);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            setsid();
            int fd = open(slave.c_str(), O_RDWR);
            if (fd < 0) _exit(127);
            ioctl(fd, TIOCSCTTY, 0);
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            if (fd > 2) close(fd);
            close(master_);
            setenv("HISTFILE", "/dev/null", 1);
            setenv("INPUTRC", "/dev/null", 1);
            setenv("TERM", "dumb", 1);
            setenv("PS1", prompt.c_str(), 1);
            execl("/bin/bash", "bash", "--norc", "--noprofile", "-i", nullptr);
            _exit(127);
        }
        fcntl(master_, F_SETFL, O_NONBLOCK);
    }
    ~InteractiveBash() {
        if (!reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        close(master_);
    }
    InteractiveBash(const InteractiveBash&) = delete;
    InteractiveBash& operator=(const InteractiveBash&) = delete;

    pid_t pid() const { return pid_; }

    // Reads the terminal's output until it has shown the prompt n times.
    bool wait_for_prompts(size_t n, double timeout_s = 10) {
        double deadline = now_s() + timeout_s;
        while (count_prompts() < n) {
            if (now_s() > deadline) return false;
            pollfd p{master_, POLLIN, 0};
            poll(&p, 1, 50);
            char buf[4096];
            ssize_t got;
            while ((got = read(master_, buf, sizeof buf)) > 0)
                output_.append(buf, got);
        }
        return true;
    }

    // Types a line (its Enter included) and waits for the next prompt, so
    // that bash is back in readline before the next one.
    bool type(const std::string& keys) {
        size_t before = count_prompts();
        if (write(master_, keys.data(), keys.size()) != ssize_t(keys.size())) return false;
        return wait_for_prompts(before + 1);
    }

    // Types exit and waits for bash to end.
    bool exit() {
        if (write(master_, "exit\r", 5) != 5) return false;
        for (int i = 0; i < 500; i++) {
            char buf[4096];
            while (read(master_, buf, sizeof buf) > 0) {
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                reaped_ = true;
                UNSCOPED_INFO("bash " << pid_ << " ended with status " << status);
                return WIFEXITED(status) && WEXITSTATUS(status) == 0;
            }
            usleep(20000);
        }
        return false;
    }

  private:
    size_t count_prompts() const {
        size_t n = 0;
        for (size_t at = output_.find(prompt); at != std::string::npos;
             at = output_.find(prompt, at + 1))
            n++;
        return n;
    }

    int master_ = -1;
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::string output_;
};

} // namespace

TEST_CASE("bashreadline shows each line typed into bash: PID and COMM, escaped in text, exact in "
          "JSON; -p keeps one bash's lines and leaves the other's out",
          "[bashreadline]") {
    REQUIRE_BPF();
    std::string token = unique_token("typed");
    InteractiveBash mine, other;
    REQUIRE(mine.wait_for_prompts(1));
    REQUIRE(other.wait_for_prompts(1));
    std::string pid = std::to_string(mine.pid());
    TestCgroup cgroup("bashreadline");
    REQUIRE(!cgroup.path.empty());
    REQUIRE(cgroup.add(mine.pid()));

    ToolProcess text({tool_path("bashreadline"), "-U"});
    ToolProcess by_pid({tool_path("bashreadline"), "-o", "json", "-p", pid});
    // The other bash, in its program named by another path (/usr/bin is
    // /bin on Debian 12: one file).
    ToolProcess other_pid({tool_path("bashreadline"), "-o", "json", "-s", "/usr/bin/bash", "-p",
                           std::to_string(other.pid())});
    // Every kernel filter at once, and the name: this bash's lines only.
    ToolProcess filtered({tool_path("bashreadline"), "-o", "json", "-t", pid, "-u",
                          std::to_string(getuid()), "-c", cgroup.path, "-n", "bash"});
    // A UID and a name no bash has: nothing.
    ToolProcess no_uid({tool_path("bashreadline"), "-o", "json", "-u", "65533"});
    ToolProcess no_name({tool_path("bashreadline"), "-o", "json", "-n", "not-bash"});
    for (ToolProcess* t : {&text, &by_pid, &other_pid, &filtered, &no_uid, &no_name})
        REQUIRE(t->wait_attached());
    // Each bash entered readline before the probes were in: a return probe
    // sees only calls made after it, so one line first, left unchecked.
    REQUIRE(mine.type("true\r"));
    REQUIRE(other.type("true\r"));

    std::string plain = "echo plain-" + token;
    // Ctrl-V ESC and Ctrl-V Ctrl-G put the raw bytes in the line: echoed,
    // they would retitle the watching terminal.
    std::string hostile = "echo '\x1b]0;owned\x07-" + token + "'";
    std::string hostile_keys = "echo '\x16\x1b]0;owned\x16\x07-" + token + "'";
    std::string others = "echo other-" + token;
    REQUIRE(mine.type(plain + "\r"));
    REQUIRE(mine.type(hostile_keys + "\r"));
    REQUIRE(other.type(others + "\r"));
    REQUIRE(mine.exit());
    REQUIRE(other.exit());
    REQUIRE(text.wait_for_output("other-" + token));
    REQUIRE(by_pid.wait_for_output("\"exit\""));
    REQUIRE(other_pid.wait_for_output("other-" + token));
    REQUIRE(filtered.wait_for_output("\"exit\""));
    Finished t = text.stop(), j = by_pid.stop(), o = other_pid.stop(), f = filtered.stop(),
             nu = no_uid.stop(), nn = no_name.stop();
    for (const Finished* r : {&t, &j, &o, &f, &nu, &nn})
        CHECK(r->exit_code == 0);
    CHECK(nu.out.find(token) == std::string::npos);
    CHECK(nn.out.find(token) == std::string::npos);

    // Text: UID (-U), TIME, PID, COMMAND; the escape bytes shown, not sent.
    CHECK(lines(t.out).at(0) == "UID     TIME     PID     COMMAND");
    CHECK(t.out.find('\x1b') == std::string::npos);
    CHECK(t.out.find('\x07') == std::string::npos);
    std::vector<std::string> rows;
    for (const std::string& line : lines_containing(t.out, token)) {
        std::vector<std::string> f = fields(line);
        REQUIRE(f.size() >= 4);
        CHECK(f[0] == std::to_string(getuid()));
        CHECK(f[1].size() == 8); // HH:MM:SS
        rows.push_back(line.substr(line.find(f[1]) + 9));
    }
    std::vector<std::string> expected = {pid + " " + plain,
                                         pid + " echo '\\e]0;owned\\x07-" + token + "'",
                                         std::to_string(other.pid()) + " " + others};
    std::vector<std::string> squeezed;
    for (const std::string& row : rows) {
        std::vector<std::string> f = fields(row);
        std::string joined;
        for (const std::string& x : f)
            joined += (joined.empty() ? "" : " ") + x;
        squeezed.push_back(joined);
    }
    CHECK(squeezed == expected);

    // JSON, -p (and the kernel filters with -n): this bash's lines exact,
    // in order, and nothing of the other.
    for (const Finished* run : {&j, &f}) {
        std::vector<std::string> commands;
        for (const json& e : json_lines(run->out)) {
            INFO(e.dump());
            CHECK(e.at("pid") == mine.pid());
            CHECK(e.at("tid") == mine.pid());
            CHECK(e.at("comm") == "bash");
            CHECK(e.at("uid") == getuid());
            CHECK(e.at("truncated") == false);
            CHECK(e.at("time").is_string());
            commands.push_back(e.at("command"));
        }
        CHECK(commands == std::vector<std::string>{plain, hostile, "exit"});
    }
    std::vector<json> theirs = json_lines(o.out);
    REQUIRE(theirs.size() == 2);
    CHECK(theirs[0].at("command") == others);
    CHECK(theirs[0].at("pid") == other.pid());
    CHECK(theirs[1].at("command") == "exit");
}

TEST_CASE("bashreadline -p refuses a process without bash or libreadline, --shared a missing "
          "file",
          "[bashreadline]") {
    REQUIRE_BPF();
    // This test program maps neither.
    Finished r = run({tool_path("bashreadline"), "-p", self_pid()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("process " + self_pid() + " maps no bash") != std::string::npos);
    CHECK(lines(r.err).size() == 1);
    Finished s = run({tool_path("bashreadline"), "--shared", "/nonexistent/libreadline.so.8"});
    CHECK(s.exit_code == 2);
    CHECK(s.err.find("/nonexistent/libreadline.so.8") != std::string::npos);
    // -v says where the probe is; -d ends the run; --btf is taken.
    Finished v =
        run({tool_path("bashreadline"), "-v", "-d", "0.3", "--btf", "/sys/kernel/btf/vmlinux"});
    CHECK(v.exit_code == 0);
    CHECK(v.err.find("uretprobe:/bin/bash:0x") != std::string::npos);
    // A file without readline: one line saying so.
    Finished n = run({tool_path("bashreadline"), "--shared", "/bin/true"});
    CHECK(n.exit_code == 1);
    CHECK(n.err.find("/bin/true defines no readline") != std::string::npos);
}

} // namespace test_bashreadline
