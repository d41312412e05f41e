// EventClock (common/clock.h): kernel CLOCK_MONOTONIC timestamps as
// wall-clock text.
#include "clock.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <regex>
#include <string>

namespace test_clock {

using namespace corescope;

namespace {

uint64_t now_ns(clockid_t id) {
    struct timespec ts {};
    clock_gettime(id, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string local_hms(time_t t) {
    struct tm tm {};
    localtime_r(&t, &tm);
    char buf[16];
    strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

// Microseconds since the epoch for "YYYY-MM-DDTHH:MM:SS.ffffffZ" (integers:
// a double has no microseconds left at today's epoch seconds).
int64_t parse_iso_us(const std::string& text) {
    struct tm tm {};
    const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    REQUIRE(rest != nullptr);
    REQUIRE(*rest == '.');
    REQUIRE(text.back() == 'Z');
    int64_t micros = std::stoll(std::string(rest + 1, text.c_str() + text.size() - 1));
    return static_cast<int64_t>(timegm(&tm)) * 1000000 + micros;
}

// Runs the test in a time zone far from UTC (a POSIX TZ string, so no tzdata
// is needed), so that local time and UTC cannot be mixed up unnoticed.
class ScopedTimeZone {
  public:
    explicit ScopedTimeZone(const char* tz) {
        const char* old = getenv("TZ");
        had_old_ = old != nullptr;
        if (had_old_) old_ = old;
        setenv("TZ", tz, 1);
        tzset();
    }
    ~ScopedTimeZone() {
        if (had_old_)
            setenv("TZ", old_.c_str(), 1);
        else
            unsetenv("TZ");
        tzset();
    }
    ScopedTimeZone(const ScopedTimeZone&) = delete;
    ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

  private:
    bool had_old_ = false;
    std::string old_;
};

const char* const far_zone = "XST-5:30"; // UTC+05:30

const std::regex iso_pattern(
    R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}Z$)");

} // namespace

TEST_CASE("clock: append_hms gives the local HH:MM:SS of a monotonic timestamp", "[clock]") {
    ScopedTimeZone zone(far_zone);
    struct tm utc {};
    time_t probe = time(nullptr);
    gmtime_r(&probe, &utc);
    char utc_text[16];
    strftime(utc_text, sizeof utc_text, "%H:%M:%S", &utc);
    REQUIRE(local_hms(probe) != utc_text); // the zone took effect

    EventClock clock;
    time_t before = time(nullptr);
    std::string out = "ts=";
    clock.append_hms(out, now_ns(CLOCK_MONOTONIC));
    time_t after = time(nullptr);

    REQUIRE(out.rfind("ts=", 0) == 0); // appends, keeps what was there
    std::string hms = out.substr(3);
    CHECK(std::regex_match(hms, std::regex(R"(^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$)")));
    bool matches_now = hms == local_hms(before) || hms == local_hms(after);
    INFO(hms << " vs " << local_hms(before) << ".." << local_hms(after));
    CHECK(matches_now);
}

TEST_CASE("clock: append_hms follows the timestamp, not the cache", "[clock]") {
    ScopedTimeZone zone(far_zone);
    EventClock clock;
    uint64_t base = now_ns(CLOCK_MONOTONIC);
    for (uint64_t delta_s : {0ull, 0ull, 61ull, 3600ull, 1ull, 0ull}) {
        uint64_t t = base + delta_s * 1000000000ull;
        std::string out;
        clock.append_hms(out, t);
        time_t expected = static_cast<time_t>(clock.to_realtime_ns(t) / 1000000000ull);
        INFO("delta " << delta_s << " s");
        CHECK(out == local_hms(expected));
    }
}

TEST_CASE("clock: append_iso gives a parseable UTC time close to now", "[clock]") {
    ScopedTimeZone zone(far_zone); // ISO times are UTC whatever the local zone
    EventClock clock;
    std::string out;
    clock.append_iso(out, now_ns(CLOCK_MONOTONIC));
    double real_now = static_cast<double>(now_ns(CLOCK_REALTIME)) / 1e9;
    INFO(out);
    CHECK(std::regex_match(out, iso_pattern));
    CHECK(std::fabs(static_cast<double>(parse_iso_us(out)) / 1e6 - real_now) < 1.0);

    CHECK(static_cast<double>(clock.to_realtime_ns(now_ns(CLOCK_MONOTONIC))) / 1e9 ==
          Approx(static_cast<double>(now_ns(CLOCK_REALTIME)) / 1e9).margin(0.5));
}

TEST_CASE("clock: append_iso keeps microseconds and crosses seconds correctly", "[clock]") {
    EventClock clock;
    uint64_t base = now_ns(CLOCK_MONOTONIC);
    std::string first, same_second, later, much_later;
    clock.append_iso(first, base);
    clock.append_iso(same_second, base + 1000);                                   // +1 us
    clock.append_iso(later, base + 1500000000ull);                                // +1.5 s
    clock.append_iso(much_later, base + 86400ull * 1000000000ull + 250000000ull); // +1 day 0.25 s
    for (const std::string* s : {&first, &same_second, &later, &much_later}) {
        INFO(*s);
        CHECK(std::regex_match(*s, iso_pattern));
    }
    CHECK(parse_iso_us(same_second) - parse_iso_us(first) == 1);
    CHECK(parse_iso_us(later) - parse_iso_us(first) == 1500000);
    CHECK(parse_iso_us(much_later) - parse_iso_us(first) == 86400250000);

    // Going back in time is fine too (events from other CPUs arrive out of order).
    std::string back;
    clock.append_iso(back, base);
    CHECK(back == first);
}

TEST_CASE("durations read in the unit that fits", "[clock]") {
    CHECK(readable_duration(0) == "0 ns");
    CHECK(readable_duration(999) == "999 ns");
    CHECK(readable_duration(1000) == "1.0 us");
    CHECK(readable_duration(12345) == "12.3 us");
    CHECK(readable_duration(4100000) == "4.1 ms");
    CHECK(readable_duration(2000000000) == "2.0 s");
}

} // namespace test_clock
