// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One sample, in the steps fa_collector_sample() runs in order:
 *   read_kernel()   loss counters, the overflow rows, the packet ring's 5-tuples, the
 *                   sockets released since the last sample
 *   carry_emit()    the closed rows: what live processes' flows took out of the table
 *   sample_flows()  one pass over the kernel's flow slots, read in place: new flows,
 *                   this interval's deltas, which flows leave, the snapshot's flow rows
 *   sample_rows()   the same for overflow rows and packet 5-tuples (a hash table)
 *   join_packets()  each packet 5-tuple's counts onto the flow with that 5-tuple
 * then fa_snapshot_aggregate() adds the rows up per process.
 *
 * The cost per interval is one pass over the slots and a few words of state per flow:
 * no system call, no allocation and no sort per flow. A flow's identity is not copied:
 * it stays in its slot, which the kernel rewrites only after we hand the slot back.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "sockdiag.h"
#include "util.h"

/* Under table pressure, flows of live processes idle this many intervals are removed. */
#define IDLE_EVICT_INTERVALS 30

/* What we know of one kernel slot, and of the flow that holds it. */
struct slot_state {
	__u32 gen; /* the slot's gen while its flow holds it; 0: no flow */
	__u32 handed_gen; /* its gen when last handed back to the free queue (0: never) */
	__u32 retired_at; /* the sample that retired it (0: live); read once more, then freed */
	__u32 done_for; /* samples its process has been gone, or its socket closed */
	__u16 idle_for;
	bool closed; /* as last shown */
	/* the slot's sock when the kernel said that socket was released; 0: not released */
	__u64 released_sock;
	__u64 prev[FA_DIR_MAX][2]; /* bytes and calls per direction at the previous sample */
	struct fa_counts hprev; /* the health counters at the previous sample */
};

/* Which table an entry mirrors. */
enum entry_src {
	SRC_OVERFLOW, /* the kernel's per-process overflow map */
	SRC_PACKETS, /* the packet ring's 5-tuple table */
};

/* An overflow row or a packet 5-tuple, in a hash table by key. */
struct entry {
	struct entry *next;
	__u8 src; /* enum entry_src */
	bool remove; /* leaves the table once this interval's snapshot is built */
	struct fa_flow_key kkey; /* the kernel map's key; for packets, the 5-tuple, pid 0 */
	struct fa_ident proc; /* SRC_OVERFLOW */
	struct fa_tuple tuple; /* SRC_PACKETS */
	struct fa_counts total; /* cumulative, as last read */
	struct fa_counts prev; /* cumulative at the previous sample */
	struct fa_counts delta; /* this interval */
	__u32 seen_gen;
	__u32 exited_for;
};

/* Whether a pid has exited, asked once per pid and sample: keys are (sample << 32 | pid). */
struct pid_cache {
	__u64 *keys;
	bool *gone;
	size_t cap, n; /* n: entries of this sample */
};

/* The sockets released since the last sample (the kernel's `released` queue), sorted
 * by address, the newest seq of each: during a sample only. */
struct release_set {
	struct fa_release *v;
	size_t n;
};

struct fa_collector {
	const struct fa_bpf *bpf;
	struct fa_pktring *ring;
	struct entry **buckets; /* overflow rows and packet 5-tuples, by key */
	size_t nbuckets, nentries;
	/* by slot index, one per kernel slot: mapped whole, so that its memory follows the
	 * slots ever used (untouched pages cost nothing) and it is never copied to grow */
	struct slot_state *slots;
	size_t slots_len; /* bytes mapped */
	size_t nflows; /* live flows held in slots[] */
	struct pid_cache pids;
	struct fa_cgroups *cgroups; /* cgroup ids to paths and names */
	__u64 *idset; /* the distinct cgroup ids of a sample (open addressing, 0 empty) */
	size_t idset_cap;
	__u32 gen;
	int ncpus;
	__u32 max_flows;
	double linger_s, interval_s;
	__u32 linger; /* linger_s in samples, at least 1 */
	struct release_set released;
	struct timespec last;
	struct fa_counts grand; /* everything since start, removed rows included */
	__u64 stats_prev[FA_STAT_MAX];
	struct fa_other other[FA_OTHER_MAX]; /* totals of the last sample, sorted */
	size_t nother;
	struct fa_indexed carry; /* struct carry: what live processes' flows took out */
};

/*
 * What a live process's flows had moved when they left the table (a closed TCP socket,
 * an idle flow under pressure), per process, cgroup and part, until the process is gone:
 * each snapshot's closed rows, so its totals stay cumulative. A long-lived server's
 * table holds its current connections; its totals still hold every one it had.
 */
struct carry {
	struct fa_closed row;
	__u32 gone_for; /* samples its process has been gone */
};

static __u64 carry_key_hash(const struct fa_closed *r)
{
	const struct {
		__u64 cgroup_id;
		__u32 pid, part;
	} k = { r->proc.cgroup_id, r->proc.pid, r->part };

	return fa_hash(&k, sizeof(k));
}

static __u64 carry_hash(const void *array, size_t i)
{
	return carry_key_hash(&((const struct carry *)array)[i].row);
}

