/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every difference between kernel versions that the BPF programs handle, in one place,
 * each with the kernel change it follows.
 *
 * Not hooked on purpose: tcp_recvmsg/udp_recvmsg/udpv6_recvmsg, whose prototypes have
 * changed twice (Linux 5.19, "net: remove noblock parameter from recvmsg() entities",
 * moved flags from the 5th argument to the 4th; a later kernel, as on this project's 6.18
 * machine, dropped addr_len), so that reading flags or the return value from a fixed slot
 * counts MSG_PEEK reads or a wrong argument on some kernels. Received bytes are counted
 * at tcp_cleanup_rbuf(sk, copied) and skb_consume_udp(sk, skb, len) instead, which have
 * kept their prototypes; user/protos.c checks every hooked prototype in the kernel's BTF
 * before loading.
 *
 * Handled elsewhere, by what is attached rather than how it is read:
 *  - Linux 6.5, "splice, net: Use sendmsg(MSG_SPLICE_PAGES) rather than ->sendpage()":
 *    tcp_sendpage() is gone and sendfile() goes through tcp_sendmsg(); its program is
 *    only loaded where the function exists (hook_optional() in user/backend.c).
 *  - closing a socket zeroes skc_num while received data may still be queued, so the
 *    local port is read from inet_sport (flow_key() in flowacct.bpf.c).
 */
#ifndef FA_CORE_FIXES_BPF_H
#define FA_CORE_FIXES_BPF_H

#include "flowacct.h"

/*
 * struct sock's sk_shutdown is a plain byte on current kernels and was a 2-bit field
 * packed with others before; the bitfield read relocates to either.
 */
static __always_inline __u8 sk_shutdown_of(struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown);
}

#endif /* FA_CORE_FIXES_BPF_H */
