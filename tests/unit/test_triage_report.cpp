// triage's findings: each threshold, severity order, and both renderings.
#include "triage_findings.h"
#include "triage_render.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

namespace test_triage_report {

using namespace corescope;
using namespace corescope::triage;

namespace {

Report quiet_report() {
    Report r;
    r.hostname = "host";
    r.kernel = "6.18";
    r.started_at = "2026-11-22T08:00:00.000Z";
    r.window_s = 10;
    r.cpus = 2;
    r.cpu.idle = 90;
    r.cpu.user = 10;
    r.mem_total_kb = 1000000;
    r.mem_available_kb = 800000;
    return r;
}

const Finding* find(const std::vector<Finding>& findings, const std::string& words) {
    for (const Finding& f : findings)
        if (f.what.find(words) != std::string::npos) return &f;
    return nullptr;
}

Histogram log2_with(size_t slot, uint64_t count) {
    std::vector<uint64_t> slots(32, 0);
    slots[slot] = count;
    return Histogram::log2(slots);
}

} // namespace

TEST_CASE("a quiet report has no findings and says so", "[triage]") {
    Report r = quiet_report();
    auto findings = analyze(r);
    CHECK(findings.empty());
    CHECK(render_text(r, findings).find("No findings") != std::string::npos);
}

TEST_CASE("run-queue latency above 10 ms at p99 is a finding naming the waiters", "[triage]") {
    Report r = quiet_report();
    r.run_queue_us = log2_with(13, 100); // 8192..16383 us
    r.waiters = {{42, "spinner", 900000, 100}};
    auto findings = analyze(r);
    const Finding* f = find(findings, "wait long for a CPU");
    REQUIRE(f);
    CHECK(f->evidence.find("spinner (PID 42") != std::string::npos);
    CHECK(f->threshold.find("10 ms") != std::string::npos);

    r.run_queue_us = log2_with(12, 100); // up to 8.2 ms: below the threshold
    CHECK_FALSE(find(analyze(r), "wait long for a CPU"));
}

TEST_CASE("a busy disk is a finding with its p99 latency", "[triage]") {
    Report r = quiet_report();
    Disk d;
    d.name = "vda";
    d.util_percent = 85;
    d.writes_per_s = 300;
    d.latency_us = log2_with(10, 50);
    r.disks.push_back(d);
    auto findings = analyze(r);
    const Finding* f = find(findings, "Disk vda is nearly always busy");
    REQUIRE(f);
    CHECK(f->evidence.find("85% busy") != std::string::npos);
    CHECK(f->evidence.find("p99 2.0 ms") != std::string::npos);
    r.disks[0].util_percent = 79;
    CHECK_FALSE(find(analyze(r), "nearly always busy"));
}

TEST_CASE("a busy disk's finding names the processes doing the most storage I/O", "[triage]") {
    Report r = quiet_report();
    Disk d;
    d.name = "vda";
    d.util_percent = 95;
    r.disks.push_back(d);
    r.io_busiest = {{7, "dd", 0, 51200}, {8, "tar", 2048, 0}};
    auto findings = analyze(r);
    const Finding* f = find(findings, "Disk vda is nearly always busy");
    REQUIRE(f);
    CHECK(f->evidence.find("most I/O: dd (PID 7, 51200 kB/s), tar (PID 8, 2048 kB/s)") !=
          std::string::npos);

    std::string text = render_text(r, analyze(r));
    CHECK(text.find("busiest processes by storage I/O") != std::string::npos);
    CHECK(text.find("51200    7       dd") != std::string::npos);
    auto json = nlohmann::json::parse(render_json(r, analyze(r)));
    REQUIRE(json.at("io_busiest").size() == 2);
    CHECK(json.at("io_busiest")[0].at("pid") == 7);
    CHECK(json.at("io_busiest")[0].at("write_kb_per_s") == 51200.0);
    CHECK(json.at("io_busiest")[1].at("read_kb_per_s") == 2048.0);
}

TEST_CASE("the files read and written most show under Disks, in JSON and in a busy disk's finding",
          "[triage]") {
    Report r = quiet_report(); // a 10 s window
    Disk d;
    d.name = "vda";
    d.util_percent = 95;
    r.disks.push_back(d);
    r.io_files = {{7, "dd", "big.img", 0, 100, 0, 10 << 20},
                  {8, "cat\x1b", "a\nb", 3, 0, 20480, 0}};
    auto findings = analyze(r);
    const Finding* f = find(findings, "Disk vda is nearly always busy");
    REQUIRE(f);
    CHECK(f->evidence.find("files read and written most: big.img (dd, 1024 kB/s), a\\nb "
                           "(cat\\e, 2 kB/s)") != std::string::npos);

    std::string text = render_text(r, {});
    CHECK(text.find("files read and written most") != std::string::npos);
    CHECK(text.find("0        1024     7       dd               big.img\n") != std::string::npos);
    CHECK(text.find("2        0        8       cat\\e            a\\nb\n") != std::string::npos);
    auto json = nlohmann::json::parse(render_json(r, {}));
    REQUIRE(json.at("io_files").size() == 2);
    CHECK(json.at("io_files")[0] == nlohmann::json::parse(R"({"pid":7,"comm":"dd","file":"big.img",
        "reads":0,"writes":100,"read_bytes":0,"write_bytes":10485760})"));
    CHECK(json.at("io_files")[1].at("file") == "a\nb");
}

TEST_CASE("a page cache hit ratio below 80% is a finding when misses pass 1000 a second",
          "[triage]") {
    Report r = quiet_report();              // a 10 s window
    r.page_cache = {true, 30000, 20001, 5}; // 60.0%, 2000 misses/s
    auto findings = analyze(r);
    const Finding* f = find(findings, "miss the page cache");
    REQUIRE(f);
    CHECK(f->evidence.find("hit ratio 60.0%, 2000 misses/s") != std::string::npos);
    CHECK(f->threshold.find("below 80%") != std::string::npos);

    r.page_cache = {true, 3000, 9000, 0}; // 25%, but 900 misses/s: too few to matter
    CHECK_FALSE(find(analyze(r), "miss the page cache"));
    r.page_cache = {true, 90000, 20000, 0}; // 81.8%
    CHECK_FALSE(find(analyze(r), "miss the page cache"));
    r.page_cache = {false, 0, 50000, 0}; // not measured
    CHECK_FALSE(find(analyze(r), "miss the page cache"));

    r.page_cache = {true, 30000, 20001, 5};
    CHECK(render_text(r, {}).find("page cache: hit ratio 60.0% (30000 hits, 20001 misses, 5 "
                                  "pages dirtied)") != std::string::npos);
    auto json = nlohmann::json::parse(render_json(r, {}));
    CHECK(json.at("memory").at("page_cache_hit_percent") == 60.0);
    CHECK(json.at("memory").at("page_cache").at("misses") == 20001);
    r.page_cache = {};
    json = nlohmann::json::parse(render_json(r, {}));
    CHECK(json.at("memory").at("page_cache_hit_percent").is_null());
    CHECK(json.at("memory").at("page_cache").is_null());
}

TEST_CASE("retransmits above 1% of segments are a finding", "[triage]") {
    Report r = quiet_report();
    r.tcp.out_segs = 1000;
    r.tcp.retrans_segs = 11;
    auto findings = analyze(r);
    const Finding* f = find(findings, "retransmitting");
    REQUIRE(f);
    CHECK(f->evidence.find("11 of 1000") != std::string::npos);
    r.tcp.retrans_segs = 10;
    CHECK_FALSE(find(analyze(r), "retransmitting"));
}

TEST_CASE("an OOM kill is critical and comes first", "[triage]") {
    Report r = quiet_report();
    r.tcp.out_segs = 100;
    r.tcp.retrans_segs = 50;
    r.oom_kills = {{1234, "hog", 32768, "bpf"}};
    auto findings = analyze(r);
    REQUIRE(findings.size() >= 2);
    CHECK(findings[0].severity == Severity::critical);
    CHECK(findings[0].evidence.find("hog (PID 1234)") != std::string::npos);
}

TEST_CASE("exec storms, failed-open bursts, low memory and kernel log trouble are findings",
          "[triage]") {
    Report r = quiet_report();
    r.execs = 1000; // 100/s over 10 s
    r.exec_commands = {{"true", 990}};
    r.failed_opens = 5000;
    r.failed_open_errors = {{"ENOENT", 5000}};
    r.failed_open_commands = {{"app", 5000}};
    r.mem_available_kb = 50000;
    r.kernel_log = {
        {10.0, "hung_task", "INFO: task foo:12 blocked for more than 120 seconds.", true}};
    auto findings = analyze(r);
    CHECK(find(findings, "new processes"));
    REQUIRE(find(findings, "opens fail"));
    CHECK(find(findings, "opens fail")->evidence.find("ENOENT (5000)") != std::string::npos);
    CHECK(find(findings, "Memory is nearly exhausted"));
    REQUIRE(find(findings, "hung"));
    CHECK(find(findings, "hung")->severity == Severity::critical);
}

TEST_CASE("the text report fits 80 columns and the JSON carries the same findings", "[triage]") {
    Report r = quiet_report();
    r.oom_kills = {{1, std::string(200, 'x'), 1, "bpf"}};
    r.unavailable = {"DNS latency: " + std::string(150, 'y')};
    auto findings = analyze(r);
    std::istringstream text(render_text(r, findings));
    std::string line;
    while (std::getline(text, line))
        CHECK(line.size() <= 80);
    auto json = nlohmann::json::parse(render_json(r, findings));
    REQUIRE(json.at("findings").size() == findings.size());
    CHECK(json.at("findings")[0].at("severity") == "critical");
    CHECK(json.at("memory").at("oom_kills")[0].at("pid") == 1);
}

TEST_CASE("the kernel log keeps the window and the 15 minutes before it, and counts older trouble",
          "[triage]") {
    Report r = quiet_report();
    double window_start = 5000;
    keep_recent_kernel_log(r,
                           {{100.0, "io_error", "old I/O error", false},
                            {window_start - 15 * 60 - 1, "segfault", "just too old", false},
                            {window_start - 15 * 60 + 1, "segfault", "recent segfault", false},
                            // The kernel's clock may run behind /proc/uptime: a
                            // record of the window is kept whatever its time.
                            {window_start - 2000, "hung_task", "in the window", true}},
                           window_start);
    REQUIRE(r.kernel_log.size() == 2);
    CHECK(r.kernel_log[0].text == "recent segfault"); // the kernel's order: oldest first
    CHECK(r.kernel_log[1].text == "in the window");
    CHECK(r.kernel_log_older == 2);
}

TEST_CASE("kernel log lines are wrapped whole, oldest first, and older trouble is counted",
          "[triage]") {
    Report r = quiet_report();
    r.kernel_log_read = true;
    std::string url = "https://kernel.example/doc/" + std::string(90, 'u') + "/end";
    std::string long_line = "WARNING: see " + url + " for what to do about it";
    std::string one_word = "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
                           "mems_allowed=0,oom_memcg=/a,task_memcg=/a,task=hog,pid=1,uid=0";
    r.kernel_log = {{12.5, "kernel_bug", "first line", false},
                    {13.5, "kernel_bug", long_line, true},
                    {14.5, "oom_kill", one_word, true}};
    r.kernel_log_older = 3;
    std::string text = render_text(r, analyze(r));
    auto section = text.substr(text.find("== Kernel log"));
    section = section.substr(0, section.find("\n\n"));
    INFO(section);
    CHECK(section.find("15 minutes before") != std::string::npos);
    CHECK(section.find("first line") < section.find("WARNING"));
    std::istringstream lines(section);
    std::string line, joined;
    while (std::getline(lines, line)) {
        CHECK(line.size() <= 80);
        for (char c : line)
            if (c != ' ') joined += c;
    }
    std::string expected;
    for (char c : long_line)
        if (c != ' ') expected += c;
    CHECK(joined.find(expected) != std::string::npos); // every character, in order
    CHECK(joined.find(one_word) != std::string::npos);
    // A word too long for a line starts beside its time, not under it.
    CHECK(section.find("[    14.500] oom-kill:constraint") != std::string::npos);
    CHECK(section.find("3 earlier lines of trouble since boot not shown (dmesg has them)") !=
          std::string::npos);

    auto json = nlohmann::json::parse(render_json(r, analyze(r)));
    CHECK(json.at("kernel_log")[1].at("text") == long_line);
    CHECK(json.at("kernel_log_older") == 3);
    CHECK(json.at("kernel_log_minutes_before") == 15);
}

TEST_CASE("only the latest 20 kernel log lines are printed; the rest are counted", "[triage]") {
    Report r = quiet_report();
    r.kernel_log_read = true;
    for (int i = 0; i < 25; i++)
        r.kernel_log.push_back({100.0 + i, "segfault", "crash " + std::to_string(i), true});
    r.kernel_log_older = 1;
    std::string text = render_text(r, analyze(r));
    CHECK(text.find("crash 4\n") == std::string::npos);
    CHECK(text.find("crash 5\n") != std::string::npos);
    CHECK(text.find("crash 24\n") != std::string::npos);
    CHECK(text.find("6 earlier lines of trouble") != std::string::npos);
}

TEST_CASE("interrupt handlers above 10% of CPU time are a finding naming the busiest, and both "
          "renderings show their time",
          "[triage]") {
    Report r = quiet_report(); // 10 s on 2 CPUs: 20 s of CPU time, 2 s is 10%
    r.hardirqs.handlers = {{36, "virtio1-req.0", 5000, 400000}};
    r.softirqs.handlers = {{3, "net_rx", 90000, 1600000}, {1, "timer", 2000, 60000}};
    auto findings = analyze(r);
    const Finding* f = find(findings, "Interrupt handling");
    REQUIRE(f);
    CHECK(f->evidence ==
          "hard IRQ handlers 2.0%, softirqs 8.3% of CPU time; busiest: net_rx 1600.0 ms, "
          "virtio1-req.0 400.0 ms, timer 60.0 ms");
    CHECK(f->threshold.find("10%") != std::string::npos);

    std::string text = render_text(r, findings);
    INFO(text);
    CHECK(text.find("   hard IRQ handlers: 400.0 ms in all, 2.00% of CPU time\n"
                    "     400.0 ms   5000     virtio1-req.0\n"
                    "   softirqs: 1660.0 ms in all, 8.30% of CPU time\n"
                    "     1600.0 ms  90000    net_rx\n"
                    "     60.0 ms    2000     timer\n") != std::string::npos);
    auto json = nlohmann::json::parse(render_json(r, findings));
    CHECK(json.at("hardirq_time").at("percent_of_cpu") == 2.0);
    CHECK(
        json.at("hardirq_time").at("handlers").at(0) ==
        nlohmann::json::parse(R"({"irq":36,"name":"virtio1-req.0","count":5000,"time_ms":400.0})"));
    CHECK(json.at("softirq_time").at("time_ms") == 1660.0);
    CHECK(json.at("softirq_time").at("handlers").size() == 2);
    CHECK(json.at("softirq_time").at("handlers").at(0).at("vec") == 3);

    r.softirqs.handlers[0].time_us = 1000000; // 1.06 s + 0.4 s: 7.3%, below
    CHECK_FALSE(find(analyze(r), "Interrupt handling"));
}

TEST_CASE("packet drops above 10 a second and TCP connects slower than 500 ms at p99 are findings, "
          "and both renderings show them",
          "[triage]") {
    Report r = quiet_report(); // a 10 s window
    r.packet_drops = 101;
    r.drop_reasons = {{"NO_SOCKET", 90}, {"NETFILTER_DROP", 10}, {"unknown", 1}};
    r.connect_latency_us = log2_with(19, 3); // 524288..1048575 us: a lost SYN's 1 s
    r.connects_failed = 2;
    auto findings = analyze(r);
    const Finding* drops = find(findings, "dropping packets");
    REQUIRE(drops);
    CHECK(drops->evidence ==
          "10 drops/s (101 in all); by reason: NO_SOCKET (90), NETFILTER_DROP (10), unknown (1)");
    CHECK(drops->threshold == "above 10 drops/s");
    const Finding* slow = find(findings, "TCP connects are slow");
    REQUIRE(slow);
    CHECK(slow->evidence == "3 connects, p50 1048.6 ms, p99 1048.6 ms");
    CHECK(slow->threshold == "connect latency p99 above 500 ms");

    std::string text = render_text(r, findings);
    INFO(text);
    CHECK(
        text.find("   TCP connects: 3, p50 1048.6 ms, p99 1048.6 ms, max 1048.6 ms; 2 failed\n") !=
        std::string::npos);
    // Wrapped whole at 80 columns.
    CHECK(
        text.find("   packet drops: 101; by reason: NO_SOCKET (90), NETFILTER_DROP (10), unknown\n"
                  "       (1)\n") != std::string::npos);
    auto json = nlohmann::json::parse(render_json(r, findings));
    CHECK(json.at("tcp_connects").at("established") == 3);
    CHECK(json.at("tcp_connects").at("failed") == 2);
    CHECK(json.at("tcp_connects").at("latency").at("total") == 3);
    CHECK(json.at("packet_drops").at("count") == 101);
    CHECK(json.at("packet_drops").at("reasons").at(0) ==
          nlohmann::json::parse(R"({"name":"NO_SOCKET","count":90})"));

    r.packet_drops = 100;                    // 10/s: not above
    r.connect_latency_us = log2_with(18, 3); // up to 524 ms
    findings = analyze(r);
    CHECK_FALSE(find(findings, "dropping packets"));
    CHECK(find(findings, "TCP connects are slow")); // 524.3 ms is above 500
    r.connect_latency_us = log2_with(17, 3);        // up to 262 ms
    CHECK_FALSE(find(analyze(r), "TCP connects are slow"));
    CHECK(render_text(r, analyze(r)).find("   TCP connects: 3, p50 262.1 ms") != std::string::npos);

    Report quiet = quiet_report();
    std::string quiet_text = render_text(quiet, analyze(quiet));
    CHECK(quiet_text.find("   TCP connects: none seen\n") != std::string::npos);
    CHECK(quiet_text.find("   packet drops: 0\n") != std::string::npos);
}

} // namespace test_triage_report
