/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI shared by the BPF programs and user space. Fixed-width types only, every enum
 * defined once here, sizes pinned with _Static_assert so both compilers agree.
 */
#ifndef FLOWACCT_H
#define FLOWACCT_H

#define FA_COMM_LEN 16
#define FA_ADDR_LEN 16

/* Protocol numbers and address families use the kernel's own values (IPPROTO_*, AF_*). */
enum fa_proto {
	FA_PROTO_TCP = 6,
	FA_PROTO_UDP = 17,
};

enum fa_family {
	FA_FAMILY_IPV4 = 2,
	FA_FAMILY_IPV6 = 10,
};

enum fa_dir {
	FA_DIR_RX = 0,
	FA_DIR_TX = 1,
	FA_DIR_MAX = 2,
};

/* Bits of the in-kernel family/protocol filter (fa_cfg.want). */
enum fa_want {
	FA_WANT_IPV4 = 1 << 0,
	FA_WANT_IPV6 = 1 << 1,
	FA_WANT_TCP = 1 << 2,
	FA_WANT_UDP = 1 << 3,
};

/*
 * Loss counters, indexes of the per-CPU `stats` array. Every byte that reaches a hook
 * is accounted somewhere: in its flow, else in its process's overflow row, else in the
 * unattributed byte counters below. These counters say where and how often.
 */
enum fa_stat {
	/* send/recv calls whose flow did not fit in the flow table (bytes went to overflow) */
	FA_STAT_FLOW_TABLE_FULL,
	/* distinct flows that did not fit in the flow table */
	FA_STAT_FLOWS_DROPPED,
	/* calls that fit neither their flow nor their process's overflow row */
	FA_STAT_OVERFLOW_TABLE_FULL,
	/* bytes of those calls, still part of the totals */
	FA_STAT_UNATTRIBUTED_RX_BYTES,
	FA_STAT_UNATTRIBUTED_TX_BYTES,
	/* kprobe backend: a return probe that never fired (kretprobe maxactive exhausted) */
	FA_STAT_KRETPROBE_MISSED,
	/* kprobe backend: the per-thread table of in-flight calls was full */
	FA_STAT_INFLIGHT_FULL,
	FA_STAT_MAX,
};

/* Identity of a flow. Family-independent: IPv4 addresses use the first 4 bytes. */
struct fa_flow_key {
	__u8 laddr[FA_ADDR_LEN];
	__u8 raddr[FA_ADDR_LEN];
	__u32 pid; /* tgid: the process, not the thread */
	__u16 lport; /* host byte order */
	__u16 rport; /* host byte order */
	__u8 proto; /* enum fa_proto */
	__u8 family; /* enum fa_family */
	__u16 pad;
};

/* Counters of one flow (or of one process's overflow row), updated with atomic adds. */
struct fa_flow_value {
	__u64 bytes[FA_DIR_MAX];
	__u64 calls[FA_DIR_MAX];
	__u32 uid;
	__u32 pad;
	char comm[FA_COMM_LEN]; /* the process's name (its group leader's), at first sight */
};

_Static_assert(sizeof(struct fa_flow_key) == 44, "fa_flow_key layout");
_Static_assert(sizeof(struct fa_flow_value) == 56, "fa_flow_value layout");

#endif /* FLOWACCT_H */
