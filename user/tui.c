// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The interactive, top-style view. It only formats snapshots: the main loop hands it one
 * per interval and polls fa_tui_fd() for keys. Every frame is erase() + draw + doupdate(),
 * so ncurses sends only the cells that changed.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "format.h"
#include "tui.h"
#include "log.h"
#include "tui_layout.h"
#include "util.h"

/* <term.h>'s, which cannot be included: its capability macros (columns, lines, ...)
 * would rename this file's identifiers */
int tputs(const char *str, int affcnt, int (*putc)(int));

#define HEADER_LINES   5 /* three of header, the status or prompt line, the column titles */
#define FILTER_LEN     128
#define USER_CACHE_MAX 1024

enum { PAIR_LOSS = 1, PAIR_SORTED };

struct user_name {
	__u32 uid;
	char *name; /* NULL: no passwd entry, show the uid */
};

struct fa_tui {
	struct fa_view_opts view; /* view.filter points at filter[] or is NULL */
	enum fa_group group_back; /* the grouping `c` returns to */
	bool detail; /* Enter: the first row on screen is selected, its detail at the bottom */
	char filter[FILTER_LEN];
	int max_rows; /* -r */
	double interval;
	bool paused, exact, help, colors;
	bool prompting;
	char prompt[FILTER_LEN];
	size_t prompt_len;
	/* shown is drawn; while paused, new data waits in latest */
	struct fa_snapshot shown, latest;
	bool have_shown, have_latest;
	long scroll; /* index of the first row on screen */
	int want[FA_TUI_COL_MAX]; /* widest content seen, so columns do not jitter */
	struct user_name *users;
	size_t nusers;
	SCREEN *screen;
	FILE *tty_in; /* /dev/tty when stdin is not the terminal */
	int epfd;
	int winch_pipe[2];
};

/*
 * Signal state is process-wide, so it lives here rather than in struct fa_tui: the crash
 * handler must find the terminal without any pointer, and there is only one terminal.
 * SIGSYS is the seccomp filter's: its handler names the call, then hands over to this one.
 */
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL, SIGSYS };
static struct sigaction saved_crash[ARRAY_SIZE(crash_signals)];
static struct sigaction saved_winch;
static volatile sig_atomic_t tui_active;
static int winch_fd = -1;

/*
 * What endwin() would do, made ready before the view starts, because a crash handler may
 * only make async-signal-safe calls (write, tcsetattr): the bytes that leave the alternate
 * screen, show the cursor and reset attributes, and the terminal's modes as they were.
 * CAN first: it ends an escape sequence the crash may have cut in half.
 */
static char crash_reset[256] = "\030";
static size_t crash_reset_len = 1;
static struct termios crash_termios;
static int crash_fd = -1;

static int crash_reset_putc(int c)
{
	if (crash_reset_len < sizeof(crash_reset))
		crash_reset[crash_reset_len++] = (char)c;
	return c;
}

/* After newterm(): the capabilities are the screen's. */
static void crash_reset_prepare(void)
{
	static const char *const caps[] = { "sgr0", "cnorm", "rmkx", "rmcup" };

	crash_reset_len = 1;
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		const char *s = tigetstr(caps[i]);

		if (s && s != (char *)-1)
			tputs(s, 1, crash_reset_putc);
	}
}

/* Interval steps for `+` and `-`, as top's delay: fine near a second, coarse beyond. */
static const double interval_steps[] = { 0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 15, 30, 60, 120, 300 };

