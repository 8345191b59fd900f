// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowacct's kernel side: count the bytes every process moves over TCP and UDP, per flow.
 *
 * Three backends live in this one object; user space switches the unused ones off with
 * bpf_program__set_autoload() before loading. All of them feed account() with the byte
 * count the call *returned*, never the size it was asked for:
 *
 *  - tracepoint: tp_btf on sock:sock_send_length / sock:sock_recv_length (Linux >= 6.3),
 *    which fire in sock_sendmsg()/sock_recvmsg() with the call's result. Every socket
 *    send and receive path goes through them, sendfile() included (splice_to_socket()
 *    calls sock_sendmsg() since 6.5).
 *  - fentry: fexit on tcp_sendmsg, tcp_recvmsg, udp{,v6}_{send,recv}msg and, on kernels
 *    before 6.5 where sendfile() bypasses tcp_sendmsg, tcp_sendpage.
 *  - kprobe: the same functions with a kprobe/kretprobe pair.
 *
 * Why not the classic tcp_sendmsg size argument and tcp_cleanup_rbuf: the size is what
 * was asked, not what was sent (a nonblocking send that fails with EAGAIN would count in
 * full, a partial send too much), and tcp_cleanup_rbuf runs once per pass of a receive
 * loop with a running total (MSG_WAITALL counts the same bytes many times). The return
 * value of the send/recv function is the number of bytes that moved.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flowacct.h"
#include "core_fixes.bpf.h"

#define AF_INET	 2
#define AF_INET6 10
#define MSG_PEEK 2

/* Settings, written by user space before load. */
const volatile __u8 want = FA_WANT_IPV4 | FA_WANT_IPV6 | FA_WANT_TCP | FA_WANT_UDP;
const volatile bool filter_pids = false;
const volatile __u32 max_slots = 16384; /* --max-flows: the size of `slots` */

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
 * Per socket, the slot its last event went to, so that the next event of the same
 * process on the same socket adds to it without building and hashing a key: this is the
 * hot path. The socket's addresses and ports are kept to notice a connect() that changes
 * them, gen to notice the slot's retirement, pid to notice a socket shared by processes.
 */
struct sk_cache {
	__u32 pid;
	__u32 slot;
	__u32 gen; /* the slot's gen when cached; 0: nothing cached */
	__u32 portpair; /* skc_portpair */
	__u64 addrpair; /* skc_addrpair */
	__u32 v6_daddr[4]; /* AF_INET6: skc_v6_daddr */
	__u32 skip; /* this process's events on this socket are not counted (filters) */
	__u32 pad;
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FA_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

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

/* The flow key of an event, or false if the filters leave it out. */
static __always_inline bool flow_key(struct sock *sk, __u32 pid, struct fa_flow_key *key)
{
	__u16 family, proto;

	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &pid))
		return false;
	key->pid = pid;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_INET) {
		if (!(want & FA_WANT_IPV4))
			return false;
		BPF_CORE_READ_INTO((__u32 *)key->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)key->raddr, sk, __sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		if (!(want & FA_WANT_IPV6))
			return false;
		BPF_CORE_READ_INTO(&key->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&key->raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		return false;
	}
	proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto == FA_PROTO_TCP) {
		if (!(want & FA_WANT_TCP))
			return false;
	} else if (proto == FA_PROTO_UDP) {
		if (!(want & FA_WANT_UDP))
			return false;
	} else {
		return false;
	}
	key->family = family;
	key->proto = proto;
	/* inet_sport, not skc_num: closing unhashes the socket and zeroes skc_num while
	 * data can still wait in its receive queue */
	key->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	key->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return true;
}

/* Who moves the bytes: the uid, and the group leader's comm (the process's name; the
 * current thread's may differ). Taken once, when a flow or an overflow row is created. */
static __always_inline void owner_fill(__u32 *uid, char (*comm)[FA_COMM_LEN])
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	*uid = (__u32)bpf_get_current_uid_gid();
	BPF_CORE_READ_STR_INTO(comm, task, group_leader, comm);
}

/*
 * A slot for a new flow: a returned one first, else one never used. Its counters, key
 * and owner are written while nobody can find it, then gen turns odd (an atomic add:
 * ordered after those stores), then the index makes it findable.
 */
