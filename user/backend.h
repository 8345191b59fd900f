/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Choosing, loading and attaching the BPF programs of one backend. */
#ifndef FA_BACKEND_H
#define FA_BACKEND_H

#include <linux/types.h>

enum fa_backend {
	FA_BACKEND_AUTO,
	FA_BACKEND_FENTRY,
	FA_BACKEND_KPROBE,
	FA_BACKEND_TRACEPOINT,
	FA_BACKEND_MAX,
};

extern const char *const fa_backend_names[FA_BACKEND_MAX];
int fa_backend_parse(const char *s, enum fa_backend *out); /* 0 or -EINVAL */

struct fa_config;
struct flowacct_bpf;

struct fa_bpf {
	struct flowacct_bpf *skel;
	enum fa_backend backend; /* the one attached */
	int flows_fd, overflow_fd, stats_fd;
	__u32 max_flows;
};

/*
 * Loads and attaches cfg->backend, or with FA_BACKEND_AUTO the first of fentry, kprobe,
 * tracepoint that works, saying on stderr why each skipped one was skipped. Returns 0,
 * or -errno after printing what was tried and why each failed.
 */
int fa_backend_open(const struct fa_config *cfg, struct fa_bpf *out);
void fa_backend_close(struct fa_bpf *bpf);

#endif /* FA_BACKEND_H */
