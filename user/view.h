/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Turning a snapshot into the rows a table shows: which rows, text filter, sorting. */
#ifndef FA_VIEW_H
#define FA_VIEW_H

#include "snapshot.h"

enum fa_sort {
	FA_SORT_RX, /* RX/s */
	FA_SORT_TX, /* TX/s */
	FA_SORT_RATE, /* RX/s + TX/s, the default */
	FA_SORT_TOTAL_BYTES, /* RX_TOTAL + TX_TOTAL: bytes since start */
	FA_SORT_PID,
	FA_SORT_COMM,
	FA_SORT_RETRANS, /* TCP retransmits this interval, then since start */
	FA_SORT_RTT, /* a TCP flow's smoothed RTT */
	FA_SORT_MAX,
};

enum fa_group {
	FA_GROUP_FLOW, /* flows, overflow rows and unmatched packets */
	FA_GROUP_PROCESS, /* processes */
	FA_GROUP_SERVICE, /* what runs it: the container, else the systemd unit */
	FA_GROUP_CONTAINER, /* containers, and one row for the host */
	FA_GROUP_CGROUP, /* cgroup v2 paths */
	FA_GROUP_MAX,
};

/* "flow", "process", "service", "container", "cgroup" */
extern const char *const fa_group_names[FA_GROUP_MAX];

/* Groups of processes (FA_GROUP_SERVICE and after) are built from the snapshot's rows
 * by the names of their cgroups. */
static inline bool fa_group_is_cgroups(enum fa_group g)
{
	return g >= FA_GROUP_SERVICE;
}

struct fa_view_opts {
	enum fa_group group;
	enum fa_sort sort;
	bool reverse; /* ascending where the default is descending, and the other way */
	bool active_only; /* only rows that moved bytes or packets this interval */
	const char *filter; /* terms, all of which a row must match (fa_filter_match); NULL: all */
	size_t top; /* only the first `top` rows are needed in order (0: all); the rest follow
		     * unordered, so a screen or a -r table of 100k flows sorts only what it shows
		     */
};

/* "rx", "tx", "rate", "total", "pid", "comm", "retrans", "rtt" */
extern const char *const fa_sort_names[FA_SORT_MAX];

/*
 * One row of a table, pointing into the snapshot it was built from (or, for groups, into
 * the array fa_view_build returns). What a row shows follows from what it has, never
 * from a kind: no proc and no label, packets no process's flow matched ("(no process)");
 * no tuple, an aggregate, whose `label` stands where the endpoints would; no proc but a
 * label, a group of processes named by the label.
 */
struct fa_view_row {
	const struct fa_ident *proc; /* NULL: unmatched packets, or a group */
	const struct fa_tuple *tuple; /* NULL: a process, an overflow row or a group */
	/* without tuple: "(overflow)", or a group's name (raw: escape it); NULL for a
	 * process */
	const char *label;
	const struct fa_cgroup_info *cgroup; /* the row's cgroup, if the snapshot names it */
	const struct fa_tcp_now *tcp; /* a TCP flow's health now, where the snapshot has it */
	bool closed; /* a flow whose socket has closed: it leaves after the linger */
	__u32 nflows; /* process and group rows: their flows */
	__u32 nprocs; /* group rows: their processes */
	const struct fa_counts *delta, *total;
	__u64 sort_key[2]; /* set by fa_view_build: sorting 100k rows reads no snapshot */
};

/* Builds the rows to show, in order (see opts->top), into a newly allocated array; *n counts
 * them all. 0 or -ENOMEM. */
int fa_view_build(const struct fa_snapshot *snap, const struct fa_view_opts *opts,
		  struct fa_view_row **out, size_t *n);

/*
 * The filter (--filter, the live view's /): terms separated by spaces, every one of which
 * must hold. A term is case-insensitive text that one of the row's fields contains (its
 * escaped COMM, PROTO, LOCAL and REMOTE as addr:port, CONTAINER/UNIT; a group's name),
 * or :PORT, a local or remote port exactly; !TERM holds where TERM does not.
 */
struct fa_filter_fields {
	const char *text[8]; /* what text terms search, up to the first NULL */
	const struct fa_tuple *tuple; /* its ports, for :PORT; NULL: none */
};

/* Does a row with these fields pass filter (NULL or "": every row does)? */
bool fa_filter_match(const char *filter, const struct fa_filter_fields *row);

/* Did the counts move bytes or packets this interval, or did a TCP event happen? */
bool fa_counts_moved(const struct fa_counts *delta);

#endif /* FA_VIEW_H */
