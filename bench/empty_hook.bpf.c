// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of `make bench`: programs that do nothing, on exactly the hooks each flowacct
 * backend attaches to. Whatever they cost is the price of the hook itself; what flowacct
 * costs beyond it is the price of its own work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length_tp)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length_tp)
{
	return 0;
}

#define EMPTY_FEXIT(func)                                                                          \
	SEC("fexit/" #func)                                                                        \
	int BPF_PROG(func##_fexit)                                                                 \
	{                                                                                          \
		return 0;                                                                          \
	}

EMPTY_FEXIT(tcp_sendmsg)
EMPTY_FEXIT(tcp_recvmsg)
EMPTY_FEXIT(udp_sendmsg)
EMPTY_FEXIT(udpv6_sendmsg)
EMPTY_FEXIT(udp_recvmsg)
EMPTY_FEXIT(udpv6_recvmsg)

#define EMPTY_KPROBE_PAIR(func)                                                                    \
	SEC("kprobe/" #func)                                                                       \
	int BPF_KPROBE(func##_kprobe)                                                              \
	{                                                                                          \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #func)                                                                    \
	int BPF_KRETPROBE(func##_kretprobe)                                                        \
	{                                                                                          \
		return 0;                                                                          \
	}

EMPTY_KPROBE_PAIR(tcp_sendmsg)
EMPTY_KPROBE_PAIR(tcp_recvmsg)
EMPTY_KPROBE_PAIR(udp_sendmsg)
EMPTY_KPROBE_PAIR(udpv6_sendmsg)
EMPTY_KPROBE_PAIR(udp_recvmsg)
EMPTY_KPROBE_PAIR(udpv6_recvmsg)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
