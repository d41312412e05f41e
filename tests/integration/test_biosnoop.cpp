// biosnoop against O_DIRECT I/O this test makes itself, on a file in /tmp
// (on the disk under /tmp, not tmpfs): each 64 KiB O_DIRECT read of an
// allocated, synced file is block I/O of exactly that size, submitted by
// this process. Other I/O on the machine shows too; the checks look only
// at this process's requests (by PID), or at what a filter must drop.
#include "harness.h"

#include <catch2/catch.hpp>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_biosnoop {

using namespace itest;
using nlohmann::json;

namespace {

constexpr size_t read_size = 64 * 1024;
constexpr size_t write_size = 4096;
constexpr int reads = 32;
constexpr size_t file_size = reads * read_size;

// One request as printed, from a text row or a JSON record.
struct Request {
    double elapsed_s = 0;
    std::string comm;
    unsigned pid = 0;
    std::string disk;
    std::string rwbs;
    uint64_t sector = 0;
    uint64_t bytes = 0;
    double queue_ms = -1; // -1: no QUE(ms) column
    double latency_ms = 0;
    std::string wall_time; // with -T
};

// The op letter of rwbs: after the optional preflush F.
char op_letter(const std::string& rwbs) {
    if (rwbs.size() > 1 && rwbs[0] == 'F' && std::strchr("RWDFN", rwbs[1])) return rwbs[1];
    return rwbs.empty() ? '?' : rwbs[0];
}

// Text rows: [HH:MM:SS] TIME(s) COMM PID DISK T SECTOR BYTES [QUE(ms)] LAT(ms).
// The test's own comm has no spaces, so splitting on blanks is safe for
// its rows; rows of other commands may not parse and are skipped.
std::vector<Request> text_requests(const std::string& out, bool wall_time, bool queued) {
    std::vector<Request> rows;
    for (const std::string& line : lines(out)) {
        std::istringstream in(line);
        std::vector<std::string> f;
        for (std::string word; in >> word;)
            f.push_back(word);
        size_t want = 8 + (wall_time ? 1 : 0) + (queued ? 1 : 0);
        if (f.size() != want || f[wall_time ? 1 : 0] == "TIME(s)") continue;
        Request r;
        size_t i = 0;
        try {
            if (wall_time) r.wall_time = f[i++];
            r.elapsed_s = std::stod(f[i++]);
            r.comm = f[i++];
            r.pid = static_cast<unsigned>(std::stoul(f[i++]));
            r.disk = f[i++];
            r.rwbs = f[i++];
            r.sector = std::stoull(f[i++]);
            r.bytes = std::stoull(f[i++]);
            if (queued) r.queue_ms = std::stod(f[i++]);
            r.latency_ms = std::stod(f[i++]);
        } catch (const std::exception&) {
            continue;
        }
        rows.push_back(r);
    }
    return rows;
}

std::vector<Request> json_requests(const std::string& out) {
    std::vector<Request> rows;
    for (const std::string& line : lines(out)) {
        json j = json::parse(line);       // throws if invalid
        if (j.contains("type")) continue; // a lost-events record
        Request r;
        r.elapsed_s = j.at("elapsed_s").get<double>();
        r.comm = j.at("comm").get<std::string>();
        r.pid = j.at("pid").get<unsigned>();
        r.disk = j.at("disk").get<std::string>();
        r.rwbs = j.at("rwbs").get<std::string>();
        r.sector = j.at("sector").get<uint64_t>();
        r.bytes = j.at("bytes").get<uint64_t>();
        if (j.contains("queue_ms")) r.queue_ms = j.at("queue_ms").get<double>();
        r.latency_ms = j.at("latency_ms").get<double>();
        r.wall_time = j.at("time").get<std::string>();
        rows.push_back(r);
    }
    return rows;
}

std::vector<Request> of_pid(const std::vector<Request>& all, unsigned pid, char op) {
    std::vector<Request> out;
    for (const Request& r : all)
        if (r.pid == pid && op_letter(r.rwbs) == op) out.push_back(r);
    return out;
}

// Whether a request lies in file's blocks on the disk.
bool in_file(const Request& r, const ScratchFile& file) {
    for (const auto& [first, end] : file.disk_sectors())
        if (r.sector >= first && r.sector + r.bytes / 512 <= end) return true;
    return false;
}

// The test's 64 KiB reads among the requests: all of them, of the right
// size, on the disk under /tmp, with a sane latency. They are told apart
// from this process's other reads (its own code paged in, which a large
// sanitized binary does mid-test) by where they lie on the disk.
void check_reads(const std::vector<Request>& all, const ScratchFile& file, pid_t reader = getpid(),
                 uint64_t lost = 0) {
    std::vector<std::pair<uint64_t, uint64_t>> extents = file.disk_sectors();
    REQUIRE(!extents.empty());
    auto in_file = [&](const Request& r) {
        for (const auto& [first, end] : extents)
            if (r.sector >= first && r.sector + r.bytes / 512 <= end) return true;
        return false;
    };
    uint64_t bytes = 0;
    size_t whole = 0;
    for (const Request& r : of_pid(all, static_cast<unsigned>(reader), 'R')) {
        if (!in_file(r)) continue;
        bytes += r.bytes;
        if (r.bytes == read_size) whole++;
        CHECK(r.disk == disk_of(file.path()));
        CHECK(r.latency_ms > 0);
        CHECK(r.latency_ms < 10000);
        // From when tracing started: 0 for a request that completed between
        // the attach and the tool's first look at the clock.
        CHECK(r.elapsed_s >= 0);
        CHECK(r.elapsed_s < 60);
    }
    // A read the block layer had to split still adds up to the same bytes.
    // A request whose completion the kernel did not show the tool (about 1
    // in 1000 under load; bpftrace missed the same ones) is counted lost:
    // each lost event may be one of the reader's. Should one be missing
    // uncounted: where the reader's requests and the file lay.
    std::string seen;
    for (const Request& r : of_pid(all, static_cast<unsigned>(reader), 'R'))
        seen += std::to_string(r.sector) + "+" + std::to_string(r.bytes / 512) + " ";
    std::string lies;
    for (const auto& [first, end] : extents)
        lies += std::to_string(first) + "-" + std::to_string(end) + " ";
    INFO("the reader's read requests (sector+sectors): " << seen
                                                         << "; the file's extents: " << lies);
    INFO("lost events the tool reported: " << lost);
    CHECK(bytes <= file_size);
    CHECK(bytes + lost * read_size >= file_size);
    CHECK(whole >= reads / 2);
}

Finished trace(const std::vector<std::string>& args, const std::function<bool()>& workload) {
    std::vector<std::string> argv = {tool_path("biosnoop")};
    argv.insert(argv.end(), args.begin(), args.end());
    ToolProcess p(argv);
    REQUIRE(p.wait_attached());
    REQUIRE(workload());
    return p.stop(SIGINT);
}

} // namespace