static void crash_handler(int sig)
{
	if (tui_active && crash_fd >= 0) {
		tui_active = 0;
		if (write(crash_fd, crash_reset, crash_reset_len) < 0) {
			/* the terminal is gone: nothing to restore */
		}
		tcsetattr(crash_fd, TCSANOW, &crash_termios);
	}
	/* the default action once the handler returns: the signal is blocked until then, and
	 * a fault happens again at the same instruction (a core dump, if enabled) */
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * The main loop sleeps in ppoll() on our fd only, so a resize must make that fd readable:
 * the handler writes to a pipe that is part of the epoll set, then lets ncurses' own
 * handler note the new size, which makes getch() return KEY_RESIZE.
 */
static void winch_handler(int sig, siginfo_t *info, void *uctx)
{
	int saved_errno = errno;

	if (winch_fd >= 0 && write(winch_fd, "w", 1) < 0) {
		/* full pipe: a wakeup is already pending */
	}
	if (saved_winch.sa_flags & SA_SIGINFO)
		saved_winch.sa_sigaction(sig, info, uctx);
	else if (saved_winch.sa_handler != SIG_DFL && saved_winch.sa_handler != SIG_IGN)
		saved_winch.sa_handler(sig);
	errno = saved_errno;
}

static void signals_install(struct fa_tui *t)
{
	struct sigaction sa = { .sa_handler = crash_handler };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(crash_signals); i++)
		sigaction(crash_signals[i], &sa, &saved_crash[i]);

	sa.sa_handler = NULL;
	sa.sa_sigaction = winch_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	winch_fd = t->winch_pipe[1];
	sigaction(SIGWINCH, &sa, &saved_winch);
	tui_active = 1;
}

static void signals_restore(void)
{
	tui_active = 0;
	sigaction(SIGWINCH, &saved_winch, NULL);
	winch_fd = -1;
	/* only where the handler is still ours: the seccomp filter's SIGSYS handler, set
	 * after the view started, stays */
	for (size_t i = 0; i < ARRAY_SIZE(crash_signals); i++) {
		struct sigaction cur;

		if (!sigaction(crash_signals[i], NULL, &cur) && cur.sa_handler == crash_handler)
			sigaction(crash_signals[i], &saved_crash[i], NULL);
	}
}

static const char *user_lookup(struct fa_tui *t, __u32 uid)
{
	struct user_name *u;
	struct passwd *pw;

	for (size_t i = 0; i < t->nusers; i++)
		if (t->users[i].uid == uid)
			return t->users[i].name;
	pw = getpwuid(uid);
	/* bounded: a machine churning through uids must not grow the cache forever */
	if (t->nusers >= USER_CACHE_MAX)
		return NULL;
	u = realloc(t->users, (t->nusers + 1) * sizeof(*u));
	if (!u)
		return NULL;
	t->users = u;
	u = &t->users[t->nusers++];
	u->uid = uid;
	u->name = pw && pw->pw_name ? strdup(pw->pw_name) : NULL;
	return u->name;
}

/* mvaddnstr clipped to the screen, so nothing ever wraps onto the next line. */
static void put(int y, int x, const char *s)
{
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	mvaddnstr(y, x, s, COLS - x);
}

static void fmt_amount(char *buf, size_t len, double v, bool exact, const char *suffix)
{
	char b[FA_FMT_BYTES_LEN];

	if (exact)
		snprintf(buf, len, "%.0f B%s", v, suffix);
	else
		snprintf(buf, len, "%s%s", fa_fmt_bytes(b, sizeof(b), v), suffix);
}

