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

#ifndef FA_VERSION
#define FA_VERSION "unknown"
#endif

/*
 * One exported label set of one family and its counters. A series adds up rows: a
 * process's flows of one protocol, say. Flows come and go (and their totals with them),
 * so the exported value is carried forward with each interval's delta, never below the
 * rows' own totals: it only ever grows while the series exists.
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

struct fa_prom_state {
	struct series_set procs, flows, unmatched;
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

#define LABELS_LEN 512

static void labels_process(char *buf, const struct fa_ident *p, enum fa_part part)
{
	char comm[2 * FA_ESCAPED_COMM_LEN];

	snprintf(buf, LABELS_LEN, "pid=\"%u\",uid=\"%u\",comm=\"%s\",proto=\"%s\"", p->pid, p->uid,
		 comm_label(comm, sizeof(comm), p), part_label[part]);
}

static void labels_flow(char *buf, const struct fa_flow *f)
{
	char comm[2 * FA_ESCAPED_COMM_LEN], l[FA_FMT_ENDPOINT_LEN], rem[FA_FMT_ENDPOINT_LEN];
	const struct fa_tuple *t = &f->tuple;

	fa_fmt_addr(l, sizeof(l), t->family, t->laddr);
	fa_fmt_addr(rem, sizeof(rem), t->family, t->raddr);
	snprintf(buf, LABELS_LEN,
		 "pid=\"%u\",uid=\"%u\",comm=\"%s\",proto=\"%s\",family=\"%s\","
		 "laddr=\"%s\",lport=\"%u\",raddr=\"%s\",rport=\"%u\"",
		 f->proc.pid, f->proc.uid, comm_label(comm, sizeof(comm), &f->proc),
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

	qsort(s->v, s->n, sizeof(*s->v), cmp_series);
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

/* Per process and protocol part (overflow rows: proto="unknown"). */
static int build_procs(struct series_set *s, const struct fa_snapshot *snap)
{
	char buf[LABELS_LEN];

	if (set_alloc(s, snap->nprocs * FA_PART_MAX))
		return -ENOMEM;
	for (size_t i = 0; i < snap->nprocs; i++) {
		const struct fa_proc *p = &snap->procs[i];

		for (int part = 0; part < FA_PART_MAX; part++) {
			if (!p->part[part].present)
				continue;
			labels_process(buf, &p->proc, part);
			if (set_add(s, snap->nprocs * FA_PART_MAX, buf, &p->part[part].delta,
				    &p->part[part].total))
				return -ENOMEM;
		}
	}
	set_finish(s);
	return 0;
}

/* Element i of a snapshot array: its labels and counts. */
typedef void row_fn(const struct fa_snapshot *snap, size_t i, char *labels,
		    const struct fa_counts **delta, const struct fa_counts **total);

static void flow_series(const struct fa_snapshot *snap, size_t i, char *labels,
			const struct fa_counts **delta, const struct fa_counts **total)
{
	labels_flow(labels, &snap->flows[i]);
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

static void put_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_set(FILE *f, const char *prefix, const char *what, const struct series_set *s,
		    bool packets, bool packets_only)
{
	for (size_t k = 0; k < FA_NCOUNTS; k++) {
		const struct fa_count_desc *c = &fa_count_descs[k];
		char name[128], help[256];

		if ((c->packets && !packets) || (packets_only && !c->packets))
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

		if (c->packets && !snap->packets)
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
	free(st);
}

char *fa_prom_render(struct fa_prom_state *st, const struct fa_snapshot *snap, bool flows,
		     size_t *len)
{
	struct series_set procs = {}, fl = {}, unm = {};
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	if (build_procs(&procs, snap) ||
	    (flows && build_rows(&fl, snap, snap->nflows, flow_series)) ||
	    build_rows(&unm, snap, snap->nunmatched, unmatched_series))
		goto fail;
	set_advance(&procs, &st->procs);
	set_advance(&fl, &st->flows);
	set_advance(&unm, &st->unmatched);

	f = open_memstream(&buf, &n);
	if (!f)
		goto fail;
	put_globals(f, snap);
	put_set(f, "flowacct_process_", "by process and protocol", &procs, snap->packets, false);
	if (flows)
		put_set(f, "flowacct_flow_", "by flow", &fl, snap->packets, false);
	if (snap->packets)
		put_set(f, "flowacct_unmatched_",
			"of packets no process's flow matches, by protocol", &unm, true, true);
	if (ferror(f) | fclose(f)) {
		free(buf);
		goto fail;
	}

	/* series missing from this snapshot are gone: their processes left the table */
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