static __always_inline struct fa_slot *slot_new(struct fa_flow_key *key, __u32 *idx)
{
	struct fa_slot *s;

	if (bpf_map_pop_elem(&free_slots, idx)) {
		if (next_slot >= max_slots)
			return NULL;
		*idx = __sync_fetch_and_add(&next_slot, 1);
		if (*idx >= max_slots) /* another CPU took the last one meanwhile */
			return NULL;
	}
	s = bpf_map_lookup_elem(&slots, idx);
	if (!s)
		return NULL;
	s->bytes[FA_DIR_RX] = s->bytes[FA_DIR_TX] = 0;
	s->calls[FA_DIR_RX] = s->calls[FA_DIR_TX] = 0;
	__builtin_memcpy(&s->key, key, sizeof(*key));
	owner_fill(&s->uid, &s->comm);
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
		owner_fill(&init.uid, &init.comm);
		bpf_map_update_elem(&overflow, &key->pid, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&overflow, &key->pid);
		if (!v) {
			stat_add(FA_STAT_OVERFLOW_TABLE_FULL, 1);
			stat_add(dir == FA_DIR_RX ? FA_STAT_UNATTRIBUTED_RX_BYTES
						  : FA_STAT_UNATTRIBUTED_TX_BYTES,
				 bytes);
			return;
		}
	}
	counts_add(v->bytes, v->calls, dir, bytes);
}

/*
 * The slow path: once per socket and process (and again after a connect() or the slot's
 * retirement), and on every event of the kprobe backend, which has no socket storage.
 * Finds or makes the flow's slot and adds to it. Says in *r what a cache may keep: the
 * slot and its gen, or gen 0 when the bytes went to overflow or the filters leave them
 * out (skip).
 */
struct slow_result {
	__u32 slot, gen, skip;
};

static __noinline void account_slow(struct sock *sk, __u32 pid, int dir, __u64 bytes,
				    struct slow_result *r)
{
	struct fa_flow_key key = {};
	struct fa_slot *s;
	__u32 idx, *found, gen;

	r->slot = r->gen = 0;
	r->skip = !flow_key(sk, pid, &key);
	if (r->skip)
		return;
	found = bpf_map_lookup_elem(&flow_index, &key);
	if (found) {
		idx = *found;
		s = bpf_map_lookup_elem(&slots, &idx);
		if (s && ((gen = s->gen) & 1))
			goto add;
		/* retired by user space since our lookup (it forgets the key first) */
	}
	s = slot_new(&key, &idx);
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
		account_overflow(&key, dir, bytes);
		return;
	}
add:
	counts_add(s->bytes, s->calls, dir, bytes);
	r->slot = idx;
	r->gen = gen;
}

/* The kprobe backend: no socket storage, every event takes the slow path. */
static __always_inline void account(struct sock *sk, int ret, int dir)
{
	struct slow_result r;

	if (ret > 0)
		account_slow(sk, bpf_get_current_pid_tgid() >> 32, dir, ret, &r);
}

/*
 * The tracepoint and fentry backends: their socket is a typed kernel pointer, so the
 * cache can be read and checked with plain loads. An event of the process whose slot the
 * socket caches, with the socket's addresses unchanged and the slot not retired, is two
 * map lookups that need no key and two atomic adds.
 */
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
				       const struct slow_result *r)
{
	const struct sock_common *k = &sk->__sk_common;

	c->pid = pid;
	c->slot = r->slot;
	c->gen = r->gen;
	c->skip = r->skip;
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
 */
static __always_inline void account_cached(struct sock *sk, int ret, int dir)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, slot;
	struct slow_result r;
	struct sk_cache *c;
	struct fa_slot *s;

	if (ret <= 0)
		return;
	c = bpf_sk_storage_get(&sk_caches, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (c && cache_matches(c, sk, pid)) {
		if (c->skip)
			return;
		slot = c->slot;
		s = bpf_map_lookup_elem(&slots, &slot);
		if (s && c->gen && s->gen == c->gen) {
			counts_add(s->bytes, s->calls, dir, ret);
			return;
		}
	}
	account_slow(sk, pid, dir, ret, &r);
	if (c)
		cache_fill(c, sk, pid, &r);
}

/* ---- tracepoint backend (Linux >= 6.3) ---- */

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length_tp, struct sock *sk, int ret, int flags)
{
	account_cached(sk, ret, FA_DIR_TX);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length_tp, struct sock *sk, int ret, int flags)
{
	if (!(flags & MSG_PEEK)) /* a peek consumes nothing; the read that follows counts */
		account_cached(sk, ret, FA_DIR_RX);
	return 0;
}

/* ---- fentry backend: fexit sees the arguments and the return value together ---- */

