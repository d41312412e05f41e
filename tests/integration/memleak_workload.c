/* memleak's workload: prints "ready", waits for a line on stdin (unless
 * its argument is "now"), then
 *   leak_old:     2 blocks of 1024 bytes (malloc), then sleeps 1.2 s when
 *                 the argument is "aged" (for --older)
 *   leak_a:       7 blocks of 4096 bytes (malloc)
 *   leak_b:       3 blocks of 65536 bytes (calloc)
 *   leak_aligned: 1 block of 8192 bytes (aligned_alloc, 256-byte aligned)
 *   leak_grown:   1 block grown from 100 to 20000 bytes (realloc)
 *   churn:        50 blocks of 512 bytes, all freed
 * prints "done" and waits for stdin to close (or, with "now", exits
 * quietly: its output is memleak --command's).
 *   memleak_workload wait|aged|now */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void* volatile kept[64];
static int nkept;

#define NOINLINE __attribute__((noinline))

static void keep(void* p) {
    if (!p) exit(3);
    memset(p, 1, 16);
    kept[nkept++ % 64] = p;
}

NOINLINE void leak_old(void) {
    for (int i = 0; i < 2; i++)
        keep(malloc(1024));
}

NOINLINE void leak_a(void) {
    for (int i = 0; i < 7; i++)
        keep(malloc(4096));
}

NOINLINE void leak_b(void) {
    for (int i = 0; i < 3; i++)
        keep(calloc(1, 65536));
}

NOINLINE void leak_aligned(void) {
    keep(aligned_alloc(256, 8192));
}

NOINLINE void leak_grown(void) {
    char* p = malloc(100);
    keep(p);
    p = realloc(p, 20000);
    keep(p);
}

NOINLINE void churn(void) {
    void* blocks[50];
    for (int i = 0; i < 50; i++)
        blocks[i] = malloc(512);
    for (int i = 0; i < 50; i++)
        free(blocks[i]);
}

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "wait";
    int now = strcmp(mode, "now") == 0;
    char line[16];
    setvbuf(stdout, NULL, _IONBF, 0); /* no stdio buffer among the allocations */
    if (!now) {
        printf("ready\n");
        if (!fgets(line, sizeof line, stdin)) return 1;
    }
    leak_old();
    if (strcmp(mode, "aged") == 0) {
        struct timespec ts = {1, 200000000};
        nanosleep(&ts, NULL);
    }
    leak_a();
    leak_b();
    leak_aligned();
    leak_grown();
    churn();
    if (!now) {
        printf("done\n");
        while (fgets(line, sizeof line, stdin)) {
        }
    }
    return 0;
}