static void draw_header(struct fa_tui *t)
{
	const struct fa_snapshot *s = &t->shown;
	char line[512], a[4][40], clock[16] = "--:--:--";
	double iv = t->have_shown && s->interval_s > 0 ? s->interval_s : 1;
	bool lossy = false;
	int x;

	if (t->have_shown) {
		struct tm tm;

		localtime_r(&s->ts.tv_sec, &tm);
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	}
	snprintf(line, sizeof(line),
		 "flowacct %s  interval %gs  backend %s  flows %zu  processes %zu", clock,
		 t->interval, t->have_shown && s->backend ? s->backend : "-",
		 t->have_shown ? s->nflows : 0, t->have_shown ? s->nprocs : 0);
	put(0, 0, line);
	if (t->paused) {
		x = strlen(line) + 2;
		attron(A_REVERSE | A_BOLD);
		put(0, x, " PAUSED ");
		attroff(A_REVERSE | A_BOLD);
	}

	fmt_amount(a[0], sizeof(a[0]), t->have_shown ? s->delta.rx_bytes / iv : 0, t->exact, "/s");
	fmt_amount(a[1], sizeof(a[1]), t->have_shown ? s->delta.tx_bytes / iv : 0, t->exact, "/s");
	fmt_amount(a[2], sizeof(a[2]), t->have_shown ? s->total.rx_bytes : 0, t->exact, "");
	fmt_amount(a[3], sizeof(a[3]), t->have_shown ? s->total.tx_bytes : 0, t->exact, "");
	snprintf(line, sizeof(line), "RX %s  TX %s  RX total %s  TX total %s", a[0], a[1], a[2],
		 a[3]);
	put(1, 0, line);

	x = 0;
	for (int i = 0; t->have_shown && i < FA_DROP_MAX; i++) {
		if (!s->drops[i])
			continue;
		if (!lossy) {
			/* losses must not go unnoticed: red, or inverse without colour */
			attron(t->colors ? COLOR_PAIR(PAIR_LOSS) | A_BOLD : A_REVERSE | A_BOLD);
			put(2, 0, "LOSS:");
			x = 5;
		}
		snprintf(line, sizeof(line), " %s=%llu", fa_drop_descs[i].name,
			 (unsigned long long)s->drops[i]);
		put(2, x, line);
		x += strlen(line);
		lossy = true;
	}
	if (lossy)
		attrset(A_NORMAL);
	else
		put(2, 0, "loss: none");
	x = lossy ? x + 2 : (int)strlen("loss: none") + 2;
	for (size_t i = 0; t->have_shown && i < s->nother; i++) { /* beside, not in, the totals */
		char name[FA_OTHER_NAME_LEN];

		fmt_amount(a[0], sizeof(a[0]),
			   s->other[i].total.rx_bytes + s->other[i].total.tx_bytes, t->exact, "");
		snprintf(line, sizeof(line), "%s%s %s", i ? "  " : "other: ",
			 fa_other_name(name, sizeof(name), s->other[i].family, s->other[i].proto),
			 a[0]);
		put(2, x, line);
		x += strlen(line);
	}
}

static void draw_status(struct fa_tui *t, size_t first, size_t shown, size_t n)
{
	char line[1024], esc[FILTER_LEN * 4], quoted[sizeof(esc) + 2] = "-";

	if (t->prompting) {
		snprintf(line, sizeof(line), "Filter: %s", t->prompt);
		put(3, 0, line);
		return;
	}
	/* typed filters are printable, but one from the command line may be anything */
	if (t->view.filter)
		snprintf(quoted, sizeof(quoted), "'%s'",
			 fa_escape(esc, sizeof(esc), t->filter, sizeof(t->filter)));
	snprintf(line, sizeof(line),
		 "sort %s%s  by %s  filter %s%s  rows %zu-%zu of %zu  "
		 "(h help, q quit)",
		 fa_sort_names[t->view.sort], t->view.reverse ? " reversed" : "",
		 fa_group_names[t->view.group], quoted, t->exact ? "  exact bytes" : "",
		 shown ? first + 1 : 0, first + shown, n);
	if (t->view.active_only)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "  active only");
	put(3, 0, line);
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"flowacct keys",
		"",
		"  r      sort by RX/s                t      sort by TX/s",
		"  o, T   sort by RX/s + TX/s         P      sort by PID",
		"  n      sort by name (COMM)         < >    sort by the column to the left/right",
		"  X      sort by TCP retransmits     L      sort by RTT",
		"  Enter  the first row's detail: state, RTT, retransmits, opens, closes, resets",
		"  R      reverse the sort order      g      rows per flow, process, service,",
		"                                            container, cgroup (in turn)",
		"  c      rows per service (the container, else the systemd unit), or back",
		"  /      filter by name, address or port; Enter applies (empty: all), Esc cancels",
		"  a      only rows that moved bytes this interval, or all",
		"  b      exact byte counts, or KiB/MiB/GiB",
		"  p      pause the view (counting goes on; the header says PAUSED)",
		"  + -    longer / shorter interval",
		"  Up Down PgUp PgDn Home End   scroll",
		"  Ctrl-L redraw the screen           h ?    this help",
		"  q      quit",
		"",
		"RX/s and TX/s: this interval's rates. RX total and TX total: since start.",
		"'v' or '^' after a title: the rows are sorted on it, descending or ascending",
		"(sorting by total marks both RX/s and TX/s).",
		"Dimmed rows: the process has exited; they leave after a few intervals.",
		"",
		"Press any key to return.",
	};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		put(HEADER_LINES - 1 + i, 0, lines[i]);
}

