/* odirect_io [-g] N FILE [SECONDS]: N 4 KiB O_DIRECT I/Os on FILE, alternating a
 * write and a read of the same block; print ns per I/O. With SECONDS it
 * stops after N I/Os or SECONDS, whichever comes first (N 0: no cap), and
 * prints the number of I/Os it did instead (for bench/soak). -g: wait for
 * go after the preparation (see common.h).
 *
 * If FILE is shorter than the 1 MiB working set, it is first filled with
 * real data and synced (outside the timed loop; bench/run does this once,
 * so the preparation's I/O does not land in a measured run). The timed
 * writes then overwrite allocated, written blocks: ext4 sends each one
 * straight to the device without journal work, and every timed I/O is one
 * block request, i.e. one biolatency sample. No O_DSYNC:
 * it would add a cache flush request per write. FILE must be on a block
 * device (not tmpfs); bench/run checks that. */
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 4096
#define NBLOCKS 256 /* 1 MiB working set */

int main(int argc, char** argv) {
    int go = want_go(&argc, &argv);
    struct run_limit limit = {0, 0, 0}; /* no limit but N */
    uint64_t n, i, t0, t1;
    const char* path;
    struct stat st;
    void* buf;
    int fd;

    if (argc != 3 && argc != 4) die("usage: odirect_io [-g] N FILE [SECONDS]");
    n = parse_count("N", argv[1]);
    path = argv[2];
    if (argc == 4) {
        limit = parse_run_limit(argv[1], argv[3]);
        n = UINT64_MAX;
    } else if (n == 0) {
        die("N must be > 0");
    }
    if (posix_memalign(&buf, BLOCK, BLOCK)) die("odirect_io: out of memory");
    memset(buf, 0xa5, BLOCK);

    /* Prepare: allocate and write every block, then make it durable. */
    fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0) die("odirect_io: open %s: %s", path, strerror(errno));
    if (fstat(fd, &st)) die("odirect_io: fstat: %s", strerror(errno));
    if (st.st_size < (off_t)NBLOCKS * BLOCK) {
        for (i = 0; i < NBLOCKS; i++)
            if (pwrite(fd, buf, BLOCK, (off_t)(i * BLOCK)) != BLOCK)
                die("odirect_io: prepare write: %s", strerror(errno));
        if (fsync(fd)) die("odirect_io: fsync: %s", strerror(errno));
    }
    close(fd);

    fd = open(path, O_RDWR | O_DIRECT);
    if (fd < 0) die("odirect_io: open %s with O_DIRECT: %s", path, strerror(errno));

    if (go) wait_for_go();
    run_limit_start(&limit);
    t0 = now_ns();
    for (i = 0; i < n && !run_limit_reached(&limit, i); i++) {
        off_t off = (off_t)((i / 2) % NBLOCKS) * BLOCK;
        ssize_t r = (i % 2) ? pread(fd, buf, BLOCK, off) : pwrite(fd, buf, BLOCK, off);

        if (r != BLOCK)
            die("odirect_io: %s: %s", (i % 2) ? "pread" : "pwrite",
                r < 0 ? strerror(errno) : "short I/O");
    }
    t1 = now_ns();
    close(fd);
    if (argc == 4)
        printf("%llu\n", (unsigned long long)i);
    else
        print_ns_per_iter(t1 - t0, n);
    return 0;
}
