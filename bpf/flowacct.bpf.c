// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowacct's kernel side: count the bytes every process moves over TCP and UDP, per flow.
 *
 * Three backends live in this one object; user space switches the unused ones off with
 * bpf_program__set_autoload() before loading (a program's backend is its name's suffix:
 * _tp, _fentry/_fexit, _kprobe/_kretprobe). What each counts:
 *
 *  - sent bytes: the count the send call *returned*, never the size it was asked for (a
 *    nonblocking send that fails with EAGAIN would count in full, a partial one too much).
 *    tracepoint: sock:sock_send_length (Linux >= 6.3), which fires in sock_sendmsg() for
 *    every send path, sendfile() included (splice_to_socket() calls sock_sendmsg() since
 *    6.5); fentry/kprobe: tcp_sendmsg, udp{,v6}_sendmsg, and tcp_sendpage before 6.5.
 *  - TCP received bytes: how far the socket's read sequence (copied_seq) has moved since
 *    flowacct last looked, at a hook every consumer of the receive queue passes: recvmsg,
 *    MSG_WAITALL loops, splice() (tcp_read_sock), TCP_ZEROCOPY_RECEIVE. tcp_cleanup_rbuf
 *    on fentry/kprobe, tcp:tcp_rcv_space_adjust on tracepoint. The classic tools add
 *    tcp_cleanup_rbuf's `copied`, a running total within one call, and count a
 *    MSG_WAITALL read many times over; a sequence delta counts each byte once, and peeks
 *    never (they do not move it).
 *  - UDP received bytes: per datagram with its sender; fentry/kprobe at skb_consume_udp,
 *    which every udp{,v6}_recvmsg that takes a datagram calls (a peek passes a negative
 *    length); tracepoint at sock:sock_recv_length.
 *  - unconnected UDP: the remote of each datagram, so that one server socket talking to
 *    many peers has a row per peer (struct peer below).
 *
 * Bytes on sockets of a family or protocol flowacct does not break down into flows land
 * in `other_traffic`, by family and protocol: nothing that reaches a hook is dropped.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flowacct.h"
#include "core_fixes.bpf.h"

#define AF_INET	     2
#define AF_INET6     10
#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define MSG_PEEK     2
#define MSG_ERRQUEUE 0x2000
#define RCV_SHUTDOWN 1

/* Settings, written by user space before load. */
const volatile __u8 want = FA_WANT_IPV4 | FA_WANT_IPV6 | FA_WANT_TCP | FA_WANT_UDP;
const volatile bool filter_pids = false;
const volatile __u32 filter_cgroups = 0; /* --cgroup: how many of cgroup_filter to test */
const volatile __u32 max_slots = 16384; /* --max-flows: the size of `slots` */
const volatile bool audit = false; /* --audit: keep audit_socks */
/* -i: only flows whose traffic goes through this interface (its ifindex), one of this
 * network namespace's (flowacct's own: an index means nothing in another) */
const volatile __u32 filter_ifindex = 0;
const volatile __u32 filter_netns = 0;

/*
 * Where a flow's counters live. `slots` is an array user space maps into its memory and
 * reads each interval without a system call; `flow_index` finds a flow's slot by key, and
 * is only used when a socket's cached slot cannot be (below). Free slots come from
 * `free_slots` (returned by user space once retired) or else from the never-used end of
 * the array (`next_slot`).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16384); /* --max-flows */
	__type(key, __u32);
	__type(value, struct fa_slot);
} slots SEC(".maps");

/* Each slot's TCP health (struct fa_health), at the same index; mapped by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16384); /* --max-flows */
	__type(key, __u32);
	__type(value, struct fa_health);
} health SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* --max-flows */
	__type(key, struct fa_flow_key);
	__type(value, __u32);
} flow_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16384); /* --max-flows */
	__type(value, __u32);
} free_slots SEC(".maps");

/* Slots below this have been handed out at least once; user space reads it too. */
__u32 next_slot = 0;

/*
 * Sockets released (closed for good) whose flows user space should let go: struct
 * fa_release, read each interval. Closing is what ends a UDP flow (nothing else does),
 * and a TCP one on the kprobe backend, which has no TCP states; the hook is off the hot
 * path, and the hot path gains nothing: the slot's sock is set on the slow path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 32768); /* 2 x --max-flows, at least this */
	__type(value, struct fa_release);
} released SEC(".maps");

/* Bumped by every release told: orders a socket's release before a newer socket's use of
 * the same address (struct fa_release). */
__u32 release_seq = 0;

/*
 * A TCP socket's read position: copied_seq when flowacct last counted its reads. BORN:
 * flowacct saw the connection start, so before the first count the position is the
 * socket's first sequence number; otherwise (a connection older than flowacct) counting
 * starts from where the socket is at its first read seen.
 */
#define RX_BORN	 1
#define RX_KNOWN 2

struct rx_pos {
	__u32 seq;
	__u32 flags;
};

/*
 * The remote end of one datagram on an unconnected UDP socket, where the hook can see it
 * (the address a send was given, the sender of a datagram read). set 0: not known, and the
 * socket's own remote (unset for an unconnected socket) is used.
 */
struct peer {
	__u8 addr[FA_ADDR_LEN]; /* in the socket's family: v4-mapped on an IPv6 socket */
	__u16 port; /* host byte order */
	__u8 set;
	__u8 pad;
};

/* A datagram's remote, told by a cgroup sock_addr hook to the tracepoint that follows in
 * the same call on the same thread (tid, pending_put/pending_take below). */
struct pending {
	__u32 tid; /* 0: free */
	struct peer peer;
};

/* The slot an unconnected socket's last remote went to (one DNS client, one QUIC peer
 * talking for a while): the fast path for that remote's next datagram. */
struct peer_cache {
	__u8 addr[FA_ADDR_LEN];
	__u16 port;
	__u16 pad;
	__u32 pid, slot, gen; /* gen 0: empty */
};

/*
 * Per socket, the slot its last event went to, so that the next event of the same
 * process on the same socket adds to it without building and hashing a key: this is the
 * hot path. The socket's addresses and ports are kept to notice a connect() that changes
 * them, gen to notice the slot's retirement, pid to notice a socket shared by processes.
 * A socket's read position lives here too (socket storage is freed with the socket).
 */
enum cache_skip {
	SKIP_NONE = 0,
	SKIP_FILTERED = 1, /* the filters leave this process's events on this socket out */
	SKIP_OTHER = 2, /* a family or protocol counted in other_traffic */
};

/*
 * A TCP socket's health events not yet added to a slot (the socket has moved no byte
 * yet, so it has none), and how much of its own retransmit counters has been: they are
 * the kernel's (total_retrans, bytes_retrans), added to the slot as they grow, so that a
 * flow's count is exactly what the socket's TCP_INFO says. known: the baseline is set
 * (0 for a socket seen from its start, else its counters at first sight).
 */
enum health_ev {
	HEV_ACTIVE_OPEN,
	HEV_PASSIVE_OPEN,
	HEV_CLOSE,
	HEV_RST_SENT,
	HEV_RST_RECV,
	HEV_MAX, /* no event: a retransmit, or a look at the RTT */
};