static void measure(struct fa_tui *t, const struct fa_view_row *rows, size_t n,
		    const struct fa_tui_table *tab)
{
	static const enum fa_tui_col measured[] = {
		FA_TUI_COL_USER,   FA_TUI_COL_COMM,	FA_TUI_COL_LOCAL,
		FA_TUI_COL_REMOTE, FA_TUI_COL_WORKLOAD,
	};
	char cell[FA_TUI_CELL_LEN];

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < ARRAY_SIZE(measured); j++) {
			enum fa_tui_col c = measured[j];
			int len;

			fa_tui_cell(cell, sizeof(cell), c, &rows[i], tab, 1,
				    c == FA_TUI_COL_USER && rows[i].proc
					    ? user_lookup(t, rows[i].proc->uid)
					    : NULL);
			len = strlen(cell);
			if (len > t->want[c])
				t->want[c] = len;
		}
	}
}

static void draw_table(struct fa_tui *t)
{
	struct fa_tui_table tab = { .group = t->view.group,
				    .packets = t->shown.packets,
				    .health = t->shown.health,
				    .exact = t->exact };
	struct fa_tui_col_pos cols[FA_TUI_COL_MAX];
	char cell[FA_TUI_CELL_LEN], fit[FA_TUI_CELL_LEN];
	int page = LINES - HEADER_LINES - (t->detail ? 1 : 0), ncols;
	struct fa_view_row *rows = NULL;
	size_t n = 0, first, shown;

	if (page < 0)
		page = 0;
	t->view.top = (t->scroll > 0 ? (size_t)t->scroll : 0) + (size_t)page;
	if (t->max_rows > 0 && t->view.top > (size_t)t->max_rows)
		t->view.top = t->max_rows;
	if (t->have_shown && fa_view_build(&t->shown, &t->view, &rows, &n)) {
		put(HEADER_LINES, 0, "out of memory");
		return;
	}
	if (t->max_rows > 0 && n > (size_t)t->max_rows)
		n = t->max_rows;
	if (t->scroll > (long)n - page)
		t->scroll = (long)n - page;
	if (t->scroll < 0)
		t->scroll = 0;
	first = t->scroll;
	shown = n - first < (size_t)page ? n - first : (size_t)page;
	draw_status(t, first, shown, n);

	measure(t, rows + first, shown, &tab);
	ncols = fa_tui_layout(COLS, &tab, t->want, cols);

	attron(A_REVERSE);
	mvhline(HEADER_LINES - 1, 0, ' ', COLS);
	for (int c = 0; c < ncols; c++) {
		bool sorted = fa_tui_col_is_sorted(cols[c].col, &t->view);

		fa_tui_title(cell, sizeof(cell), cols[c].col, &t->view);
		fa_tui_fit(fit, sizeof(fit), cell, cols[c].width, cols[c].right, false);
		if (sorted)
			attron(A_BOLD | (t->colors ? COLOR_PAIR(PAIR_SORTED) : 0));
		put(HEADER_LINES - 1, cols[c].x, fit);
		if (sorted)
			attroff(A_BOLD | (t->colors ? COLOR_PAIR(PAIR_SORTED) : 0));
	}
	attroff(A_REVERSE);

	if (!t->have_shown)
		put(HEADER_LINES, 0, "waiting for the first interval...");
	else if (!n)
		put(HEADER_LINES, 0,
		    t->view.filter ? "no rows match the filter" : "no traffic yet");
	for (size_t i = 0; i < shown; i++) {
		const struct fa_view_row *r = &rows[first + i];
		bool exited = r->proc && r->proc->exited;
		int y = HEADER_LINES + i;

		if (exited)
			attron(A_DIM);
		for (int c = 0; c < ncols; c++) {
			enum fa_tui_col col = cols[c].col;
			/* an address's port and a cgroup path's last part matter most */
			bool tail =
				col == FA_TUI_COL_LOCAL || col == FA_TUI_COL_REMOTE ||
				(col == FA_TUI_COL_WORKLOAD && t->view.group == FA_GROUP_CGROUP);

			fa_tui_cell(cell, sizeof(cell), col, r, &tab, t->shown.interval_s,
				    col == FA_TUI_COL_USER && r->proc ? user_lookup(t, r->proc->uid)
								      : NULL);
			fa_tui_fit(fit, sizeof(fit), cell, cols[c].width, cols[c].right, tail);
			put(y, cols[c].x, fit);
		}
		if (exited)
			attroff(A_DIM);
	}
	if (t->detail && shown) {
		char line[1024];

		/* the selected row stands out, and what it is goes in the last line */
		mvchgat(HEADER_LINES, 0, COLS, A_BOLD | A_UNDERLINE, 0, NULL);
		fa_tui_detail(line, sizeof(line), &rows[first], &tab);
		attron(A_REVERSE);
		mvhline(LINES - 1, 0, ' ', COLS);
		put(LINES - 1, 0, line);
		attroff(A_REVERSE);
	}
	free(rows);
}

