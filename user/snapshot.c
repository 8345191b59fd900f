// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot.h"
#include "util.h"

enum fa_part fa_part_of(__u8 proto)
{
	return proto == FA_PROTO_UDP ? FA_PART_UDP : FA_PART_TCP;
}

static int cmp_pid(const void *a, const void *b)
{
	__u32 x = ((const struct fa_proc *)a)->proc.pid, y = ((const struct fa_proc *)b)->proc.pid;

	return (x > y) - (x < y);
}

/* The processes being summed, and an open-addressing index of them by pid. */
struct proc_sum {
	struct fa_proc *procs;
	size_t n, cap;
	__u32 *index; /* procs index + 1; 0: empty */
	size_t mask;
};

static int proc_sum_grow(struct proc_sum *ps)
{
	size_t cap = ps->cap ? ps->cap * 2 : 64;
	struct fa_proc *procs = realloc(ps->procs, cap * sizeof(*procs));
	__u32 *index = calloc(cap * 2, sizeof(*index));

	if (procs)
		ps->procs = procs;
	if (!procs || !index) {
		free(index);
		return -ENOMEM;
	}
	free(ps->index);
	ps->index = index;
	ps->cap = cap;
	ps->mask = cap * 2 - 1;
	for (size_t i = 0; i < ps->n; i++) {
		__u32 pid = procs[i].proc.pid;
		size_t h = fa_hash(&pid, sizeof(pid)) & ps->mask;

		while (index[h])
			h = (h + 1) & ps->mask;
		index[h] = i + 1;
	}
	return 0;
}

static struct fa_proc *proc_get(struct proc_sum *ps, __u32 pid)
{
	size_t h;

	if (ps->n == ps->cap && proc_sum_grow(ps))
		return NULL;
	for (h = fa_hash(&pid, sizeof(pid)) & ps->mask; ps->index[h]; h = (h + 1) & ps->mask)
		if (ps->procs[ps->index[h] - 1].proc.pid == pid)
			return &ps->procs[ps->index[h] - 1];
	ps->index[h] = ++ps->n;
	memset(&ps->procs[ps->n - 1], 0, sizeof(ps->procs[0]));
	ps->procs[ps->n - 1].proc.pid = pid;
	return &ps->procs[ps->n - 1];
}

/*
 * Adds a row to its process, made on its first row; NULL on ENOMEM. A process row's
 * identity is its first row's, with a name from any row that has one.
 */
static struct fa_proc *proc_add(struct proc_sum *ps, const struct fa_ident *id, enum fa_part part,
				const struct fa_counts *delta, const struct fa_counts *total)
{
	struct fa_proc *p = proc_get(ps, id->pid);

	if (!p)
		return NULL;
	if (!p->part[FA_PART_TCP].present && !p->part[FA_PART_UDP].present &&
	    !p->part[FA_PART_OVERFLOW].present) {
		p->proc = *id;
	} else {
		p->proc.exited = p->proc.exited && id->exited;
		if (!p->proc.comm[0])
			memcpy(p->proc.comm, id->comm, sizeof(p->proc.comm));
	}
	p->part[part].present = true;
	fa_counts_add(&p->part[part].delta, delta);
	fa_counts_add(&p->part[part].total, total);
	fa_counts_add(&p->delta, delta);
	fa_counts_add(&p->total, total);
	return p;
}

int fa_snapshot_aggregate(struct fa_snapshot *snap)
{
	struct proc_sum ps = {};
	int err = 0;

	for (size_t i = 0; i < snap->nflows && !err; i++) {
		const struct fa_flow *f = &snap->flows[i];
		struct fa_proc *p =
			proc_add(&ps, &f->proc, fa_part_of(f->tuple.proto), &f->delta, &f->total);

		if (p)
			p->nflows++;
		else
			err = -ENOMEM;
	}
	for (size_t i = 0; i < snap->noverflow && !err; i++) {
		const struct fa_overflow *o = &snap->overflow[i];

		if (!proc_add(&ps, &o->proc, FA_PART_OVERFLOW, &o->delta, &o->total))
			err = -ENOMEM;
	}
	free(ps.index);
	if (err) {
		free(ps.procs);
		return err;
	}
	if (ps.n)
		qsort(ps.procs, ps.n, sizeof(*ps.procs), cmp_pid);
	free(snap->procs);
	snap->procs = ps.procs ? ps.procs : calloc(1, sizeof(*ps.procs));
	snap->nprocs = ps.n;
	return snap->procs ? 0 : -ENOMEM;
}

void fa_snapshot_free(struct fa_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->flows);
	free(snap->overflow);
	free(snap->procs);
	free(snap->unmatched);
	free(snap->other);
	snap->other = NULL;
	snap->nother = 0;
	free(snap->cgroups);
	snap->cgroups = NULL;
	snap->ncgroups = 0;
	snap->flows = NULL;
	snap->overflow = NULL;
	snap->procs = NULL;
	snap->unmatched = NULL;
	snap->nflows = snap->noverflow = snap->nprocs = snap->nunmatched = 0;
}

static int dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (!n)
		return 0;
	*dst = malloc(n * size);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * size);
	return 0;
}

int fa_snapshot_copy(struct fa_snapshot *dst, const struct fa_snapshot *src)
{
	*dst = *src;
	if (dup_array((void **)&dst->flows, src->flows, src->nflows, sizeof(*src->flows)) |
	    dup_array((void **)&dst->overflow, src->overflow, src->noverflow,
		      sizeof(*src->overflow)) |
	    dup_array((void **)&dst->procs, src->procs, src->nprocs, sizeof(*src->procs)) |
	    dup_array((void **)&dst->unmatched, src->unmatched, src->nunmatched,
		      sizeof(*src->unmatched)) |
	    dup_array((void **)&dst->other, src->other, src->nother, sizeof(*src->other)) |
	    dup_array((void **)&dst->cgroups, src->cgroups, src->ncgroups, sizeof(*src->cgroups))) {
		fa_snapshot_free(dst);
		return -ENOMEM;
	}
	return 0;
}

static int cgroup_cmp(const void *key, const void *elem)
{
	__u64 a = *(const __u64 *)key, b = ((const struct fa_cgroup_info *)elem)->id;

	return a < b ? -1 : a > b;
}

const struct fa_cgroup_info *fa_snapshot_cgroup(const struct fa_snapshot *snap, __u64 id)
{
	return snap->ncgroups ? bsearch(&id, snap->cgroups, snap->ncgroups, sizeof(*snap->cgroups),
					cgroup_cmp)
			      : NULL;
}
