// km-workload: the events the kernel-matrix guest checks trace, made on
// demand, for what busybox cannot provoke (guest-checks.sh).
//
//   km-workload [wait] COMMAND [ARG...]
//
// With "wait" first it blocks until SIGUSR1, so a tool can be started with
// -p on its PID before the work begins. Commands:
//   spin SECONDS       burn CPU in km_spin() (profile)
//   nap COUNT MS       sleep COUNT times for MS ms in km_nap() (offcputime, runqlat),
//                      each nap after the USDT probe km:nap (stackcount, tplist)
//   syscalls COUNT     COUNT getppid() system calls (syscount)
//   exit CODE          exit with CODE (exitsnoop)
//   hog MB             touch MB MiB of memory, 1 MiB at a time (oomkill)
//   files DIR          write, fsync, reread and remove DIR/km-fs-token (fsslower)
//   lookup NAME        getaddrinfo(NAME) (gethostlatency)
//   tcp                a loopback session: connect, accept, 3000 bytes, close
//                      (tcpconnect, tcpaccept, tcplife)
//   tcpwait MS         a loopback session: the client sends 3000 bytes, the
//                      server reads them after napping MS ms, then sends 1000
//                      back, which the client reads (tcptop, tcpsubnet,
//                      tcppktlat)
//   fdpass             sends a descriptor of /etc/hosts and a pipe's read end
//                      over a Unix socket pair (SCM_RIGHTS) and receives them;
//                      prints the socket and descriptor numbers (sofdsnoop)
//   retrans            a connect to a listener whose accept queue is full, so
//                      its SYN is dropped and sent again (tcpretrans)
//   drops              a SYN to a closed port (NO_SOCKET), and a byte sent
//                      to a connected socket that takes nothing with a hop
//                      limit below 255 (IP_MINTTL: TCP_MINTTL) (tcpdrop)
//   binds              binds on 127.0.0.1: TCP with SO_REUSEADDR to port 0,
//                      the same port again (EADDRINUSE), UDP with
//                      IP_FREEBIND and SO_REUSEPORT, TCP with
//                      IP_TRANSPARENT and IP_BIND_ADDRESS_NO_PORT (bindsnoop)
//   signals COUNT      kill() a child with SIGUSR2 COUNT times, each taken
//                      before the next (so each is delivered), then kill a
//                      PID no process has (ESRCH) (sigsnoop, killsnoop)
//   creds              as root: setresgid(4242, 4242, 4242), setresuid(4241,
//                      4241, 4241), then setuid(0), which fails with EPERM
//                      (setuids; capable: CAP_SETGID allowed, CAP_SETUID denied)
//   threads COUNT      COUNT threads made with pthread_create, starting in
//                      km_thread(); then waits for SIGUSR1 (threadsnoop)
//   contend COUNT MS   two threads take one pthread mutex in turn: the main
//                      thread holds it MS ms while a second one waits for it
//                      in km_lock_wait(), COUNT times; prints lock=ADDRESS,
//                      then "contended", and stays until SIGUSR1 so its stack
//                      can still be named (futexctn)
//   gc COUNT MS        COUNT garbage collections as HotSpot's libjvm.so marks
//                      them (USDT probes hotspot:gc__begin, mem__pool__gc__begin
//                      and __end for two pools, gc__end), each MS ms long,
//                      every second one full; the pools use 4096 KiB before
//                      and 1024 KiB after, collector km-collector (javagc)
//   pinned CPU COUNT SECONDS
//                      COUNT processes spinning on CPU alone for SECONDS, so
//                      its run queue holds COUNT-1 waiting (runqlen)
//   wake COUNT MS      a thread named km-waker sleeps MS ms and then writes a
//                      byte to a pipe, COUNT times, each read by the main
//                      thread blocked in km_wait_read() (wakeuptime, offwaketime)
//   lossy              a loopback session whose data is dropped (a socket
//                      filter on the accepted socket refuses every segment)
//                      until the client's retransmission timer has put it in
//                      the loss state, then let through: the client goes
//                      open, loss, open (tcpcong)
//   pty                opens a pseudo-terminal pair, prints pts=PATH, waits
//                      for SIGUSR1, then writes "km-tty-token\n", an escape
//                      sequence (ESC ]0;owned BEL) and a writev of "ab" and
//                      "cd\n" to the slave, draining the master (ttysnoop)
//   mdraid FILE FILE   builds md0, a RAID1 without a superblock of two loop
//                      devices on the files, through the loop and md ioctls
//                      (no losetup or mdadm needed); prints md=md0 (mdflush)
//   dirchurn DIR THREADS ROUNDS
//                      THREADS threads each make and remove a directory in
//                      DIR ROUNDS times: they wait on DIR's inode rw
//                      semaphore in filename_create and do_rmdir (klockstat)
//   lockhold COUNT MS FILE
//                      kernel locks held MS ms, COUNT times each: a read of
//                      a pipe into a page that userfaultfd fills only MS ms
//                      later keeps the pipe's mutex (pipe_read), a write of
//                      FILE from such a page keeps FILE's inode rw semaphore
//                      (down_write in the file system's write_iter); while
//                      each is held, a thread named km-lockwait writes to
//                      the same pipe or file and waits for it (klockstat);
//                      prints "held=COUNT"
//   closerange COUNT   close_range(9999, 9990, CLOSE_RANGE_CLOEXEC) COUNT times
//                      (EINVAL: the range is upside down), then
//                      close_range(9990, 9999, CLOSE_RANGE_CLOEXEC) COUNT times
//                      (0: no descriptor there); the kernel's
//                      __close_range(fd, max_fd, flags) sees each (ksnoop)
//   leak               km_leak() keeps 7 blocks of 4096 bytes (malloc) and
//                      frees 20 of 512; prints "leaked", then waits for
//                      SIGUSR1 so its stack can still be named (memleak)
// Whatever the checks need to match (ports, PID) is printed as key=value.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/loop.h>
#include <linux/major.h>
#include <linux/raid/md_p.h>
#include <linux/raid/md_u.h>
#include <sys/ioctl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/sdt.h>
#include <sys/mman.h>
#include <sys/sdt.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char* what) {
    fprintf(stderr, "km-workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Not inlined, so that profile's user stacks name it.
__attribute__((noinline)) static uint64_t km_spin(double seconds) {
    volatile uint64_t n = 0;
    double end = now_s() + seconds;
    while (now_s() < end)
        for (int i = 0; i < 100000; i++)
            n++;
    return n;
}

__attribute__((noinline)) static void km_nap(int count, int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    for (int i = 0; i < count; i++) {
        DTRACE_PROBE1(km, nap, i);
        nanosleep(&ts, NULL);
    }
}

static int listener(int backlog, uint16_t* port) {
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr*)&addr, sizeof addr) || listen(fd, backlog) ||
        getsockname(fd, (struct sockaddr*)&addr, &len))
        die("listen on 127.0.0.1");
    *port = ntohs(addr.sin_port);
    return fd;
}

