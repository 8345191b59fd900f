// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot.h"

enum fa_part fa_part_of(__u8 proto)
{
	return proto == FA_PROTO_UDP ? FA_PART_UDP : FA_PART_TCP;
}

static int cmp_pid(const void *a, const void *b)
{
	__u32 x = ((const struct fa_proc *)a)->proc.pid, y = ((const struct fa_proc *)b)->proc.pid;

	return (x > y) - (x < y);
}

static struct fa_proc *proc_find(struct fa_proc *procs, size_t n, __u32 pid)
{
	struct fa_proc key = { .proc.pid = pid };

	return bsearch(&key, procs, n, sizeof(*procs), cmp_pid);
}

/* A process row's identity: the first row's, a name from any row that has one. */
static void proc_add(struct fa_proc *p, const struct fa_ident *id, enum fa_part part,
		     const struct fa_counts *delta, const struct fa_counts *total)
{
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
}

int fa_snapshot_aggregate(struct fa_snapshot *snap)
{
	size_t cap = snap->nflows + snap->noverflow, n = 0;
	struct fa_proc *procs = calloc(cap ? cap : 1, sizeof(*procs));

	if (!procs)
		return -ENOMEM;
	/* the distinct pids first, sorted, then every row added to its own */
	for (size_t i = 0; i < snap->nflows; i++)
		procs[n++].proc.pid = snap->flows[i].proc.pid;
	for (size_t i = 0; i < snap->noverflow; i++)
		procs[n++].proc.pid = snap->overflow[i].proc.pid;
	qsort(procs, n, sizeof(*procs), cmp_pid);
	cap = n;
	n = 0;
	for (size_t i = 0; i < cap; i++)
		if (!n || procs[n - 1].proc.pid != procs[i].proc.pid)
			procs[n++].proc.pid = procs[i].proc.pid;
	for (size_t i = 0; i < snap->nflows; i++) {
		const struct fa_flow *f = &snap->flows[i];
		struct fa_proc *p = proc_find(procs, n, f->proc.pid);

		proc_add(p, &f->proc, fa_part_of(f->tuple.proto), &f->delta, &f->total);
		p->nflows++;
	}
	for (size_t i = 0; i < snap->noverflow; i++) {
		const struct fa_overflow *o = &snap->overflow[i];

		proc_add(proc_find(procs, n, o->proc.pid), &o->proc, FA_PART_OVERFLOW, &o->delta,
			 &o->total);
	}
	free(snap->procs);
	snap->procs = procs;
	snap->nprocs = n;
	return 0;
}

void fa_snapshot_free(struct fa_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->flows);
	free(snap->overflow);
	free(snap->procs);
	free(snap->unmatched);
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
		      sizeof(*src->unmatched))) {
		fa_snapshot_free(dst);
		return -ENOMEM;
	}
	return 0;
}
