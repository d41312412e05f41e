/* funccount's, funclatency's and stackcount's workload: prints "ready",
 * waits for a line on stdin, then calls libfuncwork's fc_alpha ALPHA times
 * (the first ALPHA - ALPHA/2 calls through fw_path_one, the others through
 * fw_path_two: two call paths to one function, for stackcount), fc_beta
 * BETA times, fc_slow(20) SLOW times (each one clock_nanosleep of 20 ms)
 * and fires the USDT probe funcwork:tick TICKS times, prints "done", and
 * exits when stdin closes. Built with frame pointers, so user stacks can be walked.
 *   func_workload ALPHA BETA SLOW TICKS */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>

void fc_alpha(void);
void fc_beta(void);
void fc_slow(int ms);

#define CALLER __attribute__((noinline, noclone, visibility("default")))

volatile int fw_sink;

/* Between each path and fc_alpha, so that the path's frame is in the stack
 * on kernels whose uprobe unwinder misses the caller of the probed function
 * (before 6.11: the return address is still on top of the stack). */
CALLER void fw_call_alpha(void) {
    fc_alpha();
    fw_sink++; /* not a tail call */
}

CALLER void fw_path_one(int n) {
    for (int i = 0; i < n; i++)
        fw_call_alpha();
    fw_sink++;
}

CALLER void fw_path_two(int n) {
    for (int i = 0; i < n; i++)
        fw_call_alpha();
    fw_sink++;
}

int main(int argc, char** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: func_workload ALPHA BETA SLOW TICKS\n");
        return 2;
    }
    int alpha = atoi(argv[1]), beta = atoi(argv[2]), slow = atoi(argv[3]), ticks = atoi(argv[4]);
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;
    fw_path_one(alpha - alpha / 2);
    fw_path_two(alpha / 2);
    for (int i = 0; i < beta; i++)
        fc_beta();
    for (int i = 0; i < slow; i++)
        fc_slow(20);
    for (int i = 0; i < ticks; i++)
        DTRACE_PROBE1(funcwork, tick, i);
    printf("done\n");
    fflush(stdout);
    /* Alive until stdin closes: a tool can still read this process's
     * mappings after the work (FuncWorkload::work_and_stay). */
    while (fgets(line, sizeof line, stdin))
        ;
    return 0;
}
