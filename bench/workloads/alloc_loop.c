/* alloc_loop [-g] COUNT: COUNT iterations of one malloc (64 to 319 bytes)
 * and one free of the block made 16 iterations before (16 stay live, so
 * the allocator does not hand back the same block every time); prints the
 * wall-clock ns per iteration. Each iteration is one allocation and one
 * free for memleak. With -g it prints "ready" and waits for a line on stdin
 * first, so a tool given its PID (memleak -p) attaches before the loop. */
#include "common.h"

#define LIVE 16

int main(int argc, char** argv) {
    int go = want_go(&argc, &argv);
    void* live[LIVE] = {0};
    uint64_t count, t0;

    if (argc != 2) die("usage: alloc_loop [-g] COUNT");
    count = parse_count("COUNT", argv[1]);
    if (go) wait_for_go();
    t0 = now_ns();
    for (uint64_t i = 0; i < count; i++) {
        free(live[i % LIVE]);
        live[i % LIVE] = malloc(64 + (i & 255));
        if (!live[i % LIVE]) die("alloc_loop: out of memory");
        *(volatile char*)live[i % LIVE] = 1;
    }
    print_ns_per_iter(now_ns() - t0, count);
    for (int i = 0; i < LIVE; i++)
        free(live[i]);
    return 0;
}
