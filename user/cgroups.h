/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup v2 ids (what the kernel side records per flow) to paths and names. A cgroup v2
 * id is the inode number of its directory, so the hierarchy is walked once and then
 * again only when an id is missing (at most once a second); paths of cgroups that have
 * since gone stay known. Hybrid hosts (v2 at /sys/fs/cgroup/unified) and pure v2 alike;
 * on a v1-only host nothing resolves and every id shows as itself.
 */
#ifndef FA_CGROUPS_H
#define FA_CGROUPS_H

#include <stdbool.h>
#include <linux/types.h>
#include "cgname.h"
#include "rtnames.h"

#define FA_CGROUP_PATH_LEN 512 /* longer paths are cut: they are untrusted and bounded */

struct fa_cgroup_info {
	__u64 id;
	bool known; /* found in the hierarchy (now or earlier) */
	char path[FA_CGROUP_PATH_LEN]; /* relative to the v2 root: "/system.slice/x.service" */
	struct fa_cg_name name;
	/* the name people use for the container: its runtime's ("web", "ns/pod/ctr"),
	 * else its short id, or an LXC container's name; "" if no container */
	char container[FA_RT_NAME_LEN];
};

struct fa_cgroups;

/* host_root: see fa_rtnames_new (NULL: "/"). NULL: out of memory. */
struct fa_cgroups *fa_cgroups_new(const char *host_root);
void fa_cgroups_free(struct fa_cgroups *c);
/* The path and names of id (known false if no walk has found it). */
void fa_cgroups_resolve(struct fa_cgroups *c, __u64 id, struct fa_cgroup_info *out);

#endif /* FA_CGROUPS_H */
