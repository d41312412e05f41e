// dirtop against a child of this test that reads and writes known byte
// counts under two watched directories (one file directly in the first, one
// two levels below the second) and under a third that is not watched: the
// two rows show exactly those calls and bytes, the third's traffic appears
// nowhere. Another process's filter shows nothing.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <unistd.h>

namespace test_dirtop {

using namespace itest;
using nlohmann::json;

namespace {

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("dirtop"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

json only_record(ToolProcess& p) {
    Finished f = p.stop();
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 1);
    return records[0];
}

json entry_of(const json& record, const std::string& path) {
    for (const json& e : record.at("entries"))
        if (e.at("path") == path) return e;
    return nullptr;
}

// writes calls of size bytes each to path, then reads calls of size each.
bool traffic(const std::string& path, int writes, int reads, size_t size) {
    static char buf[4096];
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    bool ok = true;
    for (int i = 0; i < writes; i++)
        ok = ok && write(fd, buf, size) == static_cast<ssize_t>(size);
    for (int i = 0; i < reads; i++)
        ok = ok && pread(fd, buf, size, 0) == static_cast<ssize_t>(size);
    close(fd);
    return ok;
}

} // namespace

TEST_CASE("dirtop counts reads and writes under each watched directory exactly, and nothing "
          "elsewhere, with its filters and on both tiers",
          "[dirtop]") {
    REQUIRE_BPF();
    std::string root = "/tmp/" + unique_token("dirtop");
    std::string a = root + "/a", b = root + "/b", c = root + "/c";
    REQUIRE(std::filesystem::create_directories(a));
    REQUIRE(std::filesystem::create_directories(b + "/deep/er"));
    REQUIRE(std::filesystem::create_directories(c));
    GatedChild idle([] { return 0; });
    GatedChild actor(
        [&] {
            bool ok = traffic(a + "/one", 3, 2, 1000) && traffic(b + "/deep/er/two", 5, 4, 100) &&
                      traffic(c + "/three", 11, 13, 17);
            return ok ? 0 : 1;
        },
        "t16dirtopper");
    std::string pid = std::to_string(actor.pid()), other = std::to_string(idle.pid());
    std::string dirs = a + "," + b;

    auto by_pid = start({"--dir", dirs, "-o", "json", "-p", pid, "600"});
    auto repeated = start({"--dir", a, "--dir", b, "-o", "json", "-p", pid, "600"}, "tracepoint");
    auto not_pid = start({"--dir", dirs, "-o", "json", "-p", other, "600"});
    auto top = start({"--dir", dirs, "-o", "json", "-s", "reads", "-r", "1", "-p", pid, "600"});
    auto text = start({"--dir", dirs, "-C", "-T", "-p", pid, "600"});
    for (ToolProcess* t : {by_pid.get(), repeated.get(), not_pid.get(), top.get(), text.get()})
        REQUIRE(t->wait_attached());
    REQUIRE(actor.run() == 0);

    for (ToolProcess* t : {by_pid.get(), repeated.get()}) {
        json r = only_record(*t);
        INFO(r.dump());
        REQUIRE(r.at("entries").size() == 2); // c is not watched
        json ea = entry_of(r, a), eb = entry_of(r, b);
        REQUIRE(ea.is_object());
        REQUIRE(eb.is_object());
        CHECK(ea.at("writes") == 3);
        CHECK(ea.at("write_bytes") == 3000);
        CHECK(ea.at("reads") == 2);
        CHECK(ea.at("read_bytes") == 2000);
        CHECK(eb.at("writes") == 5);
        CHECK(eb.at("write_bytes") == 500);
        CHECK(eb.at("reads") == 4);
        CHECK(eb.at("read_bytes") == 400);
        CHECK(r.at("reads") == 6);
        CHECK(r.at("writes") == 8);
        CHECK(r.at("read_bytes") == 2400);
        CHECK(r.at("write_bytes") == 3500);
        CHECK(r.at("dirs") == 2);
        // Most bytes first.
        CHECK(r.at("entries")[0].at("path") == a);
    }
    json n = only_record(*not_pid);
    CHECK(n.at("entries").empty());
    CHECK(n.at("reads") == 0);
    // -s reads -r 1: b, with the most read calls.
    json t = only_record(*top);
    REQUIRE(t.at("entries").size() == 1);
    CHECK(t.at("entries")[0].at("path") == b);
    CHECK(t.at("dirs") == 2);

    Finished f = text->stop();
    CHECK(f.exit_code == 0);
    INFO(f.out);
    std::vector<std::string> out = lines(f.out);
    REQUIRE(out.size() == 5);
    CHECK(std::regex_match(out[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] loadavg: .*")));
    CHECK(std::regex_match(out[1], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
    CHECK(std::regex_match(out[2], std::regex(" *READS +WRITES +R_Kb +W_Kb +PATH")));
    CHECK(std::regex_match(out[3], std::regex(" *2 +3 +1 +2 +" + a)));
    CHECK(std::regex_match(out[4], std::regex(" *4 +5 +0 +0 +" + b)));
    std::filesystem::remove_all(root);
}

TEST_CASE("dirtop refuses a missing directory, a file, a bad sort key and row count", "[dirtop]") {
    Finished f = run({tool_path("dirtop"), "--dir", "/nonexistent/dirtop-dir"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("/nonexistent/dirtop-dir") != std::string::npos);
    f = run({tool_path("dirtop"), "--dir", "/etc/passwd"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("not a directory") != std::string::npos);
    f = run({tool_path("dirtop"), "--dir", "/tmp,,/etc"});
    CHECK(f.exit_code == 2);
    f = run({tool_path("dirtop"), "-s", "weight"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("weight") != std::string::npos);
    f = run({tool_path("dirtop"), "-r", "many"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("many") != std::string::npos);
}

} // namespace test_dirtop
