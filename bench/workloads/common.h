/* Helpers shared by the benchmark workloads: a monotonic clock, strict
 * number parsing, and one way to fail. Each workload prints its result as
 * plain numbers on stdout so that bench/run can parse it without guessing. */
#ifndef BENCH_WORKLOADS_COMMON_H
#define BENCH_WORKLOADS_COMMON_H

#ifndef _GNU_SOURCE /* the build may define it on the command line */
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void) {
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void die(const char* fmt, ...) {
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* A positive decimal count; anything else is a usage error (exit 2), so a
 * typo in bench/run never turns into a silent zero-iteration run. */
static inline uint64_t parse_count(const char* what, const char* s) {
    char* end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') {
        fprintf(stderr, "bad %s: '%s'\n", what, s);
        exit(2);
    }
    return v;
}

/* Workloads that run "until COUNT events or SECONDS have passed" (0: no
 * limit on that side), for the load tests and bench/soak. */
struct run_limit {
    uint64_t count;
    uint64_t seconds;
    uint64_t deadline_ns; /* 0: none; set by run_limit_start */
};

static inline struct run_limit parse_run_limit(const char* count, const char* seconds) {
    struct run_limit limit;

    limit.count = parse_count("COUNT", count);
    limit.seconds = parse_count("SECONDS", seconds);
    limit.deadline_ns = 0;
    if (limit.count == 0 && limit.seconds == 0) die("COUNT and SECONDS cannot both be 0");
    return limit;
}

/* The clock starts at the first event, after any wait for go. */
static inline void run_limit_start(struct run_limit* limit) {
    if (limit->seconds) limit->deadline_ns = now_ns() + limit->seconds * 1000000000ull;
}

static inline int run_limit_reached(const struct run_limit* limit, uint64_t done) {
    if (limit->count && done >= limit->count) return 1;
    /* The clock is read every 64 events: cheap next to any system call. */
    return limit->deadline_ns && done % 64 == 0 && now_ns() >= limit->deadline_ns;
}

/* With -g first on the command line: set up, print "ready", then wait for
 * a line on stdin before making the first event. A tool attached in
 * between sees only the workload's events, none of its start-up (the
 * dynamic loader's opens and reads, for fsslower). Removes -g from argv. */
static inline int want_go(int* argc, char*** argv) {
    if (*argc > 1 && strcmp((*argv)[1], "-g") == 0) {
        (*argv)[1] = (*argv)[0];
        (*argc)--;
        (*argv)++;
        return 1;
    }
    return 0;
}

static inline void wait_for_go(void) {
    char line[16];

    printf("ready\n");
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin)) die("no go on stdin");
}

/* Print the cost of one iteration, in nanoseconds, as a single number. */
static inline void print_ns_per_iter(uint64_t elapsed_ns, uint64_t iters) {
    printf("%.1f\n", (double)elapsed_ns / (double)iters);
}

#endif