// Connects to 127.0.0.1:port; blocking, or only started when nonblocking.
static int connect_to(uint16_t port, int nonblocking, uint16_t* local_port) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) die("socket");
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr*)&addr, sizeof addr) && errno != EINPROGRESS)
        die("connect to 127.0.0.1");
    if (getsockname(fd, (struct sockaddr*)&addr, &len)) die("getsockname");
    *local_port = ntohs(addr.sin_port);
    return fd;
}

static int tcp_session(void) {
    uint16_t server_port, client_port;
    char buf[3000];
    int server = listener(8, &server_port);
    int client = connect_to(server_port, 0, &client_port);
    int accepted = accept(server, NULL, NULL);
    if (accepted < 0) die("accept");
    printf("server_port=%u client_port=%u\n", server_port, client_port);
    fflush(stdout);
    memset(buf, 'k', sizeof buf);
    if (write(client, buf, sizeof buf) != (ssize_t)sizeof buf) die("write");
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t n = read(accepted, buf, sizeof buf - got);
        if (n <= 0) die("read");
        got += n;
    }
    km_nap(1, 50); // a lifetime tcplife can tell from zero
    close(client);
    close(accepted);
    close(server);
    return 0;
}

static void read_all(int fd, char* buf, size_t size) {
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n <= 0) die("read");
        got += n;
    }
}

static int tcp_wait_session(int ms) {
    uint16_t server_port, client_port;
    char buf[3000];
    int server = listener(8, &server_port);
    int client = connect_to(server_port, 0, &client_port);
    int accepted = accept(server, NULL, NULL);
    if (accepted < 0) die("accept");
    printf("server_port=%u client_port=%u\n", server_port, client_port);
    fflush(stdout);
    memset(buf, 'w', sizeof buf);
    if (write(client, buf, sizeof buf) != (ssize_t)sizeof buf) die("write");
    km_nap(1, ms); // the data waits in the server's receive queue
    read_all(accepted, buf, sizeof buf);
    if (write(accepted, buf, 1000) != 1000) die("write back");
    read_all(client, buf, 1000);
    close(client);
    close(accepted);
    close(server);
    return 0;
}

