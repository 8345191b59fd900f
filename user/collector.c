// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One sample, in the steps fa_collector_sample() runs in order:
 *   read_kernel()     the kernel's cumulative counters and loss counters, the packet ring's
 *   age_and_evict()   which processes have exited (asked once per pid), which rows leave
 *   compute_deltas()  this interval = this reading - the previous one
 *   join_packets()    each packet 5-tuple's counts onto the flow with that 5-tuple
 *   build_snapshot()  distinct arrays of flows, overflow rows, processes, unmatched packets
 * then sweep() frees the entries that left.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "util.h"

/* Under table pressure, flows of live processes idle this many intervals are removed. */
#define IDLE_EVICT_INTERVALS 30

/* Which table an entry mirrors. */
enum entry_src {
	SRC_FLOW, /* a slot of the kernel's flow array */
	SRC_OVERFLOW, /* the kernel's per-process overflow map */
	SRC_PACKETS, /* the packet ring's 5-tuple table */
};

struct entry {
	struct entry *next;
	__u8 src; /* enum entry_src */
	bool remove; /* leaves the table once this interval's snapshot is built */
	bool retired; /* SRC_FLOW: its slot is retired; read once more, then handed back */
	bool matched; /* SRC_PACKETS: its packets went to a flow this interval */
	struct fa_flow_key kkey; /* the kernel map's key; for packets, the 5-tuple, pid 0 */
	struct fa_ident proc; /* SRC_FLOW, SRC_OVERFLOW */
	struct fa_tuple tuple; /* SRC_FLOW (normalized), SRC_PACKETS */
	struct fa_counts total; /* cumulative, as last read */
	struct fa_counts prev; /* cumulative at the previous sample */
	struct fa_counts delta; /* this interval, packets joined in */
	struct fa_counts joined; /* SRC_FLOW: packet totals joined onto it this interval */
	__u32 seen_gen;
	__u32 exited_for, idle_for;
	__u32 slot, slot_gen; /* SRC_FLOW: which slot, and its gen while this flow holds it */
	__u32 retired_at; /* SRC_FLOW: the sample that retired the slot */
};

/* What user space knows of one kernel slot. */
struct slot_state {
	struct entry *e; /* the flow that holds it, or NULL */
	__u32 handed_gen; /* its gen when last handed back to the free queue (0: never) */
};

struct fa_collector {
	const struct fa_bpf *bpf;
	struct fa_pktring *ring;
	struct entry **buckets; /* overflow rows and packet 5-tuples, by key */
	size_t nbuckets, nentries;
	struct slot_state *slots; /* flows, by slot index */
	size_t nslots_known; /* slots[] covers this many */
	size_t nflows; /* entries held in slots[] */
	__u32 gen;
	int ncpus;
	__u32 max_flows;
	struct timespec last;
	struct fa_counts grand; /* everything since start, removed rows included */
	__u64 stats_prev[FA_STAT_MAX];
};

static size_t entry_bucket(const struct fa_collector *c, __u8 src, const struct fa_flow_key *k)
{
	return (fa_hash(k, sizeof(*k)) ^ src) & (c->nbuckets - 1);
}

static int table_grow(struct fa_collector *c)
{
	size_t n = c->nbuckets ? c->nbuckets * 2 : 1024;
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

/* An entry's identity from the kernel's key: its 5-tuple as shown (v4-mapped as IPv4). */
static void entry_init(struct entry *e, __u8 src, const struct fa_flow_key *k)
{
	e->src = src;
	e->kkey = *k;
	e->proc.pid = k->pid;
	memcpy(e->tuple.laddr, k->laddr, FA_ADDR_LEN);
	memcpy(e->tuple.raddr, k->raddr, FA_ADDR_LEN);
	e->tuple.lport = k->lport;
	e->tuple.rport = k->rport;
	e->tuple.proto = k->proto;
	e->tuple.family = k->family;
	fa_tuple_normalize(&e->tuple);
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
	entry_init(e, src, k);
	e->next = c->buckets[h];
	c->buckets[h] = e;
	c->nentries++;
	*created = true;
	return e;
}

/* The kernel's cumulative counters of one flow or overflow row. */
static void entry_set_value(struct entry *e, const struct fa_flow_value *v, bool created)
{
	if (created) {
		e->proc.uid = v->uid;
		memcpy(e->proc.comm, v->comm, FA_COMM_LEN);
		e->proc.comm[FA_COMM_LEN] = '\0';
	}
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
		entry_set_value(e, &v, created);
		e->seen_gen = c->gen;
	}
	return 0;
}

static __u32 gen_load(const struct fa_slot *s)
{
	return __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);
}

