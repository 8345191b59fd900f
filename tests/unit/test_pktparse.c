// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The --packets header parser: each link type, VLAN stacks, IPv4 options and fragments,
 * IPv6 extension headers, direction, wire bytes, and that every truncation of a good
 * frame is "unparsed" rather than a wrong answer or a read past the capture.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include "pktparse.h"

#define BUF_MAX 2048

struct frame_buf {
	__u8 b[BUF_MAX];
	__u32 len;
};

static void put(struct frame_buf *f, const void *p, __u32 n)
{
	assert_true(f->len + n <= BUF_MAX);
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put16(struct frame_buf *f, __u16 v)
{
	__u8 b[2] = { v >> 8, v & 0xff };

	put(f, b, 2);
}

static void put_eth(struct frame_buf *f, __u16 ethertype)
{
	static const __u8 macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	put(f, macs, sizeof(macs));
	put16(f, ethertype);
}

static void put_vlan(struct frame_buf *f, __u16 tci, __u16 next)
{
	put16(f, tci);
	put16(f, next);
}

/* 10.0.0.1 -> 10.0.0.2, payload_len bytes after the header (ports first), options of opt_len. */
static void put_ipv4(struct frame_buf *f, __u8 proto, __u32 opt_len, __u32 payload_len,
		     __u16 frag_field, __u16 id)
{
	__u32 hdr = 20 + opt_len;
	__u8 h[60] = { 0x40 | hdr / 4, 0 };
	__u16 tot = hdr + payload_len;

	h[2] = tot >> 8;
	h[3] = tot & 0xff;
	h[4] = id >> 8;
	h[5] = id & 0xff;
	h[6] = frag_field >> 8;
	h[7] = frag_field & 0xff;
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, (__u8[]){ 10, 0, 0, 1 }, 4);
	memcpy(h + 16, (__u8[]){ 10, 0, 0, 2 }, 4);
	memset(h + 20, 1, opt_len); /* NOPs */
	put(f, h, hdr);
}

static const __u8 v6_src[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const __u8 v6_dst[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static void put_ipv6(struct frame_buf *f, __u8 next, __u16 payload_len)
{
	__u8 h[8] = { 0x60, 0, 0, 0, payload_len >> 8, payload_len & 0xff, next, 64 };

	put(f, h, 8);
	put(f, v6_src, 16);
	put(f, v6_dst, 16);
}

/* A generic extension header of 8 * (units + 1) bytes. */
static void put_ext(struct frame_buf *f, __u8 next, __u8 units)
{
	__u8 h[64] = { next, units };

	put(f, h, 8 * (units + 1));
}

static void put_ports(struct frame_buf *f, __u16 sport, __u16 dport, __u32 len)
{
	__u8 rest[64] = { 0 };

	put16(f, sport);
	put16(f, dport);
	put(f, rest, len - 4);
}

static enum fa_pkt_result parse(const struct frame_buf *f, __u8 link, __u16 ethertype,
				__u8 pkttype, struct fa_pkt_info *info)
{
	struct fa_pkt_frame fr = { f->b, f->len, f->len, ethertype, link, pkttype };

	return fa_pktparse_frame(&fr, info);
}

static void assert_v4_key(const struct fa_pkt_info *info, __u8 local_last, __u16 lport,
			  __u16 rport)
{
	__u8 zero[12] = { 0 };

	assert_int_equal(info->key.family, FA_FAMILY_IPV4);
	assert_int_equal(info->key.laddr[3], local_last);
	assert_int_equal(info->key.raddr[3], local_last == 1 ? 2 : 1);
	assert_memory_equal(info->key.laddr + 4, zero, sizeof(zero));
	assert_memory_equal(info->key.raddr + 4, zero, sizeof(zero));
	assert_int_equal(info->key.lport, lport);
	assert_int_equal(info->key.rport, rport);
}

static void test_ethernet_tcp_outgoing_is_tx_from_source(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_eth(&f, ETH_P_IP);
	put_ipv4(&f, IPPROTO_TCP, 0, 20, 0x4000, 7);
	put_ports(&f, 40000, 80, 20);
	assert_int_equal(parse(&f, FA_LINK_ETHERNET, 0, PACKET_OUTGOING, &info), FA_PKT_FLOW);
	assert_int_equal(info.dir, FA_DIR_TX);
	assert_int_equal(info.key.proto, FA_PROTO_TCP);
	assert_int_equal(info.ip_len, 40);
	assert_int_equal(info.frag, FA_FRAG_NONE);
	assert_v4_key(&info, 1, 40000, 80);
}

static void test_network_udp_incoming_is_rx_to_destination(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_ipv4(&f, IPPROTO_UDP, 0, 108, 0, 0);
	put_ports(&f, 53, 5353, 8);
	f.len += 100; /* the payload was captured too */
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_HOST, &info), FA_PKT_FLOW);
	assert_int_equal(info.dir, FA_DIR_RX);
	assert_int_equal(info.key.proto, FA_PROTO_UDP);
	assert_int_equal(info.ip_len, 128);
	assert_v4_key(&info, 2, 5353, 53);
}

