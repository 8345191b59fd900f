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
 * Loss counters kept in the kernel, the indexes of the per-CPU `stats` array: the one
 * list of them. Every byte that reaches a hook is accounted somewhere: in its flow, else
 * in its process's overflow row, else in the unattributed byte counters below; these
 * counters say where and how often. X(ID, name, help): name is what JSON, metrics and the
 * views call it, help its one-line meaning (Prometheus HELP, docs). User space appends its
 * own (user/counters.h).
 */
#define FA_KERNEL_DROPS(X)                                                                         \
	X(FLOW_TABLE_FULL, flow_table_full,                                                        \
	  "Send/receive calls whose flow did not fit in the flow table (their bytes are in the "   \
	  "process's overflow row)")                                                               \
	X(FLOWS_DROPPED, flows_dropped, "Distinct flows that did not fit in the flow table")       \
	X(OVERFLOW_TABLE_FULL, overflow_table_full,                                                \
	  "Calls that fit neither their flow nor their process's overflow row")                    \
	X(UNATTRIBUTED_RX_BYTES, unattributed_rx_bytes,                                            \
	  "Received bytes of those calls, attributed to no process (part of the totals)")          \
	X(UNATTRIBUTED_TX_BYTES, unattributed_tx_bytes,                                            \
	  "Sent bytes of those calls, attributed to no process (part of the totals)")              \
	X(KRETPROBE_MISSED, kretprobe_missed,                                                      \
	  "kprobe backend: return probes that never fired (too many calls blocked at once)")       \
	X(INFLIGHT_FULL, inflight_full,                                                            \
	  "kprobe backend: calls lost because the table of calls in progress was full")            \
	X(SOCKET_STATE_FULL, socket_state_full,                                                    \
	  "TCP reads not counted because the socket's read position could not be kept (kprobe "    \
	  "backend: its socket table was full; else the kernel refused socket storage)")           \
	X(CLOSES_UNSEEN, closes_unseen,                                                            \
	  "Sockets closed while the queue that tells user space was full (UDP; TCP too on the "    \
	  "kprobe backend): their flows leave only when idle under table pressure, or with "       \
	  "their process")

enum fa_stat {
#define FA_STAT_ENUM(id, name, help) FA_STAT_##id,
	FA_KERNEL_DROPS(FA_STAT_ENUM)
#undef FA_STAT_ENUM
		FA_STAT_MAX,
};

/*
 * Bytes on sockets whose family or protocol flowacct does not break down into flows
 * (AF_UNIX, UDP-Lite, raw sockets, ...; which of them reach a hook depends on the
 * backend): by family and protocol, so that nothing that reaches a hook is dropped.
 */
#define FA_OTHER_MAX 256

struct fa_other_key {
	__u16 family; /* AF_* */
	__u16 proto; /* the socket's protocol (IPPROTO_* for IP sockets) */
};

struct fa_other_value {
	__u64 bytes[FA_DIR_MAX];
	__u64 calls[FA_DIR_MAX];
};

/*
 * --audit: what flowacct counted per TCP socket that it saw connect (so that the kernel's
 * own counters of the socket, read with sock_diag, cover the same bytes). By the socket's
 * addresses and network namespace, as sock_diag names them; from ESTABLISHED to CLOSE.
 */
struct fa_audit_key {
	__u8 laddr[FA_ADDR_LEN];
	__u8 raddr[FA_ADDR_LEN];
	__u32 netns; /* the namespace's inode number */
	__u16 lport, rport; /* host byte order */
	__u8 family;
	__u8 pad[3];
};

struct fa_audit_value {
	__u64 bytes[FA_DIR_MAX];
};

_Static_assert(sizeof(struct fa_audit_key) == 44, "fa_audit_key layout");

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
	/* the socket's network namespace (its inode number): two containers' sockets with the
	 * same addresses and ports are two flows */
	__u32 netns;
};

/* Counters of one flow (or of one process's overflow row), updated with atomic adds. */
struct fa_flow_value {
	__u64 bytes[FA_DIR_MAX];
	__u64 calls[FA_DIR_MAX];
	__u32 uid;
	__u32 pad;
	char comm[FA_COMM_LEN]; /* the process's name (its group leader's), at first sight */
	__u64 cgroup_id; /* the cgroup v2 id of the task, at first sight */
};

/*
 * One flow's slot in the `slots` array, which user space maps into its memory: the
 * counters the hot path adds to, and whose they are. gen says what the slot holds: odd,
 * a live flow (key, uid and comm set before gen turned odd); even, free or retired. Every
 * allocation and every retirement adds one, so a reader that sees the same odd gen before
 * and after reading has read one flow's consistent identity.
 */
struct fa_slot {
	/* what the hot path touches, together in the slot's first cache line */
	__u32 gen;
	__u32 uid;
	__u64 bytes[FA_DIR_MAX];
	__u64 calls[FA_DIR_MAX];
	/* The socket whose bytes last found the slot by its key (the slow path): its kernel
	 * address, which user space matches with the `released` queue (struct fa_release).
	 * Rewritten only when another socket takes the flow over. */
	__u64 sock;
	/* written once, when the slot is handed to a flow */
	struct fa_flow_key key;
	char comm[FA_COMM_LEN];
	__u64 cgroup_id; /* the cgroup v2 id of the task that first moved the flow's bytes */
	__u32 sock_seq; /* release_seq when sock was set: a released address reused later is
			 * another socket */
	__u8 pad[4]; /* 128 bytes: in the mapped array, no slot straddles a cache line */
};

/*
 * A socket released (its last file closed): it will move no byte again. Queued by the
 * release hook with its address and release_seq after the release; a slot is this
 * socket's if its sock is the address and its sock_seq is older than seq (a socket made
 * later at the same address set a newer one).
 */
struct fa_release {
	__u64 sock;
	__u32 seq;
	__u32 pad;
};

/*
 * One TCP flow's health, in the `health` array at its slot's index (mapped by user space
 * like `slots`, and zeroed with the slot when it is handed to a flow). The counters only
 * grow while the slot holds the flow; the RTTs and the state are the last ones seen.
 * Written from the events that already concern the socket (a retransmit, a reset, a state
 * change) and from every FA_HEALTH_EVERY-th send or read: never per packet.
 */
#define FA_HEALTH_EVERY 64

struct fa_health {
	__u64 retrans_bytes; /* the socket's bytes_retrans, as it grew while it was this flow's */
	__u32 retrans_segs; /* its total_retrans (what TCP_INFO's tcpi_total_retrans says) */
	__u32 srtt_us; /* smoothed RTT, microseconds; 0: no sample yet */
	__u32 min_rtt_us; /* the socket's windowed minimum RTT; 0: none */
	__u32 active_opens; /* connect()s that reached ESTABLISHED */
	__u32 passive_opens; /* accepted connections that reached ESTABLISHED */
	__u32 closes; /* sockets that reached CLOSE (however they ended) */
	__u32 resets_sent;
	__u32 resets_received;
	__u8 state; /* the socket's last TCP state (TCP_ESTABLISHED = 1 ...); 0: none seen */
	__u8 pad[7];
};

_Static_assert(sizeof(struct fa_health) == 48, "fa_health layout");
_Static_assert(sizeof(struct fa_flow_key) == 48, "fa_flow_key layout");
_Static_assert(sizeof(struct fa_slot) == 128, "fa_slot layout");
_Static_assert(sizeof(struct fa_flow_value) == 64, "fa_flow_value layout");
_Static_assert(sizeof(struct fa_release) == 16, "fa_release layout");

#endif /* FLOWACCT_H */
