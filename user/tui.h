/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The interactive, top-style view (stdout is a terminal and neither -b nor -j was given). */
#ifndef FA_TUI_H
#define FA_TUI_H

#include "snapshot.h"
#include "view.h"

struct fa_tui_opts {
	struct fa_view_opts view; /* initial grouping, sort, filter (from the command line) */
	int rows; /* -r: at most this many rows; 0: as many as fit */
	double interval_s; /* initial interval */
	bool bits; /* --bits: rates in bits per second (fa_fmt_bits) */
	double linger_s; /* --linger: how long closed and exited rows stay, for the status */
	/* what the kernel side counts, when not everything (-p, --tcp, -4, -i, --cgroup);
	 * raw: escaped when shown */
	char selection[512];
};

enum fa_tui_action {
	FA_TUI_NONE,
	FA_TUI_QUIT,
	FA_TUI_INTERVAL, /* the interval changed: read it with fa_tui_interval() */
};

struct fa_tui;

struct fa_err;

/* Takes over the terminal (ncurses). 0, or -errno with the reason in err. */
int fa_tui_open(const struct fa_tui_opts *opts, struct fa_tui **out, struct fa_err *err);
/* The fd to poll: ready when the view has something for fa_tui_input() (quit, a new
 * interval). Keys are read and drawn on the view's own thread. */
int fa_tui_fd(const struct fa_tui *tui);
/* New data. Kept even while paused; drawn unless paused. Takes the snapshot's arrays:
 * *snap is left empty. */
void fa_tui_update(struct fa_tui *tui, struct fa_snapshot *snap);
/* Called before the next snapshot is built: unless paused, the one shown is freed so the
 * next reuses its memory (at 100k flows, 20 MB). The screen stays as it is until the
 * update. */
void fa_tui_release(struct fa_tui *tui);
/* fa_tui_fd() is ready: what the user asked for. */
enum fa_tui_action fa_tui_input(struct fa_tui *tui);
double fa_tui_interval(const struct fa_tui *tui);
/* Restores the terminal and frees. Safe on NULL. */
void fa_tui_close(struct fa_tui *tui);

#endif /* FA_TUI_H */
