// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A snapshot as a Prometheus /metrics page (text exposition format 0.0.4). Names, labels
 * and the reasoning behind them are in docs/prometheus.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "prom_render.h"
#include "view.h"
#include "util.h"

#ifndef FA_VERSION
#define FA_VERSION "unknown"
#endif

/*
 * One exported label set of one family and its counters. A series adds up rows: a
 * process's flows of one protocol, say. Flows come and go (and their totals with them),
 * so the exported value is carried forward with each interval's delta, never below the
 * rows' own totals: it only ever grows while the series exists. A series of the default
 * process family (by name, container and unit) exists for the life of the endpoint: its
 * processes come and go, the sum they make must not drop.
 */
struct series {
	char *labels; /* `pid="1",comm="x"`: the identity, sorted on */
	struct fa_counts delta, total; /* this snapshot's rows added up */
	struct fa_counts value; /* exported */
};

struct series_set {
	struct series *v;
	size_t n;
};

/*
 * The labels of the default process family that untrusted parties choose: anyone can run
 * a process or a container under a new name, and each new name would be a new series
 * forever. So each takes at most max_names distinct values; later ones fold into
 * "(other)". "" (no container, no unit) is not a name and is never folded.
 */
enum name_label { NAME_COMM, NAME_CONTAINER, NAME_SERVICE, NAME_MAX };

static const char *const name_label_names[NAME_MAX] = { "comm", "container", "service" };

#define FOLDED_VALUE "(other)"
/* fingerprints of folded values kept per label (8 MiB): the gauge saturates there */
#define FOLDED_MAX (1U << 20)

struct name_bound {
	char **admitted; /* label values as exported, sorted; they stay admitted */
	size_t nadmitted;
	__u64 *folded; /* FNV-1a of each distinct value refused, sorted */
	size_t nfolded;
};

/*
 * The RTT histogram per process series (its labels, proto="tcp"): each interval, every
 * TCP flow that moved (bytes or an event) and has an RTT sample is one observation of
 * its smoothed RTT. Buckets in microseconds; docs/prometheus.md lists them.
 */
static const __u32 rtt_le_us[] = { 50,	  100,	 250,	 500,	 1000,	 2500,	  5000,	  10000,
				   25000, 50000, 100000, 250000, 500000, 1000000, 2500000 };
#define NRTT (sizeof(rtt_le_us) / sizeof(rtt_le_us[0]))

struct rtt_obs {
	__u64 n[NRTT + 1]; /* per bucket (not cumulative); the last: above every bound */
	__u64 count, sum_us;
};

struct hist {
	char *labels;
	struct rtt_obs obs; /* cumulative since the endpoint started */
	bool seen; /* its process has rows now */
};

struct hist_set {
	struct hist *v; /* sorted by labels */
	size_t n;
};

struct fa_prom_state {
	struct series_set procs, flows, unmatched;
	struct name_bound names[NAME_MAX];
	struct hist_set rtt;
};

char *fa_prom_escape_label(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	if (!dstlen)
		return dst;
	for (; *src; src++) {
		char c = *src;
		bool esc = c == '\\' || c == '"' || c == '\n';

		if (o + 1 + esc >= dstlen)
			break; /* never split an escape */
		if (esc)
			dst[o++] = '\\';
		dst[o++] = c == '\n' ? 'n' : c;
	}
	dst[o] = '\0';
	return dst;
}

/* comm is untrusted raw bytes: printable ASCII first, then the exposition's quoting. */
static char *comm_label(char *dst, size_t dstlen, const struct fa_ident *p)
{
	char comm[FA_ESCAPED_COMM_LEN];

	fa_escape(comm, sizeof(comm), p->comm, sizeof(p->comm));
	return fa_prom_escape_label(dst, dstlen, comm);
}

/* Overflow rows carry only a pid: their protocol was never recorded. */
static const char *const part_label[FA_PART_MAX] = {
	[FA_PART_TCP] = "tcp",
	[FA_PART_UDP] = "udp",
	[FA_PART_OVERFLOW] = "unknown",
};

