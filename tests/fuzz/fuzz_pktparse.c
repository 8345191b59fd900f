// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the --packets header parser. An input is a 6-byte preamble then
 * the frame: link type, packet type, EtherType (for FA_LINK_NETWORK), and how many bytes
 * the frame had on the wire beyond those captured (all big-endian). The frame is copied
 * into a buffer of exactly its size, so AddressSanitizer catches any read past it; and
 * what the parser returns must be self-consistent, or the target traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pktparse.h"

#define PREAMBLE 6

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fa_pkt_frame f;
	struct fa_pkt_info info;
	enum fa_pkt_result r;
	__u32 caplen, wirelen;
	__u8 *frame;

	if (size < PREAMBLE || size - PREAMBLE > 1 << 20)
		return 0;
	caplen = size - PREAMBLE;
	wirelen = caplen + ((__u32)data[4] << 8 | data[5]);
	frame = malloc(caplen ? caplen : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + PREAMBLE, caplen);
	f = (struct fa_pkt_frame){ .data = frame,
				   .caplen = caplen,
				   .wirelen = wirelen,
				   .ethertype = (__u16)(data[2] << 8 | data[3]),
				   .link = data[0] % (FA_LINK_MAX + 1),
				   .pkttype = data[1] };
	r = fa_pktparse_frame(&f, &info);
	check(r == FA_PKT_FLOW || r == FA_PKT_UNPARSED || r == FA_PKT_OTHER);
	if (r == FA_PKT_FLOW) {
		check(info.key.family == FA_FAMILY_IPV4 || info.key.family == FA_FAMILY_IPV6);
		check(info.key.proto == FA_PROTO_TCP || info.key.proto == FA_PROTO_UDP);
		check(info.dir == FA_DIR_RX || info.dir == FA_DIR_TX);
		check(info.ip_len >= (info.key.family == FA_FAMILY_IPV4 ? 20u : 40u));
		check(info.ip_len <= wirelen);
		check(info.frag <= FA_FRAG_LATER);
		if (info.frag == FA_FRAG_LATER)
			check(!info.key.lport && !info.key.rport);
		if (info.key.family == FA_FAMILY_IPV4) {
			static const __u8 zero[12];

			check(!memcmp(info.key.laddr + 4, zero, 12));
			check(!memcmp(info.key.raddr + 4, zero, 12));
		}
		check(!info.key.pad);
	}
	free(frame);
	return 0;
}
