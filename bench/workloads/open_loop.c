/* open_loop [-m] N PATH: open(PATH) and close N times, print ns per
 * iteration. Each iteration is exactly one open-family syscall, i.e. one
 * opensnoop event.
 *
 * Without -m every open must succeed; with -m PATH must be missing and every
 * open must fail with ENOENT (the cheaper kernel path, so the tool's share
 * of the cost is larger). Either way a surprise aborts the run instead of
 * measuring the wrong thing. */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int missing = 0;
    uint64_t n, i, t0, t1;
    const char* path;

    if (argc > 1 && strcmp(argv[1], "-m") == 0) {
        missing = 1;
        argc--;
        argv++;
    }
    if (argc != 3) die("usage: open_loop [-m] N PATH");
    n = parse_count("N", argv[1]);
    path = argv[2];
    if (n == 0) die("N must be > 0");

    t0 = now_ns();
    for (i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);

        if (fd >= 0) {
            if (missing) die("open_loop: %s exists but -m was given", path);
            close(fd);
        } else if (!missing || errno != ENOENT) {
            die("open_loop: open %s: %s", path, strerror(errno));
        }
    }
    t1 = now_ns();
    print_ns_per_iter(t1 - t0, n);
    return 0;
}