static int pass_fds(void) {
    int sv[2], pipefd[2], hosts = open("/etc/hosts", O_RDONLY);
    if (hosts < 0 || pipe(pipefd) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) die("fdpass setup");
    int sent[2] = {hosts, pipefd[0]}, received[2] = {-1, -1};
    char byte = 'f', control[CMSG_SPACE(sizeof sent)];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    memset(control, 0, sizeof control);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof sent);
    memcpy(CMSG_DATA(c), sent, sizeof sent);
    if (sendmsg(sv[0], &msg, 0) != 1) die("sendmsg");
    memset(control, 0, sizeof control);
    msg.msg_controllen = sizeof control;
    if (recvmsg(sv[1], &msg, 0) != 1) die("recvmsg");
    c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) die("no SCM_RIGHTS received");
    memcpy(received, CMSG_DATA(c), sizeof received);
    printf("send_sock=%d recv_sock=%d sent=%d,%d received=%d,%d\n", sv[0], sv[1], sent[0], sent[1],
           received[0], received[1]);
    return 0;
}

static int retransmit_syn(void) {
    uint16_t server_port, queued_port, dropped_port;
    // A backlog of 0 queues one connection; the next SYN finds the accept
    // queue full and is dropped, so the client retransmits it after ~1 s.
    int server = listener(0, &server_port);
    int queued = connect_to(server_port, 0, &queued_port);
    int dropped = connect_to(server_port, 1, &dropped_port);
    printf("server_port=%u client_port=%u\n", server_port, dropped_port);
    fflush(stdout);
    km_nap(1, 2500);
    close(dropped);
    close(queued);
    close(server);
    return 0;
}

// The client's congestion state (TCP_CA_*), -1 if unknown.
static int ca_state(int fd) {
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
    return info.tcpi_ca_state;
}

// Waits up to 60 s (TCG is slow) until fd's congestion state is state.
static void wait_ca_state(int fd, int state, const char* what) {
    double end = now_s() + 60;
    while (ca_state(fd) != state) {
        if (now_s() > end) {
            fprintf(stderr, "km-workload: the client never reached %s\n", what);
            exit(1);
        }
        km_nap(1, 5);
    }
}

static int lossy_session(void) {
    uint16_t server_port, client_port;
    char buf[1000];
    struct sock_filter refuse = BPF_STMT(BPF_RET | BPF_K, 0);
    struct sock_fprog filter = {.len = 1, .filter = &refuse};
    int server = listener(8, &server_port);
    int client = connect_to(server_port, 0, &client_port);
    int accepted = accept(server, NULL, NULL);
    if (accepted < 0) die("accept");
    if (setsockopt(accepted, SOL_SOCKET, SO_ATTACH_FILTER, &filter, sizeof filter))
        die("SO_ATTACH_FILTER");
    printf("server_port=%u client_port=%u\n", server_port, client_port);
    fflush(stdout);
    memset(buf, 'l', sizeof buf);
    if (write(client, buf, sizeof buf) != (ssize_t)sizeof buf) die("write");
    wait_ca_state(client, TCP_CA_Loss, "the loss state");
    int unused = 0;
    if (setsockopt(accepted, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused))
        die("SO_DETACH_FILTER");
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t n = read(accepted, buf, sizeof buf - got);
        if (n <= 0) die("read");
        got += n;
    }
    wait_ca_state(client, TCP_CA_Open, "the open state again");
    close(client);
    close(accepted);
    close(server);
    return 0;
}

static int drops(void) {
    uint16_t closed_port, server_port, client_port;
    // A port nothing listens on: bound, then closed.
    close(listener(1, &closed_port));
    int refused = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(closed_port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (refused < 0 || connect(refused, (struct sockaddr*)&addr, sizeof addr) == 0 ||
        errno != ECONNREFUSED)
        die("connect to a closed port");
    close(refused);
    int server = listener(1, &server_port);
    int client = connect_to(server_port, 0, &client_port);
    int accepted = accept(server, NULL, NULL);
    int max_ttl = 255;
    struct linger reset = {1, 0};
    if (accepted < 0 || setsockopt(client, IPPROTO_IP, IP_MINTTL, &max_ttl, sizeof max_ttl) ||
        write(accepted, "x", 1) != 1 ||
        setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof reset))
        die("minttl drop");
    printf("closed_port=%u minttl_port=%u\n", closed_port, client_port);
    fflush(stdout);
    close(client);
    close(accepted);
    close(server);
    return 0;
}

