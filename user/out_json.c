// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -j/--json: one object per interval per line. The schema is docs/flowacct.schema.json. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "output.h"

static void set_int(json_t *o, const char *k, __u64 v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

/* NAME for this interval, NAME_total since start; the packet ones only with --packets */
static void put_counts(json_t *o, const struct fa_counts *delta, const struct fa_counts *total,
		       bool packets)
{
	char name[64];

	for (size_t i = 0; i < FA_NCOUNTS; i++) {
		const struct fa_count_desc *d = &fa_count_descs[i];

		if (d->packets && !packets)
			continue;
		snprintf(name, sizeof(name), "%s_total", d->name);
		set_int(o, d->name, fa_count_get(delta, d));
		set_int(o, name, fa_count_get(total, d));
	}
}

static void put_process(json_t *o, const struct fa_ident *p)
{
	char comm[FA_ESCAPED_COMM_LEN];

	set_int(o, "pid", p->pid);
	set_int(o, "uid", p->uid);
	json_object_set_new(o, "comm",
			    json_string(fa_escape(comm, sizeof(comm), p->comm, sizeof(p->comm))));
	json_object_set_new(o, "exited", json_boolean(p->exited));
}

static void put_tuple(json_t *o, const struct fa_tuple *t)
{
	char a[FA_FMT_ENDPOINT_LEN];

	json_object_set_new(o, "proto", json_string(fa_proto_name(t->proto)));
	json_object_set_new(o, "family", json_string(fa_family_name(t->family)));
	json_object_set_new(o, "laddr",
			    json_string(fa_fmt_addr(a, sizeof(a), t->family, t->laddr)));
	set_int(o, "lport", t->lport);
	json_object_set_new(o, "raddr",
			    json_string(fa_fmt_addr(a, sizeof(a), t->family, t->raddr)));
	set_int(o, "rport", t->rport);
}

/* One array element: identity (either part may be absent), then the counters. */
static void append_row(json_t *arr, const struct fa_ident *proc, const struct fa_tuple *t,
		       const struct fa_counts *delta, const struct fa_counts *total,
		       const struct fa_snapshot *snap, bool active_only, long nflows)
{
	json_t *o;

	if (active_only && !fa_counts_moved(delta))
		return;
	o = json_object();
	if (proc)
		put_process(o, proc);
	if (t)
		put_tuple(o, t);
	if (nflows >= 0)
		set_int(o, "flows", nflows);
	put_counts(o, delta, total, snap->packets);
	json_array_append_new(arr, o);
}

/* active_only: only rows that moved bytes or packets this interval (-j on a busy host) */
static json_t *snapshot_to_json(const struct fa_snapshot *snap, bool active_only)
{
	json_t *root = json_object(), *totals = json_object(), *drops = json_object();
	json_t *flows = json_array(), *overflow = json_array(), *procs = json_array();
	char ts[64];
	struct tm tm;

	gmtime_r(&snap->ts.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", snap->ts.tv_nsec / 1000000);
	json_object_set_new(root, "ts", json_string(ts));
	json_object_set_new(root, "interval_s", json_real(snap->interval_s));
	json_object_set_new(root, "backend", json_string(snap->backend));
	json_object_set_new(root, "final", json_boolean(snap->final));
	json_object_set_new(root, "packets", json_boolean(snap->packets));
	set_int(root, "nflows", snap->nflows);
	set_int(root, "nprocs", snap->nprocs);

	put_counts(totals, &snap->delta, &snap->total, snap->packets);
	json_object_set_new(root, "totals", totals);
	for (int i = 0; i < FA_DROP_MAX; i++)
		set_int(drops, fa_drop_descs[i].name, snap->drops[i]);
	json_object_set_new(root, "drops", drops);

	for (size_t i = 0; i < snap->nflows; i++) {
		const struct fa_flow *f = &snap->flows[i];

		append_row(flows, &f->proc, &f->tuple, &f->delta, &f->total, snap, active_only, -1);
	}
	json_object_set_new(root, "flows", flows);
	for (size_t i = 0; i < snap->noverflow; i++) {
		const struct fa_overflow *o = &snap->overflow[i];

		append_row(overflow, &o->proc, NULL, &o->delta, &o->total, snap, active_only, -1);
	}
	json_object_set_new(root, "overflow", overflow);
	if (snap->packets) {
		json_t *unmatched = json_array();

		for (size_t i = 0; i < snap->nunmatched; i++) {
			const struct fa_unmatched *u = &snap->unmatched[i];

			append_row(unmatched, NULL, &u->tuple, &u->delta, &u->total, snap,
				   active_only, -1);
		}
		json_object_set_new(root, "unmatched_packets", unmatched);
	}
	for (size_t i = 0; i < snap->nprocs; i++) {
		const struct fa_proc *p = &snap->procs[i];

		append_row(procs, &p->proc, NULL, &p->delta, &p->total, snap, active_only,
			   p->nflows);
	}
	json_object_set_new(root, "processes", procs);
	return root;
}

static char *json_render(const struct fa_snapshot *snap, bool active_only)
{
	json_t *root = snapshot_to_json(snap, active_only);
	char *s = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6));

	json_decref(root);
	return s;
}

char *fa_json_render(const struct fa_snapshot *snap)
{
	return json_render(snap, false);
}

struct json_output {
	struct fa_output base;
	FILE *f;
};

static int json_emit(struct fa_output *out, const struct fa_snapshot *snap)
{
	struct json_output *j = (struct json_output *)out;
	char *s = json_render(snap, true);

	if (!s)
		return -ENOMEM;
	fputs(s, j->f);
	fputc('\n', j->f);
	free(s);
	return fflush(j->f) ? -errno : 0;
}

struct fa_output *fa_json_open(FILE *f)
{
	struct json_output *j = fa_output_new(sizeof(*j), "json", json_emit);

	if (!j)
		return NULL;
	j->f = f;
	return &j->base;
}
