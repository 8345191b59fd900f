// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "log.h"

/* Under table pressure, flows of live processes idle this many intervals are removed. */
#define IDLE_EVICT_INTERVALS 30

struct entry {
	struct entry *next;
	__u8 kind; /* FA_ROW_FLOW, FA_ROW_OVERFLOW, FA_ROW_UNMATCHED */
	bool remove; /* leaves the table once this interval's snapshot is built */
	bool joined; /* UNMATCHED: its packets went to a flow this interval */
	struct fa_flow_key kkey; /* the kernel map's key (a packet 5-tuple for UNMATCHED) */
	struct fa_row row; /* row.total holds the cumulative counters */
	struct fa_counts prev; /* cumulative counters at the previous sample */
	__u32 seen_gen;
	__u32 exited_for, idle_for;
};

struct fa_collector {
	const struct fa_bpf *bpf;
	struct fa_pktring *ring;
	struct entry **buckets;
	size_t nbuckets, nentries;
	__u32 gen;
	int ncpus;
	__u32 max_flows;
	struct timespec last;
	struct fa_counts grand; /* everything since start, removed rows included */
	__u64 stats_prev[FA_STAT_MAX];
};

static __u64 key_hash(__u8 kind, const struct fa_flow_key *k)
{
	const __u8 *p = (const __u8 *)k;
	__u64 h = 1469598103934665603ULL ^ kind;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static int table_grow(struct fa_collector *c)
{
	size_t n = c->nbuckets ? c->nbuckets * 2 : 1024;
	struct entry **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct entry *e = c->buckets[i], *next;

		for (; e; e = next) {
			size_t h = key_hash(e->kind, &e->kkey) & (n - 1);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
	return 0;
}

static bool addr_v4mapped(const __u8 *a)
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, prefix, sizeof(prefix));
}

static bool addr_zero(const __u8 *a)
{
	static const __u8 zero[FA_ADDR_LEN];

	return !memcmp(a, zero, sizeof(zero));
}

/* An IPv6 socket talking IPv4 (v4-mapped addresses) is shown, and joined, as IPv4. */
static void key_normalize(struct fa_flow_key *k)
{
	if (k->family != FA_FAMILY_IPV6 || !addr_v4mapped(k->laddr) ||
	    !(addr_v4mapped(k->raddr) || addr_zero(k->raddr)))
		return;
	k->family = FA_FAMILY_IPV4;
	memmove(k->laddr, k->laddr + 12, 4);
	memset(k->laddr + 4, 0, FA_ADDR_LEN - 4);
	memmove(k->raddr, k->raddr + 12, 4);
	memset(k->raddr + 4, 0, FA_ADDR_LEN - 4);
}

static struct entry *entry_get(struct fa_collector *c, __u8 kind, const struct fa_flow_key *k,
			       bool *created)
{
	struct entry *e;
	size_t h;

	*created = false;
	if (c->nentries >= c->nbuckets && table_grow(c))
		return NULL;
	h = key_hash(kind, k) & (c->nbuckets - 1);
	for (e = c->buckets[h]; e; e = e->next)
		if (e->kind == kind && !memcmp(&e->kkey, k, sizeof(*k)))
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->kind = kind;
	e->kkey = *k;
	e->row.key = *k;
	e->row.kind = kind;
	key_normalize(&e->row.key);
	e->next = c->buckets[h];
	c->buckets[h] = e;
	c->nentries++;
	*created = true;
	return e;
}

/* The kernel's cumulative counters of one flow or overflow row, into e->row.total. */
static void entry_set_value(struct entry *e, const struct fa_flow_value *v, bool created)
{
	if (created) {
		e->row.uid = v->uid;
		memcpy(e->row.comm, v->comm, FA_COMM_LEN);
		e->row.comm[FA_COMM_LEN] = '\0';
	}
	e->row.total.rx_bytes = v->bytes[FA_DIR_RX];
	e->row.total.tx_bytes = v->bytes[FA_DIR_TX];
	e->row.total.rx_calls = v->calls[FA_DIR_RX];
	e->row.total.tx_calls = v->calls[FA_DIR_TX];
}

