// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Header parser for --packets. Frames come from the wire, so nothing in them is trusted:
 * each read goes through pkt_has(), which checks it against the captured length, and every
 * length field is checked against both the capture and the packet it claims to describe.
 */
#include <string.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include "pktparse.h"

/* Enough for any real stack (QinQ is 2, some carriers use 3); a bound stops crafted loops. */
#define PKT_MAX_VLAN_TAGS 8
/* RFC 8200 expects a handful; a bound keeps crafted chains from costing much. */
#define PKT_MAX_IPV6_EXT 16

#define PKT_ETH_P_QINQ_OLD 0x9100 /* pre-802.1ad QinQ, still sent by some switches */

struct pkt_cursor {
	const __u8 *data;
	__u32 caplen;
	__u32 wirelen;
};

static int pkt_has(const struct pkt_cursor *c, __u32 off, __u32 len)
{
	return off <= c->caplen && len <= c->caplen - off;
}

static __u16 pkt_be16(const struct pkt_cursor *c, __u32 off)
{
	return (__u16)(c->data[off] << 8 | c->data[off + 1]);
}

static __u32 pkt_be32(const struct pkt_cursor *c, __u32 off)
{
	return (__u32)c->data[off] << 24 | (__u32)c->data[off + 1] << 16 |
	       (__u32)c->data[off + 2] << 8 | c->data[off + 3];
}

/*
 * Reads the ports of the transport header at l4, which must lie inside both the capture
 * and the IP packet. Only the 4 port bytes are needed: a small snap length that cuts the
 * rest of the TCP header off still attributes the packet.
 */
static int pkt_ports(const struct pkt_cursor *c, __u32 l4, __u32 ip_end, __u16 *sport, __u16 *dport)
{
	if (l4 > ip_end || ip_end - l4 < 4 || !pkt_has(c, l4, 4))
		return -1;
	*sport = pkt_be16(c, l4);
	*dport = pkt_be16(c, l4 + 2);
	return 0;
}

/*
 * Fills in a TCP or UDP packet whose IP header starts at ip and transport header at l4,
 * oriented so that what this host sent has the local end as its source.
 */
static enum fa_pkt_result pkt_flow(const struct pkt_cursor *c, __u32 ip, __u32 ip_len, __u32 l4,
				   __u8 family, __u8 proto, struct fa_pkt_info *info)
{
	__u32 saddr = family == FA_FAMILY_IPV4 ? ip + 12 : ip + 8;
	__u32 addr_len = family == FA_FAMILY_IPV4 ? 4 : 16;
	__u32 daddr = saddr + addr_len;
	struct fa_tuple *k = &info->key;
	__u16 sport = 0, dport = 0;

	/* Only the first fragment carries the transport header. */
	if (info->frag != FA_FRAG_LATER && pkt_ports(c, l4, ip + ip_len, &sport, &dport))
		return FA_PKT_UNPARSED;

	k->family = family;
	k->proto = proto;
	info->ip_len = ip_len;
	if (info->dir == FA_DIR_TX) {
		memcpy(k->laddr, c->data + saddr, addr_len);
		memcpy(k->raddr, c->data + daddr, addr_len);
		k->lport = sport;
		k->rport = dport;
	} else {
		memcpy(k->laddr, c->data + daddr, addr_len);
		memcpy(k->raddr, c->data + saddr, addr_len);
		k->lport = dport;
		k->rport = sport;
	}
	return FA_PKT_FLOW;
}

/* The IP packet's length, bounded by what the frame says it carried. */
static int pkt_ip_len(const struct pkt_cursor *c, __u32 off, __u32 hdr_len, __u32 claimed,
		      __u32 *ip_len)
{
	__u32 room = c->wirelen > off ? c->wirelen - off : 0;

	/*
	 * A length of 0 is how GSO super-packets larger than 64 KiB (BIG TCP) and IPv6
	 * jumbograms say "see the frame": only then is the frame's length the packet's.
	 */
	if (claimed == 0)
		claimed = room;
	if (claimed < hdr_len || claimed > room)
		return -1;
	*ip_len = claimed;
	return 0;
}

static enum fa_pkt_result pkt_ipv4(const struct pkt_cursor *c, __u32 off, struct fa_pkt_info *info)
{
	__u32 hdr_len, ip_len, frag_off;
	__u8 proto;

	if (!pkt_has(c, off, 20) || c->data[off] >> 4 != 4)
		return FA_PKT_UNPARSED;
	hdr_len = (c->data[off] & 0xf) * 4;
	if (hdr_len < 20 || !pkt_has(c, off, hdr_len))
		return FA_PKT_UNPARSED;
	if (pkt_ip_len(c, off, hdr_len, pkt_be16(c, off + 2), &ip_len))
		return FA_PKT_UNPARSED;

	proto = c->data[off + 9];
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return FA_PKT_OTHER;

	frag_off = pkt_be16(c, off + 6);
	if (frag_off & 0x1fff)
		info->frag = FA_FRAG_LATER;
	else if (frag_off & 0x2000)
		info->frag = FA_FRAG_FIRST;
	if (info->frag != FA_FRAG_NONE)
		info->frag_id = pkt_be16(c, off + 4);

	return pkt_flow(c, off, ip_len, off + hdr_len, FA_FAMILY_IPV4, proto, info);
}

static enum fa_pkt_result pkt_ipv6(const struct pkt_cursor *c, __u32 off, struct fa_pkt_info *info)
{
	__u32 ip_len, end, pos, ext_len, i;
	__u16 payload_len;
	__u8 next;