/* The send functions share one signature: (sk, msg, len) -> bytes. */
#define FEXIT_SEND(func, cond)                                                                     \
	SEC("fexit/" #func)                                                                        \
	int BPF_PROG(func##_fexit, struct sock *sk, struct msghdr *msg, size_t len, int ret)       \
	{                                                                                          \
		if (cond)                                                                          \
			account_cached(sk, ret, FA_DIR_TX);                                        \
		return 0;                                                                          \
	}

FEXIT_SEND(tcp_sendmsg, true)
/* udpv6_sendmsg() hands v4-mapped destinations to udp_sendmsg(): counted there */
FEXIT_SEND(udp_sendmsg, BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
FEXIT_SEND(udpv6_sendmsg, true)

/* sendfile()/splice() to a TCP socket before Linux 6.5; absent (not loaded) after. */
SEC("fexit/tcp_sendpage")
int BPF_PROG(tcp_sendpage_fexit, struct sock *sk, struct page *page, int offset, size_t size,
	     int flags, int ret)
{
	account_cached(sk, ret, FA_DIR_TX);
	return 0;
}

/* The receive functions share one signature, which changed over kernel versions
 * (core_fixes.bpf.h): the arguments are read from the raw context. */
#define FEXIT_RECV(func)                                                                           \
	SEC("fexit/" #func)                                                                        \
	int func##_fexit(unsigned long long *ctx)                                                  \
	{                                                                                          \
		struct sock *sk = (struct sock *)ctx[0];                                           \
		int flags, ret;                                                                    \
                                                                                                   \
		recv_fexit_args(ctx, &flags, &ret);                                                \
		if (!(flags & MSG_PEEK))                                                           \
			account_cached(sk, ret, FA_DIR_RX);                                        \
		return 0;                                                                          \
	}

FEXIT_RECV(tcp_recvmsg)
FEXIT_RECV(udp_recvmsg)
FEXIT_RECV(udpv6_recvmsg)

/*
 * ---- kprobe backend ----
 * The entry probe remembers the socket per thread; the return probe reads the result.
 * `hook` tells nested calls apart (udpv6_sendmsg -> udp_sendmsg on the same thread).
 */
enum inflight_hook {
	HOOK_TCP_SEND = 1,
	HOOK_TCP_SENDPAGE,
	HOOK_TCP_RECV,
	HOOK_UDP_SEND,
	HOOK_UDP6_SEND,
	HOOK_UDP_RECV,
	HOOK_UDP6_RECV,
};

struct inflight_key {
	__u64 pid_tgid;
	__u32 hook;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inflight_key);
	__type(value, struct sock *);
} inflight SEC(".maps");

static __always_inline void inflight_enter(struct sock *sk, __u32 hook)
{
	struct inflight_key k = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };

	/* a stale entry means the previous call's return probe never ran */
	if (bpf_map_lookup_elem(&inflight, &k))
		stat_add(FA_STAT_KRETPROBE_MISSED, 1);
	if (bpf_map_update_elem(&inflight, &k, &sk, BPF_ANY))
		stat_add(FA_STAT_INFLIGHT_FULL, 1);
}

static __always_inline void inflight_exit(__u32 hook, int ret, int dir)
{
	struct inflight_key k = { .pid_tgid = bpf_get_current_pid_tgid(), .hook = hook };
	struct sock **skp = bpf_map_lookup_elem(&inflight, &k);

	if (!skp)
		return;
	account(*skp, ret, dir);
	bpf_map_delete_elem(&inflight, &k);
}

/*
 * One kprobe/kretprobe pair per function: the entry remembers the socket when `cond`
 * holds (for the receive functions, that the flags have no MSG_PEEK; where the flags are
 * depends on the kernel, core_fixes.bpf.h), the return probe counts what the call
 * returned.
 */
#define KPROBE_PAIR(func, hook, dir, cond)                                                         \
	SEC("kprobe/" #func)                                                                       \
	int BPF_KPROBE(func##_kprobe, struct sock *sk)                                             \
	{                                                                                          \
		if (cond)                                                                          \
			inflight_enter(sk, hook);                                                  \
		return 0;                                                                          \
	}                                                                                          \
	SEC("kretprobe/" #func)                                                                    \
	int BPF_KRETPROBE(func##_kretprobe, int ret)                                               \
	{                                                                                          \
		inflight_exit(hook, ret, dir);                                                     \
		return 0;                                                                          \
	}

KPROBE_PAIR(tcp_sendmsg, HOOK_TCP_SEND, FA_DIR_TX, true)
KPROBE_PAIR(tcp_sendpage, HOOK_TCP_SENDPAGE, FA_DIR_TX, true)
KPROBE_PAIR(tcp_recvmsg, HOOK_TCP_RECV, FA_DIR_RX, !(recv_kprobe_flags(ctx) & MSG_PEEK))
/* udpv6_sendmsg() hands v4-mapped destinations to udp_sendmsg(): counted there */
KPROBE_PAIR(udp_sendmsg, HOOK_UDP_SEND, FA_DIR_TX,
	    BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
KPROBE_PAIR(udpv6_sendmsg, HOOK_UDP6_SEND, FA_DIR_TX, true)
KPROBE_PAIR(udp_recvmsg, HOOK_UDP_RECV, FA_DIR_RX, !(recv_kprobe_flags(ctx) & MSG_PEEK))
KPROBE_PAIR(udpv6_recvmsg, HOOK_UDP6_RECV, FA_DIR_RX, !(recv_kprobe_flags(ctx) & MSG_PEEK))

char LICENSE[] SEC("license") = "Dual BSD/GPL";