static void draw(struct fa_tui *t)
{
	erase();
	draw_header(t);
	if (t->help) {
		draw_help();
	} else {
		draw_table(t);
	}
	if (t->prompting) {
		int x = strlen("Filter: ") + t->prompt_len;

		curs_set(1);
		move(3, x < COLS ? x : COLS - 1);
	} else {
		curs_set(0);
	}
	wnoutrefresh(stdscr);
	doupdate();
}

static void set_filter(struct fa_tui *t, const char *text)
{
	snprintf(t->filter, sizeof(t->filter), "%s", text ? text : "");
	t->view.filter = t->filter[0] ? t->filter : NULL;
	t->scroll = 0;
}

static double interval_step(double cur, int dir)
{
	if (dir > 0) {
		for (size_t i = 0; i < ARRAY_SIZE(interval_steps); i++)
			if (interval_steps[i] > cur * 1.001)
				return interval_steps[i];
	} else {
		for (size_t i = ARRAY_SIZE(interval_steps); i-- > 0;)
			if (interval_steps[i] < cur * 0.999)
				return interval_steps[i];
	}
	return cur;
}

static void prompt_key(struct fa_tui *t, int ch)
{
	switch (ch) {
	case 27: /* Esc: keep the filter as it was */
		t->prompting = false;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->prompting = false;
		set_filter(t, t->prompt);
		break;
	case KEY_BACKSPACE:
	case 127:
	case '\b':
		if (t->prompt_len)
			t->prompt[--t->prompt_len] = '\0';
		break;
	case 'U' & 0x1f: /* Ctrl-U, as in a shell */
		t->prompt_len = 0;
		t->prompt[0] = '\0';
		break;
	default:
		/* printable ASCII only, so the filter is as safe to draw as escaped text */
		if (ch >= 0x20 && ch < 0x7f && t->prompt_len + 1 < sizeof(t->prompt)) {
			t->prompt[t->prompt_len++] = ch;
			t->prompt[t->prompt_len] = '\0';
		}
		break;
	}
}

static void set_paused(struct fa_tui *t, bool paused)
{
	t->paused = paused;
	if (!paused && t->have_latest) {
		if (t->have_shown)
			fa_snapshot_free(&t->shown);
		t->shown = t->latest;
		t->have_shown = true;
		t->have_latest = false;
		memset(&t->latest, 0, sizeof(t->latest));
	}
}

static enum fa_tui_action handle_key(struct fa_tui *t, int ch)
{
	int page = LINES - HEADER_LINES > 1 ? LINES - HEADER_LINES : 1;
	double iv;

