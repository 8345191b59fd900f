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
#include "prom.h"

#ifndef FA_VERSION
#define FA_VERSION "unknown"
#endif

struct counter {
	const char *name; /* metric name part: flowacct_[process_|flow_]<name>_total */
	size_t off; /* in struct fa_counts */
	bool packets; /* only valid with --packets */
	const char *help;
};

static const struct counter counters[] = {
	{ "rx_bytes", offsetof(struct fa_counts, rx_bytes), false, "Payload bytes received" },
	{ "tx_bytes", offsetof(struct fa_counts, tx_bytes), false, "Payload bytes sent" },
	{ "rx_calls", offsetof(struct fa_counts, rx_calls), false,
	  "Receive calls that moved at least one byte" },
	{ "tx_calls", offsetof(struct fa_counts, tx_calls), false,
	  "Send calls that moved at least one byte" },
	{ "rx_packets", offsetof(struct fa_counts, rx_packets), true, "IP packets received" },
	{ "tx_packets", offsetof(struct fa_counts, tx_packets), true, "IP packets sent" },
	{ "rx_wire_bytes", offsetof(struct fa_counts, rx_wire_bytes), true,
	  "IP bytes received, headers included" },
	{ "tx_wire_bytes", offsetof(struct fa_counts, tx_wire_bytes), true,
	  "IP bytes sent, headers included" },
};

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))
_Static_assert(sizeof(struct fa_counts) == NCOUNTERS * sizeof(__u64),
	       "every field of struct fa_counts has a metric");

/* Indexed by enum fa_drop; a counter added there without help here still gets exported. */
static const char *const drop_help[FA_DROP_MAX] = {
	[FA_DROP_FLOW_TABLE_FULL] = "Send/receive calls whose flow did not fit in the flow table "
				    "(their bytes are in the process's proto=\"unknown\" series)",
	[FA_DROP_FLOWS_DROPPED] = "Distinct flows that did not fit in the flow table",
	[FA_DROP_OVERFLOW_TABLE_FULL] =
		"Calls that fit neither their flow nor their process's overflow row",
	[FA_DROP_UNATTRIBUTED_RX_BYTES] =
		"Received bytes not attributed to any process (part of flowacct_rx_bytes_total)",
	[FA_DROP_UNATTRIBUTED_TX_BYTES] =
		"Sent bytes not attributed to any process (part of flowacct_tx_bytes_total)",
	[FA_DROP_KRETPROBE_MISSED] = "kprobe backend: return probes that never fired",
	[FA_DROP_INFLIGHT_FULL] = "kprobe backend: calls lost because the in-flight table was full",
	[FA_DROP_RING_PACKETS_DROPPED] = "--packets: packets the kernel dropped from the ring",
	[FA_DROP_RING_FREEZES] = "--packets: times the ring's queue was frozen",
	[FA_DROP_PACKETS_UNPARSED] = "--packets: frames too short or malformed to attribute",
};

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

static __u64 *field(struct fa_counts *c, size_t off)
{
	return (__u64 *)((char *)c + off);
}

static __u64 cfield(const struct fa_counts *c, size_t off)
{
	return *(const __u64 *)((const char *)c + off);
}

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
static char *comm_label(char *dst, size_t dstlen, const struct fa_row *r)
{
	char comm[FA_ESCAPED_COMM_LEN];

	fa_escape(comm, sizeof(comm), r->comm, sizeof(r->comm));
	return fa_prom_escape_label(dst, dstlen, comm);
}

/* Overflow rows carry only a pid: their protocol was never recorded. */
static const char *proto_label(__u8 proto)
{
	return proto == FA_PROTO_TCP ? "tcp" : proto == FA_PROTO_UDP ? "udp" : "unknown";
}

#define LABELS_LEN 512

static void labels_process(char *buf, const struct fa_row *r)
{
	char comm[2 * FA_ESCAPED_COMM_LEN];

	snprintf(buf, LABELS_LEN, "pid=\"%u\",uid=\"%u\",comm=\"%s\",proto=\"%s\"", r->key.pid,
		 r->uid, comm_label(comm, sizeof(comm), r), proto_label(r->key.proto));
}

static void labels_flow(char *buf, const struct fa_row *r)
{
	char comm[2 * FA_ESCAPED_COMM_LEN], l[FA_FMT_ENDPOINT_LEN], rem[FA_FMT_ENDPOINT_LEN];
	__u8 family = r->key.family;

	fa_fmt_addr(l, sizeof(l), family, r->key.laddr);
	fa_fmt_addr(rem, sizeof(rem), family, r->key.raddr);
	snprintf(buf, LABELS_LEN,
		 "pid=\"%u\",uid=\"%u\",comm=\"%s\",proto=\"%s\",family=\"%s\","
		 "laddr=\"%s\",lport=\"%u\",raddr=\"%s\",rport=\"%u\"",
		 r->key.pid, r->uid, comm_label(comm, sizeof(comm), r), proto_label(r->key.proto),
		 fa_family_name(family), l, r->key.lport, rem, r->key.rport);
}