static int bind_loopback(int type, uint16_t port, const int* options, int count) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    int one = 1;
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) die("socket");
    for (int i = 0; i < count; i += 2)
        if (setsockopt(fd, options[i], options[i + 1], &one, sizeof one)) die("setsockopt");
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr*)&addr, sizeof addr)) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

static uint16_t port_of(int fd) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr*)&addr, &len)) die("getsockname");
    return ntohs(addr.sin_port);
}

static int binds(void) {
    const int reuse_addr[] = {SOL_SOCKET, SO_REUSEADDR};
    const int freebind_reuseport[] = {IPPROTO_IP, IP_FREEBIND, SOL_SOCKET, SO_REUSEPORT};
    const int transparent_no_port[] = {IPPROTO_IP, IP_TRANSPARENT, IPPROTO_IP,
                                       IP_BIND_ADDRESS_NO_PORT};
    int taken = bind_loopback(SOCK_STREAM, 0, reuse_addr, 2);
    if (taken < 0) die("bind with SO_REUSEADDR");
    uint16_t taken_port = port_of(taken);
    if (bind_loopback(SOCK_STREAM, taken_port, NULL, 0) != -EADDRINUSE)
        die("bind to a taken port did not fail with EADDRINUSE");
    int udp = bind_loopback(SOCK_DGRAM, 0, freebind_reuseport, 4);
    if (udp < 0) die("bind with IP_FREEBIND");
    int no_port = bind_loopback(SOCK_STREAM, 0, transparent_no_port, 4);
    if (no_port < 0) die("bind with IP_TRANSPARENT");
    printf("taken_port=%u udp_port=%u\n", taken_port, port_of(udp));
    fflush(stdout);
    close(no_port);
    close(udp);
    close(taken);
    return 0;
}

static int hog(long mb) {
    for (long i = 0; i < mb; i++) {
        char* p = malloc(1 << 20);
        if (!p) die("malloc");
        memset(p, 1, 1 << 20);
    }
    return 0;
}

/* Writes mb MiB of anonymous memory, no page all zeros (6.12+ writes no
 * swap for those), then reads every page back: in a memory cgroup smaller
 * than mb, the pages beyond its limit go to swap and come back. */
static int swapper(long mb) {
    size_t bytes = (size_t)mb << 20, page = (size_t)sysconf(_SC_PAGESIZE);
    volatile unsigned long* p =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned long wrong = 0;
    if (p == MAP_FAILED) die("mmap");
    for (size_t i = 0; i < bytes / page; i++)
        p[i * (page / sizeof(long))] = i + 1;
    for (size_t i = 0; i < bytes / page; i++)
        wrong += p[i * (page / sizeof(long))] != i + 1;
    return wrong ? 1 : 0;
}

static int files(const char* dir) {
    char path[4096], buf[8192];
    snprintf(path, sizeof path, "%s/km-fs-token", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) die(path);
    memset(buf, 'f', sizeof buf);
    for (int i = 0; i < 16; i++)
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) die("write");
    if (fsync(fd)) die("fsync");
    if (pread(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf) die("pread");
    close(fd);
    unlink(path);
    return 0;
}

static int lookup(const char* name) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo* result = NULL;
    int err = getaddrinfo(name, NULL, &hints, &result);
    if (result) freeaddrinfo(result);
    printf("getaddrinfo=%d\n", err);
    return err == 0 ? 0 : 1;
}

static void wait_for_usr1(void) {
    sigset_t set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("pid=%d waiting\n", getpid());
    fflush(stdout);
    sigwait(&set, &sig);
}

static void* volatile km_kept[8];

__attribute__((noinline)) static void km_leak(void) {
    void* freed[20];
    for (int i = 0; i < 7; i++) {
        km_kept[i] = malloc(4096);
        if (!km_kept[i]) die("malloc");
        memset(km_kept[i], 1, 64);
    }
    for (int i = 0; i < 20; i++)
        freed[i] = malloc(512);
    for (int i = 0; i < 20; i++)
        free(freed[i]);
}

static int leak(void) {
    km_leak();
    printf("leaked\n");
    fflush(stdout);
    wait_for_usr1();
    return 0;
}

