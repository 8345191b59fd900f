// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "format.h"
#include "util.h"
#include "view.h"

const char *const fa_group_names[FA_GROUP_MAX] = {
	[FA_GROUP_FLOW] = "flow",	[FA_GROUP_PROCESS] = "process",
	[FA_GROUP_SERVICE] = "service", [FA_GROUP_CONTAINER] = "container",
	[FA_GROUP_CGROUP] = "cgroup",
};

const char *const fa_sort_names[FA_SORT_MAX] = {
	[FA_SORT_RX] = "rx",	       [FA_SORT_TX] = "tx",
	[FA_SORT_RATE] = "rate",       [FA_SORT_TOTAL_BYTES] = "total",
	[FA_SORT_PID] = "pid",	       [FA_SORT_COMM] = "comm",
	[FA_SORT_RETRANS] = "retrans", [FA_SORT_RTT] = "rtt",
};

bool fa_counts_moved(const struct fa_counts *d)
{
	/* a connection refused or reset moves no byte, and is news */
	return d->rx_bytes || d->tx_bytes || d->rx_packets || d->tx_packets || d->retrans_segs ||
	       d->active_opens || d->passive_opens || d->closes || d->resets_sent ||
	       d->resets_received;
}

/* Does hay contain the n bytes of needle, ignoring case? */
static bool contains_ci(const char *hay, const char *needle, size_t n)
{
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return !n;
}

/* The port a ":PORT" term names, or -1 if the term is text. */
static int term_port(const char *t, size_t n)
{
	unsigned long port = 0;

	if (n < 2 || n > 6 || t[0] != ':')
		return -1;
	for (size_t i = 1; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		port = port * 10 + (t[i] - '0');
	}
	return port <= 65535 ? (int)port : -1;
}

static bool term_holds(const char *t, size_t n, const struct fa_filter_fields *row)
{
	int port = term_port(t, n);

	if (port >= 0)
		return row->tuple && (row->tuple->lport == port || row->tuple->rport == port);
	for (size_t i = 0; i < ARRAY_SIZE(row->text) && row->text[i]; i++)
		if (contains_ci(row->text[i], t, n))
			return true;
	return false;
}

bool fa_filter_match(const char *filter, const struct fa_filter_fields *row)
{
	const char *p = filter ? filter : "";

	for (;;) {
		bool negate = false;
		size_t n;

		p += strspn(p, " ");
		if (!*p)
			return true;
		n = strcspn(p, " ");
		if (*p == '!') {
			negate = true;
			p++;
			n--;
		}
		/* a lone "!" negates nothing: it is no condition */
		if (n && term_holds(p, n, row) == negate)
			return false;
		p += n;
	}
}

/*
 * A flow, overflow or unmatched row against the filter: its fields as the tables show
 * them. group: the name of the group the row is in (views by group), else NULL.
 */
