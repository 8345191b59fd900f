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
	FA_TUI_COL_HIST, /* the row's RX/s + TX/s over the last intervals, as a small graph */
	FA_TUI_COL_AVG2, /* RX/s + TX/s averaged over 2 s, 10 s, 40 s (iftop's) */
	FA_TUI_COL_AVG10,
	FA_TUI_COL_AVG40,
	FA_TUI_COL_RX_TOTAL,
	FA_TUI_COL_TX_TOTAL,
	FA_TUI_COL_RX_PKTS, /* packets per second, only with --packets */
	FA_TUI_COL_TX_PKTS,
	FA_TUI_COL_CMD, /* the process's command line, last: it takes what width is left */
	FA_TUI_COL_MAX,
};

/* The averages' windows, seconds, in the order of FA_TUI_COL_AVG2.. */
extern const double fa_tui_avg_windows[3];

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
	bool bits; /* rates in bits per second (totals stay in bytes) */
	unsigned hidden; /* 1u << col: columns the user turned off (the column chooser) */
};

/* What a row shows beyond the snapshot: looked up by the live view, NULL-able. */
struct fa_tui_rowinfo {
	const char *user; /* the user name; NULL: print the uid */
	const char *cmdline; /* raw bytes (NULs as spaces): escaped when shown; NULL: "-" */
	double avg[3]; /* bytes per second over fa_tui_avg_windows */
	bool known; /* the history has the row (else averages show "-") */
};

/* Columns the chooser offers, in its order; the others always show where they apply. */
extern const enum fa_tui_col fa_tui_optional_cols[];
extern const size_t fa_tui_noptional_cols;
/* Off until chosen: the averages and the command line */
#define FA_TUI_HIDDEN_DEFAULT                                                                      \
	((1u << FA_TUI_COL_AVG2) | (1u << FA_TUI_COL_AVG10) | (1u << FA_TUI_COL_AVG40) |           \
	 (1u << FA_TUI_COL_CMD))
/* A column's title without sort marker ("CONTAINER/UNIT", ...), as the chooser lists it. */
const char *fa_tui_col_name(enum fa_tui_col col);

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

/* The column a view's sort order is shown on (FA_SORT_RATE: RX/s and TX/s both are
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
 * ASCII), not yet clipped. iv: the interval's rate divisor in seconds. info: what the
 * view looked up for the row (NULL: nothing).
 */
char *fa_tui_cell(char *buf, size_t len, enum fa_tui_col col, const struct fa_view_row *row,
		  const struct fa_tui_table *tab, double iv, const struct fa_tui_rowinfo *info);

/* A rate as the table shows it: bytes (or, with tab->bits, bits) per second. */
char *fa_tui_rate(char *buf, size_t len, double bytes_per_s, const struct fa_tui_table *tab);

/*
 * A graph of n values in n cells, scaled to max (0: the largest value): block elements
 * U+2581..U+2588 with utf8, else ASCII " .:-=+*#". A zero is a blank, anything else at
 * least the lowest mark. dst needs 3 * n + 1 bytes.
 */
char *fa_tui_spark(char *dst, size_t len, const double *v, int n, double max, bool utf8);

/*
 * Joins fields into a line of at most width columns, two blanks apart, in their order,
 * leaving out whole each field that does not fit in what is left (a number is never cut);
 * a NULL or empty field is skipped. Put the fields that matter most first.
 */
char *fa_tui_fields(char *dst, size_t len, int width, const char *const *fields, int n);
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
