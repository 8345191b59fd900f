/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A 5-tuple seen from this host: local and remote address and port, protocol, family.
 * The identity of a flow (with its process) and of a packet, so that the two meet by
 * plain comparison. Pure: no I/O, no threads.
 */
#ifndef FA_TUPLE_H
#define FA_TUPLE_H

#include <stdbool.h>
#include <linux/types.h>
#include "flowacct.h"

struct fa_tuple {
	__u8 laddr[FA_ADDR_LEN]; /* IPv4: the first 4 bytes, the rest zero */
	__u8 raddr[FA_ADDR_LEN];
	__u16 lport, rport; /* host byte order */
	__u8 proto; /* enum fa_proto */
	__u8 family; /* enum fa_family */
	__u16 pad; /* zero, so tuples compare and hash as bytes */
};

_Static_assert(sizeof(struct fa_tuple) == 40, "fa_tuple has no hidden padding");

/* ::ffff:a.b.c.d */
bool fa_addr_is_v4mapped(const __u8 addr[FA_ADDR_LEN]);
/* An IPv6 socket talking IPv4 (v4-mapped local, v4-mapped or unset remote) becomes IPv4,
 * so it is shown as IPv4 and meets IPv4 packets. */
void fa_tuple_normalize(struct fa_tuple *t);
int fa_tuple_cmp(const struct fa_tuple *a, const struct fa_tuple *b); /* memcmp order */

#endif /* FA_TUPLE_H */
