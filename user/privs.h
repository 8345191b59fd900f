/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Least privilege. Setting up needs CAP_BPF and CAP_PERFMON (loading and attaching the
 * programs), CAP_NET_ADMIN (the tracepoint backend's cgroup programs), CAP_NET_RAW
 * (--packets), CAP_NET_BIND_SERVICE (a metrics port below 1024); running needs only
 * CAP_BPF, for the map operations of each interval where unprivileged bpf() is off (so
 * new cgroups are named by walking the hierarchy, not by open_by_handle_at).
 * Once everything is loaded, attached and opened, fa_privs_drop() keeps CAP_BPF alone,
 * optionally switches to an unprivileged user (--user, like tcpdump -Z), and sets
 * PR_SET_NO_NEW_PRIVS, so that nothing flowacct runs afterwards can gain a privilege.
 */
#ifndef FA_PRIVS_H
#define FA_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>
#include "util.h" /* fa_cap_effective(), fa_caps_keep() */

struct fa_err;

/* --user NAME: its uid, gid and groups, looked up before set-up (NSS may need files that
 * are gone from reach afterwards). 0, or -ENOENT with why. */
struct fa_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int ngroups;
	bool set;
};
int fa_user_lookup(const char *name, struct fa_user *u, struct fa_err *why);

/*
 * Keeps only the capabilities in keep (a mask of 1ULL << CAP_*; CAP_BPF at least, for
 * the maps), and CAP_BPF alone in the bounding set; switches to u if set (its groups, gid, uid);
 * sets no_new_privs. Capabilities are per thread: threads started after it inherit the result, and
 * fa_thread_start()'s threads drop every capability they start with. 0, or -errno with why.
 */
int fa_privs_drop(const struct fa_user *u, unsigned long long keep, struct fa_err *why);

#endif /* FA_PRIVS_H */