static bool row_match(const struct fa_snapshot *snap, const struct fa_ident *proc,
		      const struct fa_tuple *t, const char *group, const char *filter)
{
	/* not zeroed whole: 4 KB a row, at 100k rows an interval */
	char comm[FA_ESCAPED_COMM_LEN], l[FA_FMT_ENDPOINT_LEN], r[FA_FMT_ENDPOINT_LEN];
	char wl[FA_RT_NAME_LEN * 4], name[FA_CGROUP_PATH_LEN * 4];
	struct fa_filter_fields f = { .text = { comm, l, r, wl, name }, .tuple = t };

	if (!filter || !*filter)
		return true;
	comm[0] = l[0] = r[0] = wl[0] = name[0] = '\0';
	if (proc) {
		const struct fa_cgroup_info *cg = fa_snapshot_cgroup(snap, proc->cgroup_id);
		const char *w = cg ? fa_cgroup_workload(cg) : "";

		fa_escape(comm, sizeof(comm), proc->comm, sizeof(proc->comm));
		fa_escape(wl, sizeof(wl), w, strlen(w));
	}
	if (t) {
		fa_fmt_endpoint(l, sizeof(l), t->family, t->laddr, t->lport);
		fa_fmt_endpoint(r, sizeof(r), t->family, t->raddr, t->rport);
		f.text[5] = fa_proto_name(t->proto);
	}
	if (group)
		fa_escape(name, sizeof(name), group, strlen(group));
	return fa_filter_match(filter, &f);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

/*
 * The processes a filter selects: those of which one row (a flow, the overflow row, the
 * bytes of closed flows) matches it, shown with all their traffic (a filter picks rows; it
 * never changes their numbers).
 */
static int pids_matching(const struct fa_snapshot *snap, const char *filter, __u32 **out, size_t *n)
{
	__u32 *pids = malloc((snap->nflows + snap->noverflow + snap->nclosed + 1) * sizeof(*pids));
	size_t k = 0;

	if (!pids)
		return -ENOMEM;
	for (size_t i = 0; i < snap->nflows; i++)
		if (row_match(snap, &snap->flows[i].proc, &snap->flows[i].tuple, NULL, filter))
			pids[k++] = snap->flows[i].proc.pid;
	for (size_t i = 0; i < snap->noverflow; i++)
		if (row_match(snap, &snap->overflow[i].proc, NULL, NULL, filter))
			pids[k++] = snap->overflow[i].proc.pid;
	for (size_t i = 0; i < snap->nclosed; i++)
		if (row_match(snap, &snap->closed[i].proc, NULL, NULL, filter))
			pids[k++] = snap->closed[i].proc.pid;
	fa_qsort(pids, k, sizeof(*pids), cmp_u32);
	*out = pids;
	*n = k;
	return 0;
}

static int cmp_u64_desc(__u64 a, __u64 b)
{
	return (a < b) - (a > b);
}

static __u32 row_pid(const struct fa_view_row *r)
{
	return r->proc ? r->proc->pid : 0;
}

/* What sorting by name compares: a process's comm, a group's name. */
static const char *row_name(const struct fa_view_row *r)
{
	return r->proc ? r->proc->comm : r->label && !r->tuple ? r->label : "";
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct fa_view_row *x = a, *y = b;
	const struct fa_view_opts *opts = arg;
	int c = cmp_u64_desc(x->sort_key[0], y->sort_key[0]);

	if (!c && opts->sort == FA_SORT_COMM)
		c = strcmp(row_name(x), row_name(y));
	/* ties: the bigger talker since start first, then a stable order by identity */
	if (!c)
		c = cmp_u64_desc(x->sort_key[1], y->sort_key[1]);
	if (!c)
		c = -cmp_u64_desc(row_pid(x), row_pid(y));
	if (!c && x->tuple && y->tuple)
		c = fa_tuple_cmp(x->tuple, y->tuple);
	if (!c)
		c = (!!x->tuple - !!y->tuple);
	return opts->reverse ? -c : c;
}

/* The row's sort keys, largest first: the sorted column's value, then the total since start
 * (for the total, the rate). */
static void set_sort_key(struct fa_view_row *r, enum fa_sort sort)
{
	const struct fa_counts *d = r->delta;

	switch (sort) {
	case FA_SORT_RX:
		r->sort_key[0] = d->rx_bytes;
		break;
	case FA_SORT_TX:
		r->sort_key[0] = d->tx_bytes;
		break;
	case FA_SORT_PID: /* ascending */
		r->sort_key[0] = UINT64_MAX - row_pid(r);
		break;
	case FA_SORT_COMM: /* compared as text */
		r->sort_key[0] = 0;
		break;
	case FA_SORT_RETRANS: /* the lossy now first, then the lossy before */
		r->sort_key[0] = d->retrans_segs;
		r->sort_key[1] = r->total->retrans_segs;
		return;
	case FA_SORT_RTT:
		r->sort_key[0] = r->tcp ? r->tcp->srtt_us : 0;
		break;
	case FA_SORT_TOTAL_BYTES:
		r->sort_key[0] = r->total->rx_bytes + r->total->tx_bytes;
		r->sort_key[1] = d->rx_bytes + d->tx_bytes;
		return;
	case FA_SORT_RATE:
	case FA_SORT_MAX:
		r->sort_key[0] = d->rx_bytes + d->tx_bytes;
		break;
	}
	r->sort_key[1] = r->total->rx_bytes + r->total->tx_bytes;
}

static void row_swap(struct fa_view_row *a, struct fa_view_row *b)
{
	struct fa_view_row t = *a;

	*a = *b;
	*b = t;
}

/* Restores the heap below i: rows[0] is the one that sorts last among rows[0..k). */
static void sift_down(struct fa_view_row *rows, size_t k, size_t i, const struct fa_view_opts *o)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < k && cmp_rows(&rows[l], &rows[m], (void *)o) > 0)
			m = l;
		if (r < k && cmp_rows(&rows[r], &rows[m], (void *)o) > 0)
			m = r;
		if (m == i)
			return;
		row_swap(&rows[i], &rows[m]);
		i = m;
	}
}

