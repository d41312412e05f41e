/* exec_loop N [ARG]: fork, exec /bin/true [ARG] and wait, N times; print ns
 * per iteration. Each iteration is one successful execve, i.e. one execsnoop
 * event. ARG lets bench/run find the workload's lines in a tool's output. */
#include "common.h"

#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    uint64_t n, i, t0, t1;
    char* args[3] = {NULL, NULL, NULL};
    char* path;

    if (argc != 2 && argc != 3) die("usage: exec_loop N [ARG]");
    /* The path and argv strings live on the heap, touched before fork, so
     * they are mapped in the child when execve's tracepoint fires. A string
     * literal would sit in a file-backed page the child has not faulted in,
     * and tools that read user memory without faulting it in print an empty
     * string for it (bpftrace's join() loses the whole argv, libbpf-tools'
     * execsnoop the program name). Shells build argv on the heap too. */
    path = strdup("/bin/true");
    args[0] = strdup("true");
    args[1] = argc == 3 ? strdup(argv[2]) : NULL;
    if (!path || !args[0] || (argc == 3 && !args[1])) die("exec_loop: out of memory");
    n = parse_count("N", argv[1]);
    if (n == 0) die("N must be > 0");

    t0 = now_ns();
    for (i = 0; i < n; i++) {
        int status;
        pid_t pid = fork();

        if (pid < 0) die("exec_loop: fork: %s", strerror(errno));
        if (pid == 0) {
            execv(path, args);
            _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0) die("exec_loop: waitpid: %s", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            die("exec_loop: /bin/true failed (status %d)", status);
    }
    t1 = now_ns();
    print_ns_per_iter(t1 - t0, n);
    return 0;
}
