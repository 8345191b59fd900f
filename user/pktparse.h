/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The packet header parser behind --packets: one captured frame in, its 5-tuple seen from
 * this host out. Pure and allocation-free, so it can be unit-tested and fuzzed on its own;
 * every read is checked against the captured length.
 */
#ifndef FA_PKTPARSE_H
#define FA_PKTPARSE_H

#include <linux/types.h>
#include "tuple.h"

/* Where a frame starts, i.e. which header comes first. */
enum fa_pkt_link {
	/* at the network header, its EtherType given apart (SOCK_DGRAM's sll_protocol) */
	FA_LINK_NETWORK = 0,
	/* at an Ethernet header (SOCK_RAW on Ethernet, and loopback's all-zero one) */
	FA_LINK_ETHERNET = 1,
	/* at a Linux cooked header, v1 (16 bytes, DLT_LINUX_SLL) */
	FA_LINK_SLL = 2,
	/* at a Linux cooked header, v2 (20 bytes, DLT_LINUX_SLL2) */
	FA_LINK_SLL2 = 3,
	/* at an IPv4 or IPv6 header, told apart by its version (DLT_RAW) */
	FA_LINK_RAW_IP = 4,
	FA_LINK_MAX,
};

struct fa_pkt_frame {
	const __u8 *data;
	__u32 caplen; /* bytes at data: nothing past them is ever read */
	__u32 wirelen; /* the frame's length before capture truncated it */
	__u16 ethertype; /* FA_LINK_NETWORK only, host byte order */
	__u8 link; /* enum fa_pkt_link */
	__u8 pkttype; /* PACKET_HOST, PACKET_OUTGOING, ...; the cooked links carry their own */
};

enum fa_pkt_frag {
	FA_FRAG_NONE = 0,
	FA_FRAG_FIRST = 1, /* offset 0, more to come: has the ports */
	FA_FRAG_LATER = 2, /* offset > 0: no transport header, ports are 0 */
};

struct fa_pkt_info {
	struct fa_tuple key; /* oriented: local = source when dir is FA_DIR_TX */
	__u32 ip_len; /* wire bytes: IP header + payload, from the IP header */
	__u32 frag_id; /* IPv4 identification or IPv6 fragment id, when frag is set */
	__u8 dir; /* enum fa_dir */
	__u8 frag; /* enum fa_pkt_frag */
};

enum fa_pkt_result {
	FA_PKT_FLOW = 0, /* info holds a TCP or UDP packet of this host */
	FA_PKT_UNPARSED, /* truncated or malformed: attributed nowhere */
	FA_PKT_OTHER, /* well formed, but no flow of ours: other protocols, other hosts' */
};

enum fa_pkt_result fa_pktparse_frame(const struct fa_pkt_frame *frame, struct fa_pkt_info *info);

#endif /* FA_PKTPARSE_H */
