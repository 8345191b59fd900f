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

/*
 * The counters of a row. X(name, packets, help): packets says it is only valid with
 * --packets (and absent from outputs without it).
 */
#define FA_COUNTS(X)                                                                               \
	X(rx_bytes, false, "Payload bytes received")                                               \
	X(tx_bytes, false, "Payload bytes sent")                                                   \
	X(rx_calls, false,                                                                         \
	  "Receive calls that moved at least one byte (TCP: each advance of the read sequence "    \
	  "its hook sees, per call with fentry/kprobe, per chunk copied with tracepoint)")         \
	X(tx_calls, false, "Send calls that moved at least one byte")                              \
	X(rx_packets, true, "IP packets received")                                                 \
	X(tx_packets, true, "IP packets sent")                                                     \
	X(rx_wire_bytes, true, "IP bytes received, headers included")                              \
	X(tx_wire_bytes, true, "IP bytes sent, headers included")

struct fa_counts {
#define FA_COUNTS_FIELD(name, packets, help) __u64 name;
	FA_COUNTS(FA_COUNTS_FIELD)
#undef FA_COUNTS_FIELD
};

struct fa_count_desc {
	const char *name; /* JSON field; flowacct_[process_|flow_]<name>_total in metrics */
	const char *total_name; /* "<name>_total": the JSON field of the total since start */
	size_t off; /* in struct fa_counts */
	bool packets;
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
