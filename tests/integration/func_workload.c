/* funccount's and funclatency's workload: prints "ready", waits for a line
 * on stdin, then calls libfuncwork's fc_alpha ALPHA times, fc_beta BETA
 * times, fc_slow(20) SLOW times (each one clock_nanosleep of 20 ms) and
 * fires the USDT probe funcwork:tick TICKS times, prints "done" and exits.
 *   func_workload ALPHA BETA SLOW TICKS */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>

void fc_alpha(void);
void fc_beta(void);
void fc_slow(int ms);

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
    for (int i = 0; i < alpha; i++)
        fc_alpha();
    for (int i = 0; i < beta; i++)
        fc_beta();
    for (int i = 0; i < slow; i++)
        fc_slow(20);
    for (int i = 0; i < ticks; i++)
        DTRACE_PROBE1(funcwork, tick, i);
    printf("done\n");
    fflush(stdout);
    return 0;
}
