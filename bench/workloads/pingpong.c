/* pingpong N [CPU]: two threads pinned to the same CPU pass a one-byte token
 * through two pipes N times; print ns per round trip.
 *
 * Both threads share one CPU, so every hand-over is a wakeup followed by a
 * context switch: a round trip is 2 wakeups and 2 switches, i.e. 2 run
 * queue latency samples for runqlat. CPU defaults to the highest CPU this
 * process may run on. */
#include "common.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

static int ping[2], pong[2];
static uint64_t rounds;
static int cpu; /* both threads run here */

/* Pin the calling thread (sched_setaffinity(0) is per thread). */
static void pin(void) {
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set))
        die("pingpong: pin to CPU %d: %s", cpu, strerror(errno));
}

static void xread(int fd) {
    char c;

    if (read(fd, &c, 1) != 1) die("pingpong: read: %s", strerror(errno));
}

static void xwrite(int fd) {
    if (write(fd, "x", 1) != 1) die("pingpong: write: %s", strerror(errno));
}

static void* responder(void* arg) {
    uint64_t i;

    (void)arg;
    pin();
    for (i = 0; i < rounds; i++) {
        xread(ping[0]);
        xwrite(pong[1]);
    }
    return NULL;
}

int main(int argc, char** argv) {
    pthread_t thr;
    uint64_t i, t0, t1;

    if (argc != 2 && argc != 3) die("usage: pingpong N [CPU]");
    rounds = parse_count("N", argv[1]);
    if (rounds == 0) die("N must be > 0");
    if (argc == 3) {
        cpu = (int)parse_count("CPU", argv[2]);
    } else {
        cpu_set_t set;

        if (sched_getaffinity(0, sizeof(set), &set))
            die("pingpong: sched_getaffinity: %s", strerror(errno));
        for (cpu = CPU_SETSIZE - 1; cpu > 0 && !CPU_ISSET(cpu, &set); cpu--)
            ;
    }
    pin();
    if (pipe(ping) || pipe(pong)) die("pingpong: pipe: %s", strerror(errno));
    if (pthread_create(&thr, NULL, responder, NULL)) die("pingpong: pthread_create failed");

    t0 = now_ns();
    for (i = 0; i < rounds; i++) {
        xwrite(ping[1]);
        xread(pong[0]);
    }
    t1 = now_ns();
    pthread_join(thr, NULL);
    print_ns_per_iter(t1 - t0, rounds);
    return 0;
}