/* Rebuilds the index of c->carry's first n entries (after some were taken out). */
static void carry_reindex(struct fa_indexed *t)
{
	memset(t->index, 0, (t->mask + 1) * sizeof(*t->index));
	for (size_t i = 0; i < t->n; i++) {
		size_t h = carry_hash(t->v, i) & t->mask;

		while (t->index[h])
			h = (h + 1) & t->mask;
		t->index[h] = i + 1;
	}
}

/* A live process's flow leaves the table after its last read: its totals go on. */
static int carry_add(struct fa_collector *c, const struct fa_flow *f)
{
	struct fa_indexed *t = &c->carry;
	struct fa_closed key = { .proc = f->proc, .part = fa_part_of(f->tuple.proto) };
	struct carry *v;
	size_t h;

	if (t->n == t->cap && fa_indexed_grow(t, sizeof(struct carry), carry_hash))
		return -ENOMEM;
	v = t->v;
	for (h = carry_key_hash(&key) & t->mask; t->index[h]; h = (h + 1) & t->mask) {
		struct carry *e = &v[t->index[h] - 1];

		if (e->row.proc.pid == key.proc.pid &&
		    e->row.proc.cgroup_id == key.proc.cgroup_id && e->row.part == key.part) {
			e->row.proc = f->proc; /* its latest name */
			fa_counts_add(&e->row.total, &f->total);
			return 0;
		}
	}
	t->index[h] = ++t->n;
	v[t->n - 1] = (struct carry){ .row = key };
	fa_counts_add(&v[t->n - 1].row.total, &f->total);
	return 0;
}

static size_t entry_bucket(const struct fa_collector *c, __u8 src, const struct fa_flow_key *k)
{
	return (fa_hash(k, sizeof(*k)) ^ src) & (c->nbuckets - 1);
}

static int table_grow(struct fa_collector *c)
{
	size_t n = c->nbuckets ? c->nbuckets * 2 : 64;
	struct entry **b = calloc(n, sizeof(*b));
	struct entry **old = c->buckets;
	size_t nold = c->nbuckets;

	if (!b)
		return -ENOMEM;
	c->buckets = b;
	c->nbuckets = n;
	for (size_t i = 0; i < nold; i++) {
		struct entry *e = old[i], *next;

		for (; e; e = next) {
			size_t h = entry_bucket(c, e->src, &e->kkey);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(old);
	return 0;
}

/* A kernel key's 5-tuple as shown: v4-mapped IPv6 as IPv4. */
static void key_tuple(const struct fa_flow_key *k, struct fa_tuple *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->laddr, k->laddr, FA_ADDR_LEN);
	memcpy(t->raddr, k->raddr, FA_ADDR_LEN);
	t->lport = k->lport;
	t->rport = k->rport;
	t->proto = k->proto;
	t->family = k->family;
	fa_tuple_normalize(t);
}

/* Who moved a slot's or an overflow row's bytes, as the kernel recorded it. */
static void owner_ident(struct fa_ident *id, __u32 pid, __u32 uid, const char *comm,
			__u64 cgroup_id)
{
	id->pid = pid;
	id->uid = uid;
	id->cgroup_id = cgroup_id;
	memcpy(id->comm, comm, FA_COMM_LEN);
	id->comm[FA_COMM_LEN] = '\0';
}

static struct entry *entry_get(struct fa_collector *c, __u8 src, const struct fa_flow_key *k,
			       bool *created)
{
	struct entry *e;
	size_t h;

	*created = false;
	if (c->nentries >= c->nbuckets && table_grow(c))
		return NULL;
	h = entry_bucket(c, src, k);
	for (e = c->buckets[h]; e; e = e->next)
		if (e->src == src && !memcmp(&e->kkey, k, sizeof(*k)))
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->src = src;
	e->kkey = *k;
	if (src == SRC_PACKETS)
		key_tuple(k, &e->tuple);
	e->next = c->buckets[h];
	c->buckets[h] = e;
	c->nentries++;
	*created = true;
	return e;
}

/* An overflow row's cumulative counters, and on creation its owner. */
static void overflow_set_value(struct entry *e, const struct fa_flow_value *v, bool created)
{
	if (created)
		owner_ident(&e->proc, e->kkey.pid, v->uid, v->comm, v->cgroup_id);
	e->total.rx_bytes = v->bytes[FA_DIR_RX];
	e->total.tx_bytes = v->bytes[FA_DIR_TX];
	e->total.rx_calls = v->calls[FA_DIR_RX];
	e->total.tx_calls = v->calls[FA_DIR_TX];
}

/* The overflow map, keyed by pid: a few rows at most, read key by key. */
static int read_overflow(struct fa_collector *c)
{
	__u32 key, next, *cur = NULL;
	struct fa_flow_value v;
	int fd = c->bpf->overflow_fd;

	while (!bpf_map_get_next_key(fd, cur, &next)) {
		struct fa_flow_key k = { .pid = next };
		struct entry *e;
		bool created;

		key = next;
		cur = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue; /* removed since: only we remove, so this does not happen */
		e = entry_get(c, SRC_OVERFLOW, &k, &created);
		if (!e)
			return -ENOMEM;
		overflow_set_value(e, &v, created);
		e->seen_gen = c->gen;
	}
	return 0;
}

static int read_packets(struct fa_collector *c, __u64 *drops)
{
	struct fa_pkt_entry *pe = NULL;
	struct fa_pkt_stats st = {};
	size_t n = 0;
	int err;

	err = fa_pktring_read(c->ring, &pe, &n, &st);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct fa_flow_key k = {};
		struct entry *e;
		bool created;

		memcpy(k.laddr, pe[i].key.laddr, FA_ADDR_LEN);
		memcpy(k.raddr, pe[i].key.raddr, FA_ADDR_LEN);
		k.lport = pe[i].key.lport;
		k.rport = pe[i].key.rport;
		k.proto = pe[i].key.proto;
		k.family = pe[i].key.family;
		e = entry_get(c, SRC_PACKETS, &k, &created);
		if (!e) {
			free(pe);
			return -ENOMEM;
		}
		e->total.rx_packets = pe[i].rx_packets;
		e->total.tx_packets = pe[i].tx_packets;
		e->total.rx_wire_bytes = pe[i].rx_wire_bytes;
		e->total.tx_wire_bytes = pe[i].tx_wire_bytes;
		e->seen_gen = c->gen;
	}
	free(pe);
	drops[FA_DROP_RING_PACKETS_DROPPED] = st.drops;
	drops[FA_DROP_RING_FREEZES] = st.freezes;
	drops[FA_DROP_PACKETS_UNPARSED] = st.unparsed;
	drops[FA_DROP_PACKETS_TABLE_FULL] = st.table_full;
	return 0;
}