TEST_CASE("biosnoop shows the test's 64 KiB O_DIRECT reads with its PID, size and R",
          "[biosnoop]") {
    REQUIRE_BPF();
    ScratchFile file(file_size);
    REQUIRE(file.ok());
    Finished r = trace({}, [&] { return file.direct_reads(read_size, reads); });
    CHECK(r.exit_code == 0);
    // Not a terminal: no banner; only a count of lost events, if any.
    CHECK(lines_containing(r.err, " lost ").size() == lines(r.err).size());
    std::vector<std::string> out = lines(r.out);
    REQUIRE(!out.empty());
    CHECK(out[0] ==
          "TIME(s)     COMM             PID     DISK      T    SECTOR       BYTES   LAT(ms)");
    std::vector<Request> all = text_requests(r.out, false, false);
    check_reads(all, file, getpid(), lost_on_stderr(r.err));
    for (const Request& req : of_pid(all, static_cast<unsigned>(getpid()), 'R'))
        CHECK(req.comm == "integration_tes"); // the kernel's 15-character comm of this binary
}

TEST_CASE("biosnoop shows O_DSYNC writes as W", "[biosnoop]") {
    REQUIRE_BPF();
    ScratchFile file(file_size);
    REQUIRE(file.ok());
    constexpr int writes = 20;
    Finished r = trace({"-o", "json"}, [&] { return file.direct_writes(write_size, writes); });
    CHECK(r.exit_code == 0);
    std::vector<Request> mine = of_pid(json_requests(r.out), static_cast<unsigned>(getpid()), 'W');
    CHECK(mine.size() >= static_cast<size_t>(writes));
    for (const Request& w : mine) {
        CHECK(w.bytes % 512 == 0);
        CHECK(w.bytes > 0);
        CHECK(w.latency_ms > 0);
    }
    // O_DSYNC|O_DIRECT writes are synchronous: REQ_SYNC, S.
    size_t sync = 0;
    for (const Request& w : mine)
        if (w.rwbs.find('S') != std::string::npos) sync++;
    CHECK(sync >= static_cast<size_t>(writes));
}

