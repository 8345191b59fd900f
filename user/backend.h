/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Choosing, loading and attaching the BPF programs of one backend. */
#ifndef FA_BACKEND_H
#define FA_BACKEND_H

#include <linux/types.h>
#include "flowacct.h"

enum fa_backend {
	FA_BACKEND_AUTO,
	FA_BACKEND_FENTRY,
	FA_BACKEND_KPROBE,
	FA_BACKEND_TRACEPOINT,
	FA_BACKEND_MAX,
};

extern const char *const fa_backend_names[FA_BACKEND_MAX];

struct fa_err;
struct flowacct_bpf;
struct bpf_link;

/* What the kernel side is asked to do: the backend's own options, nothing else. */
struct fa_backend_opts {
	enum fa_backend backend; /* FA_BACKEND_AUTO: the first that works */
	__u8 want; /* enum fa_want bits: families and protocols counted */
	const __u32 *pids; /* --pid: only these processes; npids 0: all */
	int npids;
	__u32 max_flows; /* flow table size */
	bool audit; /* --audit: count per TCP socket too (struct fa_audit_key) */
	const int *cgroup_fds; /* --cgroup: only tasks in these cgroups (or below); n 0: all */
	int ncgroup_fds;
	/* -i: only flows whose traffic goes through this interface of this network
	 * namespace (its inode number); 0: all */
	__u32 ifindex, ifindex_netns;
};

#define FA_MAX_CGROUP_FILTERS 16 /* bpf/flowacct.bpf.c: MAX_CGROUP_FILTERS */

struct fa_bpf {
	struct flowacct_bpf *skel;
	enum fa_backend backend; /* the one attached */
	struct fa_slot *slots; /* the kernel's array of flow slots, mapped here */
	/* each slot's TCP health, mapped here; NULL where the backend has no health hooks
	 * (kprobe: events in softirq context cannot find their socket's flow) */
	struct fa_health *health;
	__u32 nslots;
	volatile __u32 *next_slot; /* slots below have been handed out at least once */
	int index_fd; /* flow key -> slot; an entry leaves when its slot is retired */
	int free_fd; /* queue of retired slots handed back for reuse */
	int overflow_fd, stats_fd;
	int other_fd; /* struct fa_other_key -> struct fa_other_value */
	/* queue of struct fa_release: sockets closed, whose flows leave; -1: none told */
	int released_fd;
	int audit_fd; /* --audit: struct fa_audit_key -> struct fa_audit_value; else -1 */
	__u32 max_flows;
	struct bpf_link *cgroup_links[5]; /* tracepoint: the UDP peer and release hooks */
	int ncgroup_links;
};

/*
 * Loads and attaches opts->backend, or with FA_BACKEND_AUTO the first of fentry, kprobe,
 * tracepoint that works, logging which one it uses and why each skipped one was skipped.
 * Returns 0, or -errno with the reason in err.
 */
int fa_backend_open(const struct fa_backend_opts *opts, struct fa_bpf *out, struct fa_err *err);
/*
 * Can backend b (not FA_BACKEND_AUTO) work on this kernel? Side-effect free: nothing is
 * attached. 0, or -errno with what is missing in why. Needs the privileges of a load.
 */
int fa_backend_probe(enum fa_backend b, struct fa_err *why);
void fa_backend_close(struct fa_bpf *bpf);

#endif /* FA_BACKEND_H */
