/* fork_exit [-g] COUNT SECONDS [NAME]: vfork a child that exits at once and
 * reap it, until COUNT children or SECONDS (0: no limit on that side); print
 * how many. Each child is one exitsnoop event, and so is this process's own
 * exit. NAME (up to 15 bytes) becomes the command name of this process and
 * its children, so a tool can pick them out with -n. */
#include "common.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int go = want_go(&argc, &argv);
    struct run_limit limit;
    volatile uint64_t done = 0; /* vfork shares this frame */

    if (argc != 3 && argc != 4) die("usage: fork_exit [-g] COUNT SECONDS [NAME]");
    limit = parse_run_limit(argv[1], argv[2]);
    if (argc == 4 && prctl(PR_SET_NAME, argv[3], 0, 0, 0))
        die("fork_exit: set name: %s", strerror(errno));
    if (go) wait_for_go();
    run_limit_start(&limit);
    while (!run_limit_reached(&limit, done)) {
        int status;
        /* vfork: the cheapest way to make a process that exits. */
        pid_t pid = vfork();

        if (pid < 0) die("fork_exit: vfork: %s", strerror(errno));
        if (pid == 0) _exit(0);
        if (waitpid(pid, &status, 0) < 0) die("fork_exit: waitpid: %s", strerror(errno));
        done++;
    }
    printf("%llu\n", (unsigned long long)done);
    return 0;
}