/* A container or unit name escaped in full: 255 raw bytes, each at most "\\xNN". */
#define NAME_ESCAPED_LEN (FA_RT_NAME_LEN * 4 + 1)
_Static_assert(FA_CG_UNIT_LEN <= FA_RT_NAME_LEN, "unit names escape into NAME_ESCAPED_LEN");
/* ...and the exposition's quoting on top, which at most doubles it */
#define NAME_LABEL_LEN (2 * NAME_ESCAPED_LEN)
#define COMM_LABEL_LEN (2 * FA_ESCAPED_COMM_LEN)
/* The longest label set, a flow's, never cut: two names, a comm, and 512 bytes for the
 * label names, numbers and addresses (under 300 of them). */
#define LABELS_LEN (2 * NAME_LABEL_LEN + COMM_LABEL_LEN + 512)

/* Untrusted text (a container names itself): printable ASCII, then the label quoting. */
static char *name_label(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	char esc[NAME_ESCAPED_LEN];

	fa_escape(esc, sizeof(esc), src, strnlen(src, srclen));
	return fa_prom_escape_label(dst, dstlen, esc);
}

/* The container and the systemd unit that ran a row's process; "" where unknown. */
static void cgroup_labels(char container[NAME_LABEL_LEN], char service[NAME_LABEL_LEN],
			  const struct fa_snapshot *snap, __u64 cgroup_id)
{
	const struct fa_cgroup_info *cg = fa_snapshot_cgroup(snap, cgroup_id);

	container[0] = service[0] = '\0';
	if (!cg || !cg->known || cg->name.kind == FA_CG_NONE)
		return;
	if (cg->name.kind == FA_CG_SERVICE)
		name_label(service, NAME_LABEL_LEN, cg->name.unit, sizeof(cg->name.unit));
	else
		name_label(container, NAME_LABEL_LEN, cg->container, sizeof(cg->container));
}

static void labels_flow(char *buf, const struct fa_snapshot *snap, const struct fa_flow *f)
{
	char comm[COMM_LABEL_LEN], ctr[NAME_LABEL_LEN], svc[NAME_LABEL_LEN];
	char l[FA_FMT_ENDPOINT_LEN], rem[FA_FMT_ENDPOINT_LEN];
	const struct fa_tuple *t = &f->tuple;

	fa_fmt_addr(l, sizeof(l), t->family, t->laddr);
	fa_fmt_addr(rem, sizeof(rem), t->family, t->raddr);
	cgroup_labels(ctr, svc, snap, f->proc.cgroup_id);
	snprintf(buf, LABELS_LEN,
		 "pid=\"%u\",uid=\"%u\",comm=\"%s\",container=\"%s\",service=\"%s\","
		 "proto=\"%s\",family=\"%s\",laddr=\"%s\",lport=\"%u\",raddr=\"%s\",rport=\"%u\"",
		 f->proc.pid, f->proc.uid, comm_label(comm, sizeof(comm), &f->proc), ctr, svc,
		 part_label[fa_part_of(t->proto)], fa_family_name(t->family), l, t->lport, rem,
		 t->rport);
}

static void labels_unmatched(char *buf, const struct fa_unmatched *u)
{
	snprintf(buf, LABELS_LEN, "proto=\"%s\"", part_label[fa_part_of(u->tuple.proto)]);
}

static int cmp_series(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->labels, ((const struct series *)b)->labels);
}

static void set_free(struct series_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].labels);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Adds one row's counts as a series; rows with the same labels merge in set_finish(). */
static int set_add(struct series_set *s, size_t cap, const char *labels,
		   const struct fa_counts *delta, const struct fa_counts *total)
{
	struct series *v;

	if (s->n == cap)
		return -ENOMEM; /* sized by the caller: cannot happen */
	v = &s->v[s->n];
	v->labels = strdup(labels);
	if (!v->labels)
		return -ENOMEM;
	v->delta = *delta;
	v->total = *total;
	memset(&v->value, 0, sizeof(v->value));
	s->n++;
	return 0;
}