static int slots_reserve(struct fa_collector *c, size_t n)
{
	size_t cap = c->nslots_known ? c->nslots_known : 1024;
	struct slot_state *v;

	if (n <= c->nslots_known)
		return 0;
	while (cap < n)
		cap *= 2;
	v = realloc(c->slots, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(v + c->nslots_known, 0, (cap - c->nslots_known) * sizeof(*v));
	c->slots = v;
	c->nslots_known = cap;
	return 0;
}

/* A flow seen in a slot for the first time: its identity, read between two equal gens. */
static struct entry *slot_flow_new(const struct fa_slot *s, __u32 idx, __u32 gen)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	entry_init(e, SRC_FLOW, &s->key);
	e->proc.uid = s->uid;
	memcpy(e->proc.comm, s->comm, FA_COMM_LEN);
	if (gen_load(s) != gen) { /* handed to another flow while we read: next time */
		free(e);
		return NULL;
	}
	e->slot = idx;
	e->slot_gen = gen;
	return e;
}

static void slot_read_counts(struct entry *e, const struct fa_slot *s)
{
	e->total.rx_bytes = __atomic_load_n(&s->bytes[FA_DIR_RX], __ATOMIC_RELAXED);
	e->total.tx_bytes = __atomic_load_n(&s->bytes[FA_DIR_TX], __ATOMIC_RELAXED);
	e->total.rx_calls = __atomic_load_n(&s->calls[FA_DIR_RX], __ATOMIC_RELAXED);
	e->total.tx_calls = __atomic_load_n(&s->calls[FA_DIR_TX], __ATOMIC_RELAXED);
}

/*
 * The flow slots, read in place (they are mapped into our memory). A live slot (odd gen)
 * is a flow; one with a new gen is a new flow. A retired one (even gen) is read once more
 * a sample after its retirement, for bytes added by events that found it just before,
 * and then handed back to the kernel's free queue.
 */