TEST_CASE("biosnoop JSON carries the same requests as the text", "[biosnoop]") {
    REQUIRE_BPF();
    ScratchFile file(file_size);
    REQUIRE(file.ok());
    // Both run at once and see the same requests.
    ToolProcess text({tool_path("biosnoop"), "-p", self_pid()});
    ToolProcess js({tool_path("biosnoop"), "-p", self_pid(), "--json"});
    REQUIRE(text.wait_attached());
    REQUIRE(js.wait_attached());
    REQUIRE(file.direct_reads(read_size, reads));
    Finished t = text.stop(SIGINT);
    Finished j = js.stop(SIGINT);
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    std::vector<Request> from_json = json_requests(j.out);
    check_reads(from_json, file, getpid(), lost_on_stderr(j.err));
    auto key = [](const std::vector<Request>& rs) {
        std::map<uint64_t, std::pair<uint64_t, std::string>> by_sector;
        for (const Request& r : of_pid(rs, static_cast<unsigned>(getpid()), 'R'))
            by_sector[r.sector] = {r.bytes, r.rwbs};
        return by_sector;
    };
    CHECK(key(from_json) == key(text_requests(t.out, false, false)));
    for (const std::string& line : lines(j.out)) {
        json e = json::parse(line);
        if (e.contains("type")) continue;
        CHECK(e.at("time").is_string());
        CHECK(e.at("tid").is_number_unsigned());
        CHECK(e.at("major").is_number_unsigned());
        CHECK(e.at("minor").is_number_unsigned());
        CHECK(e.at("latency_ms").is_number());
        CHECK(!e.contains("queue_ms"));
    }
}

TEST_CASE("biosnoop -Q adds the queue time", "[biosnoop]") {
    REQUIRE_BPF();
    ScratchFile file(file_size);
    REQUIRE(file.ok());
    SECTION("text") {
        Finished r =
            trace({"-Q", "-p", self_pid()}, [&] { return file.direct_reads(read_size, reads); });
        CHECK(r.exit_code == 0);
        REQUIRE(!lines(r.out).empty());
        CHECK(lines(r.out)[0] == "TIME(s)     COMM             PID     DISK      T    SECTOR       "
                                 "BYTES   QUE(ms) LAT(ms)");
        std::vector<Request> all = text_requests(r.out, false, true);
        check_reads(all, file, getpid(), lost_on_stderr(r.err));
        for (const Request& req : all)
            CHECK(req.queue_ms >= 0);
    }
    SECTION("JSON") {
        Finished r =
            trace({"-Q", "-o", "json"}, [&] { return file.direct_reads(read_size, reads); });
        CHECK(r.exit_code == 0);
        std::vector<Request> all = json_requests(r.out);
        check_reads(all, file, getpid(), lost_on_stderr(r.err));
        for (const Request& req : all)
            CHECK(req.queue_ms >= 0);
    }
}

TEST_CASE("biosnoop -T adds the wall-clock time", "[biosnoop]") {
    REQUIRE_BPF();
    ScratchFile file(file_size);
    REQUIRE(file.ok());
    Finished r =
        trace({"-T", "-p", self_pid()}, [&] { return file.direct_reads(read_size, reads); });
    CHECK(r.exit_code == 0);
    REQUIRE(!lines(r.out).empty());
    CHECK(lines(r.out)[0].rfind("TIME     TIME(s)     COMM", 0) == 0);
    std::vector<Request> all = text_requests(r.out, true, false);
    check_reads(all, file, getpid(), lost_on_stderr(r.err));
    for (const Request& req : all)
        CHECK(std::regex_match(req.wall_time, std::regex(R"(\d\d:\d\d:\d\d)")));
}