/* Sorted by labels, equal label sets added up. */
static void set_finish(struct series_set *s)
{
	size_t n = 0;

	fa_qsort(s->v, s->n, sizeof(*s->v), cmp_series);
	for (size_t i = 0; i < s->n; i++) {
		if (n && !strcmp(s->v[n - 1].labels, s->v[i].labels)) {
			fa_counts_add(&s->v[n - 1].delta, &s->v[i].delta);
			fa_counts_add(&s->v[n - 1].total, &s->v[i].total);
			free(s->v[i].labels);
			continue;
		}
		s->v[n++] = s->v[i];
	}
	s->n = n;
}

static int set_alloc(struct series_set *s, size_t cap)
{
	s->n = 0;
	s->v = calloc(cap ? cap : 1, sizeof(*s->v));
	return s->v ? 0 : -ENOMEM;
}

/*
 * The rows of the process family before their labels are made: the snapshot's flow and
 * overflow rows added up by what labels them (name, cgroup, protocol part, and the
 * process with --prometheus-pids), so 100k flows of a few processes make a few label
 * strings, not 100k. Label values escaped.
 */
struct proc_key {
	__u64 cgroup_id;
	__u32 pid, uid; /* 0 unless pids */
	char comm[FA_COMM_LEN + 1];
	__u8 part;
	__u8 pad[7]; /* zeroed: the key is hashed and compared whole */
};

struct proc_row {
	struct proc_key key;
	const struct fa_ident *id; /* the first row's */
	struct fa_counts delta, total;
	struct rtt_obs rtt; /* this interval's, TCP rows */
	char *v[NAME_MAX];
};

static void rtt_observe(struct rtt_obs *o, __u32 us)
{
	size_t b = 0;

	while (b < NRTT && us > rtt_le_us[b])
		b++;
	o->n[b]++;
	o->count++;
	o->sum_us += us;
}

static void proc_rows_free(struct proc_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int l = 0; l < NAME_MAX; l++)
			free(rows[i].v[l]);
	}
	free(rows);
}

static __u64 proc_row_hash(const void *rows, size_t i)
{
	const struct proc_key *k = &((const struct proc_row *)rows)[i].key;

	return fa_hash(k, sizeof(*k));
}

/* Adds a flow or overflow row to the row of its labels. -ENOMEM. */
static int proc_row_add(struct fa_indexed *t, const struct fa_ident *id, enum fa_part part,
			const struct fa_counts *delta, const struct fa_counts *total, bool pids,
			__u32 srtt_us)
{
	struct proc_key k;
	struct proc_row *rows, *r;
	size_t h;

	memset(&k, 0, sizeof(k));
	k.cgroup_id = id->cgroup_id;
	k.pid = pids ? id->pid : 0;
	k.uid = pids ? id->uid : 0;
	memcpy(k.comm, id->comm, sizeof(k.comm));
	k.part = part;
	if (t->n == t->cap && fa_indexed_grow(t, sizeof(*rows), proc_row_hash))
		return -ENOMEM;
	rows = t->v;
	for (h = fa_hash(&k, sizeof(k)) & t->mask; t->index[h]; h = (h + 1) & t->mask)
		if (!memcmp(&rows[t->index[h] - 1].key, &k, sizeof(k)))
			break;
	if (t->index[h]) {
		r = &rows[t->index[h] - 1];
	} else {
		r = &rows[t->n];
		memset(r, 0, sizeof(*r));
		r->key = k;
		r->id = id;
		t->index[h] = ++t->n;
	}
	fa_counts_add(&r->delta, delta);
	fa_counts_add(&r->total, total);
	if (srtt_us)
		rtt_observe(&r->rtt, srtt_us);
	return 0;
}

/*
 * Each flow and overflow row by its own cgroup, not snap->procs: a process that moved
 * between cgroups has rows in both, and each row's bytes belong to the cgroup it was
 * seen in. NULL on ENOMEM.
 */
static struct proc_row *proc_rows(const struct fa_snapshot *snap, bool pids, size_t *n)
{
	struct fa_indexed t = {};
	struct proc_row *rows;
	int err = 0;

