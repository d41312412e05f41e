/* pread_loop [-g] COUNT SECONDS FILE: pread one byte at offset 0 of FILE
 * (created with 4 KiB if missing), until COUNT reads or SECONDS (0: no limit
 * on that side); print how many. Each read is one fsslower event with
 * --min 0 (a regular file; put it on the file system under test). With -g
 * the file is open before "ready", so the open is not among the events. */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int go = want_go(&argc, &argv);
    struct run_limit limit;
    uint64_t done = 0;
    char block[4096];
    int fd;

    if (argc != 4) die("usage: pread_loop [-g] COUNT SECONDS FILE");
    limit = parse_run_limit(argv[1], argv[2]);
    fd = open(argv[3], O_RDWR | O_CREAT, 0600);
    if (fd < 0) die("pread_loop: open %s: %s", argv[3], strerror(errno));
    memset(block, 'r', sizeof(block));
    if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block))
        die("pread_loop: write %s: %s", argv[3], strerror(errno));
    if (go) wait_for_go();
    run_limit_start(&limit);
    while (!run_limit_reached(&limit, done)) {
        if (pread(fd, block, 1, 0) != 1) die("pread_loop: read %s: %s", argv[3], strerror(errno));
        done++;
    }
    printf("%llu\n", (unsigned long long)done);
    return 0;
}
