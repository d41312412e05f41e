/* The library of funccount's and funclatency's tests (func_workload.c calls
 * it): functions the tests count and time by name. Each is exported and
 * never inlined, so each call is one entry at its symbol. */
#include <time.h>

#define EXPORTED __attribute__((noinline, visibility("default")))

volatile int fc_sink;

EXPORTED void fc_alpha(void) {
    fc_sink++;
}

EXPORTED void fc_beta(void) {
    fc_sink += 2;
}

/* Sleeps ms milliseconds (one clock_nanosleep system call). */
EXPORTED void fc_slow(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, 0);
    fc_sink += 3;
}

/* Never called: a match that counts nothing. */
EXPORTED void fc_unused(void) {
    fc_sink += 4;
}