// The child blocks SIGUSR2 and takes each one with sigwaitinfo, answering
// on a pipe: every kill finds no SIGUSR2 pending, so each is queued.
static int signals(int count) {
    int acks[2];
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    if (pipe(acks) != 0) die("pipe");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        for (int i = 0; i < count; i++)
            if (sigwaitinfo(&usr2, NULL) != SIGUSR2 || write(acks[1], "a", 1) != 1) _exit(1);
        _exit(0);
    }
    printf("target=%d\n", child);
    fflush(stdout);
    char ack;
    for (int i = 0; i < count; i++)
        if (kill(child, SIGUSR2) != 0 || read(acks[0], &ack, 1) != 1) die("kill");
    if (kill(INT32_MAX, SIGUSR2) == 0 || errno != ESRCH) die("kill of no process");
    int status = 0;
    if (waitpid(child, &status, 0) != child || status != 0) die("the child");
    return 0;
}

static int creds(void) {
    if (syscall(SYS_setresgid, 4242, 4242, 4242) != 0) die("setresgid");
    if (syscall(SYS_setresuid, 4241, 4241, 4241) != 0) die("setresuid");
    if (syscall(SYS_setuid, 0) == 0 || errno != EPERM) die("setuid(0) did not fail with EPERM");
    return 0;
}

__attribute__((noinline)) static void* km_thread(void* arg) {
    return arg;
}

static int threads(int count) {
    for (int i = 0; i < count; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, km_thread, NULL) != 0 || pthread_join(t, NULL) != 0)
            die("pthread_create");
    }
    /* Alive until told: the tools name the start routine from this
     * process's maps, which go when it exits. */
    printf("threads made\n");
    fflush(stdout);
    wait_for_usr1();
    return 0;
}

static pthread_mutex_t km_lock = PTHREAD_MUTEX_INITIALIZER;
static int km_turn[2][2]; /* [0]: the waiter's turn to wait; [1]: the holder's */
static int km_rounds;

__attribute__((noinline)) static void km_lock_wait(void) {
    pthread_mutex_lock(&km_lock);
    pthread_mutex_unlock(&km_lock);
}

static void* km_waiter(void* arg) {
    char c;
    for (int i = 0; i < km_rounds; i++) {
        if (read(km_turn[0][0], &c, 1) != 1) break;
        km_lock_wait();
        if (write(km_turn[1][1], "x", 1) != 1) break;
    }
    return arg;
}

struct churn {
    const char* dir;
    int id, rounds;
};

static void* km_churn(void* arg) {
    struct churn* c = arg;
    char path[512];
    snprintf(path, sizeof path, "%s/km-churn-%d", c->dir, c->id);
    for (int i = 0; i < c->rounds; i++) {
        mkdir(path, 0700);
        rmdir(path);
    }
    return NULL;
}

