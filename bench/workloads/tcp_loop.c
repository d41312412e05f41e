/* tcp_loop [-g] COUNT SECONDS PORT: listen on 127.0.0.1:PORT, then connect to
 * it, accept, and close both ends, until COUNT connections or SECONDS (0: no
 * limit on that side); print how many. Each connection is one tcpconnect
 * event (-P PORT), one tcpaccept event (-P PORT) and one tcplife event for
 * the client's socket (-D PORT). The client closes with a reset (SO_LINGER
 * 0), so no TIME_WAIT socket is left to exhaust the ports in a long run. Run
 * it in a network namespace of its own to keep PORT to itself. */
#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int go = want_go(&argc, &argv);
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    struct sockaddr_in addr;
    struct run_limit limit;
    uint64_t done = 0;
    int listener;

    if (argc != 4) die("usage: tcp_loop [-g] COUNT SECONDS PORT");
    limit = parse_run_limit(argv[1], argv[2]);
    listener = loopback_listen("tcp_loop", argv[3], &addr);
    if (go) wait_for_go();
    run_limit_start(&limit);
    while (!run_limit_reached(&limit, done)) {
        int client = socket(AF_INET, SOCK_STREAM, 0), server;

        if (client < 0 || connect(client, (struct sockaddr*)&addr, sizeof(addr)))
            die("tcp_loop: connect: %s", strerror(errno));
        server = accept(listener, NULL, NULL);
        if (server < 0) die("tcp_loop: accept: %s", strerror(errno));
        if (setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)))
            die("tcp_loop: SO_LINGER: %s", strerror(errno));
        close(client);
        close(server);
        done++;
    }
    printf("%llu\n", (unsigned long long)done);
    return 0;
}
