/* The connection map of tcpcong, shared by both sides: per TCP socket, the
 * time spent in each congestion-avoidance state so far. Addresses: 16
 * bytes, IPv4 in the first 4; ports in host order. */
#pragma once

#include "sock_endpoints.h"

/* include/net/tcp.h's enum tcp_ca_state, in its order. */
enum tcpcong_state {
	TCPCONG_OPEN = 0,
	TCPCONG_DISORDER = 1,
	TCPCONG_CWR = 2,
	TCPCONG_RECOVERY = 3,
	TCPCONG_LOSS = 4,
	TCPCONG_STATES = 5,
};

#define TCPCONG_MAX_CONNS 16384

struct tcpcong_conn {
	SOCK_ENDPOINT_FIELDS;
	__u64 state_ns[TCPCONG_STATES]; /* time in each state, up to changed_ns */
	__u64 changed_ns;		/* CLOCK_MONOTONIC: when it entered state (or closed) */
	__u64 changes;			/* state changes seen */
	__u32 state;			/* enum tcpcong_state, now */
	__u32 closed;			/* 1: the socket closed; the times are final */
};

/* A closed connection's key: its socket's address is not enough, since a
 * new connection may take the same memory before the loader reads it. */
struct tcpcong_closed_key {
	__u64 sk;
	__u64 closed_ns; /* CLOCK_MONOTONIC */
};