/* Loopback shows each packet as sent, then as received: two mirror-image keys, one each. */
static void test_loopback_copies_land_on_both_ends(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info out, in;

	(void)state;
	put_eth(&f, ETH_P_IP);
	put_ipv4(&f, IPPROTO_TCP, 0, 20, 0, 0);
	put_ports(&f, 40000, 80, 20);
	assert_int_equal(parse(&f, FA_LINK_ETHERNET, 0, PACKET_OUTGOING, &out), FA_PKT_FLOW);
	assert_int_equal(parse(&f, FA_LINK_ETHERNET, 0, PACKET_HOST, &in), FA_PKT_FLOW);
	assert_int_equal(out.dir, FA_DIR_TX);
	assert_int_equal(in.dir, FA_DIR_RX);
	assert_memory_equal(out.key.laddr, in.key.raddr, FA_ADDR_LEN);
	assert_memory_equal(out.key.raddr, in.key.laddr, FA_ADDR_LEN);
	assert_int_equal(out.key.lport, in.key.rport);
	assert_int_equal(out.key.rport, in.key.lport);
}

static void test_broadcast_and_multicast_are_rx(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_ipv4(&f, IPPROTO_UDP, 0, 8, 0, 0);
	put_ports(&f, 67, 68, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_BROADCAST, &info), FA_PKT_FLOW);
	assert_int_equal(info.dir, FA_DIR_RX);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_MULTICAST, &info), FA_PKT_FLOW);
	assert_int_equal(info.dir, FA_DIR_RX);
}

static void test_other_hosts_packets_are_not_ours(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_ipv4(&f, IPPROTO_UDP, 0, 8, 0, 0);
	put_ports(&f, 1, 2, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_OTHERHOST, &info),
			 FA_PKT_OTHER);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, 200, &info), FA_PKT_OTHER);
}

static void test_non_ip_and_non_tcp_udp_are_other(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_eth(&f, ETH_P_ARP);
	put_ports(&f, 1, 2, 28);
	assert_int_equal(parse(&f, FA_LINK_ETHERNET, 0, PACKET_HOST, &info), FA_PKT_OTHER);

	f.len = 0;
	put_ipv4(&f, IPPROTO_ICMP, 0, 8, 0, 0);
	put_ports(&f, 0x0800, 0, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_HOST, &info), FA_PKT_OTHER);

	f.len = 0;
	put_ipv6(&f, IPPROTO_ESP, 16);
	put_ports(&f, 1, 2, 16);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IPV6, PACKET_HOST, &info), FA_PKT_OTHER);
}

