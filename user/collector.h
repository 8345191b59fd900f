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

/* Intervals an exited process's rows stay visible before they are removed. */
#define FA_EXITED_LINGER 3

struct fa_collector;

/* ring may be NULL (no --packets); host_root: where runtimes' state is (NULL: "/"). */
struct fa_collector *fa_collector_new(const struct fa_bpf *bpf, struct fa_pktring *ring,
				      const char *host_root);
/* Builds the snapshot of the interval that ends now. 0 or -errno. */
int fa_collector_sample(struct fa_collector *c, bool final, struct fa_snapshot *snap);
void fa_collector_free(struct fa_collector *c);

#endif /* FA_COLLECTOR_H */