struct health_pos {
	__u64 bytes_retrans;
	__u32 retrans;
	__u32 tick; /* sends and reads seen: every FA_HEALTH_EVERY-th looks at the socket */
	__u8 ev[HEV_MAX];
	__u8 known;
	__u8 pad[2];
};

/* Who called connect(): a connection that fails before moving a byte still gets its
 * flow, whose events (a refusal, a reset) run where the caller is not the current task. */
struct owner {
	__u32 pid; /* 0: none */
	__u32 uid;
	__u64 cgroup_id;
	char comm[FA_COMM_LEN];
};

struct sk_cache {
	__u32 pid;
	__u32 slot;
	__u32 gen; /* the slot's gen when cached; 0: nothing cached */
	__u32 portpair; /* skc_portpair */
	__u64 addrpair; /* skc_addrpair */
	__u32 v6_daddr[4]; /* AF_INET6: skc_v6_daddr */
	__u32 skip; /* enum cache_skip */
	struct rx_pos rx; /* TCP */
	__u32 pending_spilled; /* a hook found pend[] taken and used pending_peers */
	struct pending pend[FA_DIR_MAX]; /* UDP, tracepoint backend */
	struct peer_cache pc; /* unconnected UDP */
	struct health_pos hp; /* TCP */
	struct owner own; /* TCP, connect()ed */
	/* some flow slot has this socket's bytes: its release is told (last: the fields the
	 * hot path reads keep their places) */
	__u32 flowed;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_cache);
} sk_caches SEC(".maps");

/* Per-process overflow rows: the bytes of flows that did not fit in `slots`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct fa_flow_value);
} overflow SEC(".maps");

/* The set of flows that did not fit, so FA_STAT_FLOWS_DROPPED counts each flow once. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fa_flow_key);
	__type(value, __u8);
} dropped_flows SEC(".maps");

/* Bytes on sockets of families and protocols that are not broken down into flows. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FA_OTHER_MAX);
	__type(key, struct fa_other_key);
	__type(value, struct fa_other_value);
} other_traffic SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FA_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* --audit: per TCP socket seen from its start, what flowacct counted (user/audit.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* 65536 with --audit */
	__type(key, struct fa_audit_key);
	__type(value, struct fa_audit_value);
} audit_socks SEC(".maps");

/* --cgroup: only tasks in these cgroups or their descendants are counted. */
#define MAX_CGROUP_FILTERS 16

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1); /* the --cgroup options given */
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/* --pid: the processes to count, when filter_pids is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v) /* per-CPU slot, but a preempting program may share it */
		__sync_fetch_and_add(v, n);
}

static __always_inline void counts_add(__u64 *bytes, __u64 *calls, int dir, __u64 n)
{
	dir &= 1; /* FA_DIR_RX or FA_DIR_TX; the verifier wants the index bounded */
	__sync_fetch_and_add(&bytes[dir], n);
	__sync_fetch_and_add(&calls[dir], 1);
}

static __always_inline void unattributed_add(int dir, __u64 bytes)
{
	stat_add(dir == FA_DIR_RX ? FA_STAT_UNATTRIBUTED_RX_BYTES : FA_STAT_UNATTRIBUTED_TX_BYTES,
		 bytes);
}

static __always_inline void audit_key_of(struct sock *sk, struct fa_audit_key *k)
{
	k->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (k->family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)k->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)k->raddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&k->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&k->raddr, sk, __sk_common.skc_v6_daddr);
	}
	k->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	k->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	k->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* --audit: every TCP byte that goes to a flow (or an overflow row) goes to its socket's
 * line too, from the same call, so the audit sees exactly what the outputs count */
static __always_inline void audit_add(struct sock *sk, int dir, __u64 bytes)
{
	struct fa_audit_key k = {};
	struct fa_audit_value *v;

	if (!audit || !bytes || BPF_CORE_READ(sk, sk_protocol) != FA_PROTO_TCP)
		return;
	audit_key_of(sk, &k);
	v = bpf_map_lookup_elem(&audit_socks, &k);
	if (v)
		__sync_fetch_and_add(&v->bytes[dir & 1], bytes);
}

/* A TCP socket's state changes: watched from ESTABLISHED after a start flowacct saw, until
 * CLOSE, when sock_diag stops showing its counters. */
static __always_inline void audit_state(struct sock *sk, int oldstate, int newstate)
{
	struct fa_audit_value zero = {};
	struct fa_audit_key k = {};

	if (!audit || BPF_CORE_READ(sk, sk_protocol) != FA_PROTO_TCP)
		return;
	if (newstate == TCP_ESTABLISHED && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)) {
		audit_key_of(sk, &k);
		bpf_map_update_elem(&audit_socks, &k, &zero, BPF_ANY);
	} else if (newstate == TCP_CLOSE) {
		audit_key_of(sk, &k);
		bpf_map_delete_elem(&audit_socks, &k);
	}
}

enum key_kind {
	KEY_FLOW, /* a flow: count it */
	KEY_FILTERED, /* left out on purpose (--pid, -4/-6, --tcp/--udp, -i) */
	KEY_OTHER, /* not a TCP/UDP socket of IPv4/IPv6: counted in other_traffic */
	KEY_UNDECIDED, /* -i: the route is being replaced; left out, asked again next time */
};

/* Is the current task in one of --cgroup's cgroups, or below one? (Per socket and
 * process, on the slow path: a process that moves later keeps its first verdict on the
 * sockets it has already used.) */
static __always_inline bool in_cgroup_filter(void)
{
	for (__u32 i = 0; i < MAX_CGROUP_FILTERS; i++) {
		if (i >= filter_cgroups)
			break;
		if (bpf_current_task_under_cgroup(&cgroup_filter, i) == 1)
			return true;
	}
	return false;
}

/*
 * -i: does this flow's traffic go through filter_ifindex? A socket with a route of its
 * own (TCP; UDP connected, where the datagram has no other destination) sends through
 * the device of the route the kernel caches on it (sk_dst_cache; traffic between local
 * addresses: lo); a socket bound to a device (SO_BINDTODEVICE) only through that one,
 * and only hears what arrives there. Anything else (an unconnected UDP socket, or a
 * datagram with its own destination) is routed datagram by datagram, which no hook of
 * ours sees: left out. Read on the slow path only (once per socket and flow with
 * socket storage, at every call on the kprobe backend).
 */
static __always_inline enum key_kind iface_filter(struct sock *sk, const struct peer *peer,
						  __u32 netns)
{
	struct dst_entry *dst;
	__u32 ifindex = 0;

	if (netns != filter_netns)
		return KEY_FILTERED;
	if (!peer->set && BPF_CORE_READ(sk, __sk_common.skc_dport)) {
		dst = BPF_CORE_READ(sk, sk_dst_cache);
		if (dst)
			ifindex = BPF_CORE_READ(dst, dev, ifindex);
		else if (!BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if))
			/* reset by a route change, set again by the next transmission */
			return KEY_UNDECIDED;
	}
	if (!ifindex)
		ifindex = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
	return ifindex == filter_ifindex ? KEY_FLOW : KEY_FILTERED;
}