static void test_vlan_single_and_stacked(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_eth(&f, ETH_P_8021Q);
	put_vlan(&f, 100, ETH_P_IP);
	put_ipv4(&f, IPPROTO_UDP, 0, 8, 0, 0);
	put_ports(&f, 1000, 2000, 8);
	assert_int_equal(parse(&f, FA_LINK_ETHERNET, 0, PACKET_OUTGOING, &info), FA_PKT_FLOW);
	assert_v4_key(&info, 1, 1000, 2000);

	f.len = 0;
	put_eth(&f, ETH_P_8021AD);
	put_vlan(&f, 10, ETH_P_8021Q);
	put_vlan(&f, 20, ETH_P_IPV6);
	put_ipv6(&f, IPPROTO_TCP, 20);
	put_ports(&f, 1000, 2000, 20);
	assert_int_equal(parse(&f, FA_LINK_ETHERNET, 0, PACKET_HOST, &info), FA_PKT_FLOW);
	assert_int_equal(info.key.family, FA_FAMILY_IPV6);
	assert_memory_equal(info.key.laddr, v6_dst, 16);
	assert_int_equal(info.key.lport, 2000);
	assert_int_equal(info.ip_len, 60);

	/* SOCK_DGRAM after the kernel stripped the outer tag: the inner one starts the data */
	f.len = 0;
	put_vlan(&f, 20, ETH_P_IP);
	put_ipv4(&f, IPPROTO_TCP, 0, 20, 0, 0);
	put_ports(&f, 1, 2, 20);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_8021Q, PACKET_HOST, &info), FA_PKT_FLOW);
}

static void test_vlan_stack_too_deep_is_unparsed(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;
	int i;

	(void)state;
	put_eth(&f, ETH_P_8021Q);
	for (i = 0; i < 9; i++)
		put_vlan(&f, i, ETH_P_8021Q);
	put_vlan(&f, 1, ETH_P_IP);
	put_ipv4(&f, IPPROTO_UDP, 0, 8, 0, 0);
	put_ports(&f, 1, 2, 8);
	assert_int_equal(parse(&f, FA_LINK_ETHERNET, 0, PACKET_HOST, &info), FA_PKT_UNPARSED);
}

static void test_cooked_headers_carry_direction(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;
	__u8 addr[8] = { 0 };

	(void)state;
	/* SLL v1: pkttype, hatype, addr len, addr[8], protocol */
	put16(&f, PACKET_OUTGOING);
	put16(&f, 1);
	put16(&f, 6);
	put(&f, addr, 8);
	put16(&f, ETH_P_IP);
	put_ipv4(&f, IPPROTO_TCP, 0, 20, 0, 0);
	put_ports(&f, 5555, 22, 20);
	assert_int_equal(parse(&f, FA_LINK_SLL, 0, PACKET_HOST, &info), FA_PKT_FLOW);
	assert_int_equal(info.dir, FA_DIR_TX);
	assert_v4_key(&info, 1, 5555, 22);

	/* SLL v2: protocol, reserved, ifindex, hatype, pkttype, addr len, addr[8] */
	f.len = 0;
	put16(&f, ETH_P_IP);
	put16(&f, 0);
	put16(&f, 0);
	put16(&f, 2);
	put16(&f, 1);
	put16(&f, PACKET_HOST << 8 | 6);
	put(&f, addr, 8);
	put_ipv4(&f, IPPROTO_TCP, 0, 20, 0, 0);
	put_ports(&f, 5555, 22, 20);
	assert_int_equal(parse(&f, FA_LINK_SLL2, 0, PACKET_OUTGOING, &info), FA_PKT_FLOW);
	assert_int_equal(info.dir, FA_DIR_RX);
	assert_v4_key(&info, 2, 22, 5555);
}