static int read_stats(struct fa_collector *c, __u64 *drops)
{
	__u64 *vals = calloc(c->ncpus, sizeof(__u64));

	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < FA_STAT_MAX; i++) {
		drops[i] = 0;
		if (bpf_map_lookup_elem(c->bpf->stats_fd, &i, vals))
			continue;
		for (int cpu = 0; cpu < c->ncpus; cpu++)
			drops[i] += vals[cpu];
	}
	free(vals);
	return 0;
}

static int other_cmp(const void *a, const void *b)
{
	const struct fa_other *x = a, *y = b;

	return x->family != y->family ? x->family - y->family : x->proto - y->proto;
}

/* Traffic of other families and protocols: at most FA_OTHER_MAX kinds, read whole. */
static int read_other(struct fa_collector *c, struct fa_snapshot *snap)
{
	struct fa_other_key k, cur, *prev = NULL;
	struct fa_other now[FA_OTHER_MAX];
	size_t n = 0;

	while (n < FA_OTHER_MAX && !bpf_map_get_next_key(c->bpf->other_fd, prev, &k)) {
		struct fa_other_value v;

		if (!bpf_map_lookup_elem(c->bpf->other_fd, &k, &v)) {
			now[n] = (struct fa_other){ .family = k.family, .proto = k.proto };
			now[n].total.rx_bytes = v.bytes[FA_DIR_RX];
			now[n].total.tx_bytes = v.bytes[FA_DIR_TX];
			now[n].total.rx_calls = v.calls[FA_DIR_RX];
			now[n].total.tx_calls = v.calls[FA_DIR_TX];
			n++;
		}
		cur = k;
		prev = &cur;
	}
	fa_qsort(now, n, sizeof(now[0]), other_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct fa_other *p =
			fa_bsearch(&now[i], c->other, c->nother, sizeof(now[0]), other_cmp);

		if (p)
			fa_counts_sub(&now[i].delta, &now[i].total, &p->total);
		else
			now[i].delta = now[i].total; /* kinds appear once and never leave */
	}
	memcpy(c->other, now, n * sizeof(now[0]));
	c->nother = n;
	if (!n)
		return 0;
	snap->other = malloc(n * sizeof(now[0]));
	if (!snap->other)
		return -ENOMEM;
	memcpy(snap->other, now, n * sizeof(now[0]));
	snap->nother = n;
	return 0;
}

static int release_cmp_sock(const void *a, const void *b)
{
	const struct fa_release *x = a, *y = b;

	return x->sock != y->sock ? (x->sock < y->sock ? -1 : 1) : 0;
}

static int release_cmp(const void *a, const void *b)
{
	const struct fa_release *x = a, *y = b;

	if (x->sock != y->sock)
		return x->sock < y->sock ? -1 : 1;
	return (__s32)(y->seq - x->seq); /* the newest first */
}

/* The newest release of the socket at this address, since the last sample. */
static bool release_find(const struct release_set *r, __u64 sock, __u32 *seq)
{
	const struct fa_release key = { .sock = sock }, *e;

	if (!sock)
		return false;
	e = fa_bsearch(&key, r->v, r->n, sizeof(*r->v), release_cmp_sock);
	if (!e)
		return false;
	*seq = e->seq;
	return true;
}

/*
 * The sockets released since the last sample, popped from the kernel's queue (a pop per
 * socket, like the hand-back of the slot its flow leaves later): each is told once, and
 * its flows learn it in this sample (sock_released). Sorted by address, the newest
 * release of each kept (a newer socket at a freed one's address, released too). Only
 * for this sample: freed once its flows are read, so that it holds no memory between
 * samples, however many sockets one interval closed.
 */
