// The attach steps of bpf/tcp_bytes.bpf.h (tcptop, tcpsubnet): bytes TCP
// sockets send and receive, counted in the sending or receiving process.
// Most preferred first: the sock tracepoints sock_send_length and
// sock_recv_length (6.3+; tp_btf, raw_tp, tracefs), then fexit tcp_sendmsg
// and fentry tcp_cleanup_rbuf, then kprobes on the same functions.
#pragma once

#include "attach_plan.h"

#include <vector>

namespace corescope {

inline AttachStep tcp_bytes_sent_step() {
    AttachStep step =
        tracepoint_tiers("TCP bytes sent", {{"send_length", "sock:sock_send_length"}});
    step.ways.push_back({{{"fexit_tcp_sendmsg", AttachKind::fexit, "tcp_sendmsg"}}});
    step.ways.push_back({{{"kprobe_tcp_sendmsg", AttachKind::kprobe, "tcp_sendmsg"},
                          {"kretprobe_tcp_sendmsg", AttachKind::kretprobe, "tcp_sendmsg"}}});
    return step;
}

inline AttachStep tcp_bytes_received_step() {
    AttachStep step =
        tracepoint_tiers("TCP bytes received", {{"recv_length", "sock:sock_recv_length"}});
    step.ways.push_back({{{"fentry_tcp_cleanup_rbuf", AttachKind::fentry, "tcp_cleanup_rbuf"}}});
    step.ways.push_back({{{"kprobe_tcp_cleanup_rbuf", AttachKind::kprobe, "tcp_cleanup_rbuf"}}});
    return step;
}

} // namespace corescope
