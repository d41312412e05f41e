/* The event bindsnoop's BPF program sends for each bind() on an IPv4 or
 * IPv6 socket, shared by both sides. The address is the one asked for:
 * 16 bytes, IPv4 in the first 4 (network order); ports in host order. */
#pragma once

#define BINDSNOOP_COMM_LEN 16

/* The socket's options bind() honours, as the classic tool shows them
 * (letters F T N R r). */
#define BINDSNOOP_OPT_FREEBIND		   0x01 /* IP_FREEBIND, IPV6_FREEBIND */
#define BINDSNOOP_OPT_TRANSPARENT	   0x02 /* IP_TRANSPARENT, IPV6_TRANSPARENT */
#define BINDSNOOP_OPT_BIND_ADDRESS_NO_PORT 0x04 /* IP_BIND_ADDRESS_NO_PORT */
#define BINDSNOOP_OPT_REUSEADDR		   0x08 /* SO_REUSEADDR */
#define BINDSNOOP_OPT_REUSEPORT		   0x10 /* SO_REUSEPORT */

struct bindsnoop_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, at the return of bind() */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret; /* 0, or -errno */
	__s32 fd;
	__u32 bound_if;	   /* the socket's bound interface (SO_BINDTODEVICE); 0: none */
	__u16 family;	   /* the socket's: AF_INET or AF_INET6 */
	__u16 addr_family; /* the address's (AF_INET, AF_INET6, AF_UNSPEC...); 0 if unread */
	__u16 port;	   /* asked for; 0: any */
	__u16 bound_port;  /* the socket's local port after the call (an ephemeral
			    * one for port 0); 0: none */
	__u16 protocol;	   /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u16 type;	   /* SOCK_STREAM, SOCK_DGRAM, SOCK_RAW... */
	__u8 opts;	   /* BINDSNOOP_OPT_* */
	__u8 addr_read;	   /* the address could be read from the caller's memory */
	__u8 addr[16];
	char comm[BINDSNOOP_COMM_LEN];
};
