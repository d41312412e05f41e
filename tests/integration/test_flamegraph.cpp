// Flame graphs (-o svg, corescope flamegraph): profile -o svg of a child
// spinning in a named function has that function as its largest leaf;
// offcputime -o svg of a child sleeping in a named function has it, in
// microseconds; corescope flamegraph draws folded text with the widths its
// counts give; the tools without stacks refuse -o svg. The SVGs are read
// with the strict reader of tests/common/svg_reader.h.
#include "harness.h"

#include "svg_reader.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// The functions the stacks must show, outside any namespace and unmangled,
// as the checks name them. noinline, with a side effect in the loop.
extern "C" [[gnu::noinline]] void corescope_flame_spin_xyz() {
    volatile unsigned long spins = 0;
    for (;;)
        spins = spins + 1;
}

namespace test_flamegraph {

using namespace itest;

namespace {

struct Frame {
    std::string name, kind, title;
    double x = 0, width = 0;
    uint64_t start = 0, count = 0;
    size_t depth = 0;
};

struct Graph {
    std::string title;
    std::vector<Frame> frames;
};

Graph read_graph(const std::string& svg) {
    svgreader::Result read = svgreader::read(svg);
    INFO(read.error);
    INFO(svg.substr(0, 2000));
    REQUIRE(read.root);
    Graph graph;
    graph.title = read.root->child("title")->text;
    for (const svgreader::Element* g : read.root->all("g")) {
        std::string cls = g->attribute("class");
        if (cls.rfind("f ", 0) != 0) continue;
        Frame f;
        f.kind = cls.substr(2);
        f.title = g->child("title")->text;
        f.name = f.title.substr(0, f.title.rfind(" ("));
        f.x = std::stod(g->child("rect")->attribute("x"));
        f.width = std::stod(g->child("rect")->attribute("width"));
        f.start = std::stoull(g->attribute("data-s"));
        f.count = std::stoull(g->attribute("data-c"));
        f.depth = std::stoul(g->attribute("data-d"));
        graph.frames.push_back(f);
    }
    REQUIRE(!graph.frames.empty());
    return graph;
}

// Each frame's own count (its count less its children's), by name: the
// leaves' share.
std::map<std::string, uint64_t> self_counts(const Graph& graph) {
    std::map<std::string, uint64_t> self;
    for (const Frame& f : graph.frames) {
        uint64_t below = 0;
        for (const Frame& c : graph.frames)
            if (c.depth == f.depth + 1 && c.start >= f.start &&
                c.start + c.count <= f.start + f.count)
                below += c.count;
        self[f.name] += f.count - below;
    }
    return self;
}

const Frame* find(const Graph& graph, const std::string& part) {
    for (const Frame& f : graph.frames)
        if (f.name.find(part) != std::string::npos) return &f;
    return nullptr;
}

struct Spinner {
    pid_t pid = fork();
    Spinner() {
        if (pid == 0) {
            prctl(PR_SET_NAME, "cs-flame-spin");
            corescope_flame_spin_xyz();
        }
    }
    ~Spinner() {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
};

std::string write_temp(const std::string& text) {
    std::string path = "/tmp/" + unique_token("corescope-flame") + ".folded";
    std::ofstream(path) << text;
    return path;
}

} // namespace

TEST_CASE("profile -o svg: the function a child spins in is the largest leaf; -f drawn by "
          "corescope flamegraph agrees",
          "[flamegraph]") {
    REQUIRE_BPF();
    Spinner child;
    std::string pid = std::to_string(child.pid);
    ToolProcess svg_run({tool_path("profile"), "-p", pid, "-F", "499", "-d", "1.5", "-o", "svg"});
    ToolProcess folded_run({tool_path("profile"), "-p", pid, "-F", "499", "-d", "1.5", "-f"});
    Finished s = svg_run.wait(30);
    Finished f = folded_run.wait(30);
    REQUIRE(s.exit_code == 0);
    REQUIRE(f.exit_code == 0);

    for (int from_folded = 0; from_folded < 2; from_folded++) {
        std::string svg = s.out;
        if (from_folded) {
            std::string path = write_temp(f.out);
            Finished drawn =
                run({tool_path("corescope"), "flamegraph", "--countname", "samples", path});
            unlink(path.c_str());
            INFO(drawn.err);
            REQUIRE(drawn.exit_code == 0);
            svg = drawn.out;
        }
        INFO("from -f through corescope flamegraph: " << from_folded);
        Graph graph = read_graph(svg);
        if (!from_folded) CHECK(graph.title == "profile -p " + pid + " -F 499 -d 1.5 -o svg");
        const Frame* spin = find(graph, "corescope_flame_spin_xyz");
        REQUIRE(spin);
        CHECK(spin->kind == "u");
        CHECK(spin->title.find(" samples, ") != std::string::npos);
        const Frame* process = find(graph, "cs-flame-spin");
        REQUIRE(process);
        CHECK(process->kind == "p");
        CHECK(process->depth == 1);
        std::map<std::string, uint64_t> self = self_counts(graph);
        auto largest = std::max_element(self.begin(), self.end(), [](const auto& a, const auto& b) {
            return a.second < b.second;
        });
        CHECK(largest->first.find("corescope_flame_spin_xyz") != std::string::npos);
        // The root spans the whole width, the samples' total.
        const Frame& root = graph.frames.front();
        CHECK(root.name == "all");
        CHECK(root.width == Approx(1180));
        CHECK(spin->width ==
              Approx(1180.0 * static_cast<double>(spin->count) / static_cast<double>(root.count))
                  .margin(1));
    }
}

TEST_CASE("offcputime -o svg: the function a child sleeps in, in microseconds", "[flamegraph]") {
    REQUIRE_BPF();
    int go[2], slept[2];
    REQUIRE(pipe(go) == 0);
    REQUIRE(pipe(slept) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(go[1]);
        close(slept[0]);
        prctl(PR_SET_NAME, "cs-flame-sleep");
        char c;
        if (read(go[0], &c, 1) != 1) _exit(1);
        corescope_test_nanosleeper(100, 5);
        if (write(slept[1], "x", 1) != 1) _exit(1);
        while (read(go[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(go[0]);
    close(slept[1]);
    ToolProcess tool({tool_path("offcputime"), "-p", std::to_string(pid), "-o", "svg"});
    REQUIRE(tool.wait_attached());
    REQUIRE(write(go[1], "x", 1) == 1);
    char c;
    REQUIRE(read(slept[0], &c, 1) == 1); // the five sleeps are over
    Finished done = tool.stop();
    close(go[1]);
    close(slept[0]);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    INFO(done.err);
    REQUIRE(done.exit_code == 0);
    Graph graph = read_graph(done.out);
    const Frame* sleeper = find(graph, "corescope_test_nanosleeper");
    REQUIRE(sleeper);
    CHECK(sleeper->title.find(" us, ") != std::string::npos);
    // Five sleeps of 100 ms: at least 0.45 s off CPU below it.
    CHECK(sleeper->count >= 450000);
    bool kernel = false;
    for (const Frame& f : graph.frames)
        kernel = kernel || (f.kind == "k" && f.start >= sleeper->start &&
                            f.start + f.count <= sleeper->start + sleeper->count);
    CHECK(kernel); // the kernel's half above it, in the kernel's colours
}

TEST_CASE("corescope flamegraph: widths from the counts, stdin, flags, bad lines", "[flamegraph]") {
    std::string folded = "app;main;alpha 25\napp;main;beta_[k] 75\nbroken line\n";
    std::string path = write_temp(folded);
    Finished drawn = run({tool_path("corescope"), "flamegraph", "--width", "1000", "--title",
                          "<b>t</b>", "--countname", "us", "--icicle", path});
    INFO(drawn.err);
    REQUIRE(drawn.exit_code == 0);
    // The bad line is named with its number, and skipped.
    CHECK(drawn.err.find("line 3") != std::string::npos);
    Graph graph = read_graph(drawn.out);
    CHECK(graph.title == "<b>t</b>");
    CHECK(graph.frames.front().width == Approx(980));
    const Frame* alpha = find(graph, "alpha");
    const Frame* beta = find(graph, "beta");
    REQUIRE(alpha);
    REQUIRE(beta);
    CHECK(alpha->width == Approx(245).margin(0.01));
    CHECK(beta->width == Approx(735).margin(0.01));
    CHECK(beta->name == "beta");
    CHECK(beta->kind == "k");
    CHECK(beta->title == "beta (75 us, 75.00%)");

    // stdin, the same bytes as the file (but for the default title).
    Finished piped = run({tool_path("corescope"), "flamegraph", "--width", "1000", "--title",
                          "<b>t</b>", "--countname", "us", "--icicle"},
                         20, [path] {
                             int fd = open(path.c_str(), O_RDONLY);
                             dup2(fd, 0);
                         });
    CHECK(piped.exit_code == 0);
    CHECK(piped.out == drawn.out);

    // Nothing usable: exit 2, with the line named.
    std::string bad = write_temp("no count here\napp;main -3\n");
    Finished refused = run({tool_path("corescope"), "flamegraph", bad});
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("line 1") != std::string::npos);
    CHECK(refused.err.find("negative") != std::string::npos);
    CHECK(run({tool_path("corescope"), "flamegraph", "/nonexistent/x.folded"}).exit_code == 2);
    CHECK(run({tool_path("corescope"), "flamegraph", "-o", "json", path}).exit_code == 2);
    CHECK(run({tool_path("corescope"), "flamegraph", "--width", "5", path}).exit_code == 2);
    unlink(path.c_str());
    unlink(bad.c_str());
}

TEST_CASE("-o svg: only the stack tools take it, once, without an interval", "[flamegraph]") {
    Finished snoop = run({tool_path("opensnoop"), "-o", "svg"});
    CHECK(snoop.exit_code == 2);
    CHECK(snoop.err.find("'svg'") != std::string::npos);
    Finished folded = run({tool_path("profile"), "-f", "-o", "svg"});
    CHECK(folded.exit_code == 2);
    CHECK(folded.err.find("-o svg") != std::string::npos);
    Finished interval = run({tool_path("stackcount"), "-o", "svg", "c:write", "1"});
    CHECK(interval.exit_code == 2);
    CHECK(interval.err.find("interval") != std::string::npos);
    Finished help = run({tool_path("memleak"), "--help"});
    CHECK(help.out.find("text, json or svg") != std::string::npos);
}

} // namespace test_flamegraph
