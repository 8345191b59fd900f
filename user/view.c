// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "view.h"

const char *const fa_sort_names[FA_SORT_MAX] = {
	[FA_SORT_RX] = "rx",   [FA_SORT_TX] = "tx",	[FA_SORT_TOTAL] = "total",
	[FA_SORT_PID] = "pid", [FA_SORT_COMM] = "comm",
};

int fa_sort_parse(const char *s, enum fa_sort *out)
{
	for (int i = 0; i < FA_SORT_MAX; i++) {
		if (!strcmp(s, fa_sort_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

bool fa_view_match(const struct fa_row *row, const char *filter)
{
	char buf[FA_ESCAPED_COMM_LEN + 2 * FA_FMT_ENDPOINT_LEN + 32];
	char comm[FA_ESCAPED_COMM_LEN], l[FA_FMT_ENDPOINT_LEN], r[FA_FMT_ENDPOINT_LEN];

	if (!filter || !*filter)
		return true;
	fa_escape(comm, sizeof(comm), row->comm, sizeof(row->comm));
	fa_fmt_endpoint(l, sizeof(l), row->key.family, row->key.laddr, row->key.lport);
	fa_fmt_endpoint(r, sizeof(r), row->key.family, row->key.raddr, row->key.rport);
	snprintf(buf, sizeof(buf), "%s\n%s\n%s\n%s", comm, l, r, fa_proto_name(row->key.proto));
	return strcasestr(buf, filter) != NULL;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct fa_row *x = a, *y = b;

	return (x->key.pid > y->key.pid) - (x->key.pid < y->key.pid);
}

/* Adds up every row of a pid, in place: rows[0..*n) becomes one row per process. */
static void group_by_process(struct fa_row *rows, size_t *n)
{
	size_t out = 0;

	qsort(rows, *n, sizeof(*rows), cmp_pid);
	for (size_t i = 0; i < *n; i++) {
		struct fa_row *p = out ? &rows[out - 1] : NULL;
		const struct fa_row *r = &rows[i];
		bool flow = r->kind == FA_ROW_FLOW;

		if (p && p->key.pid == r->key.pid) {
			fa_counts_add(&p->delta, &r->delta);
			fa_counts_add(&p->total, &r->total);
			p->exited = p->exited && r->exited;
			p->nflows += flow;
			if (!p->comm[0])
				memcpy(p->comm, r->comm, sizeof(p->comm));
			continue;
		}
		struct fa_row agg = *r;

		memset(&agg.key, 0, sizeof(agg.key));
		agg.key.pid = r->key.pid;
		agg.kind = FA_ROW_PROCESS;
		agg.nflows = flow;
		rows[out++] = agg;
	}
	*n = out;
}

static int cmp_u64_desc(__u64 a, __u64 b)
{
	return (a < b) - (a > b);
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct fa_row *x = *(const struct fa_row *const *)a;
	const struct fa_row *y = *(const struct fa_row *const *)b;
	const struct fa_view_opts *opts = arg;
	int c = 0;

	switch (opts->sort) {
	case FA_SORT_RX:
		c = cmp_u64_desc(x->delta.rx_bytes, y->delta.rx_bytes);
		break;
	case FA_SORT_TX:
		c = cmp_u64_desc(x->delta.tx_bytes, y->delta.tx_bytes);
		break;
	case FA_SORT_TOTAL:
	case FA_SORT_MAX:
		c = cmp_u64_desc(x->delta.rx_bytes + x->delta.tx_bytes,
				 y->delta.rx_bytes + y->delta.tx_bytes);
		break;
	case FA_SORT_PID:
		c = -cmp_u64_desc(x->key.pid, y->key.pid);
		break;
	case FA_SORT_COMM:
		c = strncmp(x->comm, y->comm, sizeof(x->comm));
		break;
	}
	/* ties: the bigger talker since start first, then a stable order by identity */
	if (!c)
		c = cmp_u64_desc(x->total.rx_bytes + x->total.tx_bytes,
				 y->total.rx_bytes + y->total.tx_bytes);
	if (!c)
		c = -cmp_u64_desc(x->key.pid, y->key.pid);
	if (!c)
		c = memcmp(&x->key, &y->key, sizeof(x->key));
	return opts->reverse ? -c : c;
}

/* Sorts pointers, not the rows themselves (hundreds of bytes each), then lays them out. */
static int sort_rows(struct fa_row *rows, size_t k, const struct fa_view_opts *opts,
		     struct fa_row **out, size_t *n)
{
	struct fa_row **order = malloc((k ? k : 1) * sizeof(*order));
	struct fa_row *sorted = malloc((k ? k : 1) * sizeof(*sorted));

	if (!order || !sorted) {
		free(order);
		free(sorted);
		free(rows);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k; i++)
		order[i] = &rows[i];
	qsort_r(order, k, sizeof(*order), cmp_rows, (void *)opts);
	for (size_t i = 0; i < k; i++)
		sorted[i] = *order[i];
	free(order);
	free(rows);
	*out = sorted;
	*n = k;
	return 0;
}

bool fa_row_moved(const struct fa_row *r)
{
	return r->delta.rx_bytes || r->delta.tx_bytes || r->delta.rx_packets || r->delta.tx_packets;
}

int fa_view_build(const struct fa_snapshot *snap, const struct fa_view_opts *opts,
		  struct fa_row **out, size_t *n)
{
	struct fa_row *rows = malloc((snap->nrows ? snap->nrows : 1) * sizeof(*rows));
	size_t k = 0;

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < snap->nrows; i++) {
		if (fa_view_match(&snap->rows[i], opts->filter))
			rows[k++] = snap->rows[i];
	}
	if (opts->group == FA_GROUP_PROCESS)
		group_by_process(rows, &k);
	if (opts->active_only) {
		size_t j = 0;

		for (size_t i = 0; i < k; i++)
			if (fa_row_moved(&rows[i]))
				rows[j++] = rows[i];
		k = j;
	}
	return sort_rows(rows, k, opts, out, n);
}