static int read_releases(struct fa_collector *c)
{
	struct release_set *r = &c->released;
	size_t cap = 0, k = 0;
	struct fa_release ev;

	if (c->bpf->released_fd < 0)
		return 0;
	/* bounded: sockets released meanwhile wait for the next sample */
	for (size_t i = 0; i < 2 * (size_t)c->max_flows + 32768; i++) {
		if (bpf_map_lookup_and_delete_elem(c->bpf->released_fd, NULL, &ev))
			break; /* ENOENT: empty */
		if (r->n == cap) {
			struct fa_release *v =
				realloc(r->v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			r->v = v;
		}
		r->v[r->n++] = ev;
	}
	fa_qsort(r->v, r->n, sizeof(*r->v), release_cmp);
	for (size_t i = 0; i < r->n; i++)
		if (!k || r->v[k - 1].sock != r->v[i].sock)
			r->v[k++] = r->v[i];
	r->n = k;
	return 0;
}

static void releases_done(struct fa_collector *c)
{
	free(c->released.v);
	c->released = (struct release_set){};
}

static int read_kernel(struct fa_collector *c, __u64 *drops)
{
	int err = read_overflow(c);

	if (!err)
		err = read_stats(c, drops);
	if (!err && c->ring)
		err = read_packets(c, drops);
	if (!err)
		err = read_releases(c);
	return err;
}

static int pids_grow(struct pid_cache *pc, __u32 gen)
{
	size_t cap = pc->cap ? pc->cap * 2 : 256;
	__u64 *keys = calloc(cap, sizeof(*keys));
	bool *gone = calloc(cap, sizeof(*gone));

	if (!keys || !gone) {
		free(keys);
		free(gone);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pc->cap; i++) { /* this sample's answers move over */
		size_t h;

		if (pc->keys[i] >> 32 != gen)
			continue;
		for (h = fa_hash(&pc->keys[i], sizeof(__u64)) & (cap - 1); keys[h];
		     h = (h + 1) & (cap - 1))
			;
		keys[h] = pc->keys[i];
		gone[h] = pc->gone[i];
	}
	free(pc->keys);
	free(pc->gone);
	pc->keys = keys;
	pc->gone = gone;
	pc->cap = cap;
	return 0;
}

static bool kernel_says_gone(__u32 pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

/* Has the process exited? Asked of the kernel once per pid and sample. */
static bool pid_gone(struct fa_collector *c, __u32 pid)
{
	struct pid_cache *pc = &c->pids;
	__u64 key = (__u64)c->gen << 32 | pid;
	size_t h;

	if (pc->n * 2 >= pc->cap && pids_grow(pc, c->gen))
		return kernel_says_gone(pid); /* no memory: ask every time */
	for (h = fa_hash(&key, sizeof(key)) & (pc->cap - 1); pc->keys[h] >> 32 == c->gen;
	     h = (h + 1) & (pc->cap - 1))
		if (pc->keys[h] == key)
			return pc->gone[h];
	pc->keys[h] = key;
	pc->gone[h] = kernel_says_gone(pid);
	pc->n++;
	return pc->gone[h];
}

static __u32 gen_load(const struct fa_slot *s)
{
	return __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);
}

static void slot_hand_back(struct fa_collector *c, __u32 idx, __u32 gen)
{
	if (!bpf_map_update_elem(c->bpf->free_fd, NULL, &idx, BPF_ANY))
		c->slots[idx].handed_gen = gen;
}

/*
 * Takes a flow out of the kernel's index: its key leaves the index and its slot is
 * retired (gen turns even), so new events find a new slot; events that found this one
 * just before still add to it, and the slot is read once more a sample later before it
 * is handed back.
 */
static void flow_retire(struct fa_collector *c, __u32 idx)
{
	struct fa_slot *s = &c->bpf->slots[idx];

	bpf_map_delete_elem(c->bpf->index_fd, &s->key);
	__atomic_fetch_add(&s->gen, 1, __ATOMIC_RELEASE);
	c->slots[idx].retired_at = c->gen;
	c->nflows--;
}

/*
 * Has the socket whose bytes the slot counts been released (closed for good)? The kernel
 * tells each release once (read_releases); the slot remembers it. The socket is the
 * slot's if its address is the slot's sock and it was released after it took the slot
 * (a socket made later at a freed socket's address has a newer sock_seq). Bytes that
 * move on the flow in a later sample are another socket's, as a released one moves
 * nothing: the flow is open again (a second socket with the same key, which took the
 * slot over without the kernel rewriting sock: it had the slot cached too).
 */
static bool sock_released(struct fa_collector *c, struct slot_state *st, const struct fa_slot *s,
			  bool moved)
{
	__u64 sock = __atomic_load_n(&s->sock, __ATOMIC_ACQUIRE);
	__u32 seq;

	if (st->released_sock && (sock != st->released_sock || moved))
		st->released_sock = 0;
	if (!st->released_sock && release_find(&c->released, sock, &seq) &&
	    (__s32)(seq - __atomic_load_n(&s->sock_seq, __ATOMIC_RELAXED)) > 0)
		st->released_sock = sock; /* its last bytes may be in this sample */
	return st->released_sock != 0;
}

/*
 * Which flows leave, c->linger samples after the first that saw them done (and then
 * the read after their retirement): those of
 * processes gone; those of closed sockets (a long-lived server's connections would
 * otherwise stay until the table is nearly full, one per connection it ever had): a TCP
 * socket whose state is CLOSE and that moved nothing since, where the backend tells the
 * state; a socket released (UDP, whose flows nothing else ends; TCP on the kprobe
 * backend); and idle ones when the table is nearly full.
 */
static void flow_age(struct fa_collector *c, __u32 idx, const struct fa_slot *s, struct fa_flow *f,
		     bool moved)
{
	struct slot_state *st = &c->slots[idx];
	bool done;

	if (f->tuple.proto == FA_PROTO_TCP && c->bpf->health) {
		f->closed = f->tcp.state == FA_TCP_CLOSE;
		done = f->closed && !moved;
	} else {
		done = f->closed = sock_released(c, st, s, moved);
	}
	st->closed = f->closed;
	f->proc.exited = pid_gone(c, f->proc.pid);
	st->done_for = f->proc.exited || done ? st->done_for + 1 : 0;
	st->idle_for = moved ? 0 : st->idle_for + 1;
	/* A gone process moves nothing more, nor does a released socket. A TCP socket in
	 * CLOSE rarely does: should its owner still read what it had received (from
	 * FIN-WAIT-2 a socket is CLOSE while readable), a read just before the retirement is
	 * caught by the read after it, and a later one finds its cached slot retired and
	 * makes a new flow: no byte is lost. */
	if (st->done_for > c->linger)
		flow_retire(c, idx);
	else if (st->idle_for >= IDLE_EVICT_INTERVALS &&
		 (__u64)c->nflows * 10 >= (__u64)c->max_flows * 9)
		flow_retire(c, idx);
}

/* A flow's TCP health, read in place like its slot (the kernel zeroes it with the slot):
 * its counters' totals and deltas, its RTTs and state. Whether a counter moved. */
static bool sample_health(const struct fa_health *h, struct slot_state *st, struct fa_flow *f)
{
	struct fa_counts *t = &f->total;

	t->retrans_segs = __atomic_load_n(&h->retrans_segs, __ATOMIC_RELAXED);
	t->retrans_bytes = __atomic_load_n(&h->retrans_bytes, __ATOMIC_RELAXED);
	t->active_opens = __atomic_load_n(&h->active_opens, __ATOMIC_RELAXED);
	t->passive_opens = __atomic_load_n(&h->passive_opens, __ATOMIC_RELAXED);
	t->closes = __atomic_load_n(&h->closes, __ATOMIC_RELAXED);
	t->resets_sent = __atomic_load_n(&h->resets_sent, __ATOMIC_RELAXED);
	t->resets_received = __atomic_load_n(&h->resets_received, __ATOMIC_RELAXED);
	f->delta.retrans_segs = t->retrans_segs - st->hprev.retrans_segs;
	f->delta.retrans_bytes = t->retrans_bytes - st->hprev.retrans_bytes;
	f->delta.active_opens = t->active_opens - st->hprev.active_opens;
	f->delta.passive_opens = t->passive_opens - st->hprev.passive_opens;
	f->delta.closes = t->closes - st->hprev.closes;
	f->delta.resets_sent = t->resets_sent - st->hprev.resets_sent;
	f->delta.resets_received = t->resets_received - st->hprev.resets_received;
	st->hprev = *t;
	f->tcp.srtt_us = __atomic_load_n(&h->srtt_us, __ATOMIC_RELAXED);
	f->tcp.min_rtt_us = __atomic_load_n(&h->min_rtt_us, __ATOMIC_RELAXED);
	f->tcp.state = __atomic_load_n(&h->state, __ATOMIC_RELAXED);
	return f->delta.retrans_segs || f->delta.active_opens || f->delta.passive_opens ||
	       f->delta.closes || f->delta.resets_sent || f->delta.resets_received;
}

/*
 * One slot, read in place. A live slot (odd gen) is a flow; one with a new gen is a new
 * flow, whose identity (written before gen turned odd) is checked against a second
 * reading of gen. A retired one (even gen) is read once more a sample after its
 * retirement, for bytes added by events that found it just before, and then handed back
 * to the kernel's free queue. Returns whether it gave a row.
 */
static bool sample_slot(struct fa_collector *c, __u32 idx, struct fa_flow *f)
{
	const struct fa_slot *s = &c->bpf->slots[idx];
	struct slot_state *st = &c->slots[idx];
	__u32 gen = gen_load(s);
	__u64 cur[FA_DIR_MAX][2];
	bool moved = false, fresh = !st->gen;

	if (fresh) {
		if (!gen || gen == st->handed_gen)
			return false; /* never used, or free */
		if (!(gen & 1)) { /* retired unused by the kernel, never seen live */
			slot_hand_back(c, idx, gen);
			return false;
		}
		memset(st, 0, sizeof(*st));
		st->gen = gen;
		c->nflows++;
	} else if (gen != st->gen && !st->retired_at) {
		st->retired_at = c->gen; /* retired by the kernel: a lost race for its key */
		c->nflows--;
	}
	owner_ident(&f->proc, s->key.pid, s->uid, s->comm, s->cgroup_id);
	key_tuple(&s->key, &f->tuple);
	f->netns = s->key.netns;
	if (fresh && gen_load(s) != gen) {
		st->gen = 0; /* retired as we read (a lost race, no bytes): next time */
		c->nflows--;
		return false;
	}
	for (int d = 0; d < FA_DIR_MAX; d++) {
		cur[d][0] = __atomic_load_n(&s->bytes[d], __ATOMIC_RELAXED);
		cur[d][1] = __atomic_load_n(&s->calls[d], __ATOMIC_RELAXED);
		moved |= cur[d][0] != st->prev[d][0];
	}
	memset(&f->delta, 0, sizeof(f->delta));
	memset(&f->total, 0, sizeof(f->total));
	memset(&f->tcp, 0, sizeof(f->tcp));
	f->closed = st->closed;
	f->total.rx_bytes = cur[FA_DIR_RX][0];
	f->total.rx_calls = cur[FA_DIR_RX][1];
	f->total.tx_bytes = cur[FA_DIR_TX][0];
	f->total.tx_calls = cur[FA_DIR_TX][1];
	f->delta.rx_bytes = cur[FA_DIR_RX][0] - st->prev[FA_DIR_RX][0];
	f->delta.rx_calls = cur[FA_DIR_RX][1] - st->prev[FA_DIR_RX][1];
	f->delta.tx_bytes = cur[FA_DIR_TX][0] - st->prev[FA_DIR_TX][0];
	f->delta.tx_calls = cur[FA_DIR_TX][1] - st->prev[FA_DIR_TX][1];
	for (int d = 0; d < FA_DIR_MAX; d++) {
		st->prev[d][0] = cur[d][0];
		st->prev[d][1] = cur[d][1];
	}
	if (c->bpf->health)
		moved |= sample_health(&c->bpf->health[idx], st, f);
	if (st->retired_at) {
		f->proc.exited = pid_gone(c, f->proc.pid);
		if (c->gen > st->retired_at) { /* the read after retirement: shown, then gone */
			/* a live process's bytes stay in its totals (from the next snapshot
			 * on: this one has the row); out of memory, the slot waits a sample */
			if (!f->proc.exited && carry_add(c, f))
				return true;
			slot_hand_back(c, idx, gen_load(s));
			st->gen = 0;
		}
	} else {
		flow_age(c, idx, s, f, moved);
	}
	return true;
}

/*
 * snap->closed: what live processes' flows took out of the table, before this sample's
 * flows add to it. A process gone for as long as its flows linger takes its own along.
 */
static int carry_emit(struct fa_collector *c, struct fa_snapshot *snap)
{
	struct fa_indexed *t = &c->carry;
	struct carry *v = t->v;
	size_t k = 0;

	if (!t->n)
		return 0;
	snap->closed = malloc(t->n * sizeof(*snap->closed));
	if (!snap->closed)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		struct carry e = v[i];

		e.gone_for = pid_gone(c, e.row.proc.pid) ? e.gone_for + 1 : 0;
		if (e.gone_for > c->linger + 1)
			continue;
		e.row.proc.exited = e.gone_for > 0;
		snap->closed[snap->nclosed++] = e.row;
		v[k++] = e;
	}
	if (k != t->n) {
		t->n = k;
		carry_reindex(t);
	}
	return 0;
}

