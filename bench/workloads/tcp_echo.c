/* tcp_echo COUNT SIZE: one loopback TCP connection made by this process to
 * itself (127.0.0.1, a port the kernel picks); COUNT times the client writes
 * SIZE bytes, the server side reads them and writes them back, and the
 * client reads them; print ns per round trip. One thread, so each write's
 * segment is handled in its own softirq before the read that takes it: a
 * round trip is 2 sendmsg and 2 recvmsg on TCP sockets (tcptop, tcpsubnet:
 * 4 counted calls) and 2 data segments received and read (tcppktlat: 2
 * waits). TCP_NODELAY on both ends, so no segment waits for an ACK. */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

static void move(int from, int to, char* buf, size_t size) {
    size_t got = 0;

    if (write(from, buf, size) != (ssize_t)size) die("tcp_echo: write: %s", strerror(errno));
    while (got < size) {
        ssize_t n = read(to, buf + got, size - got);
        if (n <= 0) die("tcp_echo: read: %s", n ? strerror(errno) : "connection closed");
        got += (size_t)n;
    }
}

int main(int argc, char** argv) {
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof(addr);
    int listener, client, server, one = 1;
    uint64_t count, size, t0;
    char* buf;

    if (argc != 3) die("usage: tcp_echo COUNT SIZE");
    count = parse_count("COUNT", argv[1]);
    size = parse_count("SIZE", argv[2]);
    if (count == 0 || size == 0 || size > (1 << 20)) die("tcp_echo: COUNT > 0, 0 < SIZE <= 1 MiB");
    buf = calloc(1, size);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (!buf || listener < 0 || bind(listener, (struct sockaddr*)&addr, sizeof(addr)) ||
        listen(listener, 1) || getsockname(listener, (struct sockaddr*)&addr, &len))
        die("tcp_echo: listen on 127.0.0.1: %s", strerror(errno));
    client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr*)&addr, sizeof(addr)))
        die("tcp_echo: connect: %s", strerror(errno));
    server = accept(listener, NULL, NULL);
    if (server < 0) die("tcp_echo: accept: %s", strerror(errno));
    if (setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
        setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
        die("tcp_echo: TCP_NODELAY: %s", strerror(errno));
    t0 = now_ns();
    for (uint64_t i = 0; i < count; i++) {
        move(client, server, buf, size);
        move(server, client, buf, size);
    }
    print_ns_per_iter(now_ns() - t0, count);
    close(client);
    close(server);
    close(listener);
    free(buf);
    return 0;
}