/*
 * Puts the opts->top first rows of the order in front, in order: a heap of the best `top`
 * seen so far, n log(top) comparisons instead of a full n log(n) sort.
 */
static void sort_top(struct fa_view_row *rows, size_t n, const struct fa_view_opts *o)
{
	size_t k = o->top;

	if (k && k < n) {
		for (size_t i = k / 2; i-- > 0;)
			sift_down(rows, k, i, o);
		for (size_t i = k; i < n; i++)
			if (cmp_rows(&rows[i], &rows[0], (void *)o) < 0) {
				row_swap(&rows[i], &rows[0]);
				sift_down(rows, k, 0, o);
			}
		n = k;
	}
	qsort_r(rows, n, sizeof(*rows), cmp_rows, (void *)o);
}

struct builder {
	const struct fa_view_opts *opts;
	struct fa_view_row *rows;
	size_t n;
};

static void add(struct builder *b, const struct fa_view_row *r)
{
	if (b->opts->active_only && !fa_counts_moved(r->delta))
		return;
	b->rows[b->n] = *r;
	set_sort_key(&b->rows[b->n++], b->opts->sort);
}

static int build_flows(const struct fa_snapshot *snap, struct builder *b)
{
	const char *filter = b->opts->filter;

	for (size_t i = 0; i < snap->nflows; i++) {
		const struct fa_flow *f = &snap->flows[i];

		if (row_match(snap, &f->proc, &f->tuple, NULL, filter))
			add(b,
			    &(struct fa_view_row){
				    .proc = &f->proc,
				    .tuple = &f->tuple,
				    .cgroup = fa_snapshot_cgroup(snap, f->proc.cgroup_id),
				    .tcp = snap->health && f->tuple.proto == FA_PROTO_TCP ? &f->tcp
											  : NULL,
				    .closed = f->closed,
				    .delta = &f->delta,
				    .total = &f->total });
	}
	for (size_t i = 0; i < snap->noverflow; i++) {
		const struct fa_overflow *o = &snap->overflow[i];

		if (row_match(snap, &o->proc, NULL, NULL, filter))
			add(b, &(struct fa_view_row){
				       .proc = &o->proc,
				       .label = "(overflow)",
				       .cgroup = fa_snapshot_cgroup(snap, o->proc.cgroup_id),
				       .delta = &o->delta,
				       .total = &o->total });
	}
	for (size_t i = 0; i < snap->nunmatched; i++) {
		const struct fa_unmatched *u = &snap->unmatched[i];

		if (row_match(snap, NULL, &u->tuple, NULL, filter))
			add(b, &(struct fa_view_row){ .tuple = &u->tuple,
						      .delta = &u->delta,
						      .total = &u->total });
	}
	return 0;
}

static int build_procs(const struct fa_snapshot *snap, struct builder *b)
{
	__u32 *pids = NULL;
	size_t npids = 0;

	if (b->opts->filter && *b->opts->filter &&
	    pids_matching(snap, b->opts->filter, &pids, &npids))
		return -ENOMEM;
	for (size_t i = 0; i < snap->nprocs; i++) {
		const struct fa_proc *p = &snap->procs[i];

		if (pids && !fa_bsearch(&p->proc.pid, pids, npids, sizeof(*pids), cmp_u32))
			continue;
		add(b, &(struct fa_view_row){ .proc = &p->proc,
					      .cgroup = fa_snapshot_cgroup(snap, p->proc.cgroup_id),
					      .nflows = p->nflows,
					      .delta = &p->delta,
					      .total = &p->total });
	}
	free(pids);
	return 0;
}

