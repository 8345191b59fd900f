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

#define AF_INET	 2
#define AF_INET6 10
#define MSG_PEEK 2

/* Settings, written by user space before load. */
const volatile __u8 want = FA_WANT_IPV4 | FA_WANT_IPV6 | FA_WANT_TCP | FA_WANT_UDP;
const volatile bool filter_pids = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* --max-flows */
	__type(key, struct fa_flow_key);
	__type(value, struct fa_flow_value);
} flows SEC(".maps");

/* Per-process overflow rows: the bytes of flows that did not fit in `flows`. */
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

	if (v)
		__sync_fetch_and_add(v,
				     n); /* per-CPU slot, but a preempting program may share it */
}

static __always_inline void value_add(struct fa_flow_value *v, int dir, __u64 bytes)
{
	__sync_fetch_and_add(&v->bytes[dir], bytes);
	__sync_fetch_and_add(&v->calls[dir], 1);
}

/*
 * Slow path, taken once per new flow: create the entry with the process's name and uid.
 * If another CPU created it first, add to theirs. If the table is full, the bytes go to
 * the process's overflow row, and failing that to the unattributed counters.
 */
static __noinline void account_new(struct fa_flow_key *key, int dir, __u64 bytes)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fa_flow_value init = {}, *v;
	__u8 one = 1;
	int err;

	init.uid = (__u32)bpf_get_current_uid_gid();
	/* the group leader's comm is the process's name; the current thread may differ */
	BPF_CORE_READ_STR_INTO(&init.comm, task, group_leader, comm);
	init.bytes[dir] = bytes;
	init.calls[dir] = 1;

	err = bpf_map_update_elem(&flows, key, &init, BPF_NOEXIST);
	if (!err)
		return;
	if (err == -17 /* EEXIST: created meanwhile by another CPU */) {
		v = bpf_map_lookup_elem(&flows, key);
		if (v) {
			value_add(v, dir, bytes);
			return;
		}
	}

	stat_add(FA_STAT_FLOW_TABLE_FULL, 1);
	if (!bpf_map_update_elem(&dropped_flows, key, &one, BPF_NOEXIST))
		stat_add(FA_STAT_FLOWS_DROPPED, 1);

	v = bpf_map_lookup_elem(&overflow, &key->pid);
	if (!v) {
		/* create the row empty, then add like everyone else: no race to reason about */
		init.bytes[dir] = 0;
		init.calls[dir] = 0;
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
	value_add(v, dir, bytes);
}

/* The hot path: runs on every send and receive of every process. */
static __always_inline void account(struct sock *sk, int ret, int dir)
{
	struct fa_flow_key key = {};
	struct fa_flow_value *v;
	__u16 family, proto;

	if (ret <= 0)
		return;
	key.pid = bpf_get_current_pid_tgid() >> 32;
	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &key.pid))
		return;

	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_INET) {
		if (!(want & FA_WANT_IPV4))
			return;
		BPF_CORE_READ_INTO((__u32 *)key.laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)key.raddr, sk, __sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		if (!(want & FA_WANT_IPV6))
			return;
		BPF_CORE_READ_INTO(&key.laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&key.raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		return;
	}
	proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto == FA_PROTO_TCP) {
		if (!(want & FA_WANT_TCP))
			return;
	} else if (proto == FA_PROTO_UDP) {
		if (!(want & FA_WANT_UDP))
			return;
	} else {
		return;
	}
	key.family = family;
	key.proto = proto;
	/* inet_sport, not skc_num: closing unhashes the socket and zeroes skc_num while
	 * data can still wait in its receive queue */
	key.lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	key.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));

	v = bpf_map_lookup_elem(&flows, &key);
	if (v)
		value_add(v, dir, ret);
	else
		account_new(&key, dir, ret);
}

/* ---- tracepoint backend (Linux >= 6.3) ---- */

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length_tp, struct sock *sk, int ret, int flags)
{
	account(sk, ret, FA_DIR_TX);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length_tp, struct sock *sk, int ret, int flags)
{
	if (!(flags & MSG_PEEK)) /* a peek consumes nothing; the read that follows counts */
		account(sk, ret, FA_DIR_RX);
	return 0;
}

/* ---- fentry backend: fexit sees the arguments and the return value together ---- */

/* The send functions share one signature: (sk, msg, len) -> bytes. */
#define FEXIT_SEND(func, cond)                                                                     \
	SEC("fexit/" #func)                                                                        \
	int BPF_PROG(func##_fexit, struct sock *sk, struct msghdr *msg, size_t len, int ret)       \
	{                                                                                          \
		if (cond)                                                                          \
			account(sk, ret, FA_DIR_TX);                                               \
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
	account(sk, ret, FA_DIR_TX);
	return 0;
}

/* The receive functions share one signature: (sk, msg, len, flags, addr_len) -> bytes. */
#define FEXIT_RECV(func)                                                                           \
	SEC("fexit/" #func)                                                                        \
	int BPF_PROG(func##_fexit, struct sock *sk, struct msghdr *msg, size_t len, int flags,     \
		     int *addr_len, int ret)                                                       \
	{                                                                                          \
		if (!(flags & MSG_PEEK))                                                           \
			account(sk, ret, FA_DIR_RX);                                               \
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
 * holds (flags: the receive functions' 4th argument; unused by the others), the return
 * probe counts what the call returned.
 */
#define KPROBE_PAIR(func, hook, dir, cond)                                                         \
	SEC("kprobe/" #func)                                                                       \
	int BPF_KPROBE(func##_kprobe, struct sock *sk, void *arg2, size_t arg3, int flags)         \
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
KPROBE_PAIR(tcp_recvmsg, HOOK_TCP_RECV, FA_DIR_RX, !(flags & MSG_PEEK))
/* udpv6_sendmsg() hands v4-mapped destinations to udp_sendmsg(): counted there */
KPROBE_PAIR(udp_sendmsg, HOOK_UDP_SEND, FA_DIR_TX,
	    BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
KPROBE_PAIR(udpv6_sendmsg, HOOK_UDP6_SEND, FA_DIR_TX, true)
KPROBE_PAIR(udp_recvmsg, HOOK_UDP_RECV, FA_DIR_RX, !(flags & MSG_PEEK))
KPROBE_PAIR(udpv6_recvmsg, HOOK_UDP6_RECV, FA_DIR_RX, !(flags & MSG_PEEK))

char LICENSE[] SEC("license") = "Dual BSD/GPL";