TEST_CASE("biosnoop -p keeps the requests that process submitted, not another's", "[biosnoop]") {
    REQUIRE_BPF();
    ScratchFile file(file_size), other(file_size);
    REQUIRE(file.ok());
    REQUIRE(other.ok());
    REQUIRE(!other.disk_sectors().empty());
    Finished r = trace({"-p", self_pid(), "-o", "json"}, [&] {
        // A child reads another file first, one after the other (so no
        // request of one is merged into the other's): all of its requests
        // must be dropped; then this process's, all kept, show the tool was
        // tracing after the child's.
        pid_t child = fork();
        if (child == 0) _exit(other.direct_reads(read_size, reads) ? 0 : 1);
        int status = 0;
        waitpid(child, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 && file.direct_reads(read_size, reads);
    });
    CHECK(r.exit_code == 0);
    std::vector<Request> all = json_requests(r.out);
    check_reads(all, file, getpid(), lost_on_stderr(r.err));
    for (const Request& req : all) {
        CHECK(req.pid == static_cast<unsigned>(getpid()));
        CHECK(!in_file(req, other));
    }
}

TEST_CASE("biosnoop -c keeps the requests of tasks in that cgroup", "[biosnoop]") {
    REQUIRE_BPF();
    ScratchFile inside(file_size), outside(file_size);
    REQUIRE(inside.ok());
    REQUIRE(outside.ok());
    REQUIRE(!outside.disk_sectors().empty());
    TestCgroup cgroup(unique_token("biosnoop-readers"));
    if (cgroup.path.empty()) {
        SKIP_CASE("no writable cgroup v2 mount");
    }
    pid_t child = -1;
    Finished r = trace({"-c", cgroup.path, "-o", "json"}, [&] {
        // This process, outside the cgroup, reads one file; then a child in
        // the cgroup reads another (one after the other, as above).
        if (!outside.direct_reads(read_size, reads)) return false;
        child = fork();
        if (child == 0) {
            std::ofstream(cgroup.path + "/cgroup.procs") << getpid() << std::endl;
            _exit(inside.direct_reads(read_size, reads) ? 0 : 1);
        }
        int status = 0;
        waitpid(child, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    });
    CHECK(r.exit_code == 0);
    std::vector<Request> all = json_requests(r.out);
    check_reads(all, inside, child, lost_on_stderr(r.err));
    for (const Request& req : all) {
        CHECK(req.pid == static_cast<unsigned>(child));
        CHECK(!in_file(req, outside));
    }
}

TEST_CASE("biosnoop --disk keeps that disk; an unknown one is a usage error", "[biosnoop]") {
    SECTION("the disk under /tmp") {
        REQUIRE_BPF();
        ScratchFile file(file_size);
        REQUIRE(file.ok());
        std::string disk = disk_of(file.path());
        REQUIRE(!disk.empty());
        Finished r = trace({"--disk", disk, "-o", "json"},
                           [&] { return file.direct_reads(read_size, reads); });
        CHECK(r.exit_code == 0);
        std::vector<Request> all = json_requests(r.out);
        check_reads(all, file, getpid(), lost_on_stderr(r.err));
        for (const Request& req : all)
            CHECK(req.disk == disk);
    }
    SECTION("no such disk") {
        Finished r = run({tool_path("biosnoop"), "--disk", "nosuchdisk"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("'nosuchdisk'") != std::string::npos);
        CHECK(r.out.empty());
    }
    SECTION("-d is the duration, as in every tool, not a disk") {
        Finished r = run({tool_path("biosnoop"), "-d", "vda"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("invalid duration 'vda'") != std::string::npos);
    }
}

TEST_CASE("biosnoop --min drops requests faster than the threshold", "[biosnoop]") {
    SECTION("an hour: none of the test's reads is that slow") {
        REQUIRE_BPF();
        ScratchFile file(file_size);
        REQUIRE(file.ok());
        Finished r = trace({"--min", "3600000", "-p", self_pid(), "-o", "json"},
                           [&] { return file.direct_reads(read_size, reads); });
        CHECK(r.exit_code == 0);
        CHECK(json_requests(r.out).empty());
    }
    SECTION("each threshold keeps exactly the requests at least that slow") {
        // Fast 4 KiB reads and slower 1 MiB ones, traced with --min 0 and
        // with a range of thresholds at once: each threshold's requests are
        // exactly those --min 0 saw at or above it, and at least one
        // threshold falls between the two kinds, so both sides are shown.
        REQUIRE_BPF();
        ScratchFile file(16 << 20);
        REQUIRE(file.ok());
        const std::vector<double> thresholds = {0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10};
        auto start = [&](double min_ms) {
            std::ostringstream ms;
            ms << min_ms;
            return std::make_unique<ToolProcess>(std::vector<std::string>{
                tool_path("biosnoop"), "--min", ms.str(), "-p", self_pid(), "-o", "json"});
        };
        auto reference = start(0);
        std::vector<std::unique_ptr<ToolProcess>> above;
        for (double t : thresholds)
            above.push_back(start(t));
        REQUIRE(reference->wait_attached());
        for (auto& p : above)
            REQUIRE(p->wait_attached());
        REQUIRE(file.direct_reads(4096, 32));
        REQUIRE(file.direct_reads(1 << 20, 16));
        std::vector<Request> all = json_requests(reference->stop().out);
        REQUIRE(!all.empty());
        // Each instance times a request itself, with its own programs run
        // one after another at issue and at completion (an interrupt between
        // them on a busy machine makes it tens of microseconds): a request
        // this close to a threshold may fall either side of it. And a vCPU
        // the host preempts between two instances' programs can time one
        // request apart by more than any margin: one request a threshold
        // may land on the other side. A threshold ignored or misapplied
        // misplaces the many requests of one kind, and fails.
        auto margin_ms = [](double t) { return 0.02 + t / 10; };
        int split = 0;
        for (size_t i = 0; i < thresholds.size(); i++) {
            double t = thresholds[i];
            INFO("--min " << t);
            std::set<std::pair<uint64_t, uint64_t>> kept;
            for (const Request& req : json_requests(above[i]->stop().out)) {
                CHECK(req.latency_ms >= t);
                kept.insert({req.sector, req.bytes});
            }
            int slower = 0, faster = 0, misplaced = 0;
            for (const Request& req : all) {
                bool is_kept = kept.count({req.sector, req.bytes}) == 1;
                if (req.latency_ms >= t + margin_ms(t)) {
                    slower++;
                    misplaced += !is_kept;
                } else if (req.latency_ms < t - margin_ms(t)) {
                    faster++;
                    misplaced += is_kept;
                }
            }
            CHECK(misplaced <= 1);
            split += slower > 1 && faster > 1;
        }
        CHECK(split > 0);
    }
    SECTION("a bad threshold is a usage error naming it") {
        Finished r = run({tool_path("biosnoop"), "--min", "-1"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("'-1'") != std::string::npos);
    }
}

TEST_CASE("biosnoop works through the perf buffer too", "[biosnoop]") {
    REQUIRE_BPF();
    ScratchFile file(file_size);
    REQUIRE(file.ok());
    ToolProcess p({tool_path("biosnoop"), "-p", self_pid(), "-o", "json"},
                  ToolProcess::Stdout::pipe, [] { setenv("CORESCOPE_PERF_BUFFER", "1", 1); });
    REQUIRE(p.wait_attached());
    REQUIRE(file.direct_reads(read_size, reads));
    Finished r = p.stop(SIGTERM);
    CHECK(r.exit_code == 0);
    check_reads(json_requests(r.out), file, getpid(), lost_on_stderr(r.err));
}

TEST_CASE("biosnoop --dry-run plans start, merge, insert, issue and completion from one tier",
          "[biosnoop]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("biosnoop"), "--dry-run", "-o", "json"});
    CHECK(r.exit_code == 0);
    std::vector<std::string> out = lines(r.out);
    REQUIRE(out.size() == 1);
    json plan = json::parse(out[0]);
    CHECK(plan.at("type") == "attach_plan");
    std::set<std::string> targets, kinds;
    for (const json& step : plan.at("steps"))
        for (const json& point : step.at("attach")) {
            targets.insert(point.at("target").get<std::string>());
            kinds.insert(point.at("kind").get<std::string>());
        }
    // block_io_start (6.5+) and block_rq_merge are taken where the kernel
    // has them; this one's tracefs says which it has.
    std::set<std::string> expected{"block_rq_insert", "block_rq_issue", "block_rq_complete"};
    for (const char* optional : {"block_io_start", "block_rq_merge"})
        if (access(("/sys/kernel/tracing/events/block/" + std::string(optional)).c_str(), F_OK) ==
            0)
            expected.insert(optional);
    CHECK(targets == expected);
    CHECK(kinds == std::set<std::string>{"tp_btf"});
}

} // namespace test_biosnoop