static int read_slots(struct fa_collector *c)
{
	size_t hw = *c->bpf->next_slot;
	int err;

	if (hw > c->bpf->nslots)
		hw = c->bpf->nslots;
	err = slots_reserve(c, hw);
	if (err)
		return err;
	for (__u32 i = 0; i < hw; i++) {
		const struct fa_slot *s = &c->bpf->slots[i];
		struct slot_state *st = &c->slots[i];
		__u32 gen = gen_load(s);
		struct entry *e = st->e;

		if (e && e->slot_gen != gen && !e->retired)
			e->retired = true; /* retired by the kernel: a lost race for its key */
		if (e) {
			slot_read_counts(e, s);
			e->seen_gen = c->gen;
			if (e->retired && !e->retired_at)
				e->retired_at = c->gen;
			continue;
		}
		if ((gen & 1) && gen != st->handed_gen) {
			e = slot_flow_new(s, i, gen);
			if (!e)
				continue;
			st->e = e;
			c->nflows++;
			slot_read_counts(e, s);
			e->seen_gen = c->gen;
		} else if (gen && !(gen & 1) && gen != st->handed_gen) {
			/* retired unused by the kernel, never seen live: hand it back */
			if (!bpf_map_update_elem(c->bpf->free_fd, NULL, &i, BPF_ANY))
				st->handed_gen = gen;
		}
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

static int read_kernel(struct fa_collector *c, __u64 *drops)
{
	int err = read_slots(c);

	if (!err)
		err = read_overflow(c);
	if (!err)
		err = read_stats(c, drops);
	if (!err && c->ring)
		err = read_packets(c, drops);
	return err;
}

static bool pid_gone(__u32 pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

/*
 * Takes an entry out of the kernel's tables. An overflow row: the value returned by the
 * deletion is final, so anything added since this interval's read still lands in this
 * interval. A flow: its key leaves the index and its slot is retired (gen turns even),
 * so new events find a new slot; events that found this one just before still add to
 * it, and the slot is read once more a sample later before it is handed back.
 */
static void entry_evict(struct fa_collector *c, struct entry *e)
{
	struct fa_flow_value v;
	__u32 pid = e->kkey.pid;
	int fd = c->bpf->overflow_fd;

	if (e->src == SRC_FLOW) {
		if (e->retired)
			return;
		bpf_map_delete_elem(c->bpf->index_fd, &e->kkey);
		__atomic_fetch_add(&c->bpf->slots[e->slot].gen, 1, __ATOMIC_RELEASE);
		e->retired = true;
		e->retired_at = c->gen;
		return;
	}
	if (!bpf_map_lookup_and_delete_elem(fd, &pid, &v) ||
	    (!bpf_map_lookup_elem(fd, &pid, &v) && !bpf_map_delete_elem(fd, &pid)))
		entry_set_value(e, &v, false);
	e->remove = true;
}

/* A retired slot, read a sample after its retirement: its flow leaves, the slot goes back. */
static void slot_hand_back(struct fa_collector *c, struct entry *e)
{
	struct slot_state *st = &c->slots[e->slot];
	__u32 gen = gen_load(&c->bpf->slots[e->slot]);

	e->remove = true;
	st->e = NULL;
	c->nflows--;
	if (!bpf_map_update_elem(c->bpf->free_fd, NULL, &e->slot, BPF_ANY))
		st->handed_gen = gen;
}

/* Process rows first, by pid; packet entries (pid 0) last. */
static int cmp_entry_pid(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
	bool xp = x->src == SRC_PACKETS, yp = y->src == SRC_PACKETS;

	if (xp != yp)
		return xp - yp;
	return (x->proc.pid > y->proc.pid) - (x->proc.pid < y->proc.pid);
}

/* all[] sorted by cmp_entry_pid: whether a process is gone is asked once per pid. */
static void age_and_evict(struct fa_collector *c, struct entry **all, size_t n)
{
	__u64 live_flows = 0;
	bool gone = false, asked = false;
	__u32 asked_pid = 0;

	for (size_t i = 0; i < n; i++)
		live_flows += all[i]->src == SRC_FLOW && !all[i]->retired;
	for (size_t i = 0; i < n; i++) {
		struct entry *e = all[i];

		e->matched = false;
		memset(&e->joined, 0, sizeof(e->joined));
		if (e->src == SRC_PACKETS)
			continue;
		if (e->seen_gen != c->gen) { /* gone from the kernel map: nothing more to count */
			e->remove = true;
			continue;
		}
		if (e->retired) { /* read once more a sample after retirement: now it goes */
			if (c->gen > e->retired_at)
				slot_hand_back(c, e);
			continue;
		}
		if (!asked || asked_pid != e->proc.pid) { /* the first entry of this pid */
			gone = pid_gone(e->proc.pid);
			asked = true;
			asked_pid = e->proc.pid;
		}
		e->proc.exited = gone;
		e->exited_for = gone ? e->exited_for + 1 : 0;
		/* the process is gone, so nothing can race the deletion */
		if (e->exited_for > FA_EXITED_LINGER)
			entry_evict(c, e);
		else if (e->src == SRC_FLOW && e->idle_for >= IDLE_EVICT_INTERVALS &&
			 live_flows * 10 >= (__u64)c->max_flows * 9)
			entry_evict(c, e);
	}
}

static bool counts_zero(const struct fa_counts *a)
{
	static const struct fa_counts zero;

	return !memcmp(a, &zero, sizeof(zero));
}

static void compute_deltas(struct fa_collector *c, struct entry **all, size_t n,
			   struct fa_snapshot *snap)
{
	for (size_t i = 0; i < n; i++) {
		struct entry *e = all[i];

		fa_counts_sub(&e->delta, &e->total, &e->prev);
		e->prev = e->total;
		e->idle_for = counts_zero(&e->delta) ? e->idle_for + 1 : 0;
		fa_counts_add(&snap->delta, &e->delta);
	}
	/* unattributed bytes: in no row, but in the totals */
	snap->delta.rx_bytes += snap->drops[FA_DROP_UNATTRIBUTED_RX_BYTES] -
				c->stats_prev[FA_STAT_UNATTRIBUTED_RX_BYTES];
	snap->delta.tx_bytes += snap->drops[FA_DROP_UNATTRIBUTED_TX_BYTES] -
				c->stats_prev[FA_STAT_UNATTRIBUTED_TX_BYTES];
	memcpy(c->stats_prev, snap->drops, sizeof(c->stats_prev));
	fa_counts_add(&c->grand, &snap->delta);
	snap->total = c->grand;
}

/* By 5-tuple, then pid */
static int cmp_entry_tuple(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
	int c = fa_tuple_cmp(&x->tuple, &y->tuple);

	return c ? c : (x->proc.pid > y->proc.pid) - (x->proc.pid < y->proc.pid);
}

static void counts_add_packets(struct fa_counts *dst, const struct fa_counts *src)
{
	dst->rx_packets += src->rx_packets;
	dst->tx_packets += src->tx_packets;
	dst->rx_wire_bytes += src->rx_wire_bytes;
	dst->tx_wire_bytes += src->tx_wire_bytes;
}

/*
 * Gives each packet 5-tuple's counts to the flow with the same 5-tuple (lowest pid). A
 * flow's packet totals are rebuilt from the packet table every interval, never summed
 * across intervals.
 */
static int join_packets(struct entry **all, size_t n)
{
	struct entry **flows = malloc((n ? n : 1) * sizeof(*flows));
	size_t nf = 0;

	if (!flows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (all[i]->src == SRC_FLOW)
			flows[nf++] = all[i];
	qsort(flows, nf, sizeof(*flows), cmp_entry_tuple);
	for (size_t i = 0; i < n; i++) {
		struct entry *p = all[i];
		size_t lo = 0, hi = nf;

		if (p->src != SRC_PACKETS)
			continue;
		while (lo < hi) { /* first flow whose tuple is >= the packet's */
			size_t mid = (lo + hi) / 2;

			if (fa_tuple_cmp(&flows[mid]->tuple, &p->tuple) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		p->matched = lo < nf && !fa_tuple_cmp(&flows[lo]->tuple, &p->tuple);
		if (!p->matched)
			continue;
		counts_add_packets(&flows[lo]->delta, &p->delta);
		counts_add_packets(&flows[lo]->joined, &p->total);
	}
	free(flows);
	return 0;
}

/* Counts of each kind of entry, to size the snapshot's arrays. */
static void count_sources(struct entry **all, size_t n, size_t count[3])
{
	count[SRC_FLOW] = count[SRC_OVERFLOW] = count[SRC_PACKETS] = 0;
	for (size_t i = 0; i < n; i++)
		count[all[i]->src]++;
}

static int build_snapshot(struct entry **all, size_t n, struct fa_snapshot *snap)
{
	size_t count[3];

	count_sources(all, n, count);
	snap->flows = calloc(count[SRC_FLOW] ? count[SRC_FLOW] : 1, sizeof(*snap->flows));
	snap->overflow =
		calloc(count[SRC_OVERFLOW] ? count[SRC_OVERFLOW] : 1, sizeof(*snap->overflow));
	snap->unmatched =
		calloc(count[SRC_PACKETS] ? count[SRC_PACKETS] : 1, sizeof(*snap->unmatched));
	if (!snap->flows || !snap->overflow || !snap->unmatched)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = all[i];

		switch (e->src) {
		case SRC_FLOW: {
			struct fa_flow *f = &snap->flows[snap->nflows++];

			f->proc = e->proc;
			f->tuple = e->tuple;
			f->delta = e->delta;
			f->total = e->total;
			counts_add_packets(&f->total, &e->joined);
			break;
		}
		case SRC_OVERFLOW: {
			struct fa_overflow *o = &snap->overflow[snap->noverflow++];

			o->proc = e->proc;
			o->delta = e->delta;
			o->total = e->total;
			break;
		}
		case SRC_PACKETS:
			if (!e->matched) {
				struct fa_unmatched *u = &snap->unmatched[snap->nunmatched++];

				u->tuple = e->tuple;
				u->delta = e->delta;
				u->total = e->total;
			}
			break;
		}
	}
	return fa_snapshot_aggregate(snap);
}

/* The entries that leave: shown one last time in this snapshot, now dropped. */
static void sweep(struct fa_collector *c, struct entry **all, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (all[i]->src == SRC_FLOW && all[i]->remove)
			free(all[i]);
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

int fa_collector_sample(struct fa_collector *c, bool final, struct fa_snapshot *snap)
{
	struct entry **all = NULL;
	struct timespec now;
	size_t n = 0;
	int err;

	memset(snap, 0, sizeof(*snap));
	c->gen++;
	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_REALTIME, &snap->ts);
	snap->interval_s = ts_diff(&now, &c->last);
	c->last = now;
	snap->backend = fa_backend_names[c->bpf->backend];
	snap->final = final;
	snap->packets = c->ring != NULL;

	err = read_kernel(c, snap->drops);
	if (err)
		return err;
	all = malloc((c->nentries + c->nflows + 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t b = 0; b < c->nbuckets; b++)
		for (struct entry *e = c->buckets[b]; e; e = e->next)
			all[n++] = e;
	for (size_t i = 0; i < c->nslots_known; i++)
		if (c->slots[i].e)
			all[n++] = c->slots[i].e;
	qsort(all, n, sizeof(*all), cmp_entry_pid);

	age_and_evict(c, all, n);
	compute_deltas(c, all, n, snap);
	err = c->ring ? join_packets(all, n) : 0;
	if (!err)
		err = build_snapshot(all, n, snap);
	if (!err)
		sweep(c, all, n);
	else
		fa_snapshot_free(snap);
	free(all);
	return err;
}

struct fa_collector *fa_collector_new(const struct fa_bpf *bpf, struct fa_pktring *ring)
{
	struct fa_collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->bpf = bpf;
	c->ring = ring;
	c->ncpus = libbpf_num_possible_cpus();
	c->max_flows = bpf->max_flows;
	clock_gettime(CLOCK_MONOTONIC, &c->last);
	if (c->ncpus <= 0 || table_grow(c)) {
		free(c);
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
	for (size_t i = 0; i < c->nslots_known; i++)
		free(c->slots[i].e);
	free(c->slots);
	free(c);
}