	if (ch == KEY_RESIZE)
		return FA_TUI_NONE; /* the redraw that follows every key lays out again */
	if (t->prompting) {
		prompt_key(t, ch);
		return FA_TUI_NONE;
	}
	if (t->help) { /* any key leaves the help screen, and does only that */
		t->help = false;
		return FA_TUI_NONE;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return FA_TUI_QUIT;
	case 'r':
		t->view.sort = FA_SORT_RX;
		break;
	case 't':
		t->view.sort = FA_SORT_TX;
		break;
	case 'o':
	case 'T':
		t->view.sort = FA_SORT_TOTAL;
		break;
	case 'P':
		t->view.sort = FA_SORT_PID;
		break;
	case 'n':
	case 'N':
		t->view.sort = FA_SORT_COMM;
		break;
	case 'X':
		t->view.sort = FA_SORT_RETRANS;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->detail = !t->detail;
		break;
	case 'L':
		t->view.sort = FA_SORT_RTT;
		break;
	case '<':
	case '>':
		t->view.sort = fa_tui_sort_step(t->view.sort, ch == '<' ? -1 : 1);
		break;
	case 'R':
		t->view.reverse = !t->view.reverse;
		break;
	case 'p':
		set_paused(t, !t->paused);
		break;
	case '/':
		t->prompting = true;
		t->prompt_len = 0;
		t->prompt[0] = '\0';
		break;
	case 'g':
	case 'c':
		if (ch == 'g')
			t->view.group = (t->view.group + 1) % FA_GROUP_MAX;
		else if (t->view.group != FA_GROUP_SERVICE)
			t->group_back = t->view.group, t->view.group = FA_GROUP_SERVICE;
		else
			t->view.group = t->group_back;
		memset(t->want, 0, sizeof(t->want));
		t->scroll = 0;
		break;
	case 'a':
		t->view.active_only = !t->view.active_only;
		break;
	case 'b':
		t->exact = !t->exact;
		break;
	case '+':
	case '=':
	case '-':
	case '_':
		iv = interval_step(t->interval, ch == '+' || ch == '=' ? 1 : -1);
		if (iv == t->interval)
			break;
		t->interval = iv;
		return FA_TUI_INTERVAL;
	case KEY_UP:
		t->scroll--;
		break;
	case KEY_DOWN:
		t->scroll++;
		break;
	case KEY_PPAGE:
		t->scroll -= page;
		break;
	case KEY_NPAGE:
		t->scroll += page;
		break;
	case KEY_HOME:
		t->scroll = 0;
		break;
	case KEY_END:
		t->scroll = (long)(~0UL >> 1); /* clamped to the last page when drawn */
		break;
	case 'h':
	case '?':
	case KEY_F(1):
		t->help = true;
		break;
	case 'L' & 0x1f:
		clearok(curscr, TRUE);
		memset(t->want, 0, sizeof(t->want)); /* columns shrink back to what is shown */
		break;
	default:
		break;
	}
	return FA_TUI_NONE;
}

/* Input comes from the terminal even when stdin is redirected, as in top. */
static int open_input(struct fa_tui *t, FILE **in, struct fa_err *err)
{
	if (isatty(STDIN_FILENO)) {
		*in = stdin;
		return 0;
	}
	t->tty_in = fopen("/dev/tty", "re");
	if (!t->tty_in)
		return fa_err_set(err, -errno,
				  "the interactive view needs a terminal: /dev/tty: %s",
				  strerror(errno));
	*in = t->tty_in;
	return 0;
}

static int open_wakeups(struct fa_tui *t, int in_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (pipe2(t->winch_pipe, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0)
		return -errno;
	ev.data.fd = in_fd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, in_fd, &ev))
		return -errno;
	ev.data.fd = t->winch_pipe[0];
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->winch_pipe[0], &ev))
		return -errno;
	return 0;
}