/* The flow key of an event on sk by pid, its remote taken from peer if that is set. */
static __always_inline enum key_kind flow_key(struct sock *sk, __u32 pid, const struct peer *peer,
					      struct fa_flow_key *key)
{
	__u16 family, proto;

	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &pid))
		return KEY_FILTERED;
	if (filter_cgroups && !in_cgroup_filter())
		return KEY_FILTERED;
	key->pid = pid;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	proto = BPF_CORE_READ(sk, sk_protocol);
	if ((family != AF_INET && family != AF_INET6) ||
	    (proto != FA_PROTO_TCP && proto != FA_PROTO_UDP))
		return KEY_OTHER;
	if (!(want & (family == AF_INET ? FA_WANT_IPV4 : FA_WANT_IPV6)) ||
	    !(want & (proto == FA_PROTO_TCP ? FA_WANT_TCP : FA_WANT_UDP)))
		return KEY_FILTERED;
	if (family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)key->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)key->raddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&key->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&key->raddr, sk, __sk_common.skc_v6_daddr);
	}
	key->family = family;
	key->proto = proto;
	/* inet_sport, not skc_num: closing unhashes the socket and zeroes skc_num while
	 * data can still wait in its receive queue */
	key->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	key->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	key->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (peer->set) {
		__builtin_memcpy(key->raddr, peer->addr, sizeof(key->raddr));
		key->rport = peer->port;
	}
	return filter_ifindex ? iface_filter(sk, peer, key->netns) : KEY_FLOW;
}

/* Bytes of a family or protocol that has no flows: by family and protocol. */
static __always_inline void account_other(struct sock *sk, int dir, __u64 bytes)
{
	struct fa_other_key k = {
		.family = BPF_CORE_READ(sk, __sk_common.skc_family),
		.proto = BPF_CORE_READ(sk, sk_protocol),
	};
	struct fa_other_value zero = {}, *v = bpf_map_lookup_elem(&other_traffic, &k);

	if (!v) {
		bpf_map_update_elem(&other_traffic, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&other_traffic, &k);
		if (!v) { /* more kinds than FA_OTHER_MAX: still in the totals */
			unattributed_add(dir, bytes);
			return;
		}
	}
	counts_add(v->bytes, v->calls, dir, bytes);
}

/* Who moves the bytes: the uid, the group leader's comm (the process's name; the
 * current thread's may differ) and the task's cgroup v2 id (its container or service,
 * named in user space). Taken once, when a flow or an overflow row is created. */
static __always_inline void owner_fill(__u32 *uid, char (*comm)[FA_COMM_LEN], __u64 *cgroup_id)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	*uid = (__u32)bpf_get_current_uid_gid();
	BPF_CORE_READ_STR_INTO(comm, task, group_leader, comm);
	*cgroup_id = bpf_get_current_cgroup_id();
}

/*
 * A slot for a new flow: a returned one first, else one never used. Its counters, key,
 * owner and socket are written while nobody can find it, then gen turns odd (an atomic
 * add: ordered after those stores), then the index makes it findable.
 */
static __always_inline struct fa_slot *slot_new(struct fa_flow_key *key, __u32 *idx,
						const struct owner *own, __u64 sock)
{
	struct fa_health *h;
	struct fa_slot *s;

	if (bpf_map_pop_elem(&free_slots, idx)) {
		if (next_slot >= max_slots)
			return NULL;
		*idx = __sync_fetch_and_add(&next_slot, 1);
		if (*idx >= max_slots) /* another CPU took the last one meanwhile */
			return NULL;
	}
	s = bpf_map_lookup_elem(&slots, idx);
	h = bpf_map_lookup_elem(&health, idx);
	if (!s || !h)
		return NULL;
	s->bytes[FA_DIR_RX] = s->bytes[FA_DIR_TX] = 0;
	s->calls[FA_DIR_RX] = s->calls[FA_DIR_TX] = 0;
	__builtin_memset(h, 0, sizeof(*h));
	__builtin_memcpy(&s->key, key, sizeof(*key));
	s->sock_seq = release_seq;
	s->sock = sock;
	if (own->pid) {
		s->uid = own->uid;
		s->cgroup_id = own->cgroup_id;
		__builtin_memcpy(s->comm, own->comm, sizeof(s->comm));
	} else {
		owner_fill(&s->uid, &s->comm, &s->cgroup_id);
	}
	__sync_fetch_and_add(&s->gen, 1);
	return s;
}

/* No slot: the process's overflow row, and failing that the unattributed counters. */
static __always_inline void account_overflow(struct fa_flow_key *key, int dir, __u64 bytes)
{
	struct fa_flow_value init = {}, *v;
	__u8 one = 1;

	stat_add(FA_STAT_FLOW_TABLE_FULL, 1);
	if (!bpf_map_update_elem(&dropped_flows, key, &one, BPF_NOEXIST))
		stat_add(FA_STAT_FLOWS_DROPPED, 1);
	v = bpf_map_lookup_elem(&overflow, &key->pid);
	if (!v) {
		/* create the row empty, then add like everyone else: no race to reason about */
		owner_fill(&init.uid, &init.comm, &init.cgroup_id);
		bpf_map_update_elem(&overflow, &key->pid, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&overflow, &key->pid);
		if (!v) {
			stat_add(FA_STAT_OVERFLOW_TABLE_FULL, 1);
			unattributed_add(dir, bytes);
			return;
		}
	}
	counts_add(v->bytes, v->calls, dir, bytes);
}

/*
 * The slow path: once per socket and process (and again after a connect() or the slot's
 * retirement), when an unconnected UDP socket's datagram has another remote than the
 * last one, and on every event of the kprobe backend, which has no socket storage. Finds
 * or makes the flow's slot and adds to it. io carries the datagram's peer in, and out
 * what a cache may keep: the slot, or the reason (skip) when the bytes went elsewhere;
 * returns the slot's gen, 0 if none, which callers keep in io's gen. (One struct: a BPF
 * function takes five arguments at most. The gen is returned, not written there: a
 * function whose result no caller used was compiled to leave a pointer in R0, which the
 * verifier refuses.)
 */
struct slow_io {
	struct peer peer; /* in */
	struct owner own; /* in: whose a new flow is (pid 0: the current task's) */
	__u32 slot, gen, skip; /* out; gen: the caller's, from the result */
};

static __noinline __u32 account_slow(struct sock *sk, __u32 pid, int dir, __u64 bytes,
				     struct slow_io *r)
{
	struct fa_flow_key key = {};
	struct fa_slot *s;
	__u32 idx, *found, gen;
	enum key_kind kind = flow_key(sk, pid, &r->peer, &key);

