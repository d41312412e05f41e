#include "clock.h"

#include <cstdio>
#include <ctime>

namespace corescope {

namespace {
bool clocks_fixed = false;
uint64_t fixed_realtime_ns = 0;
uint64_t fixed_monotonic_ns = 0;

uint64_t clock_ns(clockid_t id) {
    if (clocks_fixed) return id == CLOCK_MONOTONIC ? fixed_monotonic_ns : fixed_realtime_ns;
    struct timespec ts {};
    clock_gettime(id, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
} // namespace

void fix_clocks_for_tests(uint64_t realtime_ns, uint64_t monotonic_ns) {
    clocks_fixed = true;
    fixed_realtime_ns = realtime_ns;
    fixed_monotonic_ns = monotonic_ns;
}

void unfix_clocks_for_tests() {
    clocks_fixed = false;
}

uint64_t realtime_ns() {
    return clock_ns(CLOCK_REALTIME);
}

uint64_t monotonic_ns() {
    return clock_ns(CLOCK_MONOTONIC);
}

double monotonic_seconds() {
    return static_cast<double>(monotonic_ns()) / 1e9;
}

EventClock::EventClock() : offset_ns_(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC)) {}

void EventClock::append_hms(StringAppender& out, uint64_t monotonic_ns) {
    int64_t second = static_cast<int64_t>(to_realtime_ns(monotonic_ns) / 1000000000ull);
    if (second != hms_second_) {
        time_t t = static_cast<time_t>(second);
        struct tm tm {};
        localtime_r(&t, &tm);
        char buf[16];
        size_t n = strftime(buf, sizeof buf, "%H:%M:%S", &tm);
        hms_text_.assign(buf, n);
        hms_second_ = second;
    }
    out.put(hms_text_);
}

void EventClock::append_hms(std::string& out, uint64_t monotonic_ns) {
    StringAppender appender(out, 16);
    append_hms(appender, monotonic_ns);
}

void EventClock::append_iso(StringAppender& out, uint64_t monotonic_ns) {
    uint64_t real = to_realtime_ns(monotonic_ns);
    int64_t second = static_cast<int64_t>(real / 1000000000ull);
    if (second != iso_second_) {
        time_t t = static_cast<time_t>(second);
        struct tm tm {};
        gmtime_r(&t, &tm);
        char buf[32];
        size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        iso_text_.assign(buf, n);
        iso_second_ = second;
    }
    out.put(iso_text_);
    // ".uuuuuuZ", without snprintf: this runs for every JSON event.
    char* at = out.room(8);
    *at = '.';
    unsigned micros = static_cast<unsigned>((real % 1000000000ull) / 1000);
    for (int i = 6; i >= 1; i--, micros /= 10)
        at[i] = static_cast<char>('0' + micros % 10);
    at[7] = 'Z';
    out.advance(8);
}

void EventClock::append_iso(std::string& out, uint64_t monotonic_ns) {
    StringAppender appender(out, 40);
    append_iso(appender, monotonic_ns);
}

std::string readable_duration(uint64_t ns) {
    char b[32];
    if (ns < 1000)
        std::snprintf(b, sizeof b, "%llu ns", static_cast<unsigned long long>(ns));
    else if (ns < 1000000)
        std::snprintf(b, sizeof b, "%.1f us", static_cast<double>(ns) / 1e3);
    else if (ns < 1000000000)
        std::snprintf(b, sizeof b, "%.1f ms", static_cast<double>(ns) / 1e6);
    else
        std::snprintf(b, sizeof b, "%.1f s", static_cast<double>(ns) / 1e9);
    return b;
}

} // namespace corescope
