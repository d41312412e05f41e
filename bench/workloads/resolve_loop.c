/* resolve_loop [-g] COUNT SECONDS HOST: getaddrinfo(HOST) (IPv4, TCP) and
 * freeaddrinfo, until COUNT lookups or SECONDS (0: no limit on that side);
 * print how many. Each lookup is one gethostlatency event. Use a HOST in
 * /etc/hosts (localhost) so no lookup leaves the machine. */
#include "common.h"

#include <netdb.h>
#include <sys/socket.h>

int main(int argc, char** argv) {
    int go = want_go(&argc, &argv);
    struct addrinfo hints, *res;
    struct run_limit limit;
    uint64_t done = 0;

    if (argc != 4) die("usage: resolve_loop [-g] COUNT SECONDS HOST");
    limit = parse_run_limit(argv[1], argv[2]);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (go) wait_for_go();
    run_limit_start(&limit);
    while (!run_limit_reached(&limit, done)) {
        int err = getaddrinfo(argv[3], NULL, &hints, &res);

        if (err) die("resolve_loop: %s: %s", argv[3], gai_strerror(err));
        freeaddrinfo(res);
        done++;
    }
    printf("%llu\n", (unsigned long long)done);
    return 0;
}