	for (size_t i = 0; i < snap->nflows && !err; i++) {
		const struct fa_flow *f = &snap->flows[i];

		bool rtt = snap->health && f->tuple.proto == FA_PROTO_TCP &&
			   fa_counts_moved(&f->delta);

		err = proc_row_add(&t, &f->proc, fa_part_of(f->tuple.proto), &f->delta, &f->total,
				   pids, rtt ? f->tcp.srtt_us : 0);
	}
	for (size_t i = 0; i < snap->noverflow && !err; i++) {
		const struct fa_overflow *o = &snap->overflow[i];

		err = proc_row_add(&t, &o->proc, FA_PART_OVERFLOW, &o->delta, &o->total, pids, 0);
	}
	free(t.index);
	rows = t.v ? t.v : calloc(1, sizeof(*rows));
	*n = t.n;
	for (size_t i = 0; i < t.n && !err; i++) {
		struct proc_row *r = &rows[i];
		char comm[COMM_LABEL_LEN], ctr[NAME_LABEL_LEN], svc[NAME_LABEL_LEN];

		cgroup_labels(ctr, svc, snap, r->key.cgroup_id);
		r->v[NAME_COMM] = strdup(comm_label(comm, sizeof(comm), r->id));
		r->v[NAME_CONTAINER] = strdup(ctr);
		r->v[NAME_SERVICE] = strdup(svc);
		if (!r->v[NAME_COMM] || !r->v[NAME_CONTAINER] || !r->v[NAME_SERVICE])
			err = -ENOMEM;
	}
	if (err || !rows) {
		if (rows)
			proc_rows_free(rows, t.n);
		return NULL;
	}
	return rows;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static bool name_admitted(const struct name_bound *b, const char *v)
{
	return !*v || fa_bsearch(&v, b->admitted, b->nadmitted, sizeof(*b->admitted), cmp_str);
}

/*
 * Admits this snapshot's new values of label l while fewer than max are, in sorted order
 * so the same snapshots always admit the same names; counts the rest as folded. A value
 * admitted stays admitted, even if this render fails later: it would have been anyway.
 */
static int names_admit(struct name_bound *b, struct proc_row *rows, size_t n, int l, unsigned max)
{
	const char **fresh = calloc(n + 1, sizeof(*fresh));
	size_t nfresh = 0, u = 0, nadmit, nfold, before = b->nadmitted;
	char **a = NULL;
	__u64 *fp = NULL;
	int err = -ENOMEM;

	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!name_admitted(b, rows[i].v[l]))
			fresh[nfresh++] = rows[i].v[l];
	}
	fa_qsort(fresh, nfresh, sizeof(*fresh), cmp_str);
	for (size_t i = 0; i < nfresh; i++) {
		if (!u || strcmp(fresh[u - 1], fresh[i]))
			fresh[u++] = fresh[i];
	}
	nfresh = u;
	/* in batches, sorted once each: a snapshot can bring thousands of new names */
	nadmit = b->nadmitted < max ? max - b->nadmitted : 0;
	nadmit = nadmit < nfresh ? nadmit : nfresh;
	nfold = nfresh - nadmit;
	a = realloc(b->admitted, (b->nadmitted + nadmit + 1) * sizeof(*a));
	if (!a)
		goto out;
	b->admitted = a;
	fp = realloc(b->folded, (b->nfolded + nfold + 1) * sizeof(*fp));
	if (!fp)
		goto out;
	b->folded = fp;
	for (size_t i = 0; i < nadmit; i++) {
		a[b->nadmitted] = strdup(fresh[i]);
		if (!a[b->nadmitted])
			break;
		b->nadmitted++;
	}
	fa_qsort(a, b->nadmitted, sizeof(*a), cmp_str);
	if (b->nadmitted != before + nadmit)
		goto out; /* a strdup failed */
	for (size_t i = nadmit, n0 = b->nfolded; i < nfresh && b->nfolded < FOLDED_MAX; i++) {
		__u64 h = fa_hash(fresh[i], strlen(fresh[i]));

		if (!fa_bsearch(&h, fp, n0, sizeof(h), cmp_u64))
			fp[b->nfolded++] = h;
	}
	fa_qsort(fp, b->nfolded, sizeof(*fp), cmp_u64);
	u = 0;
	for (size_t i = 0; i < b->nfolded; i++) {
		if (!u || fp[u - 1] != fp[i])
			fp[u++] = fp[i];
	}
	b->nfolded = u;
	err = 0;