	r->slot = 0;
	r->skip = kind == KEY_FILTERED ? SKIP_FILTERED : kind == KEY_OTHER ? SKIP_OTHER : SKIP_NONE;
	if (kind == KEY_OTHER)
		account_other(sk, dir, bytes);
	if (kind != KEY_FLOW)
		return 0;
	if (bytes)
		audit_add(sk, dir, bytes);
	found = bpf_map_lookup_elem(&flow_index, &key);
	if (found) {
		idx = *found;
		s = bpf_map_lookup_elem(&slots, &idx);
		if (s && ((gen = s->gen) & 1))
			goto add;
		/* retired by user space since our lookup (it forgets the key first) */
	}
	s = slot_new(&key, &idx, &r->own, (__u64)sk);
	if (s && bpf_map_update_elem(&flow_index, &key, &idx, BPF_NOEXIST)) {
		/* another CPU indexed this flow first (or the index is full): ours is retired
		 * unused, and user space hands it back to the free queue */
		__sync_fetch_and_add(&s->gen, 1);
		found = bpf_map_lookup_elem(&flow_index, &key);
		s = NULL;
		if (found) {
			idx = *found;
			s = bpf_map_lookup_elem(&slots, &idx);
		}
	}
	if (!s || !((gen = s->gen) & 1)) {
		if (bytes) /* a flow made for its health events alone is just not made */
			account_overflow(&key, dir, bytes);
		return 0;
	}
add:
	if (bytes)
		counts_add(s->bytes, s->calls, dir, bytes);
	/* another socket with the same key (the same process's, the same ports) takes the
	 * flow over: its release, not the first one's, ends it. On the kprobe backend this
	 * is every call's path: one compare in the line the counters are in. */
	if (s->sock != (__u64)sk) {
		s->sock_seq = release_seq;
		s->sock = (__u64)sk;
	}
	r->slot = idx;
	return gen;
}

/* The kprobe backend: no socket storage, every event takes the slow path. */
static __always_inline void account(struct sock *sk, __u64 bytes, int dir, const struct peer *peer)
{
	struct slow_io r = { .peer = *peer };

	if (bytes > 0)
		r.gen = account_slow(sk, bpf_get_current_pid_tgid() >> 32, dir, bytes, &r);
}

static __always_inline bool addr_eq(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* A peer that is the socket's own connected remote needs no key of its own. */
static __always_inline bool peer_is_other(const struct peer *peer, const struct sock *sk)
{
	const struct sock_common *k = &sk->__sk_common;
	const __u32 *a = (const __u32 *)peer->addr;

	if (!peer->set)
		return false;
	if (bpf_ntohs(k->skc_dport) != peer->port)
		return true;
	if (k->skc_family == AF_INET)
		return a[0] != k->skc_daddr;
	return a[0] != k->skc_v6_daddr.in6_u.u6_addr32[0] ||
	       a[1] != k->skc_v6_daddr.in6_u.u6_addr32[1] ||
	       a[2] != k->skc_v6_daddr.in6_u.u6_addr32[2] ||
	       a[3] != k->skc_v6_daddr.in6_u.u6_addr32[3];
}

static __always_inline bool cache_matches(const struct sk_cache *c, const struct sock *sk,
					  __u32 pid)
{
	const struct sock_common *k = &sk->__sk_common;

	if (c->pid != pid || c->portpair != k->skc_portpair || c->addrpair != k->skc_addrpair)
		return false;
	return k->skc_family != AF_INET6 || (c->v6_daddr[0] == k->skc_v6_daddr.in6_u.u6_addr32[0] &&
					     c->v6_daddr[1] == k->skc_v6_daddr.in6_u.u6_addr32[1] &&
					     c->v6_daddr[2] == k->skc_v6_daddr.in6_u.u6_addr32[2] &&
					     c->v6_daddr[3] == k->skc_v6_daddr.in6_u.u6_addr32[3]);
}

static __always_inline void cache_fill(struct sk_cache *c, const struct sock *sk, __u32 pid,
				       const struct slow_io *r)
{
	const struct sock_common *k = &sk->__sk_common;

	c->pid = pid;
	c->slot = r->slot;
	c->gen = r->gen;
	c->skip = r->skip;
	c->flowed |= r->gen != 0;
	c->portpair = k->skc_portpair;
	c->addrpair = k->skc_addrpair;
	for (int i = 0; i < 4; i++)
		c->v6_daddr[i] = k->skc_v6_daddr.in6_u.u6_addr32[i];
}

/*
 * The tracepoint and fentry backends: their socket is a typed kernel pointer, so the
 * cache can be read and checked with plain loads. An event of the process whose slot the
 * socket caches, with the socket's addresses unchanged and the slot not retired, costs a
 * storage lookup, an array lookup and two atomic adds: no key is built, nothing hashed.
 * c is the socket's storage, NULL if the kernel could not give it.
 */
static __always_inline void account_cached(struct sock *sk, struct sk_cache *c, __u64 bytes,
					   int dir, const struct peer *peer)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, slot;
	struct slow_io r = {};
	struct fa_slot *s;

	if (!bytes)
		return;
	if (peer_is_other(peer, sk)) { /* one socket, many remotes: a key per remote */
		if (c && c->pc.gen && c->pc.pid == pid && c->pc.port == peer->port &&
		    addr_eq(c->pc.addr, peer->addr)) {
			slot = c->pc.slot;
			s = bpf_map_lookup_elem(&slots, &slot);
			if (s && s->gen == c->pc.gen) {
				counts_add(s->bytes, s->calls, dir, bytes);
				return;
			}
		}
		r.peer = *peer;
		r.gen = account_slow(sk, pid, dir, bytes, &r);
		if (c) {
			__builtin_memcpy(c->pc.addr, peer->addr, sizeof(c->pc.addr));
			c->pc.port = peer->port;
			c->pc.pid = pid;
			c->pc.slot = r.slot;
			c->pc.gen = r.gen;
			c->flowed |= r.gen != 0;
		}
		return;
	}
	if (c && cache_matches(c, sk, pid)) {
		if (c->skip == SKIP_FILTERED)
			return;
		if (c->skip == SKIP_OTHER) {
			account_other(sk, dir, bytes);
			return;
		}
		slot = c->slot;
		s = bpf_map_lookup_elem(&slots, &slot);
		if (s && c->gen && s->gen == c->gen) {
			counts_add(s->bytes, s->calls, dir, bytes);
			audit_add(sk, dir, bytes);
			return;
		}
	}
	r.gen = account_slow(sk, pid, dir, bytes, &r);
	if (c)
		cache_fill(c, sk, pid, &r);
}

