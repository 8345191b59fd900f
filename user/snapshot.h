/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One interval's view of the machine. The collector builds a snapshot; every output
 * (text, JSON, the interactive view, the JSON file, Prometheus) only formats one.
 * Adding an output never touches the collector.
 */
#ifndef FA_SNAPSHOT_H
#define FA_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include "flowacct.h"

enum fa_row_kind {
	FA_ROW_FLOW, /* one process's flow */
	FA_ROW_OVERFLOW, /* one process's bytes whose flows did not fit in the flow table */
	FA_ROW_PROCESS, /* a process: its flows and overflow row added up (--by process) */
	FA_ROW_UNMATCHED, /* packets of a 5-tuple no process's flow matches (pid 0) */
};

/* Loss and attribution counters, cumulative since start. Kernel ones first, same order. */
enum fa_drop {
	FA_DROP_FLOW_TABLE_FULL = FA_STAT_FLOW_TABLE_FULL,
	FA_DROP_FLOWS_DROPPED = FA_STAT_FLOWS_DROPPED,
	FA_DROP_OVERFLOW_TABLE_FULL = FA_STAT_OVERFLOW_TABLE_FULL,
	FA_DROP_UNATTRIBUTED_RX_BYTES = FA_STAT_UNATTRIBUTED_RX_BYTES,
	FA_DROP_UNATTRIBUTED_TX_BYTES = FA_STAT_UNATTRIBUTED_TX_BYTES,
	FA_DROP_KRETPROBE_MISSED = FA_STAT_KRETPROBE_MISSED,
	FA_DROP_INFLIGHT_FULL = FA_STAT_INFLIGHT_FULL,
	FA_DROP_RING_PACKETS_DROPPED = FA_STAT_MAX, /* PACKET_STATISTICS tp_drops */
	FA_DROP_RING_FREEZES, /* PACKET_STATISTICS tp_freeze_q_cnt (TPACKET_V3) */
	FA_DROP_PACKETS_UNPARSED, /* frames too short or malformed to attribute */
	FA_DROP_PACKETS_TABLE_FULL, /* packets not counted: the 5-tuple table was full */
	FA_DROP_MAX,
};

/* Snake-case names, as they appear in JSON, metrics and the view's header. */
extern const char *const fa_drop_names[FA_DROP_MAX];

struct fa_counts {
	__u64 rx_bytes, tx_bytes; /* payload bytes the process received / sent */
	__u64 rx_calls, tx_calls; /* send/receive calls that moved at least one byte */
	__u64 rx_packets, tx_packets; /* --packets: IP packets of the flow */
	__u64 rx_wire_bytes, tx_wire_bytes; /* --packets: IP header + payload */
};

struct fa_row {
	/* pid, proto, family, addresses and ports. Overflow and process rows: pid only.
	 * v4-mapped IPv6 flows are reported as IPv4. */
	struct fa_flow_key key;
	__u32 uid;
	__u8 kind; /* enum fa_row_kind */
	bool exited; /* the process has exited; the row leaves after a few intervals */
	__u32 nflows; /* process rows: flows added up in this row */
	char comm[FA_COMM_LEN + 1]; /* raw bytes from the kernel: escape before output */
	struct fa_counts delta; /* this interval */
	struct fa_counts total; /* since flowacct started (or since the flow appeared) */
};

struct fa_snapshot {
	struct timespec ts; /* CLOCK_REALTIME at the end of the interval */
	double interval_s; /* measured length of the interval (CLOCK_MONOTONIC) */
	const char *backend; /* "tracepoint", "fentry", "kprobe" */
	bool packets; /* packet counts (--packets) are valid */
	bool final; /* the last interval, emitted on exit */
	struct fa_counts delta, total; /* all rows, overflow and unattributed bytes included */
	__u64 drops[FA_DROP_MAX];
	__u32 nflows, nprocs; /* flows and processes in rows */
	size_t nrows;
	struct fa_row *rows; /* FA_ROW_FLOW, FA_ROW_OVERFLOW and FA_ROW_UNMATCHED rows */
};

/* a += b, and out = a - b, counter by counter */
void fa_counts_add(struct fa_counts *a, const struct fa_counts *b);
void fa_counts_sub(struct fa_counts *out, const struct fa_counts *a, const struct fa_counts *b);

void fa_snapshot_free(struct fa_snapshot *snap);
/* Deep copy, for outputs that keep a snapshot past the next interval. */
int fa_snapshot_copy(struct fa_snapshot *dst, const struct fa_snapshot *src);

#endif /* FA_SNAPSHOT_H */