static int sample_flows(struct fa_collector *c, struct fa_snapshot *snap)
{
	size_t hw = *c->bpf->next_slot;

	if (hw > c->bpf->nslots)
		hw = c->bpf->nslots;
	snap->flows = malloc((hw ? hw : 1) * sizeof(*snap->flows));
	if (!snap->flows)
		return -ENOMEM;
	for (__u32 i = 0; i < hw; i++)
		if (sample_slot(c, i, &snap->flows[snap->nflows]))
			fa_counts_add(&snap->delta, &snap->flows[snap->nflows++].delta);
	return 0;
}

/*
 * Takes an overflow row out of the kernel's map. The value returned by the deletion is
 * final, so anything added since this interval's read still lands in this interval.
 */
static void overflow_evict(struct fa_collector *c, struct entry *e)
{
	struct fa_flow_value v;
	__u32 pid = e->kkey.pid;
	int fd = c->bpf->overflow_fd;

	if (!bpf_map_lookup_and_delete_elem(fd, &pid, &v) ||
	    (!bpf_map_lookup_elem(fd, &pid, &v) && !bpf_map_delete_elem(fd, &pid)))
		overflow_set_value(e, &v, false);
	e->remove = true;
}

/* Overflow rows and packet 5-tuples: which leave, their deltas, their count for the
 * snapshot's arrays. */