static __always_inline struct sk_cache *sk_cache_get(struct sock *sk)
{
	return bpf_sk_storage_get(&sk_caches, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
}

/* ---- a socket's release: its flows are closed ---- */

/* Tells user space that the socket at this address moves nothing more. */
static __always_inline void release_tell(__u64 sock)
{
	struct fa_release r = { .sock = sock, .seq = __sync_fetch_and_add(&release_seq, 1) + 1 };

	if (bpf_map_push_elem(&released, &r, 0))
		stat_add(FA_STAT_CLOSES_UNSEEN, 1);
}

/* ---- TCP receive: the read sequence's advance ---- */

/*
 * Has the peer's FIN been received? It takes one sequence number, which a read that
 * reaches the end of the stream moves copied_seq over, and which is not data. After a
 * FIN the states are these; a socket that was in FIN_WAIT2 goes on to CLOSE (tcp_done()
 * from tcp_time_wait()) while its owner can still read, with RCV_SHUTDOWN set and, unlike
 * a reset, no error.
 */
static __always_inline bool fin_state(__u8 state, __u8 shutdown, int err)
{
	if (state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING ||
	    state == TCP_TIME_WAIT)
		return true;
	return state == TCP_CLOSE && (shutdown & RCV_SHUTDOWN) && !err;
}

/*
 * The bytes the socket's owner has read since pos was last updated: copied_seq's
 * advance, less the FIN when the advance ends on it. The callers hold the socket's lock
 * (every reader of a TCP receive queue does), so pos needs no atomics. typed (a
 * constant): sk is a BTF pointer (tracepoint, fentry), whose tcp_sock is read with plain
 * loads; else (kprobe) with probe reads.
 */
static __always_inline __u32 tcp_read_delta(struct sock *sk, struct rx_pos *pos, bool typed)
{
	struct tcp_sock *tp = typed ? bpf_skc_to_tcp_sock(sk) : (struct tcp_sock *)sk;
	__u32 now, rcv_nxt, delta;

	if (!tp)
		return 0;
	now = typed ? tp->copied_seq : BPF_CORE_READ(tp, copied_seq);
	rcv_nxt = typed ? tp->rcv_nxt : BPF_CORE_READ(tp, rcv_nxt);
	if (!(pos->flags & RX_KNOWN)) {
		/* a connection seen from its start: its first sequence number, which
		 * rcv_nxt - bytes_received stays at (both move over data and the FIN) */
		pos->seq = now;
		if (pos->flags & RX_BORN)
			pos->seq = rcv_nxt - (__u32)(typed ? tp->bytes_received
							   : BPF_CORE_READ(tp, bytes_received));
		pos->flags |= RX_KNOWN;
	}
	delta = now - pos->seq;
	if ((int)delta <= 0)
		return 0;
	pos->seq = now;
	if (now == rcv_nxt &&
	    (typed ? fin_state(sk->__sk_common.skc_state, sk->sk_shutdown, sk->sk_err)
		   : fin_state(BPF_CORE_READ(sk, __sk_common.skc_state), sk_shutdown_of(sk),
			       BPF_CORE_READ(sk, sk_err))))
		delta--;
	return delta;
}

static const struct peer no_peer = {};

/* ---- TCP health (tracepoint and fentry backends): struct fa_health ---- */

/*
 * Adds what the socket's health has gained to its slot: the kernel's retransmit counters'
 * growth, the events not yet added, and its RTTs and state now (state: the one it is
 * entering, from inet_sock_set_state, which fires before the socket's own changes; -1:
 * its own). Without a slot (no byte moved yet) everything waits in c for the first.
 */
static __noinline void health_apply(struct sock *sk, struct sk_cache *c, int state)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u32 slot = c->slot, retrans;
	struct fa_health *h;
	struct fa_slot *s;
	__u64 bytes;

	if (!tp)
		return;
	retrans = tp->total_retrans;
	bytes = tp->bytes_retrans;
	if (!c->hp.known) { /* a socket older than flowacct: from now on */
		c->hp.retrans = retrans;
		c->hp.bytes_retrans = bytes;
		c->hp.known = 1;
	}
	s = bpf_map_lookup_elem(&slots, &slot);
	h = bpf_map_lookup_elem(&health, &slot);
	if (!s || !h || !c->gen || s->gen != c->gen || c->skip != SKIP_NONE)
		return;
	if (retrans != c->hp.retrans) {
		__sync_fetch_and_add(&h->retrans_segs, retrans - c->hp.retrans);
		c->hp.retrans = retrans;
	}
	if (bytes != c->hp.bytes_retrans) {
		__sync_fetch_and_add(&h->retrans_bytes, bytes - c->hp.bytes_retrans);
		c->hp.bytes_retrans = bytes;
	}
	h->srtt_us = tp->srtt_us >> 3; /* kept <<3 by the kernel */
	h->min_rtt_us = tp->rtt_min.s[0].v == ~0U ? 0 : tp->rtt_min.s[0].v;
	h->state = state >= 0 ? state : sk->__sk_common.skc_state;
	if (c->hp.ev[HEV_ACTIVE_OPEN])
		__sync_fetch_and_add(&h->active_opens, c->hp.ev[HEV_ACTIVE_OPEN]);
	if (c->hp.ev[HEV_PASSIVE_OPEN])
		__sync_fetch_and_add(&h->passive_opens, c->hp.ev[HEV_PASSIVE_OPEN]);
	if (c->hp.ev[HEV_CLOSE])
		__sync_fetch_and_add(&h->closes, c->hp.ev[HEV_CLOSE]);
	if (c->hp.ev[HEV_RST_SENT])
		__sync_fetch_and_add(&h->resets_sent, c->hp.ev[HEV_RST_SENT]);
	if (c->hp.ev[HEV_RST_RECV])
		__sync_fetch_and_add(&h->resets_received, c->hp.ev[HEV_RST_RECV]);
	__builtin_memset(c->hp.ev, 0, sizeof(c->hp.ev));
}

/* On the hot path, a TCP send or read: one in FA_HEALTH_EVERY (the first included, which
 * adds what waited for the socket's first slot) looks at the socket. */
static __always_inline void health_tick(struct sock *sk, struct sk_cache *c)
{
	if (c && !(c->hp.tick++ & (FA_HEALTH_EVERY - 1)))
		health_apply(sk, c, -1);
}

/* A flow for a connect()ed socket that never moved a byte (refused, reset, timed out),
 * owned by its caller, so that what happened to it is on the right process's row. */
static __always_inline void account_owner(struct sock *sk, struct sk_cache *c)
{
	struct slow_io r = {};

	/* --cgroup asks about the current task, which is not the owner here */
	if (!c->own.pid || filter_cgroups)
		return;
	r.own = c->own;
	r.gen = account_slow(sk, c->own.pid, FA_DIR_TX, 0, &r);
	cache_fill(c, sk, c->own.pid, &r);
}

/* A retransmit (ev HEV_MAX) or a reset, on a full TCP socket. */
static __always_inline void health_event(struct sock *sk, int ev)
{
	struct sk_cache *c;
	__u8 st;

	if (!sk)
		return;
	st = sk->__sk_common.skc_state;
	/* not a full socket (its storage and tcp_sock fields do not exist) */
	if (st == TCP_TIME_WAIT || st == TCP_NEW_SYN_RECV || sk->sk_protocol != FA_PROTO_TCP)
		return;
	c = sk_cache_get(sk);
	if (!c)
		return;
	if (ev < HEV_MAX)
		c->hp.ev[ev]++;
	health_apply(sk, c, -1);
}