int fa_tui_open(const struct fa_tui_opts *opts, struct fa_tui **out, struct fa_err *why)
{
	struct fa_tui *t = calloc(1, sizeof(*t));
	const char *term = getenv("TERM") ? getenv("TERM") : "";
	FILE *in = NULL;
	int err;

	*out = NULL;
	if (!t)
		return fa_err_set(why, -ENOMEM, "out of memory");
	t->epfd = t->winch_pipe[0] = t->winch_pipe[1] = -1;
	t->view = opts->view;
	set_filter(t, opts->view.filter);
	t->max_rows = opts->rows;
	t->interval = opts->interval_s > 0 ? opts->interval_s : 1;

	err = open_input(t, &in, why);
	if (err)
		goto fail;
	err = open_wakeups(t, fileno(in));
	if (err) {
		fa_err_set(why, err, "cannot set up terminal input: %s", strerror(-err));
		goto fail;
	}
	/* the modes as the shell left them: newterm() already changes some (onlcr); ncurses
	 * sets those of its output's terminal */
	crash_fd = tcgetattr(STDOUT_FILENO, &crash_termios) ? -1 : STDOUT_FILENO;
	t->screen = newterm(NULL, stdout, in);
	if (!t->screen) {
		err = fa_err_set(why, -EINVAL, "cannot use terminal type '%s' (TERM): try -b",
				 term);
		goto fail;
	}
	set_term(t->screen);
	crash_reset_prepare();
	/* a terminal that cannot place the cursor (TERM=dumb) would get a stream of garbage */
	if (!tigetstr("cup") || tigetstr("cup") == (char *)-1) {
		err = fa_err_set(why, -EINVAL, "terminal type '%s' cannot move the cursor: use -b",
				 term);
		goto fail;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE); /* never wait for a key: the collector runs on this thread */
	set_escdelay(25); /* a lone Esc (cancel the filter prompt) must not take a second */
	curs_set(0);
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(PAIR_LOSS, COLOR_RED, -1);
		init_pair(PAIR_SORTED, COLOR_BLACK, COLOR_CYAN);
		t->colors = true;
	}
	signals_install(t);
	draw(t);
	*out = t;
	return 0;

fail:
	fa_tui_close(t);
	return err;
}

int fa_tui_fd(const struct fa_tui *tui)
{
	return tui->epfd;
}

void fa_tui_update(struct fa_tui *tui, struct fa_snapshot *snap)
{
	struct fa_snapshot *dst = tui->paused ? &tui->latest : &tui->shown;
	bool *have = tui->paused ? &tui->have_latest : &tui->have_shown;

	if (*have)
		fa_snapshot_free(dst);
	*dst = *snap; /* taken, not copied: at 100k flows a copy is 20 MB */
	memset(snap, 0, sizeof(*snap));
	*have = true;
	if (!tui->paused)
		draw(tui);
}

void fa_tui_release(struct fa_tui *tui)
{
	if (tui->paused || !tui->have_shown)
		return;
	fa_snapshot_free(&tui->shown);
	tui->have_shown = false;
}

enum fa_tui_action fa_tui_input(struct fa_tui *tui)
{
	enum fa_tui_action act = FA_TUI_NONE;
	bool dirty = false;
	char drain[64];
	int ch;

	while (read(tui->winch_pipe[0], drain, sizeof(drain)) > 0)
		dirty = true;
	while ((ch = getch()) != ERR) {
		switch (handle_key(tui, ch)) {
		case FA_TUI_QUIT:
			return FA_TUI_QUIT;
		case FA_TUI_INTERVAL:
			act = FA_TUI_INTERVAL;
			break;
		case FA_TUI_NONE:
			break;
		}
		dirty = true;
	}
	if (dirty)
		draw(tui);
	return act;
}

double fa_tui_interval(const struct fa_tui *tui)
{
	return tui->interval;
}

void fa_tui_close(struct fa_tui *tui)
{
	if (!tui)
		return;
	if (tui->screen) {
		if (tui_active)
			signals_restore();
		endwin();
		delscreen(tui->screen);
	}
	if (tui->epfd >= 0)
		close(tui->epfd);
	for (int i = 0; i < 2; i++)
		if (tui->winch_pipe[i] >= 0)
			close(tui->winch_pipe[i]);
	if (tui->tty_in)
		fclose(tui->tty_in);
	if (tui->have_shown)
		fa_snapshot_free(&tui->shown);
	if (tui->have_latest)
		fa_snapshot_free(&tui->latest);
	for (size_t i = 0; i < tui->nusers; i++)
		free(tui->users[i].name);
	free(tui->users);
	free(tui);
}