	if (!pkt_has(c, off, 40) || c->data[off] >> 4 != 6)
		return FA_PKT_UNPARSED;
	payload_len = pkt_be16(c, off + 4);
	if (pkt_ip_len(c, off, 40, payload_len ? 40 + payload_len : 0, &ip_len))
		return FA_PKT_UNPARSED;
	end = off + ip_len;
	next = c->data[off + 6];
	pos = off + 40;

	for (i = 0; i < PKT_MAX_IPV6_EXT; i++) {
		switch (next) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			return pkt_flow(c, off, ip_len, pos, FA_FAMILY_IPV6, next, info);
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_MH:
		case 139: /* HIP */
		case 140: /* Shim6 */
			if (info->frag == FA_FRAG_LATER)
				return FA_PKT_UNPARSED; /* a later fragment's payload is no header
							 */
			if (!pkt_has(c, pos, 2))
				return FA_PKT_UNPARSED;
			ext_len = (c->data[pos + 1] + 1) * 8;
			next = c->data[pos];
			break;
		case IPPROTO_AH:
			if (info->frag == FA_FRAG_LATER)
				return FA_PKT_UNPARSED;
			if (!pkt_has(c, pos, 2))
				return FA_PKT_UNPARSED;
			ext_len = (c->data[pos + 1] + 2) * 4; /* AH counts 32-bit words, less 2 */
			next = c->data[pos];
			break;
		case IPPROTO_FRAGMENT:
			if (info->frag != FA_FRAG_NONE || !pkt_has(c, pos, 8))
				return FA_PKT_UNPARSED;
			next = c->data[pos];
			if (pkt_be16(c, pos + 2) & 0xfff8)
				info->frag = FA_FRAG_LATER;
			else if (pkt_be16(c, pos + 2) & 1)
				info->frag = FA_FRAG_FIRST;
			/* else an atomic fragment (RFC 6946): a whole packet, ports and all */
			info->frag_id = pkt_be32(c, pos + 4);
			ext_len = 8;
			break;
		default: /* ICMPv6, ESP (ports encrypted), no next header, ... */
			return FA_PKT_OTHER;
		}
		if (ext_len > end - pos)
			return FA_PKT_UNPARSED;
		pos += ext_len;
	}
	return FA_PKT_UNPARSED;
}

static int pkt_is_vlan(__u16 ethertype)
{
	return ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD ||
	       ethertype == PKT_ETH_P_QINQ_OLD;
}

enum fa_pkt_result fa_pktparse_frame(const struct fa_pkt_frame *frame, struct fa_pkt_info *info)
{
	struct pkt_cursor c = { frame->data, frame->caplen, frame->wirelen };
	__u16 ethertype;
	__u8 pkttype = frame->pkttype;
	__u32 off, tags;

	memset(info, 0, sizeof(*info));
	if (!c.data)
		c.caplen = 0;
	/* A frame cannot have carried less than was captured of it: the bytes are real. */
	if (c.wirelen < c.caplen)
		c.wirelen = c.caplen;

	switch (frame->link) {
	case FA_LINK_NETWORK:
		ethertype = frame->ethertype;
		off = 0;
		break;
	case FA_LINK_ETHERNET:
		if (!pkt_has(&c, 0, ETH_HLEN))
			return FA_PKT_UNPARSED;
		ethertype = pkt_be16(&c, 12);
		off = ETH_HLEN;
		break;
	case FA_LINK_SLL:
		if (!pkt_has(&c, 0, 16))
			return FA_PKT_UNPARSED;
		pkttype = c.data[1]; /* a 16-bit field; the kernel's values fit its low byte */
		if (c.data[0])
			return FA_PKT_OTHER;
		ethertype = pkt_be16(&c, 14);
		off = 16;
		break;
	case FA_LINK_SLL2:
		if (!pkt_has(&c, 0, 20))
			return FA_PKT_UNPARSED;
		ethertype = pkt_be16(&c, 0);
		pkttype = c.data[10];
		off = 20;
		break;
	case FA_LINK_RAW_IP:
		if (!pkt_has(&c, 0, 1))
			return FA_PKT_UNPARSED;
		ethertype = c.data[0] >> 4 == 6 ? ETH_P_IPV6 : ETH_P_IP;
		off = 0;
		break;
	default:
		return FA_PKT_UNPARSED;
	}

	switch (pkttype) {
	case PACKET_HOST:
	case PACKET_BROADCAST:
	case PACKET_MULTICAST:
		info->dir = FA_DIR_RX;
		break;
	case PACKET_OUTGOING:
		info->dir = FA_DIR_TX;
		break;
	default: /* another host's (promiscuous mode) or the kernel's own loops */
		return FA_PKT_OTHER;
	}

	/* 802.1Q/802.1ad tags the kernel did not already strip into the frame's metadata */
	for (tags = 0; pkt_is_vlan(ethertype); tags++) {
		if (tags == PKT_MAX_VLAN_TAGS || !pkt_has(&c, off, 4))
			return FA_PKT_UNPARSED;
		ethertype = pkt_be16(&c, off + 2);
		off += 4;
	}

	switch (ethertype) {
	case ETH_P_IP:
		return pkt_ipv4(&c, off, info);
	case ETH_P_IPV6:
		return pkt_ipv6(&c, off, info);
	default:
		return FA_PKT_OTHER;
	}
}