static int dir_churn(const char* dir, int threads, int rounds) {
    pthread_t t[32];
    struct churn c[32];
    if (threads < 1 || threads > 32) die("dirchurn: 1 to 32 threads");
    for (int i = 0; i < threads; i++) {
        c[i] = (struct churn){dir, i, rounds};
        if (pthread_create(&t[i], NULL, km_churn, &c[i]) != 0) die("pthread_create");
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("churned=%d\n", threads * rounds);
    return 0;
}

// lockhold: the userfaultfd that fills the pages the main thread reads
// into and writes from, MS ms after each fault, and km-lockwait, which
// writes to the pipe (even faults) or the file (odd ones) meanwhile.
struct lockhold {
    int uffd, pipe_w, file_fd, faults, ms;
    long page;
    int faulted; // faults seen so far: km-lockwait's cue
};

static void* km_lockhold_filler(void* arg) {
    struct lockhold* h = arg;
    for (int i = 0; i < h->faults; i++) {
        struct uffd_msg msg;
        struct pollfd p = {h->uffd, POLLIN, 0};
        if (poll(&p, 1, -1) != 1 || read(h->uffd, &msg, sizeof msg) != sizeof msg)
            die("userfaultfd read");
        if (msg.event != UFFD_EVENT_PAGEFAULT) die("userfaultfd event");
        __atomic_store_n(&h->faulted, i + 1, __ATOMIC_RELEASE);
        struct timespec held = {h->ms / 1000, (h->ms % 1000) * 1000000L};
        nanosleep(&held, NULL);
        struct uffdio_zeropage zero = {
            .range = {msg.arg.pagefault.address & ~(unsigned long long)(h->page - 1),
                      (unsigned long long)h->page}};
        if (ioctl(h->uffd, UFFDIO_ZEROPAGE, &zero) != 0) die("UFFDIO_ZEROPAGE");
    }
    return NULL;
}

static void* km_lockwait(void* arg) {
    struct lockhold* h = arg;
    prctl(PR_SET_NAME, "km-lockwait");
    for (int i = 1; i <= h->faults; i++) {
        while (__atomic_load_n(&h->faulted, __ATOMIC_ACQUIRE) < i)
            sched_yield();
        // The lock is held from the fault on: this write waits for it.
        if (i % 2 == 1) {
            if (write(h->pipe_w, "w", 1) != 1) die("write pipe");
        } else if (write(h->file_fd, "w", 1) != 1) {
            die("write file");
        }
    }
    return NULL;
}

static int lock_holds(int count, int ms, const char* file) {
    struct lockhold h = {.faults = 2 * count, .ms = ms, .page = sysconf(_SC_PAGESIZE)};
    int p[2];
    if (pipe(p) != 0) die("pipe");
    h.pipe_w = p[1];
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    h.file_fd = open(file, O_WRONLY | O_APPEND);
    if (fd < 0 || h.file_fd < 0) die("open");
    h.uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
    if (h.uffd < 0) die("userfaultfd");
    struct uffdio_api api = {.api = UFFD_API};
    if (ioctl(h.uffd, UFFDIO_API, &api) != 0) die("UFFDIO_API");
    size_t length = (size_t)h.faults * h.page;
    char* pages = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) die("mmap");
    struct uffdio_register reg = {.range = {(unsigned long)pages, length},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (ioctl(h.uffd, UFFDIO_REGISTER, &reg) != 0) die("UFFDIO_REGISTER");
    pthread_t filler, waiter;
    if (pthread_create(&filler, NULL, km_lockhold_filler, &h) != 0 ||
        pthread_create(&waiter, NULL, km_lockwait, &h) != 0)
        die("pthread_create");
    int held = 0;
    for (int i = 0; i < count; i++) {
        char* into = pages + (size_t)(2 * i) * h.page;
        char* from = into + h.page;
        // A byte to read, so pipe_read copies at once (into the missing page).
        if (write(p[1], "r", 1) != 1) die("write pipe");
        if (read(p[0], into, 1) != 1) die("read pipe");
        if (write(fd, from, 1) != 1) die("write file");
        held++;
    }
    pthread_join(filler, NULL);
    pthread_join(waiter, NULL);
    printf("held=%d\n", held);
    return held == count ? 0 : 1;
}

static int close_ranges(int count) {
    int einval = 0, ok = 0;
    for (int i = 0; i < count; i++)
        if (syscall(SYS_close_range, 9999, 9990, 1U << 2) != 0 && errno == EINVAL) einval++;
    for (int i = 0; i < count; i++)
        if (syscall(SYS_close_range, 9990, 9999, 1U << 2) == 0) ok++;
    printf("einval=%d ok=%d\n", einval, ok);
    return einval == count && ok == count ? 0 : 1;
}

static int contend(int count, int ms) {
    pthread_t waiter;
    char c;
    km_rounds = count;
    if (pipe(km_turn[0]) != 0 || pipe(km_turn[1]) != 0) die("pipe");
    printf("lock=%llu\n", (unsigned long long)(uintptr_t)&km_lock);
    fflush(stdout);
    if (pthread_create(&waiter, NULL, km_waiter, NULL) != 0) die("pthread_create");
    for (int i = 0; i < count; i++) {
        struct timespec hold = {ms / 1000, (ms % 1000) * 1000000L};
        pthread_mutex_lock(&km_lock);
        if (write(km_turn[0][1], "x", 1) != 1) die("write");
        nanosleep(&hold, NULL);
        pthread_mutex_unlock(&km_lock);
        if (read(km_turn[1][0], &c, 1) != 1) die("read");
    }
    pthread_join(waiter, NULL);
    printf("contended\n");
    fflush(stdout);
    wait_for_usr1();
    return 0;
}

static int pinned(int cpu, int count, double seconds) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) die("sched_setaffinity");
    for (int i = 1; i < count; i++) {
        pid_t pid = fork(); // inherits the affinity
        if (pid < 0) die("fork");
        if (pid == 0) _exit(km_spin(seconds) == 0);
    }
    km_spin(seconds);
    while (wait(NULL) > 0) {
    }
    return 0;
}