/* One group of processes being summed. */
struct group {
	char name[FA_CGROUP_PATH_LEN]; /* raw, as the cgroup or runtime gave it */
	const struct fa_cgroup_info *cg; /* its first cgroup; NULL: not known */
	__u32 nflows, nprocs;
	bool match; /* the filter picks it: one of its rows, with the group's name, matches */
	struct fa_counts delta, total;
};

struct grouping {
	struct fa_indexed t; /* struct group, by name */
	__u32 *cg_group; /* snap->cgroups[i] → v index; unknown ids go to `unknown` */
	__u32 unknown; /* the group of rows whose cgroup is not known; UINT32_MAX: none */
	__u64 *pids; /* (group << 32 | pid) + 1 seen; 0: empty */
	size_t pids_mask;
};

/* The name of a cgroup's group: "(unknown)" if the cgroup is not known (a v1-only host,
 * a cgroup gone before it was seen). */
static void group_name(char *buf, size_t len, const struct fa_cgroup_info *cg, enum fa_group g)
{
	const char *name = "(unknown)";

	if (cg && cg->known) {
		switch (g) {
		case FA_GROUP_SERVICE:
			name = fa_cgroup_workload(cg);
			if (!*name)
				name = cg->path; /* no unit: where it runs ("/", a slice) */
			break;
		case FA_GROUP_CONTAINER:
			name = cg->container[0] ? cg->container : "(host)";
			break;
		default:
			name = cg->path;
			break;
		}
	}
	snprintf(buf, len, "%s", name);
}

static __u64 group_hash(const void *groups, size_t i)
{
	const char *name = ((const struct group *)groups)[i].name;

	return fa_hash(name, strlen(name));
}

/* The group named by cg in g, made if new; its index, or UINT32_MAX on ENOMEM. */
static __u32 group_of(struct grouping *gr, const struct fa_cgroup_info *cg, enum fa_group g)
{
	struct fa_indexed *t = &gr->t;
	char name[FA_CGROUP_PATH_LEN];
	struct group *v;
	size_t h;

	group_name(name, sizeof(name), cg, g);
	if (t->n == t->cap && fa_indexed_grow(t, sizeof(*v), group_hash))
		return UINT32_MAX;
	v = t->v;
	for (h = fa_hash(name, strlen(name)) & t->mask; t->index[h]; h = (h + 1) & t->mask)
		if (!strcmp(v[t->index[h] - 1].name, name))
			return t->index[h] - 1;
	memset(&v[t->n], 0, sizeof(v[0]));
	memcpy(v[t->n].name, name, sizeof(name));
	v[t->n].cg = cg && cg->known ? cg : NULL;
	t->index[h] = ++t->n;
	return t->n - 1;
}

/* Adds a pid to group k's processes, once. */
static void group_pid(struct grouping *gr, __u32 k, __u32 pid)
{
	__u64 key = ((__u64)k << 32 | pid) + 1;
	size_t h = fa_hash(&key, sizeof(key)) & gr->pids_mask;

	while (gr->pids[h] && gr->pids[h] != key)
		h = (h + 1) & gr->pids_mask;
	if (!gr->pids[h]) {
		gr->pids[h] = key;
		((struct group *)gr->t.v)[k].nprocs++;
	}
}

/* One flow, overflow or closed row into its group. */
static int group_row(struct grouping *gr, const struct fa_snapshot *snap, enum fa_group g,
		     const struct fa_ident *id, const struct fa_tuple *t,
		     const struct fa_counts *delta, const struct fa_counts *total,
		     const char *filter)
{
	const struct fa_cgroup_info *cg = fa_snapshot_cgroup(snap, id->cgroup_id);
	__u32 k = cg ? gr->cg_group[cg - snap->cgroups] : gr->unknown;
	struct group *grp;

	if (k == UINT32_MAX) {
		k = gr->unknown = group_of(gr, NULL, g);
		if (k == UINT32_MAX)
			return -ENOMEM;
	}
	grp = &((struct group *)gr->t.v)[k];
	if (t)
		grp->nflows++;
	/* the row with its group's name: a term may name either, and a negated one must hold
	 * of both */
	grp->match = grp->match || row_match(snap, id, t, grp->name, filter);
	fa_counts_add(&grp->delta, delta);
	fa_counts_add(&grp->total, total);
	group_pid(gr, k, id->pid);
	return 0;
}

