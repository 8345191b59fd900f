/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Human-readable units, addresses, and escaping of untrusted bytes. */
#ifndef FA_FORMAT_H
#define FA_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "flowacct.h"

/* "0 B", "512 B", "1.2 KiB", "12 KiB", "3.1 MiB" ... (binary units, 3 significant digits) */
char *fa_fmt_bytes(char *buf, size_t len, double bytes);
/* A duration in microseconds, three significant digits: "87us", "1.25ms", "310ms", "2.50s";
 * "-" for 0 (not known). */
char *fa_fmt_usecs(char *buf, size_t len, __u32 us);
/* "1.2 MiB" style for a rate; the caller adds "/s" if it wants */
#define FA_FMT_BYTES_LEN 16
/* A byte count shown in bits, in decimal SI units as iftop and link speeds have them:
 * "800 b", "9.6 kb", "120 Mb", "1.0 Gb" (3 significant digits); the caller adds "/s".
 * FA_FMT_BYTES_LEN is room enough. */
char *fa_fmt_bits(char *buf, size_t len, double bytes);
/* Things per second (packets): whole numbers, with one decimal below 10 when not whole
 * ("0.5", "3", "12"), one significant digit below 0.1 ("0.03"), so that one packet in a
 * long interval is not shown as none. */
char *fa_fmt_count_rate(char *buf, size_t len, double per_s);

/* v in decimal, NUL-terminated; returns its length. A loop, not snprintf: JSON and metrics
 * write 16 counters per row, and at 100k rows snprintf was a third of the cost. */
size_t fa_fmt_u64(char *buf, __u64 v);
#define FA_FMT_U64_LEN 21

/* "10.0.0.5" or "::1"; v4-mapped IPv6 addresses are printed as IPv4 */
char *fa_fmt_addr(char *buf, size_t len, __u8 family, const __u8 addr[FA_ADDR_LEN]);
/* "10.0.0.5:443" or "[::1]:443" */
char *fa_fmt_endpoint(char *buf, size_t len, __u8 family, const __u8 addr[FA_ADDR_LEN], __u16 port);
#define FA_FMT_ENDPOINT_LEN 56

/*
 * Copies untrusted bytes (process names, packet contents) as printable ASCII: bytes
 * 0x21..0x7e except '\\' stay, space stays, '\\' becomes "\\\\", anything else "\\xNN".
 * Stops at the first NUL or after srclen bytes. The result is valid UTF-8 and JSON-,
 * terminal- and label-safe once the output's own quoting is applied. Always terminates
 * dst (truncating); returns dst.
 */
char *fa_escape(char *dst, size_t dstlen, const char *src, size_t srclen);
/* Enough for a 16-byte comm escaped in full */
#define FA_ESCAPED_COMM_LEN (FA_COMM_LEN * 4 + 1)

const char *fa_proto_name(__u8 proto); /* "tcp", "udp", "-" */
const char *fa_family_name(__u8 family); /* "ipv4", "ipv6", "-" */
/* What other-traffic rows are called: "unix", "netlink", "ipv4/udplite", "ipv6/262",
 * "af38" (the socket's family, and for IP sockets its protocol) */
char *fa_other_name(char *buf, size_t len, __u16 family, __u16 proto);
#define FA_OTHER_NAME_LEN 32

#endif /* FA_FORMAT_H */
