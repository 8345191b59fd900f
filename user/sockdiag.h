/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's own per-socket TCP counters, read through NETLINK_SOCK_DIAG, and what they
 * say the application read and wrote: the other side of --audit. No BPF; the dump is the
 * only I/O, fa_tcp_diag_app_bytes() is pure.
 */
#ifndef FA_SOCKDIAG_H
#define FA_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "log.h"
#include "tuple.h"

/* The kernel's TCP states (include/net/tcp_states.h), the numbers sock_diag reports.
 * Our own names: glibc's <netinet/tcp.h> has them too, but clashes with <linux/tcp.h>. */
enum fa_tcp_state {
	FA_TCP_ESTABLISHED = 1,
	FA_TCP_SYN_SENT,
	FA_TCP_SYN_RECV,
	FA_TCP_FIN_WAIT1,
	FA_TCP_FIN_WAIT2,
	FA_TCP_TIME_WAIT,
	FA_TCP_CLOSE,
	FA_TCP_CLOSE_WAIT,
	FA_TCP_LAST_ACK,
	FA_TCP_LISTEN,
	FA_TCP_CLOSING,
};

struct fa_tcp_diag {
	/* proto 6, addresses as the kernel gives them, then fa_tuple_normalize()d */
	struct fa_tuple tuple;
	__u64 cookie; /* idiag_cookie[0] | idiag_cookie[1] << 32 */
	__u32 inode, uid;
	__u8 state; /* enum fa_tcp_state */
	/* tcp_info reached tcpi_bytes_received (time-wait and request sockets have none) */
	bool have_bytes;
	/* tcp_info reached tcpi_bytes_retrans (4.19+): bytes_sent, bytes_retrans, notsent */
	bool have_bytes_sent;
	/* an upper layer protocol (kTLS, an MPTCP subflow) sits between the application and
	 * TCP, so TCP's bytes are not the application's; seen only where the kernel tells
	 * (5.3+ with CAP_NET_ADMIN, 6.x without) */
	bool ulp;
	__u32 rqueue, wqueue; /* idiag_rqueue (rcv_nxt - copied_seq), idiag_wqueue */
	__u32 notsent; /* tcpi_notsent_bytes: write_seq - snd_nxt */
	__u64 bytes_received, bytes_acked; /* tcpi_*, 0 without have_bytes */
	__u64 bytes_sent, bytes_retrans; /* tcpi_*, 0 without have_bytes_sent */
};

/*
 * Every TCP socket of the caller's network namespace, IPv4 and IPv6, in every state but
 * LISTEN: *out is a malloc'd array of *n entries (NULL when none) that the caller frees.
 * Needs no privilege. 0 or -errno.
 */
int fa_sockdiag_tcp_dump(struct fa_tcp_diag **out, size_t *n, struct fa_err *err);

/*
 * What the application's recv and send calls returned in total on this socket, from the
 * kernel's counters alone; false where they cannot say exactly (no counters, not yet or
 * no longer synchronized, an upper layer protocol, counters that disagree).
 */
bool fa_tcp_diag_app_bytes(const struct fa_tcp_diag *d, __u64 *read, __u64 *written);

#endif /* FA_SOCKDIAG_H */