/* Tracepoint and fentry backends: a TCP read, whatever the path. */
static __always_inline void tcp_read_cached(struct sock *sk)
{
	struct sk_cache *c = sk_cache_get(sk);

	if (!c) {
		stat_add(FA_STAT_SOCKET_STATE_FULL, 1);
		return;
	}
	account_cached(sk, c, tcp_read_delta(sk, &c->rx, true), FA_DIR_RX, &no_peer);
	health_tick(sk, c);
}

/*
 * A connection starts (connect(): SYN_SENT; a listener's new child: SYN_RECV): its read
 * position is known from the start. Also resets it when a socket connects again after
 * a disconnect, which starts a new sequence.
 */
static __always_inline bool tcp_starts(struct sock *sk, int newstate)
{
	return (newstate == TCP_SYN_SENT || newstate == TCP_SYN_RECV) &&
	       BPF_CORE_READ(sk, sk_protocol) == FA_PROTO_TCP;
}

/* ---- the remote of a datagram ---- */

/* From a sockaddr the kernel holds (a send's destination), in sk's family. */
static __always_inline void peer_from_sockaddr(struct peer *p, const void *sa, int salen,
					       __u16 sk_family)
{
	struct sockaddr_in6 sin6;

	if (!sa || salen < (int)sizeof(struct sockaddr_in) ||
	    bpf_probe_read_kernel(
		    &sin6, salen < (int)sizeof(sin6) ? sizeof(struct sockaddr_in) : sizeof(sin6),
		    sa))
		return;
	if (sin6.sin6_family == AF_INET && sk_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&sin6;

		__builtin_memcpy(p->addr, &sin->sin_addr.s_addr, 4);
		p->port = bpf_ntohs(sin->sin_port);
		p->set = 1;
	} else if (sin6.sin6_family == AF_INET6 && sk_family == AF_INET6 &&
		   salen >= (int)sizeof(sin6)) {
		__builtin_memcpy(p->addr, &sin6.sin6_addr, 16);
		p->port = bpf_ntohs(sin6.sin6_port);
		p->set = 1;
	}
}

/* From a received datagram's headers (IPv4 into an IPv6 socket: v4-mapped). */
static __always_inline void peer_from_skb(struct peer *p, struct sk_buff *skb, __u16 sk_family)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header), th = BPF_CORE_READ(skb, transport_header);
	__u16 l3 = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	__be16 sport;

	if (bpf_probe_read_kernel(&sport, sizeof(sport), head + th))
		return;
	if (l3 == ETH_P_IP) {
		__u32 *a = (__u32 *)p->addr;

		if (bpf_probe_read_kernel(sk_family == AF_INET ? &a[0] : &a[3], 4,
					  head + nh + offsetof(struct iphdr, saddr)))
			return;
		if (sk_family == AF_INET6)
			a[2] = bpf_htonl(0xffff);
	} else if (l3 == ETH_P_IPV6 && sk_family == AF_INET6) {
		if (bpf_probe_read_kernel(p->addr, 16, head + nh + offsetof(struct ipv6hdr, saddr)))
			return;
	} else {
		return;
	}
	p->port = bpf_ntohs(sport);
	p->set = 1;
}

/*
 * The tracepoint backend sees no address at sock_send_length/sock_recv_length, so the
 * cgroup sock_addr hooks, which run inside the same call with the destination of a send
 * (sendmsg4/6, sends with an address only) or the sender of a datagram being read
 * (recvmsg4/6, when the reader asks for it), leave it for their thread in the socket's
 * storage (pend[], claimed with a compare-and-swap on tid); the tracepoint takes it. A
 * second thread busy on the same socket at that moment finds pend[] taken and uses
 * pending_peers instead, keyed by thread, with lport to tie it to the socket.
 */
struct pending_key {
	__u64 pid_tgid;
	__u32 dir;
	__u32 pad;
};

struct pending_spill {
	struct peer peer;
	__u16 lport;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct pending_key);
	__type(value, struct pending_spill);
} pending_peers SEC(".maps");

static __always_inline void pending_take(struct sock *sk, struct sk_cache *c, int dir,
					 struct peer *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_key k = { .pid_tgid = id, .dir = dir };
	struct pending_spill *p;
	struct pending *pend;

	if (!c)
		return;
	pend = &c->pend[dir & 1];
	if (pend->tid == (__u32)id) {
		*out = pend->peer;
		pend->tid = 0;
		return;
	}
	if (!c->pending_spilled)
		return;
	p = bpf_map_lookup_elem(&pending_peers, &k);
	if (!p)
		return;
	if (p->lport == bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport)))
		*out = p->peer;
	bpf_map_delete_elem(&pending_peers, &k);
}

static __always_inline int pending_put(struct bpf_sock_addr *ctx, int dir, bool v6)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct bpf_sock *sk = ctx->sk;
	struct peer peer = {};
	struct sk_cache *c;
	__u32 was;

	if (ctx->type != 2 /* SOCK_DGRAM */ || !sk)
		return 1;
	if (v6) {
		__u32 *a = (__u32 *)peer.addr;

		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
	} else {
		*(__u32 *)peer.addr = ctx->user_ip4;
	}
	peer.port = bpf_ntohs((__u16)ctx->user_port);
	peer.set = 1;
	c = bpf_sk_storage_get(&sk_caches, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c)
		return 1;
	was = __sync_val_compare_and_swap(&c->pend[dir & 1].tid, 0, (__u32)id);
	if (!was || was == (__u32)id) {
		c->pend[dir & 1].peer = peer;
	} else {
		struct pending_key k = { .pid_tgid = id, .dir = dir };
		struct pending_spill spill = { .peer = peer, .lport = sk->src_port };

		c->pending_spilled = 1;
		bpf_map_update_elem(&pending_peers, &k, &spill, BPF_ANY);
	}
	return 1; /* allow: flowacct only watches */
}

SEC("cgroup/sendmsg4")
int udp4_sendmsg_cg(struct bpf_sock_addr *ctx)
{
	return pending_put(ctx, FA_DIR_TX, false);
}

SEC("cgroup/sendmsg6")
int udp6_sendmsg_cg(struct bpf_sock_addr *ctx)
{
	return pending_put(ctx, FA_DIR_TX, true);
}

SEC("cgroup/recvmsg4")
int udp4_recvmsg_cg(struct bpf_sock_addr *ctx)
{
	return pending_put(ctx, FA_DIR_RX, false);
}

SEC("cgroup/recvmsg6")
int udp6_recvmsg_cg(struct bpf_sock_addr *ctx)
{
	return pending_put(ctx, FA_DIR_RX, true);
}

/*
 * The tracepoint backend's release hook: the kernel has no tracepoint there, and the
 * cgroup v2 root sees every socket's release (inet_release()). ctx is the struct sock
 * itself. Only UDP: a TCP flow ends with its state (TCP health). A socket that never had
 * a flow slot (no bytes moved, or filtered out) is not told.
 */
