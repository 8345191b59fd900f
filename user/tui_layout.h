/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The interactive view's table, without ncurses: which columns fit a width, their titles,
 * and the text of each cell. Kept pure so it can be unit-tested and so the drawing code
 * only places strings.
 */
#ifndef FA_TUI_LAYOUT_H
#define FA_TUI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include "snapshot.h"
#include "view.h"

enum fa_tui_col {
	FA_TUI_COL_PID,
	FA_TUI_COL_USER,
	FA_TUI_COL_COMM,
	/* CONTAINER/UNIT: what runs the process; in a view by service, container or cgroup,
	 * the group's name */
	FA_TUI_COL_WORKLOAD,
	FA_TUI_COL_PROTO, /* per-flow view only */
	FA_TUI_COL_LOCAL, /* per-flow view only */
	FA_TUI_COL_REMOTE, /* per-flow view only */
	FA_TUI_COL_PROCS, /* views by service, container or cgroup only */
	FA_TUI_COL_FLOWS, /* per-process and group views only */
	FA_TUI_COL_RTT, /* a TCP flow's smoothed RTT, per-flow view, where health is known */
	FA_TUI_COL_RETRANS, /* TCP segments retransmitted since start, where health is known */
	FA_TUI_COL_RX_RATE,
	FA_TUI_COL_TX_RATE,
	FA_TUI_COL_RX_TOTAL,
	FA_TUI_COL_TX_TOTAL,
	FA_TUI_COL_RX_PKTS, /* packets per second, only with --packets */
	FA_TUI_COL_TX_PKTS,
	FA_TUI_COL_MAX,
};

struct fa_tui_col_pos {
	enum fa_tui_col col;
	int x; /* first screen column */
	int width; /* cells are clipped to this */
	bool right; /* right-aligned (numbers) */
};

/* What the table shows; the same for every row of a frame. */
struct fa_tui_table {
	enum fa_group group;
	bool packets; /* the snapshot has packet counts */
	bool health; /* the snapshot has TCP health */
	bool exact; /* exact byte counts instead of KiB/MiB/... */
};

/*
 * Chooses the columns that fit in `width` screen columns, in display order, into
 * out[FA_TUI_COL_MAX]; returns how many. Columns go least important first (packet
 * rates, USER, CONTAINER/UNIT, PROTO, LOCAL/FLOWS, REMOTE, totals, PID) until the rest
 * fits; COMM (a group's name in group views), RX/s and TX/s always stay, clipped at the
 * right edge if even they do not fit. Width left over widens COMM, the group's name,
 * REMOTE, LOCAL, CONTAINER/UNIT and USER up to want[col] (the widest content seen;
 * NULL: minimum widths). No column ever extends past `width`.
 */
int fa_tui_layout(int width, const struct fa_tui_table *tab, const int *want,
		  struct fa_tui_col_pos *out);

/* The column a view's sort order is shown on (FA_SORT_TOTAL: RX/s and TX/s both are
 * marked; sorting by name marks the group's name in group views). */
bool fa_tui_col_is_sorted(enum fa_tui_col col, const struct fa_view_opts *view);
/* Does the sort put the smallest first? (pid and name ascend by default, bytes descend) */
bool fa_tui_sort_ascending(enum fa_sort sort, bool reverse);
/* `<` and `>`: the sort order one column to the left (dir < 0) or right, clamped; the TCP
 * health sorts come after the byte ones. */
enum fa_sort fa_tui_sort_step(enum fa_sort sort, int dir);

/* A column's title, with " v" (descending) or " ^" (ascending) if the view sorts on it. */
char *fa_tui_title(char *buf, size_t len, enum fa_tui_col col, const struct fa_view_opts *view);

/*
 * The text of one cell, escaped (no control characters, nothing that is not printable
 * ASCII), not yet clipped. iv: the interval in seconds, for rates. user: the row's user
 * name, or NULL to print the uid.
 */
char *fa_tui_cell(char *buf, size_t len, enum fa_tui_col col, const struct fa_view_row *row,
		  const struct fa_tui_table *tab, double iv, const char *user);
#define FA_TUI_CELL_LEN 512 /* a cgroup path, escaped and cut */

/*
 * The detail line of one row (Enter in the live view): what it is and, where TCP health
 * is known, its state, RTTs, retransmits, opens, closes and resets; escaped, like cells.
 */
char *fa_tui_detail(char *buf, size_t len, const struct fa_view_row *row,
		    const struct fa_tui_table *tab);

/*
 * Fits text into `width` columns: shorter text is padded (on the left if right-aligned),
 * longer text is cut and ends in '~' (or, with keep_tail, keeps its end, as for an address
 * whose port matters, and starts with '~'). Always terminates dst, which needs width + 1.
 */
char *fa_tui_fit(char *dst, size_t len, const char *text, int width, bool right, bool keep_tail);

#endif /* FA_TUI_LAYOUT_H */