static void test_raw_ip_picks_version(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_ipv6(&f, IPPROTO_UDP, 8);
	put_ports(&f, 1, 2, 8);
	assert_int_equal(parse(&f, FA_LINK_RAW_IP, 0, PACKET_HOST, &info), FA_PKT_FLOW);
	assert_int_equal(info.key.family, FA_FAMILY_IPV6);
	assert_int_equal(info.ip_len, 48);
}

static void test_ipv4_options_are_skipped(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_ipv4(&f, IPPROTO_TCP, 40, 20, 0, 0);
	put_ports(&f, 4242, 443, 20);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_OUTGOING, &info), FA_PKT_FLOW);
	assert_int_equal(info.ip_len, 80);
	assert_v4_key(&info, 1, 4242, 443);
}

static void test_ipv4_bad_headers_are_unparsed(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_ipv4(&f, IPPROTO_TCP, 0, 20, 0, 0);
	put_ports(&f, 1, 2, 20);

	f.b[0] = 0x44; /* header length 16 < 20 */
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_HOST, &info), FA_PKT_UNPARSED);
	f.b[0] = 0x65; /* version 6 under an IPv4 EtherType */
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_HOST, &info), FA_PKT_UNPARSED);
	f.b[0] = 0x4f; /* 60-byte header in a 40-byte packet */
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_HOST, &info), FA_PKT_UNPARSED);
	f.b[0] = 0x45;
	f.b[3] = 60; /* total length past the frame */
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_HOST, &info), FA_PKT_UNPARSED);
	f.b[3] = 22; /* ports would lie past the packet's end */
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_HOST, &info), FA_PKT_UNPARSED);
	f.b[3] = 19; /* shorter than its own header */
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_HOST, &info), FA_PKT_UNPARSED);
}

/* GSO packets above 64 KiB (BIG TCP) carry length 0: the frame's length is the packet's. */
static void test_zero_length_means_frame_length(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_frame fr;
	struct fa_pkt_info info;

	(void)state;
	put_ipv4(&f, IPPROTO_TCP, 0, 0, 0, 0);
	put_ports(&f, 1, 2, 20);
	f.b[2] = f.b[3] = 0;
	fr = (struct fa_pkt_frame){ f.b, f.len, 100000, ETH_P_IP, FA_LINK_NETWORK, PACKET_OUTGOING };
	assert_int_equal(fa_pktparse_frame(&fr, &info), FA_PKT_FLOW);
	assert_int_equal(info.ip_len, 100000);

	f.len = 0;
	put_ipv6(&f, IPPROTO_TCP, 0);
	put_ports(&f, 1, 2, 20);
	fr = (struct fa_pkt_frame){ f.b, f.len, 200000, ETH_P_IPV6, FA_LINK_NETWORK, PACKET_HOST };
	assert_int_equal(fa_pktparse_frame(&fr, &info), FA_PKT_FLOW);
	assert_int_equal(info.ip_len, 200000);
}

static void test_ipv4_fragments_only_first_has_ports(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;

	(void)state;
	put_ipv4(&f, IPPROTO_UDP, 0, 1480, 0x2000, 0x1234); /* MF, offset 0 */
	put_ports(&f, 7000, 9000, 8);
	f.len = 20 + 1480;
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_OUTGOING, &info), FA_PKT_FLOW);
	assert_int_equal(info.frag, FA_FRAG_FIRST);
	assert_int_equal(info.frag_id, 0x1234);
	assert_int_equal(info.ip_len, 1500);
	assert_v4_key(&info, 1, 7000, 9000);

	f.len = 0;
	put_ipv4(&f, IPPROTO_UDP, 0, 520, 185, 0x1234); /* offset 1480, last */
	put_ports(&f, 0xdead, 0xbeef, 8); /* payload bytes, not ports */
	f.len = 20 + 520;
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_OUTGOING, &info), FA_PKT_FLOW);
	assert_int_equal(info.frag, FA_FRAG_LATER);
	assert_int_equal(info.frag_id, 0x1234);
	assert_int_equal(info.ip_len, 540);
	assert_v4_key(&info, 1, 0, 0);

	/* a later fragment needs no payload captured at all */
	f.len = 20;
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IP, PACKET_OUTGOING, &info), FA_PKT_UNPARSED);
	{
		struct fa_pkt_frame fr = { f.b, 20, 540, ETH_P_IP, FA_LINK_NETWORK, PACKET_OUTGOING };

		assert_int_equal(fa_pktparse_frame(&fr, &info), FA_PKT_FLOW);
	}
}

