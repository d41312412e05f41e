/* rate_open RATE SECONDS PATH: open(PATH) (and close it if it opened) at a
 * steady RATE per second for SECONDS; print how many opens it did.
 *
 * Pacing is by 1 ms ticks against an absolute schedule: in each tick it
 * catches up to RATE * elapsed, then sleeps to the next tick, so it does not
 * burn the CPU the tool under test needs. If it falls behind (the tool slows
 * open() down too much), the printed count is below RATE * SECONDS and
 * bench/run reports the rate actually achieved. RATE 0 means as fast as
 * possible. */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

#define TICK_NS 1000000ull

int main(int argc, char** argv) {
    uint64_t rate, seconds, done = 0, start, deadline, next_tick;
    const char* path;

    if (argc != 4) die("usage: rate_open RATE SECONDS PATH");
    rate = parse_count("RATE", argv[1]);
    seconds = parse_count("SECONDS", argv[2]);
    path = argv[3];

    start = now_ns();
    deadline = start + seconds * 1000000000ull;
    next_tick = start;
    for (;;) {
        uint64_t now = now_ns();
        uint64_t due;

        if (now >= deadline) break;
        /* Opens due by the end of this tick (all of them if unpaced). */
        due = rate ? (uint64_t)((double)rate * (double)(now - start + TICK_NS) / 1e9) : done + 1000;
        while (done < due) {
            int fd = open(path, O_RDONLY);

            if (fd >= 0) close(fd);
            done++;
        }
        if (rate) {
            struct timespec ts;

            next_tick += TICK_NS;
            if (next_tick > now_ns()) {
                ts.tv_sec = next_tick / 1000000000ull;
                ts.tv_nsec = next_tick % 1000000000ull;
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            } else {
                next_tick = now_ns();
            }
        }
    }
    printf("%llu\n", (unsigned long long)done);
    return 0;
}