static int wake_pipe[2];
static int wake_count, wake_ms;

static void* km_waker(void* arg) {
    (void)arg;
    prctl(PR_SET_NAME, "km-waker");
    for (int i = 0; i < wake_count; i++) {
        km_nap(1, wake_ms);
        if (write(wake_pipe[1], "w", 1) != 1) die("write");
    }
    return NULL;
}

__attribute__((noinline)) static void km_wait_read(int count) {
    char c;
    for (int i = 0; i < count; i++)
        if (read(wake_pipe[0], &c, 1) != 1) die("read");
}

static int wakes(int count, int ms) {
    pthread_t t;
    wake_count = count;
    wake_ms = ms;
    if (pipe(wake_pipe) != 0) die("pipe");
    if (pthread_create(&t, NULL, km_waker, NULL) != 0) die("pthread_create");
    km_wait_read(count);
    return pthread_join(t, NULL) != 0;
}

static int pty_writes(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) die("posix_openpt");
    const char* path = ptsname(master);
    int slave = open(path, O_RDWR | O_NOCTTY);
    if (slave < 0) die("open pts");
    printf("pts=%s\n", path);
    fflush(stdout);
    wait_for_usr1();
    struct iovec iov[2] = {{"ab", 2}, {"cd\n", 3}};
    int ok = write(slave, "km-tty-token\n", 13) == 13 &&
             write(slave, "\033]0;owned\007", 10) == 10 && writev(slave, iov, 2) == 5;
    char buf[256];
    fcntl(master, F_SETFL, O_NONBLOCK);
    while (read(master, buf, sizeof buf) > 0) {
    }
    close(slave);
    close(master);
    return !ok;
}

// A free loop device on path; its device number.
static dev_t loop_on(const char* path) {
    int ctl = open("/dev/loop-control", O_RDWR);
    if (ctl < 0) die("open /dev/loop-control");
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) die("LOOP_CTL_GET_FREE");
    close(ctl);
    char dev[32];
    snprintf(dev, sizeof dev, "/dev/loop%d", n);
    int file = open(path, O_RDWR);
    int loop = open(dev, O_RDWR);
    if (file < 0 || loop < 0) die("open loop member");
    if (ioctl(loop, LOOP_SET_FD, file) != 0) die("LOOP_SET_FD");
    close(file);
    close(loop);
    return makedev(LOOP_MAJOR, n);
}

static int md_raid(const char* a, const char* b) {
    struct stat st;
    if (stat("/dev/md0", &st) != 0 && mknod("/dev/md0", S_IFBLK | 0600, makedev(MD_MAJOR, 0)) != 0)
        die("mknod /dev/md0");
    int fd = open("/dev/md0", O_RDWR);
    if (fd < 0) die("open /dev/md0");
    mdu_array_info_t info;
    memset(&info, 0, sizeof info);
    info.level = 1;
    info.raid_disks = 2;
    info.md_minor = 0;
    info.not_persistent = 1;
    if (stat(a, &st) != 0) die("stat member file");
    info.size = st.st_size / 1024; // KiB used of each member
    if (ioctl(fd, SET_ARRAY_INFO, &info) != 0) die("SET_ARRAY_INFO");
    dev_t devs[2] = {loop_on(a), loop_on(b)};
    for (int i = 0; i < 2; i++) {
        mdu_disk_info_t disk;
        memset(&disk, 0, sizeof disk);
        disk.number = i;
        disk.raid_disk = i;
        disk.state = (1 << MD_DISK_ACTIVE) | (1 << MD_DISK_SYNC);
        disk.major = major(devs[i]);
        disk.minor = minor(devs[i]);
        if (ioctl(fd, ADD_NEW_DISK, &disk) != 0) die("ADD_NEW_DISK");
    }
    if (ioctl(fd, RUN_ARRAY, NULL) != 0) die("RUN_ARRAY");
    close(fd);
    printf("md=md0\n");
    return 0;
}

