/* tcp_pingpong N PORT: one TCP connection over 127.0.0.1:PORT, both ends in
 * this thread, passing a one-byte token back and forth N times (TCP_NODELAY
 * on both); print ns per round trip. Each round trip is two data segments
 * received by an established connection (each carrying the other side's
 * ACK), i.e. two tcp:tcp_probe hits for tcprtt. */
#include "loopback.h"

#include <netinet/tcp.h>
#include <unistd.h>

static void pass_token(int from, int to) {
    char c = 'p';

    if (write(from, &c, 1) != 1) die("tcp_pingpong: write: %s", strerror(errno));
    if (read(to, &c, 1) != 1) die("tcp_pingpong: read: %s", strerror(errno));
}

int main(int argc, char** argv) {
    struct sockaddr_in addr;
    int one = 1, listener, client, server;
    uint64_t n, start;

    if (argc != 3) die("usage: tcp_pingpong N PORT");
    n = parse_count("N", argv[1]);
    listener = loopback_listen("tcp_pingpong", argv[2], &addr);
    client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr*)&addr, sizeof(addr)))
        die("tcp_pingpong: connect: %s", strerror(errno));
    server = accept(listener, NULL, NULL);
    if (server < 0) die("tcp_pingpong: accept: %s", strerror(errno));
    if (setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
        setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
        die("tcp_pingpong: TCP_NODELAY: %s", strerror(errno));
    start = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        pass_token(client, server);
        pass_token(server, client);
    }
    print_ns_per_iter(now_ns() - start, n);
    close(client);
    close(server);
    close(listener);
    return 0;
}
