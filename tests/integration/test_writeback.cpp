// writeback against a file of the test's own on the disk that holds
// /var/tmp: 64 pages written through the page cache and left dirty, then
// syncfs(): the flusher writes them in a pass whose reason is sync, on that
// file system and device, with at least those pages.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

namespace test_writeback {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int pages = 64;

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("writeback"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

// Waits until some line of the tool's output passes test (each line as
// printed so far, polled); the matching line, or empty on timeout.
std::string wait_for_line(ToolProcess& p, const std::function<bool(const std::string&)>& test,
                          double timeout_s = 20) {
    double deadline = now_s() + timeout_s;
    while (now_s() < deadline) {
        for (const std::string& line : lines(p.output_so_far()))
            if (test(line)) return line;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
}

// A file of the test's own in /var/tmp, removed at the end.
struct DirtyFile {
    std::string path = "/var/tmp/" + unique_token("t16-writeback");
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ~DirtyFile() {
        if (fd >= 0) close(fd);
        unlink(path.c_str());
    }
};

} // namespace

TEST_CASE("writeback shows the syncfs pass that wrote a file's dirty pages, on every tier",
          "[writeback]") {
    REQUIRE_BPF();
    DirtyFile file;
    REQUIRE(file.fd >= 0);
    struct stat st {};
    REQUIRE(fstat(file.fd, &st) == 0);
    unsigned disk_major = 0, disk_minor = 0;
    std::string disk = disk_of(file.path, &disk_major, &disk_minor);
    if (disk.empty()) SKIP_CASE("/var/tmp is on no block device");
    // The backing device is named by the whole disk's numbers; the super
    // block by the file system's (a partition's).
    std::string bdi = std::to_string(disk_major) + ":" + std::to_string(disk_minor);
    std::string sb_dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));

    auto btf = start({"-o", "json"});
    auto raw = start({"-o", "json"}, "tp_btf");
    auto tracefs = start({"-o", "json"}, "tp_btf,raw_tp");
    auto text = start({"-T"});
    for (ToolProcess* t : {btf.get(), raw.get(), tracefs.get(), text.get()})
        REQUIRE(t->wait_attached());

    long page = sysconf(_SC_PAGESIZE);
    std::string data(static_cast<size_t>(page) * pages, 'w');
    REQUIRE(pwrite(file.fd, data.data(), data.size(), 0) == static_cast<ssize_t>(data.size()));
    REQUIRE(syncfs(file.fd) == 0);

    auto ours = [&](const std::string& line) {
        json r = json::parse(line, nullptr, false);
        return r.is_object() && r.value("sb_dev", json()) == sb_dev &&
               r.at("pages").get<int64_t>() >= pages;
    };
    for (ToolProcess* t : {btf.get(), raw.get(), tracefs.get()}) {
        std::string line = wait_for_line(*t, ours);
        INFO(t->output_so_far() << t->error_output_so_far());
        REQUIRE_FALSE(line.empty());
        json r = json::parse(line);
        CHECK(r.at("device") == bdi);
        CHECK(r.at("reason") == "sync");
        CHECK(r.at("latency_ms").get<double>() > 0);
        CHECK(r.at("flusher_pid").get<int64_t>() > 0);
        CHECK(r.at("time").is_string());
        CHECK(r.at("sync").is_boolean());
        Finished f = t->stop();
        CHECK(f.exit_code == 0);
    }

    // Text, with -T: TIME DEVICE PAGES REASON LAT(ms).
    std::regex row("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] +" + bdi +
                   " +([0-9]+) +sync +([0-9]+\\.[0-9]{3})");
    std::string line = wait_for_line(*text, [&](const std::string& l) {
        std::smatch m;
        return std::regex_match(l, m, row) && std::stoll(m[1]) >= pages;
    });
    Finished f = text->stop();
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    CHECK_FALSE(line.empty());
    std::vector<std::string> out = lines(f.out);
    REQUIRE_FALSE(out.empty());
    CHECK(std::regex_match(out[0], std::regex("TIME +DEVICE +PAGES +REASON +LAT\\(ms\\)")));
}

// -v, --btf (a copy of the kernel's BTF) and -d, which ends it by itself.
TEST_CASE("writeback -v --btf ends by itself after -d", "[writeback]") {
    REQUIRE_BPF();
    std::string btf = "/tmp/" + unique_token("writeback-btf") + ".btf";
    REQUIRE(std::filesystem::copy_file("/sys/kernel/btf/vmlinux", btf));
    double start = now_s();
    Finished f = run({tool_path("writeback"), "-v", "--btf", btf, "-d", "1"}, 30);
    unlink(btf.c_str());
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    CHECK(now_s() - start >= 1);
    CHECK(f.err.find("writeback passes: tp_btf") != std::string::npos); // -v's plan
}

} // namespace test_writeback