static int fake_gcs(int count, int ms) {
    static const char manager[] = "km-collector";
    static const char* const pools[2] = {"km-young", "km-old"};
    static const long before[2] = {3 << 20, 1 << 20}, after[2] = {0, 1 << 20};
    for (int i = 0; i < count; i++) {
        int full = i % 2;
        DTRACE_PROBE1(hotspot, gc__begin, full);
        for (int p = 0; p < 2; p++)
            DTRACE_PROBE8(hotspot, mem__pool__gc__begin, manager, sizeof manager - 1, pools[p],
                          strlen(pools[p]), 0L, before[p], 4L << 20, 8L << 20);
        km_nap(1, ms);
        for (int p = 0; p < 2; p++)
            DTRACE_PROBE8(hotspot, mem__pool__gc__end, manager, sizeof manager - 1, pools[p],
                          strlen(pools[p]), 0L, after[p], 4L << 20, 8L << 20);
        DTRACE_PROBE(hotspot, gc__end);
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "wait") == 0) {
        wait_for_usr1();
        argv++;
        argc--;
    }
    if (argc < 2) goto usage;
    const char* cmd = argv[1];
    if (strcmp(cmd, "spin") == 0 && argc == 3) return km_spin(atof(argv[2])) == 0;
    if (strcmp(cmd, "nap") == 0 && argc == 4) {
        km_nap(atoi(argv[2]), atoi(argv[3]));
        return 0;
    }
    if (strcmp(cmd, "syscalls") == 0 && argc == 3) {
        for (long i = atol(argv[2]); i > 0; i--)
            syscall(SYS_getppid);
        return 0;
    }
    if (strcmp(cmd, "exit") == 0 && argc == 3) return atoi(argv[2]);
    if (strcmp(cmd, "hog") == 0 && argc == 3) return hog(atol(argv[2]));
    if (strcmp(cmd, "swap") == 0 && argc == 3) return swapper(atol(argv[2]));
    if (strcmp(cmd, "files") == 0 && argc == 3) return files(argv[2]);
    if (strcmp(cmd, "lookup") == 0 && argc == 3) return lookup(argv[2]);
    if (strcmp(cmd, "tcp") == 0 && argc == 2) return tcp_session();
    if (strcmp(cmd, "tcpwait") == 0 && argc == 3) return tcp_wait_session(atoi(argv[2]));
    if (strcmp(cmd, "fdpass") == 0 && argc == 2) return pass_fds();
    if (strcmp(cmd, "retrans") == 0 && argc == 2) return retransmit_syn();
    if (strcmp(cmd, "drops") == 0 && argc == 2) return drops();
    if (strcmp(cmd, "binds") == 0 && argc == 2) return binds();
    if (strcmp(cmd, "signals") == 0 && argc == 3) return signals(atoi(argv[2]));
    if (strcmp(cmd, "creds") == 0 && argc == 2) return creds();
    if (strcmp(cmd, "threads") == 0 && argc == 3) return threads(atoi(argv[2]));
    if (strcmp(cmd, "gc") == 0 && argc == 4) return fake_gcs(atoi(argv[2]), atoi(argv[3]));
    if (strcmp(cmd, "contend") == 0 && argc == 4) return contend(atoi(argv[2]), atoi(argv[3]));
    if (strcmp(cmd, "pinned") == 0 && argc == 5)
        return pinned(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
    if (strcmp(cmd, "wake") == 0 && argc == 4) return wakes(atoi(argv[2]), atoi(argv[3]));
    if (strcmp(cmd, "lossy") == 0 && argc == 2) return lossy_session();
    if (strcmp(cmd, "pty") == 0 && argc == 2) return pty_writes();
    if (strcmp(cmd, "mdraid") == 0 && argc == 4) return md_raid(argv[2], argv[3]);
    if (strcmp(cmd, "dirchurn") == 0 && argc == 5)
        return dir_churn(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (strcmp(cmd, "closerange") == 0 && argc == 3) return close_ranges(atoi(argv[2]));
    if (strcmp(cmd, "lockhold") == 0 && argc == 5)
        return lock_holds(atoi(argv[2]), atoi(argv[3]), argv[4]);
    if (strcmp(cmd, "leak") == 0 && argc == 2) return leak();
usage:
    fprintf(stderr,
            "usage: km-workload [wait] spin SECONDS | nap COUNT MS | syscalls COUNT | "
            "exit CODE | hog MB | swap MB | files DIR | lookup NAME | tcp | tcpwait MS | fdpass | "
            "retrans | "
            "drops | binds | "
            "signals COUNT | "
            "creds | threads COUNT | gc COUNT MS | contend COUNT MS | pinned CPU COUNT SECONDS | "
            "wake COUNT MS | "
            "lossy | pty | mdraid FILE FILE | dirchurn DIR THREADS ROUNDS | closerange COUNT | "
            "lockhold COUNT MS FILE | "
            "leak\n");
    return 2;
}
