// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -j/--json: one object per interval per line. The schema is docs/flowacct.schema.json. */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "output.h"

static void set_int(json_t *o, const char *k, __u64 v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

/* JSON names of the fa_counts fields; the packet ones only with --packets */
static const struct {
	const char *name;
	size_t off;
	bool packets;
} count_fields[] = {
	{ "rx_bytes", offsetof(struct fa_counts, rx_bytes), false },
	{ "tx_bytes", offsetof(struct fa_counts, tx_bytes), false },
	{ "rx_calls", offsetof(struct fa_counts, rx_calls), false },
	{ "tx_calls", offsetof(struct fa_counts, tx_calls), false },
	{ "rx_packets", offsetof(struct fa_counts, rx_packets), true },
	{ "tx_packets", offsetof(struct fa_counts, tx_packets), true },
	{ "rx_wire_bytes", offsetof(struct fa_counts, rx_wire_bytes), true },
	{ "tx_wire_bytes", offsetof(struct fa_counts, tx_wire_bytes), true },
};

static __u64 count_at(const struct fa_counts *c, size_t off)
{
	return *(const __u64 *)((const char *)c + off);
}

/* NAME for this interval, NAME_total since start */
static void put_counts(json_t *o, const struct fa_row *r, bool packets)
{
	char total[32];

	for (size_t i = 0; i < sizeof(count_fields) / sizeof(count_fields[0]); i++) {
		if (count_fields[i].packets && !packets)
			continue;
		snprintf(total, sizeof(total), "%s_total", count_fields[i].name);
		set_int(o, count_fields[i].name, count_at(&r->delta, count_fields[i].off));
		set_int(o, total, count_at(&r->total, count_fields[i].off));
	}
}

static void put_process(json_t *o, const struct fa_row *r)
{
	char comm[FA_ESCAPED_COMM_LEN];

	set_int(o, "pid", r->key.pid);
	set_int(o, "uid", r->uid);
	json_object_set_new(o, "comm",
			    json_string(fa_escape(comm, sizeof(comm), r->comm, sizeof(r->comm))));
	json_object_set_new(o, "exited", json_boolean(r->exited));
}

static void put_tuple(json_t *o, const struct fa_row *r)
{
	char a[FA_FMT_ENDPOINT_LEN];
	__u8 family = r->key.family;

	json_object_set_new(o, "proto", json_string(fa_proto_name(r->key.proto)));
	json_object_set_new(o, "family", json_string(fa_family_name(family)));
	json_object_set_new(o, "laddr",
			    json_string(fa_fmt_addr(a, sizeof(a), family, r->key.laddr)));
	set_int(o, "lport", r->key.lport);
	json_object_set_new(o, "raddr",
			    json_string(fa_fmt_addr(a, sizeof(a), family, r->key.raddr)));
	set_int(o, "rport", r->key.rport);
}

/* active_only: only rows that moved bytes or packets this interval (-j on a busy host) */
static json_t *snapshot_to_json(const struct fa_snapshot *snap, bool active_only)
{
	json_t *root = json_object(), *totals = json_object(), *drops = json_object();
	json_t *flows = json_array(), *overflow = json_array(), *procs = json_array();
	json_t *unmatched = json_array();
	struct fa_view_opts by_proc = { .group = FA_GROUP_PROCESS,
					.sort = FA_SORT_PID,
					.active_only = active_only };
	struct fa_row *prow = NULL;
	size_t nproc = 0;
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

	struct fa_row all = { .delta = snap->delta, .total = snap->total };

	put_counts(totals, &all, snap->packets);
	json_object_set_new(root, "totals", totals);
	for (int i = 0; i < FA_DROP_MAX; i++)
		set_int(drops, fa_drop_names[i], snap->drops[i]);
	json_object_set_new(root, "drops", drops);

	for (size_t i = 0; i < snap->nrows; i++) {
		const struct fa_row *r = &snap->rows[i];
		json_t *o;

		if (active_only && !fa_row_moved(r))
			continue;
		o = json_object();
		if (r->kind != FA_ROW_UNMATCHED)
			put_process(o, r);
		if (r->kind != FA_ROW_OVERFLOW)
			put_tuple(o, r);
		put_counts(o, r, snap->packets);
		json_array_append_new(r->kind == FA_ROW_FLOW	   ? flows
				      : r->kind == FA_ROW_OVERFLOW ? overflow
								   : unmatched,
				      o);
	}
	json_object_set_new(root, "flows", flows);
	json_object_set_new(root, "overflow", overflow);
	if (snap->packets)
		json_object_set_new(root, "unmatched_packets", unmatched);
	else
		json_decref(unmatched);

	if (!fa_view_build(snap, &by_proc, &prow, &nproc)) {
		for (size_t i = 0; i < nproc; i++) {
			json_t *o = json_object();

			if (prow[i].key.pid == 0 && !prow[i].comm[0])
				continue; /* unmatched packets are not a process */
			put_process(o, &prow[i]);
			set_int(o, "flows", prow[i].nflows);
			put_counts(o, &prow[i], snap->packets);
			json_array_append_new(procs, o);
		}
		free(prow);
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

static void json_close(struct fa_output *out)
{
	free(out);
}

struct fa_output *fa_json_open(FILE *f)
{
	struct json_output *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->base.name = "json";
	j->base.emit = json_emit;
	j->base.close = json_close;
	j->f = f;
	return &j->base;
}