static void sample_rows(struct fa_collector *c, struct fa_snapshot *snap, size_t count[2])
{
	count[SRC_OVERFLOW] = count[SRC_PACKETS] = 0;
	for (size_t b = 0; b < c->nbuckets; b++)
		for (struct entry *e = c->buckets[b]; e; e = e->next) {
			if (e->src == SRC_OVERFLOW) {
				if (e->seen_gen != c->gen) { /* gone from the kernel map */
					e->remove = true;
					continue;
				}
				e->proc.exited = pid_gone(c, e->proc.pid);
				e->exited_for = e->proc.exited ? e->exited_for + 1 : 0;
				if (e->exited_for > c->linger)
					overflow_evict(c, e);
			}
			fa_counts_sub(&e->delta, &e->total, &e->prev);
			e->prev = e->total;
			fa_counts_add(&snap->delta, &e->delta);
			count[e->src]++;
		}
}

static void counts_add_packets(struct fa_counts *dst, const struct fa_counts *src)
{
	dst->rx_packets += src->rx_packets;
	dst->tx_packets += src->tx_packets;
	dst->rx_wire_bytes += src->rx_wire_bytes;
	dst->tx_wire_bytes += src->tx_wire_bytes;
}

/* The flow a packet 5-tuple belongs to: an open-addressing table of flow indexes by
 * 5-tuple, the lowest pid kept where several processes share one. */