out:
	free(fresh);
	return err;
}

static void put_family(FILE *f, const char *name, const char *type, const char *help);

static int cmp_hist(const void *a, const void *b)
{
	return strcmp(((const struct hist *)a)->labels, ((const struct hist *)b)->labels);
}

/* A TCP process row's observations into the histogram of its labels (made if new; kept
 * sorted by rtt_finish). -ENOMEM. */
static int rtt_add(struct hist_set *hs, const char *labels, const struct rtt_obs *o)
{
	struct hist key = { .labels = (char *)labels }, *h, *v;

	h = fa_bsearch(&key, hs->v, hs->n, sizeof(*hs->v), cmp_hist);
	if (!h) {
		for (size_t i = 0; i < hs->n && !h; i++) /* added this render, not yet sorted */
			if (!strcmp(hs->v[i].labels, labels))
				h = &hs->v[i];
	}
	if (!h) {
		v = realloc(hs->v, (hs->n + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		hs->v = v;
		h = &v[hs->n];
		memset(h, 0, sizeof(*h));
		h->labels = strdup(labels);
		if (!h->labels)
			return -ENOMEM;
		hs->n++;
	}
	for (size_t b = 0; b <= NRTT; b++)
		h->obs.n[b] += o->n[b];
	h->obs.count += o->count;
	h->obs.sum_us += o->sum_us;
	h->seen = true;
	return 0;
}

/* Sorted again; with --prometheus-pids, the histograms of processes without rows go (as
 * their series do); by name they stay, bounded like the names. */
static void rtt_finish(struct hist_set *hs, bool pids)
{
	size_t k = 0;

	for (size_t i = 0; i < hs->n; i++) {
		if (pids && !hs->v[i].seen) {
			free(hs->v[i].labels);
			continue;
		}
		hs->v[i].seen = false;
		hs->v[k++] = hs->v[i];
	}
	hs->n = k;
	if (k)
		fa_qsort(hs->v, k, sizeof(*hs->v), cmp_hist);
}

static void put_rtt(FILE *f, const struct fa_prom_state *st)
{
	const char *name = "flowacct_process_rtt_seconds";

	put_family(f, name, "histogram",
		   "Smoothed round-trip time of TCP flows, one observation per flow and interval "
		   "in which it moved, by process name, container, systemd unit.");
	for (size_t i = 0; i < st->rtt.n; i++) {
		const struct hist *h = &st->rtt.v[i];
		__u64 cum = 0;

		for (size_t b = 0; b < NRTT; b++) {
			cum += h->obs.n[b];
			fprintf(f, "%s_bucket{%s,le=\"%g\"} %llu\n", name, h->labels,
				rtt_le_us[b] / 1e6, (unsigned long long)cum);
		}
		fprintf(f, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, h->labels,
			(unsigned long long)h->obs.count);
		fprintf(f, "%s_sum{%s} %.6f\n", name, h->labels, h->obs.sum_us / 1e6);
		fprintf(f, "%s_count{%s} %llu\n", name, h->labels,
			(unsigned long long)h->obs.count);
	}
}

/*
 * The process family: by name, container, unit and protocol part, names bounded (the
 * default), or by process too (pids). Overflow rows have proto="unknown".
 */
static int build_procs(struct series_set *s, struct fa_prom_state *st,
		       const struct fa_snapshot *snap, const struct fa_prom_opts *opts)
{
	char buf[LABELS_LEN];
	struct proc_row *rows;
	size_t n;
	int err = 0;

	rows = proc_rows(snap, opts->pids, &n);
	if (!rows || set_alloc(s, n)) {
		err = -ENOMEM;
		goto out;
	}
	for (int l = 0; l < NAME_MAX && !opts->pids && !err; l++)
		err = names_admit(&st->names[l], rows, n, l, opts->max_names);
	for (size_t i = 0; i < n && !err; i++) {
		const struct proc_row *r = &rows[i];
		const char *v[NAME_MAX];

		for (int l = 0; l < NAME_MAX; l++)
			v[l] = opts->pids || name_admitted(&st->names[l], r->v[l]) ? r->v[l]
										   : FOLDED_VALUE;
		if (opts->pids)
			snprintf(
				buf, sizeof(buf),
				"pid=\"%u\",uid=\"%u\",comm=\"%s\",container=\"%s\",service=\"%s\","
				"proto=\"%s\"",
				r->key.pid, r->key.uid, v[NAME_COMM], v[NAME_CONTAINER],
				v[NAME_SERVICE], part_label[r->key.part]);
		else
			snprintf(buf, sizeof(buf),
				 "comm=\"%s\",container=\"%s\",service=\"%s\",proto=\"%s\"",
				 v[NAME_COMM], v[NAME_CONTAINER], v[NAME_SERVICE],
				 part_label[r->key.part]);
		err = set_add(s, n, buf, &r->delta, &r->total);
		if (!err && snap->health && r->key.part == FA_PART_TCP)
			err = rtt_add(&st->rtt, buf, &r->rtt);
	}
	if (!err)
		set_finish(s);
	if (!err && snap->health)
		rtt_finish(&st->rtt, opts->pids);
out:
	if (rows)
		proc_rows_free(rows, n);
	return err;
}

/* Element i of a snapshot array: its labels and counts. */
typedef void row_fn(const struct fa_snapshot *snap, size_t i, char *labels,
		    const struct fa_counts **delta, const struct fa_counts **total);

static void flow_series(const struct fa_snapshot *snap, size_t i, char *labels,
			const struct fa_counts **delta, const struct fa_counts **total)
{
	labels_flow(labels, snap, &snap->flows[i]);
	*delta = &snap->flows[i].delta;
	*total = &snap->flows[i].total;
}

static void unmatched_series(const struct fa_snapshot *snap, size_t i, char *labels,
			     const struct fa_counts **delta, const struct fa_counts **total)
{
	labels_unmatched(labels, &snap->unmatched[i]);
	*delta = &snap->unmatched[i].delta;
	*total = &snap->unmatched[i].total;
}

/* A series per element of an n-long snapshot array, equal label sets merged. */
static int build_rows(struct series_set *s, const struct fa_snapshot *snap, size_t n, row_fn *row)
{
	const struct fa_counts *delta, *total;
	char buf[LABELS_LEN];

	if (set_alloc(s, n))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		row(snap, i, buf, &delta, &total);
		if (set_add(s, n, buf, delta, total))
			return -ENOMEM;
	}
	set_finish(s);
	return 0;
}

/* Carries each series' exported value forward from prev (both sorted by labels). */
static void set_advance(struct series_set *cur, const struct series_set *prev)
{
	size_t j = 0;

	for (size_t i = 0; i < cur->n; i++) {
		struct series *s = &cur->v[i];
		const struct series *p = NULL;
		int c = 1;

		while (j < prev->n && (c = strcmp(prev->v[j].labels, s->labels)) < 0)
			j++;
		if (j < prev->n && c == 0)
			p = &prev->v[j];
		for (size_t k = 0; k < FA_NCOUNTS; k++) {
			const struct fa_count_desc *d = &fa_count_descs[k];
			__u64 carried =
				(p ? fa_count_get(&p->value, d) : 0) + fa_count_get(&s->delta, d);
			__u64 total = fa_count_get(&s->total, d);

			*(__u64 *)((char *)&s->value + d->off) = carried > total ? carried : total;
		}
	}
}

/*
 * The series of prev that cur lacks, with their values: a series of the aggregated
 * family stays once exported, so that rate() and increase() never see its sum drop when
 * its processes leave. The cap on names bounds how many there can be.
 */
static int set_carry(struct series_set *cur, const struct series_set *prev)
{
	size_t n0 = cur->n;
	struct series *v;

	v = realloc(cur->v, (n0 + prev->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cur->v = v;
	for (size_t j = 0; j < prev->n; j++) {
		struct series key = { .labels = prev->v[j].labels }, *s;

		if (fa_bsearch(&key, cur->v, n0, sizeof(*cur->v), cmp_series))
			continue;
		s = &cur->v[cur->n];
		memset(s, 0, sizeof(*s));
		s->value = prev->v[j].value;
		s->labels = strdup(prev->v[j].labels);
		if (!s->labels)
			return -ENOMEM;
		cur->n++;
	}
	fa_qsort(cur->v, cur->n, sizeof(*cur->v), cmp_series);
	return 0;
}

static void put_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The counters of the kinds given (enum fa_count_kind), one family each. */
static void put_set(FILE *f, const char *prefix, const char *what, const struct series_set *s,
		    unsigned kinds)
{
	for (size_t k = 0; k < FA_NCOUNTS; k++) {
		const struct fa_count_desc *c = &fa_count_descs[k];
		char name[128], help[256];

		if (!(c->kind & kinds))
			continue;
		snprintf(name, sizeof(name), "%s%s_total", prefix, c->name);
		snprintf(help, sizeof(help), "%s, %s.", c->help, what);
		put_family(f, name, "counter", help);
		for (size_t i = 0; i < s->n; i++)
			fprintf(f, "%s{%s} %llu\n", name, s->v[i].labels,
				(unsigned long long)fa_count_get(&s->v[i].value, c));
	}
}

static void put_globals(FILE *f, const struct fa_snapshot *snap)
{
	char backend[64], name[128], help[256];

	put_family(f, "flowacct_build_info", "gauge",
		   "Always 1; the labels say which flowacct and which kernel hook backend.");
	fprintf(f, "flowacct_build_info{version=\"%s\",backend=\"%s\",packets=\"%s\"} 1\n",
		FA_VERSION, fa_prom_escape_label(backend, sizeof(backend), snap->backend ?: "none"),
		snap->packets ? "true" : "false");

	for (size_t k = 0; k < FA_NCOUNTS; k++) {
		const struct fa_count_desc *c = &fa_count_descs[k];

		if (!(c->kind & fa_snapshot_kinds(snap, true)))
			continue;
		snprintf(name, sizeof(name), "flowacct_%s_total", c->name);
		snprintf(help, sizeof(help), "%s, every process and unattributed traffic added up.",
			 c->help);
		put_family(f, name, "counter", help);
		fprintf(f, "%s %llu\n", name, (unsigned long long)fa_count_get(&snap->total, c));
	}

	for (int i = 0; i < FA_DROP_MAX; i++) {
		snprintf(name, sizeof(name), "flowacct_%s_total", fa_drop_descs[i].name);
		snprintf(help, sizeof(help), "%s.", fa_drop_descs[i].help);
		put_family(f, name, "counter", help);
		fprintf(f, "%s %llu\n", name, (unsigned long long)snap->drops[i]);
	}

	put_family(f, "flowacct_other_bytes_total", "counter",
		   "Bytes on sockets of families and protocols without flows (AF_UNIX, UDP-Lite, "
		   "...), by kind and direction; not in flowacct_rx_bytes_total/tx_bytes_total.");
	for (size_t i = 0; i < snap->nother; i++) {
		const struct fa_other *o = &snap->other[i];
		char kind[FA_OTHER_NAME_LEN];

		fa_other_name(kind, sizeof(kind), o->family, o->proto);
		fprintf(f, "flowacct_other_bytes_total{kind=\"%s\",direction=\"rx\"} %llu\n", kind,
			(unsigned long long)o->total.rx_bytes);
		fprintf(f, "flowacct_other_bytes_total{kind=\"%s\",direction=\"tx\"} %llu\n", kind,
			(unsigned long long)o->total.tx_bytes);
	}
	put_family(f, "flowacct_flows", "gauge", "Flows in the last snapshot.");
	fprintf(f, "flowacct_flows %zu\n", snap->nflows);
	put_family(f, "flowacct_processes", "gauge", "Processes in the last snapshot.");
	fprintf(f, "flowacct_processes %zu\n", snap->nprocs);
	put_family(f, "flowacct_interval_seconds", "gauge",
		   "Measured length of the last snapshot's interval.");
	fprintf(f, "flowacct_interval_seconds %.6f\n", snap->interval_s);
	put_family(f, "flowacct_snapshot_timestamp_seconds", "gauge",
		   "Unix time at the end of the last snapshot's interval.");
	fprintf(f, "flowacct_snapshot_timestamp_seconds %lld.%03ld\n", (long long)snap->ts.tv_sec,
		snap->ts.tv_nsec / 1000000);
}

static void put_folded(FILE *f, const struct fa_prom_state *st)
{
	put_family(f, "flowacct_prometheus_folded_label_values", "gauge",
		   "Distinct values of the label exported as \"(other)\" in flowacct_process_* "
		   "since the endpoint started: they came after --prometheus-max-names others.");
	for (int l = 0; l < NAME_MAX; l++)
		fprintf(f, "flowacct_prometheus_folded_label_values{label=\"%s\"} %zu\n",
			name_label_names[l], st->names[l].nfolded);
}

struct fa_prom_state *fa_prom_state_new(void)
{
	return calloc(1, sizeof(struct fa_prom_state));
}

void fa_prom_state_free(struct fa_prom_state *st)
{
	if (!st)
		return;
	set_free(&st->procs);
	set_free(&st->flows);
	set_free(&st->unmatched);
	for (size_t i = 0; i < st->rtt.n; i++)
		free(st->rtt.v[i].labels);
	free(st->rtt.v);
	for (int l = 0; l < NAME_MAX; l++) {
		for (size_t i = 0; i < st->names[l].nadmitted; i++)
			free(st->names[l].admitted[i]);
		free(st->names[l].admitted);
		free(st->names[l].folded);
	}
	free(st);
}

char *fa_prom_render(struct fa_prom_state *st, const struct fa_snapshot *snap,
		     const struct fa_prom_opts *opts, size_t *len)
{
	bool flows = opts->flows;
	struct series_set procs = {}, fl = {}, unm = {};
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	if (build_procs(&procs, st, snap, opts) ||
	    (flows && build_rows(&fl, snap, snap->nflows, flow_series)) ||
	    build_rows(&unm, snap, snap->nunmatched, unmatched_series))
		goto fail;
	set_advance(&procs, &st->procs);
	if (!opts->pids && set_carry(&procs, &st->procs))
		goto fail;
	set_advance(&fl, &st->flows);
	set_advance(&unm, &st->unmatched);

	f = open_memstream(&buf, &n);
	if (!f)
		goto fail;
	put_globals(f, snap);
	put_set(f, "flowacct_process_",
		opts->pids ? "by process, its container or systemd unit, and protocol"
			   : "by process name, container, systemd unit and protocol",
		&procs, fa_snapshot_kinds(snap, true));
	put_folded(f, st);
	if (snap->health)
		put_rtt(f, st);
	if (flows)
		put_set(f, "flowacct_flow_", "by flow", &fl, fa_snapshot_kinds(snap, true));
	if (snap->packets)
		put_set(f, "flowacct_unmatched_",
			"of packets no process's flow matches, by protocol", &unm, FA_CK_PACKETS);
	if (ferror(f) | fclose(f)) {
		free(buf);
		goto fail;
	}

	/* flow (and with pids, process) series missing from this snapshot are gone: their
	 * rows left the table; set_carry kept the aggregated ones */
	set_free(&st->procs);
	set_free(&st->flows);
	set_free(&st->unmatched);
	st->procs = procs;
	st->flows = fl;
	st->unmatched = unm;
	*len = n;
	return buf;
fail:
	set_free(&procs);
	set_free(&fl);
	set_free(&unm);
	return NULL;
}
