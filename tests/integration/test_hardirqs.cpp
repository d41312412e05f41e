// hardirqs against disk interrupts the test makes (writes to a file on a
// real disk, each flushed with fdatasync, so each waits for the device's
// completion interrupt), checked against /proc/interrupts read around the
// same window.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unistd.h>

namespace test_hardirqs {

using namespace itest;
using nlohmann::json;

namespace {

struct IrqLine {
    uint64_t count = 0;  // over every CPU
    bool shared = false; // more than one handler: the tool counts each
};

// /proc/interrupts' numbered lines: IRQ -> its count and whether it is shared.
std::map<int, IrqLine> proc_interrupts() {
    std::ifstream in("/proc/interrupts");
    std::string header;
    std::getline(in, header);
    std::istringstream cpus_in(header);
    int cpus = 0;
    for (std::string cpu; cpus_in >> cpu;)
        cpus++;
    std::map<int, IrqLine> irqs;
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string label;
        fields >> label;
        if (label.empty() || label.back() != ':' || !isdigit(static_cast<unsigned char>(label[0])))
            continue;
        IrqLine irq;
        for (int i = 0; i < cpus; i++) {
            uint64_t n = 0;
            fields >> n;
            irq.count += n;
        }
        irq.shared = line.find(',') != std::string::npos;
        irqs[std::stoi(label)] = irq;
    }
    return irqs;
}

// Writes and flushes 4 KiB writes times to a file of its own on /var/tmp
// (a disk, not tmpfs): each fdatasync waits for the write's completion.
void flushed_writes(int writes) {
    std::string path = "/var/tmp/" + unique_token("hardirqs-") + ".dat";
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    std::string block(4096, 'x');
    for (int i = 0; i < writes; i++) {
        REQUIRE(pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) == 4096);
        REQUIRE(fdatasync(fd) == 0);
    }
    close(fd);
    unlink(path.c_str());
}

// The IRQ whose count grew most between two readings, and by how much.
std::pair<int, uint64_t> busiest(const std::map<int, IrqLine>& before,
                                 const std::map<int, IrqLine>& after) {
    std::pair<int, uint64_t> best{-1, 0};
    for (const auto& [irq, line] : after) {
        auto it = before.find(irq);
        uint64_t grew = line.count - (it == before.end() ? 0 : it->second.count);
        if (grew > best.second) best = {irq, grew};
    }
    return best;
}

uint64_t grew(const std::map<int, IrqLine>& before, const std::map<int, IrqLine>& after, int irq) {
    auto a = after.find(irq), b = before.find(irq);
    if (a == after.end()) return 0;
    return a->second.count - (b == before.end() ? 0 : b->second.count);
}

constexpr int writes = 60;

} // namespace

