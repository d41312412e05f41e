// cachestat against page cache traffic this test makes: a 64 MiB file
// dropped from the cache and read cold (misses), then read again warm
// (hits), and new data written (dirtied pages that are not misses). The
// counts are system-wide, so other activity adds to them: each assertion
// demands at least every one of the test's own pages (their number known
// from mincore), and leaves room above only where it says why.
#include "harness.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace test_cachestat {

using namespace itest;
using nlohmann::json;

namespace {

constexpr size_t file_size = 64 << 20;

struct Sums {
    uint64_t hits = 0, misses = 0, dirties = 0, accesses = 0;
    size_t records = 0;
};

Sums sum_records(const std::string& out) {
    Sums s;
    for (const std::string& line : lines(out)) {
        json j = json::parse(line); // throws if invalid
        s.hits += j.at("hits").get<uint64_t>();
        s.misses += j.at("misses").get<uint64_t>();
        s.dirties += j.at("dirties").get<uint64_t>();
        s.accesses += j.at("accesses").get<uint64_t>();
        double ratio = j.at("hit_ratio").get<double>();
        CHECK(ratio >= 0);
        CHECK(ratio <= 1);
        CHECK(j.at("cached_mb").get<uint64_t>() > 0);
        CHECK(j.at("buffers_mb").is_number_unsigned());
        s.records++;
    }
    return s;
}

void read_all(int fd) {
    std::vector<char> buf(1 << 20);
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf.data(), buf.size())) > 0)
        total += static_cast<size_t>(n);
    REQUIRE(total == file_size);
}

// Runs cachestat -o json around work and sums its records.
template <class Work>
Sums measure(Work work) {
    ToolProcess p({tool_path("cachestat"), "-o", "json", "1"});
    REQUIRE(p.wait_attached());
    work();
    // The counts are made in the kernel as the work runs, and the tool prints
    // the interval so far when stopped.
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    return sum_records(r.out);
}

} // namespace

TEST_CASE("cachestat counts a cold read as misses and a warm read as hits", "[cachestat]") {
    REQUIRE_BPF();
    std::string path = "/tmp/" + unique_token("cachestat-file");
    int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    REQUIRE(fd >= 0);
    unlink(path.c_str());
    std::vector<char> block(1 << 20);
    for (size_t i = 0; i < block.size(); i++)
        block[i] = static_cast<char>(i * 7);
    for (size_t done = 0; done < file_size; done += block.size())
        REQUIRE(write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()));
    REQUIRE(fsync(fd) == 0);
    REQUIRE(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    const uint64_t pages = pages_of(file_size);
    const uint64_t cached_before = resident_pages(fd, file_size);
    REQUIRE(cached_before < pages / 100);

    // Every page read once, and each one not cached a miss.
    Sums cold = measure([&] { read_all(fd); });
    INFO("cold: hits " << cold.hits << " misses " << cold.misses << " accesses " << cold.accesses);
    CHECK(cold.records >= 1);
    CHECK(cold.misses >= pages - cached_before);
    CHECK(cold.accesses >= pages);
    // Room above for other processes' misses meanwhile; a tool that counted
    // each miss twice (as an access and an insertion) would pass 2x.
    CHECK(cold.misses < pages * 2);
    const uint64_t cached = resident_pages(fd, file_size);
    REQUIRE(cached >= pages * 99 / 100); // warm for the next read

    // Every cached page a hit. Hits are accesses less misses, system-wide
    // (cachestat(8)), so a page another process brings in meanwhile (the
    // journal's, say) takes one from the hits: a run in CI showed 16383 of
    // 16384 with 1 miss. A tool that missed the hits would still fail, the
    // misses being bounded below.
    Sums warm = measure([&] { read_all(fd); });
    INFO("warm: hits " << warm.hits << " misses " << warm.misses << " accesses " << warm.accesses);
    CHECK(warm.hits + warm.misses >= cached);
    // At most the pages that were not cached, and room for other processes':
    // a tool that counted the warm read's pages as misses would show them all.
    CHECK(warm.misses < pages - cached + pages / 4);
    close(fd);
}

TEST_CASE("cachestat counts written pages as dirties, not misses", "[cachestat]") {
    REQUIRE_BPF();
    std::string path = "/tmp/" + unique_token("cachestat-write");
    const size_t size = 16 << 20;
    const uint64_t pages = pages_of(size);
    int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    REQUIRE(fd >= 0);
    unlink(path.c_str());
    std::vector<char> block(1 << 20, 'w');
    Sums s = measure([&] {
        for (size_t done = 0; done < size; done += block.size())
            REQUIRE(write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()));
    });
    close(fd);
    INFO("write: dirties " << s.dirties << " misses " << s.misses);
    CHECK(s.dirties >= pages); // each new page dirtied
    // Writes that create pages are no misses; room for other processes' (a
    // tool that took the writes' insertions for misses would show them all).
    CHECK(s.misses < pages / 2);
}

TEST_CASE("cachestat prints the classic columns, interval and count", "[cachestat]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("cachestat"), "-T", "1", "2"}, 10);
    CHECK(r.exit_code == 0);
    auto out = lines(r.out);
    REQUIRE(out.size() == 3);
    CHECK(out[0] == "TIME         HITS   MISSES  DIRTIES HITRATIO   BUFFERS_MB  CACHED_MB");
    for (size_t i = 1; i < out.size(); i++) {
        std::istringstream fields(out[i]);
        std::string time, hits, misses, dirties, ratio, buffers, cached;
        fields >> time >> hits >> misses >> dirties >> ratio >> buffers >> cached;
        CHECK(time.size() == 8);
        CHECK(time[2] == ':');
        CHECK(ratio.back() == '%');
        CHECK(std::stoull(cached) > 0);
        CHECK_NOTHROW(std::stoull(hits));
        CHECK_NOTHROW(std::stoull(misses));
        CHECK_NOTHROW(std::stoull(dirties));
    }
}

TEST_CASE("cachestat rejects a bad interval with exit 2 naming it", "[cachestat]") {
    Finished r = run({tool_path("cachestat"), "0"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'0'") != std::string::npos);
}

} // namespace test_cachestat