static void test_ipv6_extension_chain(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;
	__u8 ah[16] = { IPPROTO_DSTOPTS, 2 }; /* (2 + 2) * 4 = 16 bytes */

	(void)state;
	put_ipv6(&f, IPPROTO_HOPOPTS, 8 + 24 + 16 + 16 + 8 + 20);
	put_ext(&f, IPPROTO_ROUTING, 0);
	put_ext(&f, IPPROTO_AH, 2);
	put(&f, ah, sizeof(ah));
	put_ext(&f, IPPROTO_FRAGMENT, 1);
	{
		__u8 frag[8] = { IPPROTO_TCP, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe }; /* atomic */

		put(&f, frag, sizeof(frag));
	}
	put_ports(&f, 33000, 22, 20);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IPV6, PACKET_OUTGOING, &info),
			 FA_PKT_FLOW);
	assert_int_equal(info.key.proto, FA_PROTO_TCP);
	assert_int_equal(info.frag, FA_FRAG_NONE);
	assert_int_equal(info.ip_len, f.len);
	assert_memory_equal(info.key.laddr, v6_src, 16);
	assert_int_equal(info.key.lport, 33000);
	assert_int_equal(info.key.rport, 22);
}

static void test_ipv6_fragments(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;
	__u8 first[8] = { IPPROTO_UDP, 0, 0, 1, 0, 0, 0, 9 }; /* offset 0, M */
	__u8 later[8] = { IPPROTO_UDP, 0, 0x05, 0xa8, 0, 0, 0, 9 }; /* offset 181 * 8 */

	(void)state;
	put_ipv6(&f, IPPROTO_FRAGMENT, 8 + 8);
	put(&f, first, 8);
	put_ports(&f, 1111, 2222, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IPV6, PACKET_HOST, &info), FA_PKT_FLOW);
	assert_int_equal(info.frag, FA_FRAG_FIRST);
	assert_int_equal(info.frag_id, 9);
	assert_int_equal(info.key.lport, 2222);

	f.len = 0;
	put_ipv6(&f, IPPROTO_FRAGMENT, 8 + 8);
	put(&f, later, 8);
	put_ports(&f, 0xffff, 0xffff, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IPV6, PACKET_HOST, &info), FA_PKT_FLOW);
	assert_int_equal(info.frag, FA_FRAG_LATER);
	assert_int_equal(info.key.lport, 0);
	assert_int_equal(info.key.rport, 0);

	/* two fragment headers in one packet is malformed */
	f.len = 0;
	put_ipv6(&f, IPPROTO_FRAGMENT, 8 + 8 + 8);
	first[0] = IPPROTO_FRAGMENT;
	put(&f, first, 8);
	put(&f, later, 8);
	put_ports(&f, 1, 2, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IPV6, PACKET_HOST, &info),
			 FA_PKT_UNPARSED);
}