TEST_CASE("hardirqs counts and times the disk interrupts of flushed writes as /proc/interrupts "
          "does",
          "[hardirqs]") {
    REQUIRE_BPF();
    auto p0 = proc_interrupts();
    double launched = now_s();
    ToolProcess times({tool_path("hardirqs"), "-o", "json"});
    ToolProcess counts({tool_path("hardirqs"), "-C"});
    ToolProcess text({tool_path("hardirqs")});
    ToolProcess hists({tool_path("hardirqs"), "-D", "-o", "json"});
    REQUIRE(times.wait_attached());
    REQUIRE(counts.wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(hists.wait_attached());
    auto p1 = proc_interrupts();
    double started = now_s();
    flushed_writes(writes);
    double workload_s = now_s() - started;
    auto p2 = proc_interrupts();
    Finished t = times.stop();
    Finished c = counts.stop();
    Finished x = text.stop();
    Finished h = hists.stop();
    double run_s = now_s() - launched; // the longest any of them ran
    auto p3 = proc_interrupts();
    CHECK(t.exit_code == 0);
    CHECK(c.exit_code == 0);
    CHECK(x.exit_code == 0);
    CHECK(h.exit_code == 0);

    // The disk's interrupt grew by at least one per flushed write.
    auto [disk_irq, disk_grew] = busiest(p1, p2);
    INFO("busiest IRQ " << disk_irq << " grew by " << disk_grew);
    REQUIRE(disk_grew >= static_cast<uint64_t>(writes));

    // The tools count no handler run the kernel did not count in
    // /proc/interrupts while they ran (p0..p3): an exact bound, which a
    // doubled run fails. The other way there is no exact bound: on 6.18
    // /proc/interrupts grew by a few more than the handler runs that
    // irq_handler_entry saw (4 of 339 for the disk, 10 of 30 for a
    // virtio-net queue, bpftrace seeing the same), so below the disk's
    // interrupts are bounded by the flushed writes, each of which waited for
    // its completion's handler, and by 90% of what /proc/interrupts counted
    // meanwhile: a tool that lost one run in ten fails it.
    auto records = json_lines(t.out);
    REQUIRE(records.size() == 1);
    const json& summary = records[0];
    std::map<int, uint64_t> by_irq;
    std::set<std::pair<int, std::string>> handlers;
    uint64_t count = 0, total_ns = 0;
    for (const json& e : summary.at("entries")) {
        int irq = e.at("irq").get<int>();
        // One entry per handler: a name read over a longer one's leftover
        // bytes once split a handler's runs over several keys.
        CHECK(handlers.emplace(irq, e.at("name").get<std::string>()).second);
        uint64_t n = e.at("count").get<uint64_t>();
        uint64_t ns = e.at("total_ns").get<uint64_t>();
        INFO(e.dump());
        CHECK(n > 0);
        CHECK(ns > 0);
        CHECK(!e.at("name").get<std::string>().empty());
        by_irq[irq] += n;
        count += n;
        total_ns += ns;
    }
    CHECK(summary.at("count").get<uint64_t>() == count);
    CHECK(summary.at("total_ns").get<uint64_t>() == total_ns);
    // Handler time is CPU time: at most the window on every CPU.
    CHECK(total_ns <= static_cast<uint64_t>(summary.at("interval_s").get<double>() * 1e9 *
                                            static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN))));
    // The summary covers the tool's whole run, the workload inside it.
    CHECK(summary.at("interval_s").get<double>() >= workload_s);
    for (const auto& [irq, line] : p2) {
        if (line.shared) continue;
        INFO("IRQ " << irq);
        CHECK(by_irq[irq] <= grew(p0, p3, irq));
    }
    CHECK(by_irq[disk_irq] >= static_cast<uint64_t>(writes));
    CHECK(by_irq[disk_irq] * 10 >= grew(p1, p2, disk_irq) * 9);

    // -C prints the same handlers' counts, in the TOTAL_count column, within
    // the same bounds; the default text prints microseconds.
    REQUIRE(!lines(c.out).empty());
    CHECK(fields(lines(c.out)[0]) == std::vector<std::string>{"HARDIRQ", "TOTAL_count"});
    CHECK(fields(lines(x.out)[0]) == std::vector<std::string>{"HARDIRQ", "TOTAL_usecs"});
    std::string disk_name;
    for (const json& e : summary.at("entries"))
        if (e.at("irq") == disk_irq) disk_name = e.at("name");
    REQUIRE(!disk_name.empty());
    bool found = false;
    for (const std::string& line : lines(c.out)) {
        auto f = fields(line);
        if (f.size() != 2 || f[0] != disk_name) continue;
        found = true;
        uint64_t n = std::stoull(f[1]);
        CHECK(n >= static_cast<uint64_t>(writes));
        CHECK(n <= grew(p0, p3, disk_irq));
    }
    CHECK(found);
    found = false;
    for (const std::string& line : lines(x.out)) {
        auto f = fields(line);
        if (f.size() != 2 || f[0] != disk_name) continue;
        found = true;
        // One IRQ's handler runs on one CPU at a time.
        CHECK(std::stod(f[1]) <= run_s * 1e6);
    }
    CHECK(found);

    // -D: one histogram per handler; its buckets hold every run it counted.
    found = false;
    for (const json& r : json_lines(h.out)) {
        INFO(r.dump());
        CHECK(r.at("type") == "histogram");
        CHECK(r.at("unit") == "usecs");
        uint64_t in_buckets = 0;
        for (const json& b : r.at("buckets"))
            in_buckets += b.at("count").get<uint64_t>();
        CHECK(in_buckets == r.at("total").get<uint64_t>());
        CHECK(r.at("total") == r.at("count"));
        if (r.at("irq") != disk_irq) continue;
        found = true;
        CHECK(r.at("name") == disk_name);
        CHECK(r.at("count").get<uint64_t>() >= static_cast<uint64_t>(writes));
        CHECK(r.at("count").get<uint64_t>() <= grew(p0, p3, disk_irq));
    }
    CHECK(found);
}

TEST_CASE("hardirqs interval and count print that many summaries and exit 0", "[hardirqs]") {
    REQUIRE_BPF();
    double started = now_s();
    ToolProcess jsonl({tool_path("hardirqs"), "-o", "json", "1", "2"});
    ToolProcess text({tool_path("hardirqs"), "-T", "-N", "1", "2"});
    REQUIRE(jsonl.wait_attached());
    flushed_writes(10);
    Finished j = jsonl.wait(10);
    double wall = now_s() - started;
    Finished t = text.wait(10);
    CHECK(j.exit_code == 0);
    CHECK(t.exit_code == 0);
    auto records = json_lines(j.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    int headers = 0, stamps = 0;
    for (const std::string& line : lines(t.out)) {
        if (fields(line) == std::vector<std::string>{"HARDIRQ", "TOTAL_nsecs"}) headers++;
        if (line.size() == 10 && line[0] == '[' && line[3] == ':' && line[6] == ':') stamps++;
    }
    CHECK(headers == 2);
    CHECK(stamps == 2);
}

} // namespace test_hardirqs
