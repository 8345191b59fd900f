/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The outputs that get every interval's snapshot: text, JSON lines, JSON file, Prometheus. */
#ifndef FA_OUTPUT_H
#define FA_OUTPUT_H

#include <stdio.h>
#include "prom_render.h"
#include "snapshot.h"
#include "view.h"

struct fa_output {
	const char *name;
	/* Called once per interval, from the collector's thread; must not block on clients. */
	int (*emit)(struct fa_output *out, const struct fa_snapshot *snap);
	void (*close)(struct fa_output *out); /* frees out */
	/* After an emit that failed: what failed, when the output knows more than the errno
	 * (which file, which step); else NULL. */
	const char *why;
};

typedef int fa_output_emit_fn(struct fa_output *out, const struct fa_snapshot *snap);

/* A zeroed output of `size` bytes whose struct starts with struct fa_output; close is free().
 * NULL on ENOMEM. */
void *fa_output_new(size_t size, const char *name, fa_output_emit_fn *emit);

/* Plain-text table (-b/--batch, or stdout is not a terminal). */
struct fa_text_opts {
	struct fa_view_opts view; /* its active_only and top are the table's own */
	int rows; /* -r: at most this many rows per interval; 0: all */
	bool bits; /* --bits: rates in bits per second */
};
struct fa_output *fa_text_open(FILE *f, const struct fa_text_opts *opts);
/* One JSON object per line (-j/--json), listing the rows that moved bytes or packets. */
struct fa_output *fa_json_open(FILE *f);
/* The JSON object of one snapshot, compact, without newline, streamed to f (locked while
 * it is written; the caller flushes). active_only: only the rows that moved bytes or
 * packets this interval (-j). Every JSON output goes through this one generator. 0 or
 * -errno (-EILSEQ: a string was not UTF-8); on failure f has a partial object. */
int fa_json_write(FILE *f, const struct fa_snapshot *snap, bool active_only);
/* fa_json_write of every row into a malloc'd string; NULL on failure, with errno. */
char *fa_json_render(const struct fa_snapshot *snap);
struct fa_err;

/* --json-file PATH: the latest snapshot replaces PATH atomically. 0 or -errno, with err. */
int fa_jsonfile_open(const char *path, struct fa_output **out, struct fa_err *err);
struct fa_webconfig;

/* --prometheus [ADDR:]PORT: /metrics over HTTP (prom_http.c); with web (--web-config,
 * may be NULL), TLS, basic auth and the rest of it, from memory. 0 or -errno, with err. */
int fa_prom_open(const char *listen, const struct fa_prom_opts *opts,
		 const struct fa_webconfig *web, struct fa_output **out, struct fa_err *err);
/* Does web's TLS part load in GnuTLS (the key matches the certificate, the CA parses,
 * the versions exist)? Before anything is loaded, so a bad file is a usage error. 0, or
 * -errno with err. */
int fa_prom_web_check(const struct fa_webconfig *web, struct fa_err *err);

#endif /* FA_OUTPUT_H */
