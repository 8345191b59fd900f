/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reads the kernel's cumulative counters once per interval and turns them into a
 * snapshot: per-interval deltas, totals since start, packet counts joined onto flows.
 * The kernel's counters are only ever read, never reset, so an interval boundary can
 * neither lose nor double-count a byte: a flow's deltas always add up to its total.
 */
#ifndef FA_COLLECTOR_H
#define FA_COLLECTOR_H

#include "backend.h"
#include "pktring.h"
#include "snapshot.h"

/* --linger's default: seconds a closed flow or an exited process's rows stay shown. */
#define FA_LINGER_DEFAULT_S 3

struct fa_collector_opts {
	const char *host_root; /* where container runtimes' state is (NULL: "/") */
	double interval_s; /* the interval asked for (> 0) */
	/* how long a flow stays after flowacct first sees it closed (its socket closed, or
	 * its process exited), and an exited process's other rows: at least one interval */
	double linger_s;
};

struct fa_collector;

/* ring may be NULL (no --packets). */
struct fa_collector *fa_collector_new(const struct fa_bpf *bpf, struct fa_pktring *ring,
				      const struct fa_collector_opts *opts);
/* The interval changed (the live view's + and -): the linger stays as long in seconds. */
void fa_collector_set_interval(struct fa_collector *c, double interval_s);
/* Builds the snapshot of the interval that ends now. 0 or -errno. */
int fa_collector_sample(struct fa_collector *c, bool final, struct fa_snapshot *snap);
void fa_collector_free(struct fa_collector *c);

#endif /* FA_COLLECTOR_H */