static int group_rows(const struct fa_snapshot *snap, const struct fa_view_opts *opts,
		      struct grouping *gr)
{
	size_t rows = snap->nflows + snap->noverflow + snap->nclosed, cap = 64;
	const char *filter = opts->filter && *opts->filter ? opts->filter : NULL;

	while (cap < 2 * rows)
		cap *= 2;
	gr->unknown = UINT32_MAX;
	gr->pids = calloc(cap, sizeof(*gr->pids));
	gr->pids_mask = cap - 1;
	gr->cg_group = calloc(snap->ncgroups + 1, sizeof(*gr->cg_group));
	if (!gr->pids || !gr->cg_group)
		return -ENOMEM;
	for (size_t i = 0; i < snap->ncgroups; i++)
		if ((gr->cg_group[i] = group_of(gr, &snap->cgroups[i], opts->group)) == UINT32_MAX)
			return -ENOMEM;
	for (size_t i = 0; i < snap->nflows; i++) {
		const struct fa_flow *f = &snap->flows[i];

		if (group_row(gr, snap, opts->group, &f->proc, &f->tuple, &f->delta, &f->total,
			      filter))
			return -ENOMEM;
	}
	for (size_t i = 0; i < snap->noverflow; i++) {
		const struct fa_overflow *o = &snap->overflow[i];

		if (group_row(gr, snap, opts->group, &o->proc, NULL, &o->delta, &o->total, filter))
			return -ENOMEM;
	}
	for (size_t i = 0; i < snap->nclosed; i++) {
		const struct fa_closed *c = &snap->closed[i];
		const struct fa_counts none = {};

		if (group_row(gr, snap, opts->group, &c->proc, NULL, &none, &c->total, filter))
			return -ENOMEM;
	}
	if (!filter) /* every group is shown; with one, those of which one row matched */
		for (size_t i = 0; i < gr->t.n; i++)
			((struct group *)gr->t.v)[i].match = true;
	return 0;
}

/*
 * Group rows: one per group that has rows, the groups kept after the rows in the same
 * allocation so one free() releases both.
 */
static int build_groups(const struct fa_snapshot *snap, const struct fa_view_opts *opts,
			struct fa_view_row **out, size_t *n)
{
	struct grouping gr = {};
	struct builder b = { .opts = opts };
	struct group *groups;
	int err = group_rows(snap, opts, &gr);

	if (!err) {
		b.rows = malloc((gr.t.n + 1) * (sizeof(*b.rows) + sizeof(*groups)));
		err = b.rows ? 0 : -ENOMEM;
	}
	if (!err) {
		groups = (struct group *)(b.rows + gr.t.n + 1);
		if (gr.t.n)
			memcpy(groups, gr.t.v, gr.t.n * sizeof(*groups));
		for (size_t i = 0; i < gr.t.n; i++) {
			const struct group *g = &groups[i];

			if (g->match && (g->nprocs || fa_counts_moved(&g->delta)))
				add(&b, &(struct fa_view_row){ .label = g->name,
							       .cgroup = g->cg,
							       .nflows = g->nflows,
							       .nprocs = g->nprocs,
							       .delta = &g->delta,
							       .total = &g->total });
		}
		sort_top(b.rows, b.n, opts);
		*out = b.rows;
		*n = b.n;
	}
	free(gr.t.v);
	free(gr.t.index);
	free(gr.cg_group);
	free(gr.pids);
	return err;
}

int fa_view_build(const struct fa_snapshot *snap, const struct fa_view_opts *opts,
		  struct fa_view_row **out, size_t *n)
{
	size_t cap = opts->group == FA_GROUP_PROCESS
			     ? snap->nprocs
			     : snap->nflows + snap->noverflow + snap->nunmatched;
	struct builder b = { .opts = opts };
	int err;

	if (fa_group_is_cgroups(opts->group))
		return build_groups(snap, opts, out, n);
	b.rows = malloc((cap ? cap : 1) * sizeof(*b.rows));
	if (!b.rows)
		return -ENOMEM;
	err = opts->group == FA_GROUP_PROCESS ? build_procs(snap, &b) : build_flows(snap, &b);
	if (err) {
		free(b.rows);
		return err;
	}
	sort_top(b.rows, b.n, opts);
	*out = b.rows;
	*n = b.n;
	return 0;
}