static int read_kernel_map(struct fa_collector *c, int fd, __u8 kind)
{
	struct fa_flow_key key = {}, next;
	__u32 pid_key, pid_next;
	void *cur = NULL, *nxt = kind == FA_ROW_FLOW ? (void *)&next : (void *)&pid_next;
	struct fa_flow_value v;

	while (!bpf_map_get_next_key(fd, cur, nxt)) {
		struct fa_flow_key k = {};
		struct entry *e;
		bool created;

		cur = kind == FA_ROW_FLOW ? (void *)&key : (void *)&pid_key;
		memcpy(cur, nxt, kind == FA_ROW_FLOW ? sizeof(key) : sizeof(pid_key));
		if (bpf_map_lookup_elem(fd, cur, &v))
			continue; /* removed since: only we remove, so this does not happen */
		if (kind == FA_ROW_FLOW)
			k = key;
		else
			k.pid = pid_key;
		e = entry_get(c, kind, &k, &created);
		if (!e)
			return -ENOMEM;
		entry_set_value(e, &v, created);
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
		e = entry_get(c, FA_ROW_UNMATCHED, &k, &created);
		if (!e) {
			free(pe);
			return -ENOMEM;
		}
		e->row.total.rx_packets = pe[i].rx_packets;
		e->row.total.tx_packets = pe[i].tx_packets;
		e->row.total.rx_wire_bytes = pe[i].rx_wire_bytes;
		e->row.total.tx_wire_bytes = pe[i].tx_wire_bytes;
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

static bool counts_zero(const struct fa_counts *a)
{
	static const struct fa_counts zero;

	return !memcmp(a, &zero, sizeof(zero));
}

static bool pid_gone(__u32 pid)
{
	return kill(pid, 0) && errno == ESRCH;
}

/*
 * Takes an entry out of the kernel map. The value returned by the deletion is final, so
 * anything added since this interval's read still lands in this interval.
 */
static void entry_evict(struct fa_collector *c, struct entry *e)
{
	struct fa_flow_value v;
	__u32 pid = e->kkey.pid;
	int fd = e->kind == FA_ROW_FLOW ? c->bpf->flows_fd : c->bpf->overflow_fd;
	void *key = e->kind == FA_ROW_FLOW ? (void *)&e->kkey : (void *)&pid;

	if (!bpf_map_lookup_and_delete_elem(fd, key, &v) ||
	    (!bpf_map_lookup_elem(fd, key, &v) && !bpf_map_delete_elem(fd, key)))
		entry_set_value(e, &v, false);
	e->remove = true;
}

static int cmp_tuple(const struct fa_flow_key *a, const struct fa_flow_key *b)
{
	struct fa_flow_key x = *a, y = *b;

	x.pid = y.pid = 0;
	return memcmp(&x, &y, sizeof(x));
}

static int cmp_entry_tuple(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
	int c = cmp_tuple(&x->row.key, &y->row.key);

	return c ? c : (x->row.key.pid > y->row.key.pid) - (x->row.key.pid < y->row.key.pid);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

/* Gives each packet 5-tuple's counts to the flow with the same 5-tuple (lowest pid). */
static int join_packets(struct entry **all, size_t n)
{
	struct entry **flows = malloc((n ? n : 1) * sizeof(*flows));
	size_t nf = 0;

	if (!flows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (all[i]->kind == FA_ROW_FLOW)
			flows[nf++] = all[i];
	qsort(flows, nf, sizeof(*flows), cmp_entry_tuple);
	for (size_t i = 0; i < n; i++) {
		struct entry *p = all[i];
		size_t lo = 0, hi = nf;

		if (p->kind != FA_ROW_UNMATCHED)
			continue;
		while (lo < hi) { /* first flow whose tuple is >= the packet's */
			size_t mid = (lo + hi) / 2;

			if (cmp_tuple(&flows[mid]->row.key, &p->row.key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		p->joined = lo < nf && !cmp_tuple(&flows[lo]->row.key, &p->row.key);
		if (!p->joined)
			continue;
		struct fa_row *f = &flows[lo]->row;

		f->delta.rx_packets += p->row.delta.rx_packets;
		f->delta.tx_packets += p->row.delta.tx_packets;
		f->delta.rx_wire_bytes += p->row.delta.rx_wire_bytes;
		f->delta.tx_wire_bytes += p->row.delta.tx_wire_bytes;
		f->total.rx_packets += p->row.total.rx_packets;
		f->total.tx_packets += p->row.total.tx_packets;
		f->total.rx_wire_bytes += p->row.total.rx_wire_bytes;
		f->total.tx_wire_bytes += p->row.total.tx_wire_bytes;
	}
	free(flows);
	return 0;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

int fa_collector_sample(struct fa_collector *c, bool final, struct fa_snapshot *snap)
{
	struct entry **all = NULL;
	struct timespec now;
	__u32 *pids = NULL;
	size_t n = 0, nflows = 0, np = 0;
	__u64 live_flows = 0;
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

	err = read_kernel_map(c, c->bpf->flows_fd, FA_ROW_FLOW);
	if (!err)
		err = read_kernel_map(c, c->bpf->overflow_fd, FA_ROW_OVERFLOW);
	if (!err)
		err = read_stats(c, snap->drops);
	if (!err && c->ring)
		err = read_packets(c, snap->drops);
	if (err)
		return err;

	all = malloc((c->nentries ? c->nentries : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t b = 0; b < c->nbuckets; b++)
		for (struct entry *e = c->buckets[b]; e; e = e->next)
			all[n++] = e;

	for (size_t i = 0; i < n; i++)
		live_flows += all[i]->kind == FA_ROW_FLOW;
	for (size_t i = 0; i < n; i++) {
		struct entry *e = all[i];

		e->joined = false;
		if (e->kind == FA_ROW_UNMATCHED)
			continue;
		if (e->seen_gen != c->gen) { /* gone from the kernel map: nothing more to count */
			e->remove = true;
			continue;
		}
		e->row.exited = pid_gone(e->kkey.pid);
		e->exited_for = e->row.exited ? e->exited_for + 1 : 0;
		/* the process is gone, so nothing can race the deletion */
		if (e->exited_for > FA_EXITED_LINGER)
			entry_evict(c, e);
		else if (e->kind == FA_ROW_FLOW && e->idle_for >= IDLE_EVICT_INTERVALS &&
			 live_flows * 10 >= (__u64)c->max_flows * 9)
			entry_evict(c, e);
	}

	for (size_t i = 0; i < n; i++) {
		struct entry *e = all[i];

		if (e->kind != FA_ROW_UNMATCHED) { /* a flow's packets come from the join below */
			e->row.total.rx_packets = e->row.total.tx_packets = 0;
			e->row.total.rx_wire_bytes = e->row.total.tx_wire_bytes = 0;
		}
		fa_counts_sub(&e->row.delta, &e->row.total, &e->prev);
		e->prev = e->row.total;
		e->idle_for = counts_zero(&e->row.delta) ? e->idle_for + 1 : 0;
		fa_counts_add(&snap->delta, &e->row.delta);
	}
	/* unattributed bytes: in no row, but in the totals */
	snap->delta.rx_bytes += snap->drops[FA_DROP_UNATTRIBUTED_RX_BYTES] -
				c->stats_prev[FA_STAT_UNATTRIBUTED_RX_BYTES];
	snap->delta.tx_bytes += snap->drops[FA_DROP_UNATTRIBUTED_TX_BYTES] -
				c->stats_prev[FA_STAT_UNATTRIBUTED_TX_BYTES];
	memcpy(c->stats_prev, snap->drops, sizeof(c->stats_prev));
	fa_counts_add(&c->grand, &snap->delta);
	snap->total = c->grand;

	if (c->ring) {
		err = join_packets(all, n);
		if (err)
			goto out;
	}

	snap->rows = malloc((n ? n : 1) * sizeof(*snap->rows));
	pids = malloc((n ? n : 1) * sizeof(*pids));
	if (!snap->rows || !pids) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct entry *e = all[i];

		if (e->kind == FA_ROW_UNMATCHED && e->joined)
			continue;
		if (e->kind != FA_ROW_UNMATCHED)
			pids[np++] = e->row.key.pid;
		nflows += e->kind == FA_ROW_FLOW;
		snap->rows[snap->nrows++] = e->row;
	}
	qsort(pids, np, sizeof(*pids), cmp_u32);
	for (size_t i = 0; i < np; i++)
		snap->nprocs += i == 0 || pids[i] != pids[i - 1];
	snap->nflows = nflows;

	/* the rows that leave: shown one last time above, now dropped */
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
out:
	if (err)
		fa_snapshot_free(snap);
	free(pids);
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
	free(c);
}
