/* retrans_storm [-g] CONNS SECONDS PORT: keep CONNS loopback connections to
 * 127.0.0.1:PORT, each with 1000 bytes sent that the network drops, for
 * SECONDS; print how many segments this network namespace retransmitted
 * meanwhile (TcpRetransSegs of /proc/net/snmp), i.e. tcpretrans events.
 *
 * The caller provides the loss: run it in a network namespace of its own
 * whose firewall drops data segments to PORT but lets the handshake through
 * (nft: tcp dport PORT meta length gt 200 drop); a lower
 * net.ipv4.tcp_rto_min_us there makes retransmissions come faster. Each
 * connection is reset and replaced after a second, before its backoff grows
 * long, so the rate stays steady. */
#include "loopback.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define LIFETIME_NS 1000000000ull

struct conn {
    int client, server;
    uint64_t born_ns;
};

static uint64_t retrans_segs(void) {
    char line[4096], header[4096] = "";
    FILE* f = fopen("/proc/net/snmp", "r");

    if (!f) die("retrans_storm: /proc/net/snmp: %s", strerror(errno));
    /* "Tcp: name name ..." followed by "Tcp: value value ...". */
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Tcp:", 4) != 0) continue;
        if (!header[0]) {
            strcpy(header, line);
            continue;
        }
        char *names = header, *values = line, *n, *v, *sn, *sv;

        for (n = strtok_r(names, " \n", &sn), v = strtok_r(values, " \n", &sv); n && v;
             n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
            if (strcmp(n, "RetransSegs") == 0) {
                fclose(f);
                return strtoull(v, NULL, 10);
            }
    }
    die("retrans_storm: no RetransSegs in /proc/net/snmp");
    return 0;
}

static void reset(int fd) {
    struct linger now = {.l_onoff = 1, .l_linger = 0};

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
    close(fd);
}

static void open_conn(struct conn* c, int listener, const struct sockaddr_in* addr) {
    char data[1000];

    memset(data, 'x', sizeof(data));
    c->client = socket(AF_INET, SOCK_STREAM, 0);
    if (c->client < 0 || connect(c->client, (const struct sockaddr*)addr, sizeof(*addr)))
        die("retrans_storm: connect: %s", strerror(errno));
    c->server = accept(listener, NULL, NULL);
    if (c->server < 0) die("retrans_storm: accept: %s", strerror(errno));
    if (send(c->client, data, sizeof(data), MSG_DONTWAIT) != (ssize_t)sizeof(data))
        die("retrans_storm: send: %s", strerror(errno));
    c->born_ns = now_ns();
}

int main(int argc, char** argv) {
    int go = want_go(&argc, &argv);
    struct sockaddr_in addr;
    uint64_t conns, i, deadline, before;
    struct conn* pool;
    int listener;

    if (argc != 4) die("usage: retrans_storm [-g] CONNS SECONDS PORT");
    conns = parse_count("CONNS", argv[1]);
    if (conns == 0 || conns > 400) die("CONNS must be 1 to 400");
    pool = calloc(conns, sizeof(*pool));
    if (!pool) die("retrans_storm: out of memory");
    listener = loopback_listen("retrans_storm", argv[3], &addr);
    if (go) wait_for_go();
    deadline = now_ns() + parse_count("SECONDS", argv[2]) * 1000000000ull;
    before = retrans_segs();
    for (i = 0; i < conns; i++)
        open_conn(&pool[i], listener, &addr);
    while (now_ns() < deadline) {
        struct timespec tick = {0, 10000000};

        for (i = 0; i < conns; i++)
            if (now_ns() - pool[i].born_ns >= LIFETIME_NS) {
                reset(pool[i].client);
                reset(pool[i].server);
                open_conn(&pool[i], listener, &addr);
            }
        nanosleep(&tick, NULL);
    }
    for (i = 0; i < conns; i++) {
        reset(pool[i].client);
        reset(pool[i].server);
    }
    printf("%llu\n", (unsigned long long)(retrans_segs() - before));
    return 0;
}
