// javagc against real JVMs this test starts: a one-file Java program
// (java Gc.java N, no javac) that prints "ready", waits for a line, calls
// System.gc() N times, prints "done" and exits. Each System.gc() is one full
// collection (gc__begin(full) to gc__end, with the memory pools' probes
// between). Two JVMs with different counts show both sides of -p.
#include "harness.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_javagc {

using namespace itest;
using nlohmann::json;

namespace {

const char* const gc_program = R"(public class Gc {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        System.out.println("ready");
        System.in.read();
        for (int i = 0; i < n; i++)
            System.gc();
        System.out.println("done");
    }
}
)";

// The program's source, written once a run.
const std::string& gc_source() {
    static const std::string path = [] {
        std::string dir = "/tmp/" + unique_token("corescope-javagc");
        mkdir(dir.c_str(), 0755);
        std::ofstream(dir + "/Gc.java") << gc_program;
        return dir + "/Gc.java";
    }();
    return path;
}

// A JVM running Gc.java: started, it has printed "ready" (libjvm.so is
// mapped); go() lets it collect and waits for its exit.
class Jvm {
  public:
    explicit Jvm(int collections) {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
        std::string count = std::to_string(collections);
        const std::string& source = gc_source();
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            close(in[1]);
            close(out[0]);
            // Small and quick: one GC thread, no JIT tiers beyond C1.
            execlp("java", "java", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                   source.c_str(), count.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        go_ = in[1];
        out_ = out[0];
        ready_ = read_line() == "ready";
    }
    ~Jvm() {
        if (go_ >= 0) close(go_);
        if (out_ >= 0) close(out_);
        if (pid_ > 0 && !reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    Jvm(const Jvm&) = delete;
    Jvm& operator=(const Jvm&) = delete;

    bool ready() const { return ready_; }
    pid_t pid() const { return pid_; }
    std::string pid_text() const { return std::to_string(pid_); }
    // Lets it collect; true when it printed "done" and exited with 0.
    bool go() {
        if (write(go_, "\n", 1) != 1) return false;
        bool done = read_line() == "done";
        int status = 0;
        waitpid(pid_, &status, 0);
        reaped_ = true;
        return done && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

  private:
    std::string read_line() {
        std::string line;
        char c;
        while (read(out_, &c, 1) == 1 && c != '\n')
            line += c;
        return line;
    }
    pid_t pid_ = -1;
    int go_ = -1;
    int out_ = -1;
    bool ready_ = false;
    bool reaped_ = false;
};

// The libjvm.so pid maps, from its maps.
std::string libjvm_of(pid_t pid) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    for (std::string line; std::getline(maps, line);) {
        auto slash = line.find('/');
        if (slash != std::string::npos && line.ends_with("/libjvm.so")) return line.substr(slash);
    }
    return {};
}

// The JSON records of pid.
std::vector<json> records_of(const std::string& text, pid_t pid) {
    std::vector<json> out;
    for (const std::string& line : lines(text)) {
        json j = json::parse(line); // throws if invalid
        if (j.value("pid", 0) == pid) out.push_back(j);
    }
    return out;
}

} // namespace

TEST_CASE("javagc shows each System.gc() of the JVM -p names, in text and JSON", "[javagc]") {
    REQUIRE_BPF();
    if (!have_command("java"))
        SKIP_CASE("needs java (scripts/setup.sh installs openjdk-17-jre-headless)");
    Jvm a(4), b(2);
    REQUIRE(a.ready());
    REQUIRE(b.ready());
    TestCgroup cgroup(unique_token("javagc"));
    REQUIRE(!cgroup.path.empty());
    REQUIRE(cgroup.add(a.pid()));
    std::string libjvm = libjvm_of(a.pid());
    REQUIRE(!libjvm.empty());
    ToolProcess text({tool_path("javagc"), "-T", "-p", a.pid_text()});
    ToolProcess ms({tool_path("javagc"), "-m", "--libjvm", libjvm, "-p", a.pid_text(), "-u", "0",
                    "-n", "jav"});
    ToolProcess js({tool_path("javagc"), "-o", "json", "-p", a.pid_text()});
    // bcc's spelling, the PID as the argument.
    ToolProcess positional({tool_path("javagc"), "-o", "json", b.pid_text()});
    // Every JVM of the system's JDK, those of A's cgroup only.
    ToolProcess in_cgroup({tool_path("javagc"), "-o", "json", "-c", cgroup.path});
    // A minimum no collection reaches; it ends by itself.
    ToolProcess minimum({tool_path("javagc"), "-o", "json", "-M", "60000", "-p", a.pid_text(), "-v",
                         "--btf", "/sys/kernel/btf/vmlinux", "-d", "3"});
    for (ToolProcess* p : {&text, &ms, &js, &positional, &in_cgroup, &minimum})
        REQUIRE(p->wait_attached());
    REQUIRE(a.go());
    REQUIRE(b.go());
    REQUIRE(js.wait_for_output(R"("full":true)"));
    REQUIRE(positional.wait_for_output(R"("full":true)"));
    REQUIRE(in_cgroup.wait_for_output(R"("full":true)"));

    // Text: TIME PID COMM TYPE USECS BEFORE_KB AFTER_KB GC, A's lines only.
    Finished t = text.stop();
    CHECK(t.exit_code == 0);
    std::vector<std::string> rows = lines(t.out);
    REQUIRE(!rows.empty());
    CHECK(fields(rows[0]) == std::vector<std::string>{"TIME", "PID", "COMM", "TYPE", "USECS",
                                                      "BEFORE_KB", "AFTER_KB", "GC"});
    int full = 0;
    for (size_t i = 1; i < rows.size(); i++) {
        std::vector<std::string> f = fields(rows[i]);
        REQUIRE(f.size() >= 8);
        CHECK(f[0].size() == 8); // HH:MM:SS
        CHECK(f[1] == a.pid_text());
        CHECK(f[2] == "java");
        double us = std::stod(f[4]);
        CHECK(us > 0);
        CHECK(us < 10e6);
        CHECK(std::stoull(f[5]) > 0); // the pools held something before
        if (f[3] == "full") {
            full++;
            // Serial's full collections are its "MarkSweepCompact".
            CHECK(rows[i].find("MarkSweepCompact") != std::string::npos);
        }
    }
    CHECK(full >= 4);

    Finished m = ms.stop();
    CHECK(m.exit_code == 0);
    rows = lines(m.out);
    REQUIRE(rows.size() >= 5);
    CHECK(fields(rows[0]).at(3) == "MSECS");
    for (size_t i = 1; i < rows.size(); i++) {
        double msecs = std::stod(fields(rows[i]).at(3));
        CHECK(msecs > 0);
        CHECK(msecs < 10e3);
    }

    Finished j = js.stop();
    CHECK(j.exit_code == 0);
    std::vector<json> mine = records_of(j.out, a.pid());
    CHECK(mine.size() == lines(j.out).size()); // nothing of B's, nor of any other
    int full_json = 0;
    for (const json& e : mine) {
        CHECK(e.at("comm") == "java");
        CHECK(e.at("tid").get<int>() != a.pid()); // the VM thread, not main
        CHECK(e.at("time").is_string());
        double us = e.at("duration_us").get<double>();
        CHECK(us > 0);
        CHECK(us < 10e6);
        CHECK(e.at("pools").get<int>() > 0);
        CHECK(e.at("used_before").get<uint64_t>() > 0);
        CHECK(e.at("manager").is_string());
        if (e.at("full") == true) full_json++;
    }
    CHECK(full_json >= 4);

    Finished p = positional.stop();
    CHECK(p.exit_code == 0);
    std::vector<json> bs = records_of(p.out, b.pid());
    CHECK(bs.size() == lines(p.out).size());
    int full_b = 0;
    for (const json& e : bs)
        if (e.at("full") == true) full_b++;
    CHECK(full_b >= 2);

    Finished c = in_cgroup.stop();
    CHECK(c.exit_code == 0);
    CHECK(records_of(c.out, a.pid()).size() >= 4);
    CHECK(records_of(c.out, a.pid()).size() == lines(c.out).size()); // none of B's

    Finished none = minimum.wait();
    CHECK(none.exit_code == 0);
    CHECK(none.out.empty());
    CHECK(none.err.find("javagc: attach plan") != std::string::npos); // -v
}

TEST_CASE("javagc refuses a process that is not a JVM, in one line", "[javagc]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("javagc"), "-p", self_pid()});
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err).size() == 1);
    CHECK(r.err.find("process " + self_pid() + " maps no libjvm.so") != std::string::npos);
    CHECK(r.out.empty());
}

TEST_CASE("javagc rejects a missing --libjvm and a bad PID with exit 2", "[javagc]") {
    Finished r = run({tool_path("javagc"), "--libjvm", "/nonexistent/libjvm.so"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/nonexistent/libjvm.so") != std::string::npos);
    r = run({tool_path("javagc"), "12ab"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("12ab") != std::string::npos);
}

} // namespace test_javagc