static void test_ipv6_bad_headers_are_unparsed(void **state)
{
	struct frame_buf f = { .len = 0 };
	struct fa_pkt_info info;
	int i;

	(void)state;
	/* an extension header claiming more than the packet holds */
	put_ipv6(&f, IPPROTO_DSTOPTS, 16);
	put_ext(&f, IPPROTO_TCP, 0);
	f.b[41] = 5;
	put_ports(&f, 1, 2, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IPV6, PACKET_HOST, &info),
			 FA_PKT_UNPARSED);

	/* payload length beyond the frame */
	f.len = 0;
	put_ipv6(&f, IPPROTO_UDP, 100);
	put_ports(&f, 1, 2, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IPV6, PACKET_HOST, &info),
			 FA_PKT_UNPARSED);

	/* an endless chain of options headers is cut off */
	f.len = 0;
	put_ipv6(&f, IPPROTO_DSTOPTS, 8 * 20 + 8);
	for (i = 0; i < 20; i++)
		put_ext(&f, IPPROTO_DSTOPTS, 0);
	put_ports(&f, 1, 2, 8);
	assert_int_equal(parse(&f, FA_LINK_NETWORK, ETH_P_IPV6, PACKET_HOST, &info),
			 FA_PKT_UNPARSED);
}

/*
 * Every prefix of a good frame, copied into a buffer of exactly that size: short ones are
 * unparsed (never a guess), and once the ports are in, the answer is the full frame's.
 */
static void check_prefixes(const struct frame_buf *f, __u8 link, __u16 ethertype, __u32 need)
{
	struct fa_pkt_info full, info;
	__u32 len;

	assert_int_equal(parse(f, link, ethertype, PACKET_HOST, &full), FA_PKT_FLOW);
	for (len = 0; len <= f->len; len++) {
		__u8 *copy = malloc(len ? len : 1);
		struct fa_pkt_frame fr = { copy, len, f->len, ethertype, link, PACKET_HOST };
		enum fa_pkt_result r;

		assert_non_null(copy);
		memcpy(copy, f->b, len);
		r = fa_pktparse_frame(&fr, &info);
		if (len < need) {
			assert_int_equal(r, FA_PKT_UNPARSED);
		} else {
			assert_int_equal(r, FA_PKT_FLOW);
			assert_memory_equal(&info, &full, sizeof(info));
		}
		free(copy);
	}
}

static void test_truncated_frames_are_unparsed(void **state)
{
	struct frame_buf f = { .len = 0 };

	(void)state;
	put_eth(&f, ETH_P_8021Q);
	put_vlan(&f, 5, ETH_P_IP);
	put_ipv4(&f, IPPROTO_TCP, 8, 20, 0, 0);
	put_ports(&f, 1, 2, 20);
	check_prefixes(&f, FA_LINK_ETHERNET, 0, 14 + 4 + 28 + 4);

	f.len = 0;
	put_ipv6(&f, IPPROTO_HOPOPTS, 16 + 8);
	put_ext(&f, IPPROTO_UDP, 1);
	put_ports(&f, 1, 2, 8);
	check_prefixes(&f, FA_LINK_NETWORK, ETH_P_IPV6, 40 + 16 + 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_tcp_outgoing_is_tx_from_source),
		cmocka_unit_test(test_network_udp_incoming_is_rx_to_destination),
		cmocka_unit_test(test_loopback_copies_land_on_both_ends),
		cmocka_unit_test(test_broadcast_and_multicast_are_rx),
		cmocka_unit_test(test_other_hosts_packets_are_not_ours),
		cmocka_unit_test(test_non_ip_and_non_tcp_udp_are_other),
		cmocka_unit_test(test_vlan_single_and_stacked),
		cmocka_unit_test(test_vlan_stack_too_deep_is_unparsed),
		cmocka_unit_test(test_cooked_headers_carry_direction),
		cmocka_unit_test(test_raw_ip_picks_version),
		cmocka_unit_test(test_ipv4_options_are_skipped),
		cmocka_unit_test(test_ipv4_bad_headers_are_unparsed),
		cmocka_unit_test(test_zero_length_means_frame_length),
		cmocka_unit_test(test_ipv4_fragments_only_first_has_ports),
		cmocka_unit_test(test_ipv6_extension_chain),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_ipv6_bad_headers_are_unparsed),
		cmocka_unit_test(test_truncated_frames_are_unparsed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