static void labels_unmatched(char *buf, const struct fa_row *r)
{
	snprintf(buf, LABELS_LEN, "proto=\"%s\"", proto_label(r->key.proto));
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

/* The rows of one kind grouped into series by label set, sorted. */
static int set_build(struct series_set *out, const struct fa_snapshot *snap, enum fa_row_kind a,
		     enum fa_row_kind b, void (*labels)(char *buf, const struct fa_row *r))
{
	struct series_set s = { .v = calloc(snap->nrows ? snap->nrows : 1, sizeof(*s.v)) };
	char buf[LABELS_LEN];
	size_t n = 0;

	if (!s.v)
		return -ENOMEM;
	for (size_t i = 0; i < snap->nrows; i++) {
		const struct fa_row *r = &snap->rows[i];

		if (r->kind != a && r->kind != b)
			continue;
		labels(buf, r);
		s.v[s.n].labels = strdup(buf);
		if (!s.v[s.n].labels) {
			set_free(&s);
			return -ENOMEM;
		}
		s.v[s.n].delta = r->delta;
		s.v[s.n].total = r->total;
		s.n++;
	}
	qsort(s.v, s.n, sizeof(*s.v), cmp_series);
	for (size_t i = 0; i < s.n; i++) {
		if (n && !strcmp(s.v[n - 1].labels, s.v[i].labels)) {
			fa_counts_add(&s.v[n - 1].delta, &s.v[i].delta);
			fa_counts_add(&s.v[n - 1].total, &s.v[i].total);
			free(s.v[i].labels);
			continue;
		}
		s.v[n++] = s.v[i];
	}
	s.n = n;
	*out = s;
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
		for (size_t k = 0; k < NCOUNTERS; k++) {
			size_t off = counters[k].off;
			__u64 carried = (p ? cfield(&p->value, off) : 0) + cfield(&s->delta, off);
			__u64 total = cfield(&s->total, off);

			*field(&s->value, off) = carried > total ? carried : total;
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
	for (size_t k = 0; k < NCOUNTERS; k++) {
		const struct counter *c = &counters[k];
		char name[128], help[256];

		if ((c->packets && !packets) || (packets_only && !c->packets))
			continue;
		snprintf(name, sizeof(name), "%s%s_total", prefix, c->name);
		snprintf(help, sizeof(help), "%s, %s.", c->help, what);
		put_family(f, name, "counter", help);
		for (size_t i = 0; i < s->n; i++)
			fprintf(f, "%s{%s} %llu\n", name, s->v[i].labels,
				(unsigned long long)cfield(&s->v[i].value, c->off));
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

	for (size_t k = 0; k < NCOUNTERS; k++) {
		const struct counter *c = &counters[k];

		if (c->packets && !snap->packets)
			continue;
		snprintf(name, sizeof(name), "flowacct_%s_total", c->name);
		snprintf(help, sizeof(help), "%s, every process and unattributed traffic added up.",
			 c->help);
		put_family(f, name, "counter", help);
		fprintf(f, "%s %llu\n", name, (unsigned long long)cfield(&snap->total, c->off));
	}

	for (int i = 0; i < FA_DROP_MAX; i++) {
		snprintf(name, sizeof(name), "flowacct_%s_total", fa_drop_names[i]);
		snprintf(help, sizeof(help), "%s.", drop_help[i] ?: "Loss counter");
		put_family(f, name, "counter", help);
		fprintf(f, "%s %llu\n", name, (unsigned long long)snap->drops[i]);
	}

	put_family(f, "flowacct_flows", "gauge", "Flows in the last snapshot.");
	fprintf(f, "flowacct_flows %u\n", snap->nflows);
	put_family(f, "flowacct_processes", "gauge", "Processes in the last snapshot.");
	fprintf(f, "flowacct_processes %u\n", snap->nprocs);
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

	if (set_build(&procs, snap, FA_ROW_FLOW, FA_ROW_OVERFLOW, labels_process) ||
	    (flows && set_build(&fl, snap, FA_ROW_FLOW, FA_ROW_FLOW, labels_flow)) ||
	    set_build(&unm, snap, FA_ROW_UNMATCHED, FA_ROW_UNMATCHED, labels_unmatched))
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
