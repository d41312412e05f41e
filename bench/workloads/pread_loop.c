/* pread_loop [-n] [-g] COUNT SECONDS FILE: pread one byte at offset 0 of
 * FILE (created with 4 KiB if missing), until COUNT reads or SECONDS (0: no
 * limit on that side); print how many, or with -n the wall-clock ns per
 * read (bench/run's cost runs). Each read is one fsslower event with --min 0
 * (a regular file; put it on the file system under test) and one file call
 * for vfsstat. With -g the file is open before "ready", so the open is not
 * among the events. */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int per_read_ns = argc > 1 && strcmp(argv[1], "-n") == 0;
    if (per_read_ns) {
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    int go = want_go(&argc, &argv);
    struct run_limit limit;
    uint64_t done = 0, t0;
    char block[4096];
    int fd;

    if (argc != 4) die("usage: pread_loop [-n] [-g] COUNT SECONDS FILE");
    limit = parse_run_limit(argv[1], argv[2]);
    fd = open(argv[3], O_RDWR | O_CREAT, 0600);
    if (fd < 0) die("pread_loop: open %s: %s", argv[3], strerror(errno));
    memset(block, 'r', sizeof(block));
    if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block))
        die("pread_loop: write %s: %s", argv[3], strerror(errno));
    if (go) wait_for_go();
    run_limit_start(&limit);
    t0 = now_ns();
    while (!run_limit_reached(&limit, done)) {
        if (pread(fd, block, 1, 0) != 1) die("pread_loop: read %s: %s", argv[3], strerror(errno));
        done++;
    }
    if (per_read_ns)
        print_ns_per_iter(now_ns() - t0, done);
    else
        printf("%llu\n", (unsigned long long)done);
    return 0;
}
