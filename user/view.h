/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Turning a snapshot into the rows a table shows: grouping, text filter, sorting. */
#ifndef FA_VIEW_H
#define FA_VIEW_H

#include "snapshot.h"

enum fa_sort {
	FA_SORT_RX,
	FA_SORT_TX,
	FA_SORT_TOTAL,
	FA_SORT_PID,
	FA_SORT_COMM,
	FA_SORT_MAX,
};

enum fa_group {
	FA_GROUP_FLOW,
	FA_GROUP_PROCESS,
};

struct fa_view_opts {
	enum fa_group group;
	enum fa_sort sort;
	bool reverse; /* ascending where the default is descending, and the other way */
	bool active_only; /* only rows that moved bytes or packets this interval */
	const char *filter; /* substring over escaped comm, addresses and ports; NULL: all */
};

extern const char *const fa_sort_names[FA_SORT_MAX]; /* "rx", "tx", "total", "pid", "comm" */
int fa_sort_parse(const char *s, enum fa_sort *out); /* 0 or -EINVAL */

/*
 * Builds the rows to show, in order, in a newly allocated array (*out, *n). Process rows
 * (FA_GROUP_PROCESS) add up every row of a pid, overflow rows included. Returns 0 or
 * -ENOMEM. Free *out with free().
 */
int fa_view_build(const struct fa_snapshot *snap, const struct fa_view_opts *opts,
		  struct fa_row **out, size_t *n);

/* Did the row move bytes or packets this interval? */
bool fa_row_moved(const struct fa_row *row);

/* Does the row match the text filter (case-insensitive substring of comm, addresses, ports)? */
bool fa_view_match(const struct fa_row *row, const char *filter);

#endif /* FA_VIEW_H */
