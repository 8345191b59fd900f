/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --packets: an AF_PACKET socket with a memory-mapped RX ring (TPACKET_V3, or V2), read in
 * its own thread, counting IP packets and wire bytes per 5-tuple and direction.
 */
#ifndef FA_PKTRING_H
#define FA_PKTRING_H

#include <stddef.h>
#include <linux/types.h>
#include "tuple.h"

struct fa_pktring_opts {
	const char *ifname; /* NULL: all interfaces */
	int tpacket_version; /* 3 (default) or 2 */
	__u32 block_size; /* bytes, a multiple of the page size */
	__u32 block_count;
	__u32 block_timeout_ms; /* TPACKET_V3: hand a block over after this long */
	__u32 snaplen; /* bytes copied per frame: headers only */
	__u32 max_entries; /* 5-tuples kept at most; 0: FA_PKTRING_MAX_ENTRIES */
};

/* 72 bytes each, in a table kept under 3/4 full: 18 MiB at most by default. */
#define FA_PKTRING_MAX_ENTRIES (1u << 17)

#define FA_PKTRING_OPTS_DEFAULT                                                                    \
	{                                                                                          \
		.ifname = NULL, .tpacket_version = 3, .block_size = 1 << 20, .block_count = 8,     \
		.block_timeout_ms = 100, .snaplen = 128                                            \
	}

struct fa_pkt_entry {
	struct fa_tuple key; /* local = destination of incoming packets, source of outgoing */
	__u64 rx_packets, tx_packets;
	__u64 rx_wire_bytes, tx_wire_bytes; /* IP header + payload */
};

struct fa_pkt_stats {
	__u64 packets; /* PACKET_STATISTICS tp_packets, accumulated */
	__u64 drops; /* tp_drops, accumulated */
	__u64 freezes; /* tp_freeze_q_cnt (V3), accumulated */
	__u64 unparsed; /* frames too short or malformed to attribute */
	__u64 other; /* well-formed frames of no flow of ours: not TCP/UDP, another host's */
	__u64 table_full; /* packets not counted: max_entries 5-tuples were already kept */
	__u64 frames; /* frames read from the ring: packets - drops, once all are read */
};

struct fa_pktring;

struct fa_err;

/* 0, or -errno with a one-line reason in err (-EPERM: CAP_NET_RAW is missing). */
int fa_pktring_start(const struct fa_pktring_opts *opts, struct fa_pktring **out,
		     struct fa_err *err);
/* Cumulative counts since start: a malloc'd array the caller frees. 0 or -ENOMEM. */
int fa_pktring_read(struct fa_pktring *ring, struct fa_pkt_entry **entries, size_t *n,
		    struct fa_pkt_stats *stats);
/* The TPACKET version in use, 2 or 3: V3 falls back to V2 where the kernel lacks it. */
int fa_pktring_version(const struct fa_pktring *ring);
void fa_pktring_stop(struct fa_pktring *ring);

#endif /* FA_PKTRING_H */