SEC("cgroup/sock_release")
int sock_release_cg(struct bpf_sock *ctx)
{
	struct sk_cache *c;

	if (ctx->protocol != FA_PROTO_UDP)
		return 1;
	c = bpf_sk_storage_get(&sk_caches, ctx, 0, 0);
	if (c && c->flowed)
		release_tell((__u64)ctx);
	return 1; /* allow: flowacct only watches */
}

/* ---- tracepoint backend (Linux >= 6.3) ---- */

static __always_inline bool is_tcp(const struct sock *sk)
{
	return sk->sk_protocol == FA_PROTO_TCP &&
	       (sk->__sk_common.skc_family == AF_INET || sk->__sk_common.skc_family == AF_INET6);
}

static __always_inline bool is_udp(const struct sock *sk)
{
	return sk->sk_protocol == FA_PROTO_UDP;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length_tp, struct sock *sk, int ret, int flags)
{
	struct peer peer = {};
	struct sk_cache *c;

	if (ret <= 0 && !is_udp(sk))
		return 0;
	c = sk_cache_get(sk);
	if (is_udp(sk)) /* taken even from a failed send, so that none is left over */
		pending_take(sk, c, FA_DIR_TX, &peer);
	if (ret > 0) {
		account_cached(sk, c, ret, FA_DIR_TX, &peer);
		if (is_tcp(sk))
			health_tick(sk, c);
	}
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length_tp, struct sock *sk, int ret, int flags)
{
	struct peer peer = {};
	struct sk_cache *c;
	bool counted;

	if (is_tcp(sk)) /* counted where copied_seq moves (tcp_rcv_space_adjust) */
		return 0;
	/* a peek consumes nothing (the read that follows counts), and an error-queue read
	 * returns the kernel's notices, not data the peer sent */
	counted = ret > 0 && !(flags & (MSG_PEEK | MSG_ERRQUEUE));
	if (!counted && !is_udp(sk))
		return 0;
	c = sk_cache_get(sk);
	if (is_udp(sk))
		pending_take(sk, c, FA_DIR_RX, &peer);
	if (counted)
		account_cached(sk, c, ret, FA_DIR_RX, &peer);
	return 0;
}

/* Every TCP reader calls tcp_rcv_space_adjust() after moving copied_seq: recvmsg (per
 * chunk), tcp_read_sock() (splice), TCP_ZEROCOPY_RECEIVE. */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(tcp_rcv_space_adjust_tp, struct sock *sk)
{
	tcp_read_cached(sk);
	return 0;
}

static __always_inline void sk_state_cached(struct sock *sk, int oldstate, int newstate)
{
	struct sk_cache *c;

	audit_state(sk, oldstate, newstate);
	if (BPF_CORE_READ(sk, sk_protocol) != FA_PROTO_TCP)
		return;
	c = sk_cache_get(sk);
	if (!c)
		return;
	if (tcp_starts(sk, newstate)) {
		c->rx.seq = 0;
		c->rx.flags = RX_BORN;
		__builtin_memset(&c->hp, 0, sizeof(c->hp));
		c->hp.known = 1; /* seen from its start: every retransmit is counted */
		c->own.pid = 0;
		if (newstate == TCP_SYN_SENT) { /* connect(): the caller is the current task */
			c->own.pid = bpf_get_current_pid_tgid() >> 32;
			owner_fill(&c->own.uid, &c->own.comm, &c->own.cgroup_id);
		}
	}
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT)
		c->hp.ev[HEV_ACTIVE_OPEN]++;
	else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV)
		c->hp.ev[HEV_PASSIVE_OPEN]++;
	else if (newstate == TCP_CLOSE)
		c->hp.ev[HEV_CLOSE]++;
	if (newstate == TCP_CLOSE && !c->gen)
		account_owner(sk, c);
	health_apply(sk, c, newstate);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sk_state_tp, struct sock *sk, int oldstate, int newstate)
{
	sk_state_cached(sk, oldstate, newstate);
	return 0;
}

/*
 * TCP health, for the tracepoint and fentry backends alike (one program each: a
 * program's backend is its name's suffix). Retransmits and resets are rare next to sends
 * and reads, and run where the socket's owner may not be the current task: the socket's
 * storage says whose flow it is.
 */
