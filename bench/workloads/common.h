/* Helpers shared by the benchmark workloads: a monotonic clock, strict
 * number parsing, and one way to fail. Each workload prints its result as
 * plain numbers on stdout so that bench/run can parse it without guessing. */
#ifndef BENCH_WORKLOADS_COMMON_H
#define BENCH_WORKLOADS_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A positive decimal count; anything else is a usage error (exit 2), so a
 * typo in bench/run never turns into a silent zero-iteration run. */
static inline uint64_t parse_count(const char *what, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "bad %s: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* Print the cost of one iteration, in nanoseconds, as a single number. */
static inline void print_ns_per_iter(uint64_t elapsed_ns, uint64_t iters)
{
	printf("%.1f\n", (double)elapsed_ns / (double)iters);
}

#endif
