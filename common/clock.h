// Kernel timestamps (bpf_ktime_get_ns, CLOCK_MONOTONIC) as wall-clock time.
// The offset between the clocks is taken once; formatted seconds are cached
// so a busy tool does not call strftime per event.
#pragma once

#include "string_appender.h"

#include <cstdint>
#include <string>

namespace corescope {

// CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns: for deadlines, intervals
// and the kernel's timestamps.
uint64_t monotonic_ns();
double monotonic_seconds();

// For golden-output tests: from now on every clock of this process reads as
// if it were the moment when CLOCK_REALTIME read realtime_ns and
// CLOCK_MONOTONIC read monotonic_ns (event times, "now", the wall clock),
// so that decoded output is the same on every run.
void fix_clocks_for_tests(uint64_t realtime_ns, uint64_t monotonic_ns);
void unfix_clocks_for_tests();
// CLOCK_REALTIME, or the fixed time of fix_clocks_for_tests.
uint64_t realtime_ns();

// A duration in the unit that reads best: "850 ns", "12.3 us", "4.1 ms",
// "2.0 s".
std::string readable_duration(uint64_t ns);

class EventClock {
  public:
    EventClock();
    // Appends HH:MM:SS (local time) for a monotonic timestamp.
    void append_hms(StringAppender& out, uint64_t monotonic_ns);
    void append_hms(std::string& out, uint64_t monotonic_ns);
    // Appends 2026-11-22T07:40:01.123456Z (UTC) for a monotonic timestamp.
    void append_iso(StringAppender& out, uint64_t monotonic_ns);
    void append_iso(std::string& out, uint64_t monotonic_ns);
    uint64_t to_realtime_ns(uint64_t monotonic_ns) const { return monotonic_ns + offset_ns_; }

  private:
    uint64_t offset_ns_;
    int64_t hms_second_ = -1;
    std::string hms_text_;
    int64_t iso_second_ = -1;
    std::string iso_text_;
};

} // namespace corescope
