/* A listening TCP socket on 127.0.0.1:PORT, for the workloads that make
 * connections over loopback (tcp_loop, retrans_storm). */
#ifndef CORESCOPE_WORKLOAD_LOOPBACK_H
#define CORESCOPE_WORKLOAD_LOOPBACK_H

#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Fills *addr with 127.0.0.1:port (port given as text, checked) and returns
 * a socket listening there; dies naming who and the port when it cannot. */
static inline int loopback_listen(const char* who, const char* port, struct sockaddr_in* addr) {
    int listener, one = 1;

    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr->sin_port = htons((uint16_t)parse_count("PORT", port));
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(listener, (struct sockaddr*)addr, sizeof(*addr)) || listen(listener, 64))
        die("%s: listen on port %s: %s", who, port, strerror(errno));
    return listener;
}

#endif
