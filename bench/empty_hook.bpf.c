// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of `make bench`: programs that do nothing, on exactly the hooks each flowacct
 * backend attaches to (bpf/flowacct.bpf.c; a program's backend is its name's suffix, as
 * there). Whatever they cost is the price of the hooks themselves; what flowacct costs
 * beyond it is the price of its own work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EMPTY(sec, name)                                                                           \
	SEC(sec)                                                                                   \
	int BPF_PROG(name)                                                                         \
	{                                                                                          \
		return 0;                                                                          \
	}

/* tracepoint */
EMPTY("tp_btf/sock_send_length", sock_send_length_tp)
EMPTY("tp_btf/sock_recv_length", sock_recv_length_tp)
EMPTY("tp_btf/tcp_rcv_space_adjust", tcp_rcv_space_adjust_tp)
EMPTY("tp_btf/inet_sock_set_state", sk_state_tp)
EMPTY("tp_btf/tcp_retransmit_skb", tcp_retransmit_tp)
EMPTY("tp_btf/tcp_send_reset", tcp_send_reset_tp)
EMPTY("tp_btf/tcp_receive_reset", tcp_receive_reset_tp)

#define EMPTY_CGROUP(sec, name)                                                                    \
	SEC(sec)                                                                                   \
	int name(struct bpf_sock_addr *ctx)                                                        \
	{                                                                                          \
		return 1;                                                                          \
	}

EMPTY_CGROUP("cgroup/sendmsg4", udp4_sendmsg_cg)
EMPTY_CGROUP("cgroup/sendmsg6", udp6_sendmsg_cg)
EMPTY_CGROUP("cgroup/recvmsg4", udp4_recvmsg_cg)
EMPTY_CGROUP("cgroup/recvmsg6", udp6_recvmsg_cg)

/* fentry */
EMPTY("fexit/tcp_sendmsg", tcp_sendmsg_fexit)
EMPTY("fexit/udp_sendmsg", udp_sendmsg_fexit)
EMPTY("fexit/udpv6_sendmsg", udpv6_sendmsg_fexit)
EMPTY("fentry/tcp_cleanup_rbuf", tcp_cleanup_rbuf_fentry)
EMPTY("fentry/skb_consume_udp", skb_consume_udp_fentry)
EMPTY("tp_btf/inet_sock_set_state", sk_state_fentry)
EMPTY("tp_btf/tcp_retransmit_skb", tcp_retransmit_fentry)
EMPTY("tp_btf/tcp_send_reset", tcp_send_reset_fentry)
EMPTY("tp_btf/tcp_receive_reset", tcp_receive_reset_fentry)

/* kprobe */
#define EMPTY_KPROBE(sec, name)                                                                    \
	SEC(sec)                                                                                   \
	int BPF_KPROBE(name)                                                                       \
	{                                                                                          \
		return 0;                                                                          \
	}

EMPTY_KPROBE("kprobe/tcp_sendmsg", tcp_sendmsg_kprobe)
EMPTY_KPROBE("kretprobe/tcp_sendmsg", tcp_sendmsg_kretprobe)
EMPTY_KPROBE("kprobe/udp_sendmsg", udp_sendmsg_kprobe)
EMPTY_KPROBE("kretprobe/udp_sendmsg", udp_sendmsg_kretprobe)
EMPTY_KPROBE("kprobe/udpv6_sendmsg", udpv6_sendmsg_kprobe)
EMPTY_KPROBE("kretprobe/udpv6_sendmsg", udpv6_sendmsg_kretprobe)
EMPTY_KPROBE("kprobe/tcp_cleanup_rbuf", tcp_cleanup_rbuf_kprobe)
EMPTY_KPROBE("kprobe/skb_consume_udp", skb_consume_udp_kprobe)
EMPTY_KPROBE("kprobe/tcp_v4_destroy_sock", tcp_destroy_kprobe)
EMPTY("raw_tp/inet_sock_set_state", sk_state_kprobe)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
