/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Prometheus text exposition format (0.0.4) of a snapshot, apart from the HTTP
 * server (prom_http.c) so it can be tested without sockets. Metric names: docs/prometheus.md.
 */
#ifndef FA_PROM_H
#define FA_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include "snapshot.h"

/* Label values as `name="value"` wants them: '\\' → "\\\\", '"' → "\\\"", LF → "\\n". */
char *fa_prom_escape_label(char *dst, size_t dstlen, const char *src);

/*
 * What the page holds. Default: flowacct_process_* by process name, container, systemd
 * unit and protocol, each of those three labels bounded to max_names distinct values
 * (later ones are exported as "(other)"). pids: by process instead (pid and uid too).
 * flows: per-flow series as well.
 */
struct fa_prom_opts {
	bool flows, pids;
	unsigned max_names; /* 1..FA_PROM_MAX_NAMES_MAX */
};

#define FA_PROM_MAX_NAMES_DEFAULT 256
#define FA_PROM_MAX_NAMES_MAX	  100000

/*
 * The counters of the series already exported, so they stay monotonic when the flows
 * a series adds up come and go. One per endpoint; used from one thread only.
 */
struct fa_prom_state;

struct fa_prom_state *fa_prom_state_new(void);
void fa_prom_state_free(struct fa_prom_state *st);

/*
 * The whole /metrics page for this snapshot, malloc'd and NUL-terminated (*len without
 * the NUL); updates st. NULL on ENOMEM (st unchanged). Pass the same opts every time.
 */
char *fa_prom_render(struct fa_prom_state *st, const struct fa_snapshot *snap,
		     const struct fa_prom_opts *opts, size_t *len);

#endif /* FA_PROM_H */
