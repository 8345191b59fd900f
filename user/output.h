/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The outputs that get every interval's snapshot: text, JSON lines, JSON file, Prometheus. */
#ifndef FA_OUTPUT_H
#define FA_OUTPUT_H

#include <stdio.h>
#include "snapshot.h"
#include "view.h"

struct fa_output {
	const char *name;
	/* Called once per interval, from the collector's thread; must not block on clients. */
	int (*emit)(struct fa_output *out, const struct fa_snapshot *snap);
	void (*close)(struct fa_output *out); /* frees out */
};

/* Plain-text table (-b/--batch, or stdout is not a terminal). */
struct fa_output *fa_text_open(FILE *f, const struct fa_view_opts *view, int rows);
/* One JSON object per line (-j/--json), listing the rows that moved bytes or packets. */
struct fa_output *fa_json_open(FILE *f);
/* The JSON object of one snapshot, every row, compact, without newline; malloc'd, NULL on
 * ENOMEM. */
char *fa_json_render(const struct fa_snapshot *snap);
/* --json-file PATH: the latest snapshot replaces PATH atomically. NULL with errno set. */
struct fa_output *fa_jsonfile_open(const char *path, char *err, size_t errlen);
/* --prometheus [ADDR:]PORT; NULL and a message in err on failure. */
struct fa_output *fa_prom_open(const char *listen, bool flows, char *err, size_t errlen);

#endif /* FA_OUTPUT_H */
