/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every counter flowacct reports, defined once. From these lists come struct fa_counts,
 * the loss-counter enum, the names JSON and the views use, Prometheus metric names and
 * HELP texts; tests check that the JSON schema and the docs name exactly these.
 */
#ifndef FA_COUNTERS_H
#define FA_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "flowacct.h"

/* Which outputs a counter is in: always, with --packets, or where TCP health is known
 * (a backend with its hooks, and a row with TCP in it). */
enum fa_count_kind {
	FA_CK_BASE = 1 << 0,
	FA_CK_PACKETS = 1 << 1,
	FA_CK_HEALTH = 1 << 2,
};

/*
 * The counters of a row. X(name, kind, help): kind says when it is valid (and present
 * in outputs): FA_CK_BASE always, FA_CK_PACKETS with --packets, FA_CK_HEALTH for TCP where
 * the backend has the health hooks (struct fa_health).
 */
#define FA_COUNTS(X)                                                                               \
	X(rx_bytes, FA_CK_BASE, "Payload bytes received")                                          \
	X(tx_bytes, FA_CK_BASE, "Payload bytes sent")                                              \
	X(rx_calls, FA_CK_BASE,                                                                    \
	  "Receive calls that moved at least one byte (TCP: each advance of the read sequence "    \
	  "its hook sees, per call with fentry/kprobe, per chunk copied with tracepoint)")         \
	X(tx_calls, FA_CK_BASE, "Send calls that moved at least one byte")                         \
	X(rx_packets, FA_CK_PACKETS, "IP packets received")                                        \
	X(tx_packets, FA_CK_PACKETS, "IP packets sent")                                            \
	X(rx_wire_bytes, FA_CK_PACKETS, "IP bytes received, headers included")                     \
	X(tx_wire_bytes, FA_CK_PACKETS, "IP bytes sent, headers included")                         \
	X(retrans_segs, FA_CK_HEALTH,                                                              \
	  "TCP segments retransmitted (the sockets' own total_retrans, as TCP_INFO reports it)")   \
	X(retrans_bytes, FA_CK_HEALTH, "TCP payload bytes retransmitted")                          \
	X(active_opens, FA_CK_HEALTH,                                                              \
	  "TCP connections this side opened (connect) that were established")                      \
	X(passive_opens, FA_CK_HEALTH, "TCP connections accepted and established")                 \
	X(closes, FA_CK_HEALTH, "TCP sockets that reached CLOSE, however they ended")              \
	X(resets_sent, FA_CK_HEALTH, "TCP resets sent")                                            \
	X(resets_received, FA_CK_HEALTH, "TCP resets received")

struct fa_counts {
#define FA_COUNTS_FIELD(name, kind, help) __u64 name;
	FA_COUNTS(FA_COUNTS_FIELD)
#undef FA_COUNTS_FIELD
};

struct fa_count_desc {
	const char *name; /* JSON field; flowacct_[process_|flow_]<name>_total in metrics */
	const char *total_name; /* "<name>_total": the JSON field of the total since start */
	size_t off; /* in struct fa_counts */
	enum fa_count_kind kind;
	const char *help;
};

#define FA_NCOUNTS (sizeof(struct fa_counts) / sizeof(__u64))
extern const struct fa_count_desc fa_count_descs[FA_NCOUNTS];

static inline __u64 fa_count_get(const struct fa_counts *c, const struct fa_count_desc *d)
{
	return *(const __u64 *)((const char *)c + d->off);
}

/* a += b, and out = a - b, counter by counter */
void fa_counts_add(struct fa_counts *a, const struct fa_counts *b);
void fa_counts_sub(struct fa_counts *out, const struct fa_counts *a, const struct fa_counts *b);

/* Loss counters kept in user space, after the kernel's (FA_KERNEL_DROPS). X(ID, name, help) */
#define FA_USER_DROPS(X)                                                                           \
	X(RING_PACKETS_DROPPED, ring_packets_dropped,                                              \
	  "--packets: packets the kernel dropped from the ring (PACKET_STATISTICS tp_drops)")      \
	X(RING_FREEZES, ring_freezes,                                                              \
	  "--packets: times the ring's queue was frozen (TPACKET_V3 tp_freeze_q_cnt)")             \
	X(PACKETS_UNPARSED, packets_unparsed,                                                      \
	  "--packets: frames too short or malformed to attribute")                                 \
	X(PACKETS_TABLE_FULL, packets_table_full,                                                  \
	  "--packets: packets not counted because the 5-tuple table was full")

#define FA_DROPS(X) FA_KERNEL_DROPS(X) FA_USER_DROPS(X)

/* Loss and attribution counters, cumulative since start; the kernel's first, same order. */
enum fa_drop {
#define FA_DROP_ENUM(id, name, help) FA_DROP_##id,
	FA_DROPS(FA_DROP_ENUM)
#undef FA_DROP_ENUM
		FA_DROP_MAX,
};

#define FA_DROP_SAME_INDEX(id, name, help)                                                         \
	_Static_assert((int)FA_DROP_##id == (int)FA_STAT_##id, "kernel drops come first");
FA_KERNEL_DROPS(FA_DROP_SAME_INDEX)
#undef FA_DROP_SAME_INDEX

struct fa_drop_desc {
	const char *name; /* snake case: JSON "drops" field, flowacct_<name>_total, views */
	const char *help;
};

extern const struct fa_drop_desc fa_drop_descs[FA_DROP_MAX];

#endif /* FA_COUNTERS_H */
