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

/* The processes being summed (struct fa_proc), indexed by pid. */
static __u64 proc_hash(const void *procs, size_t i)
{
	__u32 pid = ((const struct fa_proc *)procs)[i].proc.pid;

	return fa_hash(&pid, sizeof(pid));
}

static struct fa_proc *proc_get(struct fa_indexed *ps, __u32 pid)
{
	struct fa_proc *procs;
	size_t h;

	if (ps->n == ps->cap && fa_indexed_grow(ps, sizeof(*procs), proc_hash))
		return NULL;
	procs = ps->v;
	for (h = fa_hash(&pid, sizeof(pid)) & ps->mask; ps->index[h]; h = (h + 1) & ps->mask)
		if (procs[ps->index[h] - 1].proc.pid == pid)
			return &procs[ps->index[h] - 1];
	ps->index[h] = ++ps->n;
	memset(&procs[ps->n - 1], 0, sizeof(procs[0]));
	procs[ps->n - 1].proc.pid = pid;
	return &procs[ps->n - 1];
}

/*
 * Adds a row to its process, made on its first row; NULL on ENOMEM. A process row's
 * identity is its first row's, with a name from any row that has one.
 */
static struct fa_proc *proc_add(struct fa_indexed *ps, const struct fa_ident *id, enum fa_part part,
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
	struct fa_indexed ps = {};
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
	for (size_t i = 0; i < snap->nclosed && !err; i++) {
		const struct fa_closed *c = &snap->closed[i];
		const struct fa_counts none = {};

		if (!proc_add(&ps, &c->proc, c->part, &none, &c->total))
			err = -ENOMEM;
	}
	free(ps.index);
	if (err) {
		free(ps.v);
		return err;
	}
	fa_qsort(ps.v, ps.n, sizeof(struct fa_proc), cmp_pid);
	free(snap->procs);
	snap->procs = ps.v ? ps.v : calloc(1, sizeof(struct fa_proc));
	snap->nprocs = ps.n;
	return snap->procs ? 0 : -ENOMEM;
}

void fa_snapshot_free(struct fa_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->flows);
	free(snap->overflow);
	free(snap->closed);
	snap->closed = NULL;
	snap->nclosed = 0;
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
	    dup_array((void **)&dst->closed, src->closed, src->nclosed, sizeof(*src->closed)) |
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
	return fa_bsearch(&id, snap->cgroups, snap->ncgroups, sizeof(*snap->cgroups), cgroup_cmp);
}

const char *fa_cgroup_workload(const struct fa_cgroup_info *ci)
{
	if (ci->container[0])
		return ci->container;
	return ci->name.kind == FA_CG_SERVICE ? ci->name.unit : "";
}

unsigned fa_snapshot_kinds(const struct fa_snapshot *snap, bool tcp)
{
	return FA_CK_BASE | (snap->packets ? FA_CK_PACKETS : 0) |
	       (snap->health && tcp ? FA_CK_HEALTH : 0);
}

const char *fa_tcp_state_name(__u8 state)
{
	/* the kernel's enum order, from TCP_ESTABLISHED = 1 */
	static const char *const names[] = {
		"?",	      "ESTAB",	   "SYN-SENT",	   "SYN-RECV",	 "FIN-WAIT-1",
		"FIN-WAIT-2", "TIME-WAIT", "CLOSE",	   "CLOSE-WAIT", "LAST-ACK",
		"LISTEN",     "CLOSING",   "NEW-SYN-RECV",
	};

	return state < ARRAY_SIZE(names) ? names[state] : "?";
}