struct tuple_index {
	__u32 *idx; /* flow index + 1; 0: empty */
	size_t mask;
};

static int tuple_index_build(struct tuple_index *ti, const struct fa_snapshot *snap)
{
	size_t cap = 64;

	while (cap < snap->nflows * 2)
		cap *= 2;
	ti->idx = calloc(cap, sizeof(*ti->idx));
	if (!ti->idx)
		return -ENOMEM;
	ti->mask = cap - 1;
	for (size_t i = 0; i < snap->nflows; i++) {
		const struct fa_flow *f = &snap->flows[i];
		size_t h = fa_hash(&f->tuple, sizeof(f->tuple)) & ti->mask;

		for (; ti->idx[h]; h = (h + 1) & ti->mask) {
			struct fa_flow *o = &snap->flows[ti->idx[h] - 1];

			if (!fa_tuple_cmp(&o->tuple, &f->tuple))
				break;
		}
		if (!ti->idx[h] || snap->flows[ti->idx[h] - 1].proc.pid > f->proc.pid)
			ti->idx[h] = i + 1;
	}
	return 0;
}

static struct fa_flow *tuple_index_find(const struct tuple_index *ti, struct fa_snapshot *snap,
					const struct fa_tuple *t)
{
	for (size_t h = fa_hash(t, sizeof(*t)) & ti->mask; ti->idx[h]; h = (h + 1) & ti->mask)
		if (!fa_tuple_cmp(&snap->flows[ti->idx[h] - 1].tuple, t))
			return &snap->flows[ti->idx[h] - 1];
	return NULL;
}

/*
 * Gives each packet 5-tuple's counts to the flow with the same 5-tuple (lowest pid); the
 * rest are unmatched rows. A flow's packet totals are rebuilt from the packet table every
 * interval, never summed across intervals.
 */
static int join_packets(struct fa_collector *c, struct fa_snapshot *snap)
{
	struct tuple_index ti = {};
	int err = tuple_index_build(&ti, snap);

	if (err)
		return err;
	for (size_t b = 0; b < c->nbuckets; b++)
		for (struct entry *e = c->buckets[b]; e; e = e->next) {
			struct fa_flow *f;
			struct fa_unmatched *u;

			if (e->src != SRC_PACKETS)
				continue;
			f = tuple_index_find(&ti, snap, &e->tuple);
			if (f) {
				counts_add_packets(&f->delta, &e->delta);
				counts_add_packets(&f->total, &e->total);
				continue;
			}
			u = &snap->unmatched[snap->nunmatched++];
			u->tuple = e->tuple;
			u->delta = e->delta;
			u->total = e->total;
		}
	free(ti.idx);
	return 0;
}

static int build_rows(struct fa_collector *c, struct fa_snapshot *snap, const size_t count[2])
{
	snap->overflow =
		calloc(count[SRC_OVERFLOW] ? count[SRC_OVERFLOW] : 1, sizeof(*snap->overflow));
	snap->unmatched =
		calloc(count[SRC_PACKETS] ? count[SRC_PACKETS] : 1, sizeof(*snap->unmatched));
	if (!snap->overflow || !snap->unmatched)
		return -ENOMEM;
	for (size_t b = 0; b < c->nbuckets; b++)
		for (struct entry *e = c->buckets[b]; e; e = e->next)
			if (e->src == SRC_OVERFLOW) {
				struct fa_overflow *o = &snap->overflow[snap->noverflow++];

				o->proc = e->proc;
				o->delta = e->delta;
				o->total = e->total;
			}
	return c->ring ? join_packets(c, snap) : 0;
}

/* The rows that leave: shown one last time in this snapshot, now dropped. */
static void sweep(struct fa_collector *c)
{
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct entry **pp = &c->buckets[b];

		while (*pp) {
			struct entry *e = *pp;

			if (e->remove) {
				*pp = e->next;
				free(e);
				c->nentries--;
			} else {
				pp = &e->next;
			}
		}
	}
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

/* Unattributed bytes are in no row, but in the totals. */
static void add_unattributed(struct fa_collector *c, struct fa_snapshot *snap)
{
	snap->delta.rx_bytes += snap->drops[FA_DROP_UNATTRIBUTED_RX_BYTES] -
				c->stats_prev[FA_STAT_UNATTRIBUTED_RX_BYTES];
	snap->delta.tx_bytes += snap->drops[FA_DROP_UNATTRIBUTED_TX_BYTES] -
				c->stats_prev[FA_STAT_UNATTRIBUTED_TX_BYTES];
	memcpy(c->stats_prev, snap->drops, sizeof(c->stats_prev));
	fa_counts_add(&c->grand, &snap->delta);
	snap->total = c->grand;
}

