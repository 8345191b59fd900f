// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "format.h"
#include "tuple.h"
#include "util.h"

char *fa_fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int u = 0;

	while (bytes >= 1024 && u < ARRAY_SIZE(units) - 1) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f B", bytes);
	else if (bytes < 9.95)
		snprintf(buf, len, "%.1f %s", bytes, units[u]);
	else
		snprintf(buf, len, "%.0f %s", bytes, units[u]);
	return buf;
}

char *fa_fmt_bits(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "b", "kb", "Mb", "Gb", "Tb", "Pb" };
	double bits = bytes * 8;
	unsigned int u = 0;

	/* 999.5 would print as "1000": it is the next unit's 1.0 */
	while (bits >= 999.5 && u < ARRAY_SIZE(units) - 1) {
		bits /= 1000;
		u++;
	}
	if (u == 0 || bits >= 9.95)
		snprintf(buf, len, "%.0f %s", bits, units[u]);
	else
		snprintf(buf, len, "%.1f %s", bits, units[u]);
	return buf;
}

char *fa_fmt_count_rate(char *buf, size_t len, double per_s)
{
	if (per_s > 0 && per_s < 0.095) /* one in a long interval: "0.03", not "0.0" */
		snprintf(buf, len, "%.1g", per_s);
	else if (per_s < 9.95 && per_s != (double)(__u64)per_s)
		snprintf(buf, len, "%.1f", per_s);
	else
		snprintf(buf, len, "%.0f", per_s);
	return buf;
}

size_t fa_fmt_u64(char *buf, __u64 v)
{
	char tmp[FA_FMT_U64_LEN];
	size_t n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

char *fa_fmt_addr(char *buf, size_t len, __u8 family, const __u8 addr[FA_ADDR_LEN])
{
	if (family == FA_FAMILY_IPV4)
		inet_ntop(AF_INET, addr, buf, len);
	else if (family == FA_FAMILY_IPV6 && fa_addr_is_v4mapped(addr))
		inet_ntop(AF_INET, addr + 12, buf, len);
	else if (family == FA_FAMILY_IPV6)
		inet_ntop(AF_INET6, addr, buf, len);
	else
		snprintf(buf, len, "-");
	return buf;
}

char *fa_fmt_endpoint(char *buf, size_t len, __u8 family, const __u8 addr[FA_ADDR_LEN], __u16 port)
{
	char a[INET6_ADDRSTRLEN];

	fa_fmt_addr(a, sizeof(a), family, addr);
	if (family == FA_FAMILY_IPV6 && !fa_addr_is_v4mapped(addr))
		snprintf(buf, len, "[%s]:%u", a, port);
	else if (family == FA_FAMILY_IPV4 || family == FA_FAMILY_IPV6)
		snprintf(buf, len, "%s:%u", a, port);
	else
		snprintf(buf, len, "-");
	return buf;
}

char *fa_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!dstlen)
		return dst;
	for (size_t i = 0; i < srclen && src[i]; i++) {
		unsigned char c = src[i];
		char tmp[4];
		size_t n;

		if (c == '\\') {
			tmp[0] = tmp[1] = '\\';
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = c;
			n = 1;
		} else {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 15];
			n = 4;
		}
		if (o + n >= dstlen)
			break; /* never split an escape */
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}

const char *fa_proto_name(__u8 proto)
{
	return proto == FA_PROTO_TCP ? "tcp" : proto == FA_PROTO_UDP ? "udp" : "-";
}

const char *fa_family_name(__u8 family)
{
	return family == FA_FAMILY_IPV4 ? "ipv4" : family == FA_FAMILY_IPV6 ? "ipv6" : "-";
}

char *fa_other_name(char *buf, size_t len, __u16 family, __u16 proto)
{
	/* the families a socket send/receive hook meets in practice (linux/socket.h) */
	static const char *const families[] = {
		[1] = "unix",	    [2] = "ipv4", [10] = "ipv6",  [16] = "netlink",
		[17] = "packet",    [21] = "rds", [29] = "can",	  [30] = "tipc",
		[31] = "bluetooth", [38] = "alg", [40] = "vsock", [41] = "kcm",
		[42] = "qipcrtr",   [43] = "smc", [44] = "xdp",	  [45] = "mctp",
	};
	static const struct {
		__u16 proto;
		const char *name;
	} protos[] = {
		{ 1, "icmp" },	  { 6, "tcp" },	   { 17, "udp" },
		{ 58, "icmpv6" }, { 132, "sctp" }, { 136, "udplite" },
		{ 255, "raw" },	  { 256, "smc" },  { 262, "mptcp" },
	};
	const char *fam = family < sizeof(families) / sizeof(families[0]) ? families[family] : NULL;

	if (family != FA_FAMILY_IPV4 && family != FA_FAMILY_IPV6) {
		if (fam)
			snprintf(buf, len, "%s", fam);
		else
			snprintf(buf, len, "af%u", family);
		return buf;
	}
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto) {
			snprintf(buf, len, "%s/%s", fam, protos[i].name);
			return buf;
		}
	snprintf(buf, len, "%s/%u", fam, proto);
	return buf;
}

char *fa_fmt_usecs(char *buf, size_t len, __u32 us)
{
	if (!us)
		snprintf(buf, len, "-");
	else if (us < 1000)
		snprintf(buf, len, "%uus", us);
	else if (us < 1000000)
		snprintf(buf, len,
			 us < 10000    ? "%.2fms"
			 : us < 100000 ? "%.1fms"
				       : "%.0fms",
			 us / 1e3);
	else
		snprintf(buf, len, "%.2fs", us / 1e6);
	return buf;
}
