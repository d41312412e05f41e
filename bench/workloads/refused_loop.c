/* refused_loop [-g] COUNT SECONDS PORT: connect to 127.0.0.1:PORT, where
 * nothing listens, until COUNT connects or SECONDS (0: no limit on that
 * side); print how many. Each connect's SYN finds no socket and is dropped
 * (the kernel's reason NO_SOCKET) before the reset refuses it: one tcpdrop
 * event each (-P PORT). */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int go = want_go(&argc, &argv);
    struct sockaddr_in addr;
    struct run_limit limit;
    uint64_t done = 0;

    if (argc != 4) die("usage: refused_loop [-g] COUNT SECONDS PORT");
    limit = parse_run_limit(argv[1], argv[2]);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)parse_count("PORT", argv[3]));
    if (go) wait_for_go();
    run_limit_start(&limit);
    while (!run_limit_reached(&limit, done)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        if (fd < 0) die("refused_loop: socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) == 0 || errno != ECONNREFUSED)
            die("refused_loop: connect to port %s was not refused", argv[3]);
        close(fd);
        done++;
    }
    printf("%llu\n", (unsigned long long)done);
    return 0;
}