/* Adds id to the set of this sample's cgroup ids; true if it was not there. */
static bool idset_add(struct fa_collector *c, __u64 id, size_t *n)
{
	size_t mask = c->idset_cap - 1, i = fa_hash(&id, sizeof(id)) & mask;

	while (c->idset[i] && c->idset[i] != id)
		i = (i + 1) & mask;
	if (c->idset[i])
		return false;
	c->idset[i] = id;
	(*n)++;
	return true;
}

static int cgroup_info_cmp(const void *a, const void *b)
{
	const struct fa_cgroup_info *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* snap->cgroups: every cgroup id of a row, once, with its path and name. */
static int name_cgroups(struct fa_collector *c, struct fa_snapshot *snap)
{
	size_t rows = snap->nflows + snap->noverflow + snap->nclosed, cap = 64, n = 0, k = 0;

	while (cap < 2 * rows)
		cap *= 2;
	if (cap > c->idset_cap) {
		free(c->idset);
		c->idset = calloc(cap, sizeof(*c->idset));
		c->idset_cap = c->idset ? cap : 0;
		if (!c->idset)
			return -ENOMEM;
	} else {
		memset(c->idset, 0, c->idset_cap * sizeof(*c->idset));
	}
	for (size_t i = 0; i < snap->nflows; i++)
		if (snap->flows[i].proc.cgroup_id)
			idset_add(c, snap->flows[i].proc.cgroup_id, &n);
	for (size_t i = 0; i < snap->noverflow; i++)
		if (snap->overflow[i].proc.cgroup_id)
			idset_add(c, snap->overflow[i].proc.cgroup_id, &n);
	for (size_t i = 0; i < snap->nclosed; i++)
		if (snap->closed[i].proc.cgroup_id)
			idset_add(c, snap->closed[i].proc.cgroup_id, &n);
	if (!n)
		return 0;
	snap->cgroups = malloc(n * sizeof(*snap->cgroups));
	if (!snap->cgroups)
		return -ENOMEM;
	for (size_t i = 0; i < c->idset_cap; i++)
		if (c->idset[i])
			fa_cgroups_resolve(c->cgroups, c->idset[i], &snap->cgroups[k++]);
	snap->ncgroups = k;
	fa_qsort(snap->cgroups, k, sizeof(*snap->cgroups), cgroup_info_cmp);
	return 0;
}

int fa_collector_sample(struct fa_collector *c, bool final, struct fa_snapshot *snap)
{
	struct timespec now;
	size_t count[2];
	int err;

	memset(snap, 0, sizeof(*snap));
	c->gen++;
	c->pids.n = 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_REALTIME, &snap->ts);
	snap->interval_s = ts_diff(&now, &c->last);
	c->last = now;
	snap->backend = fa_backend_names[c->bpf->backend];
	snap->final = final;
	snap->packets = c->ring != NULL;
	snap->health = c->bpf->health != NULL;

	err = read_kernel(c, snap->drops);
	if (!err)
		err = read_other(c, snap);
	if (!err)
		err = carry_emit(c, snap);
	if (!err)
		err = sample_flows(c, snap);
	if (!err) {
		sample_rows(c, snap, count);
		add_unattributed(c, snap);
		err = build_rows(c, snap, count);
	}
	if (!err)
		err = fa_snapshot_aggregate(snap);
	if (!err)
		err = name_cgroups(c, snap);
	sweep(c);
	releases_done(c);
	if (err)
		fa_snapshot_free(snap);
	return err;
}

/* linger_s in samples of interval_s: the first sample after it, at least the next one */
void fa_collector_set_interval(struct fa_collector *c, double interval_s)
{
	double n = ceil(c->linger_s / interval_s - 1e-9);

	c->interval_s = interval_s;
	c->linger = n < 1 ? 1 : n > 1e6 ? 1000000 : (__u32)n;
}

struct fa_collector *fa_collector_new(const struct fa_bpf *bpf, struct fa_pktring *ring,
				      const struct fa_collector_opts *opts)
{
	struct fa_collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->bpf = bpf;
	c->ring = ring;
	c->ncpus = libbpf_num_possible_cpus();
	c->max_flows = bpf->max_flows;
	c->linger_s = opts->linger_s;
	fa_collector_set_interval(c, opts->interval_s);
	c->slots_len = ((size_t)bpf->nslots ? bpf->nslots : 1) * sizeof(*c->slots);
	c->slots = mmap(NULL, c->slots_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->slots == MAP_FAILED) {
		free(c);
		return NULL;
	}
	c->cgroups = fa_cgroups_new(opts->host_root);
	if (!c->cgroups) {
		munmap(c->slots, c->slots_len);
		free(c);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &c->last);
	if (c->ncpus <= 0 || table_grow(c)) {
		fa_collector_free(c);
		return NULL;
	}
	return c;
}

void fa_collector_free(struct fa_collector *c)
{
	if (!c)
		return;
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct entry *e = c->buckets[b], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(c->buckets);
	munmap(c->slots, c->slots_len);
	free(c->pids.keys);
	free(c->pids.gone);
	fa_cgroups_free(c->cgroups);
	free(c->idset);
	free(c->carry.v);
	free(c->carry.index);
	releases_done(c);
	free(c);
}
