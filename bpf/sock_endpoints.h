/* The two ends of a TCP connection as the network tools' events and keys
 * carry them, shared by both sides (plain C: user space includes it too):
 * addresses in 16 bytes (IPv4 in the first 4), ports in host order; filled
 * by sock_read_endpoints() of bpf/sock.bpf.h. */
#pragma once

#define SOCK_ENDPOINT_FIELDS                                                                       \
	__u16 family; /* AF_INET or AF_INET6 */                                                    \
	__u16 lport;                                                                               \
	__u16 rport;                                                                               \
	__u16 pad;                                                                                 \
	__u8 laddr[16];                                                                            \
	__u8 raddr[16]
