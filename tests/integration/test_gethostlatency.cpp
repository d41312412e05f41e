// gethostlatency against host name lookups this test makes itself. There is
// no network here: lookups use /etc/hosts (localhost), or AI_NUMERICHOST
// with a unique non-numeric name, which fails at once without asking DNS
// but still passes the name through getaddrinfo.
#include "harness.h"

#include <catch2/catch.hpp>
#include <netdb.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_gethostlatency {

using namespace itest;
using nlohmann::json;

namespace {

// Returns getaddrinfo's result.
int lookup(const std::string& host, int flags = 0) {
    struct addrinfo hints {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    struct addrinfo* result = nullptr;
    int err = getaddrinfo(host.c_str(), nullptr, &hints, &result);
    if (result) freeaddrinfo(result);
    return err;
}

std::vector<json> json_events_for(const std::string& text, const std::string& host) {
    std::vector<json> out;
    for (const std::string& line : lines(text)) {
        json j = json::parse(line); // throws if invalid
        if (j.value("host", "") == host) out.push_back(j);
    }
    return out;
}

} // namespace

TEST_CASE("gethostlatency shows getaddrinfo(\"localhost\") with the caller's PID",
          "[gethostlatency]") {
    REQUIRE_BPF();
    ToolProcess p({tool_path("gethostlatency")});
    REQUIRE(p.wait_attached());
    REQUIRE(lookup("localhost") == 0);
    // Wait for this process's line: other processes may look up localhost too.
    bool mine = false;
    for (int i = 0; i < 250 && !mine; i++) {
        for (const std::string& line : lines_containing(p.output_so_far(), " localhost"))
            if (line.find(" " + self_pid() + " ") != std::string::npos) mine = true;
        if (!mine) usleep(20000);
    }
    REQUIRE(mine);
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out).at(0).rfind("TIME     PID     COMM", 0) == 0);
    std::vector<std::string> hits;
    for (const std::string& line : lines_containing(r.out, " localhost")) {
        std::istringstream fields(line);
        std::string time, pid, comm, lat, host;
        fields >> time >> pid >> comm >> lat >> host;
        if (pid != self_pid()) continue;
        hits.push_back(line);
        CHECK(host == "localhost");
        CHECK(std::stod(lat) > 0);
        CHECK(time.size() == 8);
    }
    CHECK(hits.size() == 1);
}

TEST_CASE("gethostlatency JSON names the function, the host and failures", "[gethostlatency]") {
    REQUIRE_BPF();
    std::string missing = unique_token("no-such-host");
    ToolProcess p({tool_path("gethostlatency"), "-o", "json", "-p", self_pid()});
    REQUIRE(p.wait_attached());
    REQUIRE(lookup("localhost") == 0);
    REQUIRE(gethostbyname("localhost") != nullptr);
    REQUIRE(lookup(missing, AI_NUMERICHOST) != 0);
    REQUIRE(p.wait_for_output(missing));
    Finished r = p.stop();
    auto local = json_events_for(r.out, "localhost");
    REQUIRE(local.size() == 2);
    CHECK(local[0].at("function") == "getaddrinfo");
    CHECK(local[1].at("function") == "gethostbyname");
    for (const json& e : local) {
        CHECK(e.at("pid") == getpid());
        CHECK(e.at("failed") == false);
        CHECK(e.at("latency_ms").get<double>() > 0);
        CHECK(e.at("comm").is_string());
        CHECK(e.at("time").is_string());
    }
    auto failed = json_events_for(r.out, missing);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].at("function") == "getaddrinfo");
    CHECK(failed[0].at("failed") == true);
}

TEST_CASE("gethostlatency -p hides lookups of other processes", "[gethostlatency]") {
    REQUIRE_BPF();
    std::string parent_host = unique_token("parent-host");
    std::string child_host = unique_token("child-host");
    ToolProcess p({tool_path("gethostlatency"), "-p", self_pid()});
    REQUIRE(p.wait_attached());
    pid_t child = fork();
    if (child == 0) {
        lookup(child_host, AI_NUMERICHOST);
        _exit(0);
    }
    waitpid(child, nullptr, 0);
    lookup(parent_host, AI_NUMERICHOST);
    REQUIRE(p.wait_for_output(parent_host));
    Finished r = p.stop();
    CHECK(lines_containing(r.out, child_host).empty());
}

TEST_CASE("gethostlatency rejects a missing --libc with exit 2", "[gethostlatency]") {
    Finished r = run({tool_path("gethostlatency"), "--libc", "/nonexistent/libc.so.6"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/nonexistent/libc.so.6") != std::string::npos);
}

} // namespace test_gethostlatency