#define HEALTH_PROGS(backend)                                                                      \
	SEC("tp_btf/tcp_retransmit_skb")                                                           \
	int BPF_PROG(tcp_retransmit_##backend, struct sock *sk)                                    \
	{                                                                                          \
		health_event(sk, HEV_MAX);                                                         \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tp_btf/tcp_send_reset")                                                               \
	int BPF_PROG(tcp_send_reset_##backend, struct sock *sk)                                    \
	{                                                                                          \
		health_event(sk, HEV_RST_SENT);                                                    \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tp_btf/tcp_receive_reset")                                                            \
	int BPF_PROG(tcp_receive_reset_##backend, struct sock *sk)                                 \
	{                                                                                          \
		health_event(sk, HEV_RST_RECV);                                                    \
		return 0;                                                                          \
	}

HEALTH_PROGS(tp)
HEALTH_PROGS(fentry)

/* ---- fentry backend: fexit sees the arguments and the return value together ---- */

static __always_inline void udp_send_fexit(struct sock *sk, struct msghdr *msg, int ret)
{
	struct peer peer = {};

	if (ret <= 0)
		return;
	peer_from_sockaddr(&peer, BPF_CORE_READ(msg, msg_name), BPF_CORE_READ(msg, msg_namelen),
			   sk->__sk_common.skc_family);
	account_cached(sk, sk_cache_get(sk), ret, FA_DIR_TX, &peer);
}

static __always_inline void tcp_send_fexit(struct sock *sk, int ret)
{
	struct sk_cache *c;

	if (ret <= 0)
		return;
	c = sk_cache_get(sk);
	account_cached(sk, c, ret, FA_DIR_TX, &no_peer);
	health_tick(sk, c);
}

SEC("fexit/tcp_sendmsg")
int BPF_PROG(tcp_sendmsg_fexit, struct sock *sk, struct msghdr *msg, size_t size, int ret)
{
	tcp_send_fexit(sk, ret);
	return 0;
}

/* udpv6_sendmsg() hands v4-mapped destinations to udp_sendmsg(): counted in the former */
SEC("fexit/udp_sendmsg")
int BPF_PROG(udp_sendmsg_fexit, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	if (sk->__sk_common.skc_family == AF_INET)
		udp_send_fexit(sk, msg, ret);
	return 0;
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(udpv6_sendmsg_fexit, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	udp_send_fexit(sk, msg, ret);
	return 0;
}

/* sendfile()/splice() to a TCP socket before Linux 6.5; absent (not loaded) after. */
SEC("fexit/tcp_sendpage")
int BPF_PROG(tcp_sendpage_fexit, struct sock *sk, struct page *page, int offset, size_t size,
	     int flags, int ret)
{
	tcp_send_fexit(sk, ret);
	return 0;
}

/* Every TCP reader calls it after moving copied_seq; `copied` is not used (above). */
SEC("fentry/tcp_cleanup_rbuf")
int BPF_PROG(tcp_cleanup_rbuf_fentry, struct sock *sk, int copied)
{
	tcp_read_cached(sk);
	return 0;
}

/* A datagram read: len < 0 for a peek. */
SEC("fentry/skb_consume_udp")
int BPF_PROG(skb_consume_udp_fentry, struct sock *sk, struct sk_buff *skb, int len)
{
	struct peer peer = {};

	if (len <= 0)
		return 0;
	if (!sk->__sk_common.skc_dport) /* a connected socket hears only its peer */
		peer_from_skb(&peer, skb, sk->__sk_common.skc_family);
	account_cached(sk, sk_cache_get(sk), len, FA_DIR_RX, &peer);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sk_state_fentry, struct sock *sk, int oldstate, int newstate)
{
	sk_state_cached(sk, oldstate, newstate);
	return 0;
}

/* A socket's last close: inet6_release() calls it too. UDP only, as sock_release_cg. */
SEC("fentry/inet_release")
int BPF_PROG(inet_release_fentry, struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct sk_cache *c;

	if (!sk || sk->sk_protocol != FA_PROTO_UDP)
		return 0;
	c = bpf_sk_storage_get(&sk_caches, sk, 0, 0);
	if (c && c->flowed)
		release_tell((__u64)sk);
	return 0;
}

/*
 * ---- kprobe backend ----
 * The entry probe remembers the socket (and message) per thread; the return probe reads
 * the result. `hook` tells nested calls apart (udpv6_sendmsg -> udp_sendmsg on the same
 * thread).
 */
enum inflight_hook {
	HOOK_TCP_SEND = 1,
	HOOK_TCP_SENDPAGE,
	HOOK_UDP_SEND,
	HOOK_UDP6_SEND,
};

struct inflight_key {
	__u64 pid_tgid;
	__u32 hook;
	__u32 pad;
};

struct inflight_call {
	struct sock *sk;
	struct msghdr *msg;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inflight_key);
	__type(value, struct inflight_call);
} inflight SEC(".maps");

/* TCP read positions, by socket address: kprobes cannot use socket storage. An entry
 * leaves when its socket is destroyed (tcp_v4_destroy_sock, IPv6 sockets included). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct rx_pos);
} tcp_rx_pos SEC(".maps");

static __always_inline void inflight_enter(struct sock *sk, struct msghdr *msg, __u32 hook)
{
	struct inflight_key k = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct inflight_call call = { .sk = sk, .msg = msg };

	/* a stale entry means the previous call's return probe never ran */
	if (bpf_map_lookup_elem(&inflight, &k))
		stat_add(FA_STAT_KRETPROBE_MISSED, 1);
	if (bpf_map_update_elem(&inflight, &k, &call, BPF_ANY))
		stat_add(FA_STAT_INFLIGHT_FULL, 1);
}

static __always_inline void inflight_exit(__u32 hook, int ret, bool udp)
{
	struct inflight_key k = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct inflight_call *call = bpf_map_lookup_elem(&inflight, &k);
	struct peer peer = {};

	struct msghdr *msg;
	struct sock *sk;

	if (!call)
		return;
	/* plain loads: these are our map's fields, not kernel structs to relocate */
	msg = call->msg;
	sk = call->sk;
	if (udp && ret > 0)
		peer_from_sockaddr(&peer, BPF_CORE_READ(msg, msg_name),
				   BPF_CORE_READ(msg, msg_namelen),
				   BPF_CORE_READ(sk, __sk_common.skc_family));
	if (ret > 0)
		account(sk, ret, FA_DIR_TX, &peer);
	bpf_map_delete_elem(&inflight, &k);
}

/* One kprobe/kretprobe pair per send function: the entry remembers the call when `cond`
 * holds, the return probe counts what it returned. */
#define KPROBE_SEND(func, hook, udp, cond)                                                         \
	SEC("kprobe/" #func)                                                                       \
	int BPF_KPROBE(func##_kprobe, struct sock *sk, struct msghdr *msg)                         \
	{                                                                                          \
		if (cond)                                                                          \
			inflight_enter(sk, msg, hook);                                             \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #func)                                                                    \
	int BPF_KRETPROBE(func##_kretprobe, int ret)                                               \
	{                                                                                          \
		inflight_exit(hook, ret, udp);                                                     \
		return 0;                                                                          \
	}

KPROBE_SEND(tcp_sendmsg, HOOK_TCP_SEND, false, true)
KPROBE_SEND(tcp_sendpage, HOOK_TCP_SENDPAGE, false, true)
/* udpv6_sendmsg() hands v4-mapped destinations to udp_sendmsg(): counted in the former */
KPROBE_SEND(udp_sendmsg, HOOK_UDP_SEND, true, BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
KPROBE_SEND(udpv6_sendmsg, HOOK_UDP6_SEND, true, true)

SEC("kprobe/tcp_cleanup_rbuf")
int BPF_KPROBE(tcp_cleanup_rbuf_kprobe, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct rx_pos fresh = {}, *pos = bpf_map_lookup_elem(&tcp_rx_pos, &key);

	if (!pos) { /* a connection older than flowacct */
		bpf_map_update_elem(&tcp_rx_pos, &key, &fresh, BPF_NOEXIST);
		pos = bpf_map_lookup_elem(&tcp_rx_pos, &key);
		if (!pos) {
			stat_add(FA_STAT_SOCKET_STATE_FULL, 1);
			return 0;
		}
	}
	account(sk, tcp_read_delta(sk, pos, false), FA_DIR_RX, &no_peer);
	return 0;
}

SEC("kprobe/skb_consume_udp")
int BPF_KPROBE(skb_consume_udp_kprobe, struct sock *sk, struct sk_buff *skb, int len)
{
	struct peer peer = {};

	if (len <= 0)
		return 0;
	if (!BPF_CORE_READ(sk, __sk_common.skc_dport))
		peer_from_skb(&peer, skb, BPF_CORE_READ(sk, __sk_common.skc_family));
	account(sk, len, FA_DIR_RX, &peer);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(sk_state_kprobe, struct sock *sk, int oldstate, int newstate)
{
	struct rx_pos born = { .flags = RX_BORN };
	__u64 key = (__u64)sk;

	audit_state(sk, oldstate, newstate);
	if (tcp_starts(sk, newstate) && bpf_map_update_elem(&tcp_rx_pos, &key, &born, BPF_ANY))
		stat_add(FA_STAT_SOCKET_STATE_FULL, 1);
	return 0;
}

SEC("kprobe/tcp_v4_destroy_sock")
int BPF_KPROBE(tcp_destroy_kprobe, struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&tcp_rx_pos, &key);
	return 0;
}

/* A socket's last close. TCP too: this backend sees no TCP states, and after its close
 * a socket's owner can neither send nor read. No socket storage says which sockets had
 * a flow, so every TCP and UDP release is told. */
SEC("kprobe/inet_release")
int BPF_KPROBE(inet_release_kprobe, struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 proto;

	if (!sk)
		return 0;
	proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto == FA_PROTO_UDP || proto == FA_PROTO_TCP)
		release_tell((__u64)sk);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
