// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "format.h"
#include "log.h"
#include "privs.h"
#include "util.h"

int fa_user_lookup(const char *name, struct fa_user *u, struct fa_err *why)
{
	struct passwd *pw = getpwnam(name);
	char esc[256];

	memset(u, 0, sizeof(*u));
	if (!pw)
		return fa_err_set(why, -ENOENT,
				  "--user %s: no such user (give a name from /etc/passwd)",
				  fa_escape(esc, sizeof(esc), name, strlen(name)));
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->ngroups = sizeof(u->groups) / sizeof(u->groups[0]);
	if (getgrouplist(name, pw->pw_gid, u->groups, &u->ngroups) < 0)
		u->ngroups = sizeof(u->groups) / sizeof(u->groups[0]); /* the first 64 */
	u->set = true;
	return 0;
}

int fa_privs_drop(const struct fa_user *u, unsigned long long keep, struct fa_err *why)
{
	/* the bounding set first: dropping from it needs CAP_SETPCAP, which goes below. It
	 * keeps CAP_BPF alone: what else keep holds is for the rest of set-up, and leaves
	 * the permitted set before the running phase */
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (cap != CAP_BPF && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EPERM)
			return fa_err_set(why, -errno, "dropping capability %d failed (%s)", cap,
					  strerror(errno));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (u && u->set) {
		/* keep the permitted set across the uid change, for the capset below; the
		 * other threads lose every capability with it (glibc changes them all) */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(u->ngroups, u->groups) ||
		    setresgid(u->gid, u->gid, u->gid) || setresuid(u->uid, u->uid, u->uid))
			return fa_err_set(why, -errno,
					  "--user: switching to uid %u gid %u failed (%s)",
					  (unsigned)u->uid, (unsigned)u->gid, strerror(errno));
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (fa_caps_keep(keep))
		return fa_err_set(why, -errno, "dropping capabilities failed (%s)",
				  strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fa_err_set(why, -errno, "PR_SET_NO_NEW_PRIVS failed (%s)", strerror(errno));
	return 0;
}
