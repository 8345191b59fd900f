// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The interactive, top-style view. It only formats snapshots: the main loop hands it one
 * per interval, and the view draws them on a thread of its own, which alone calls ncurses
 * once the view has started. So a terminal that stops reading (a paused client, a slow
 * link) blocks that thread only: counting, the JSON file and the metrics go on, and the
 * view skips to the latest interval when the terminal reads again. Every frame is
 * erase() + draw + doupdate(), so ncurses sends only the cells that changed.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "format.h"
#include "history.h"
#include "log.h"
#include "tui.h"
#include "tui_layout.h"
#include "util.h"

/* <term.h>'s, which cannot be included: its capability macros (columns, lines, ...)
 * would rename this file's identifiers */
int tputs(const char *str, int affcnt, int (*putc)(int));

/* the title line, RX and TX meters, the loss line, the status or prompt line */
#define METER_LINES    5
#define HEADER_LINES   (METER_LINES + 1) /* and the column titles */
#define FILTER_LEN     128
#define USER_CACHE_MAX 1024
#define CMD_CACHE_MAX  512
#define CMD_LEN	       512
#define PANEL_LINES    9 /* the detail panel's, its frame included */
#define MAX_EXPANDED   256
#define SPARK_MAX      64 /* the widest history graph */

enum { PAIR_LOSS = 1, PAIR_SORTED, PAIR_RX, PAIR_TX, PAIR_KEY };

struct user_name {
	__u32 uid;
	char *name; /* NULL: no passwd entry, show the uid */
};

struct cmd_line {
	__u32 pid;
	char comm[FA_COMM_LEN + 1]; /* what it was read for: a reused pid has another */
	char *text; /* NULs as blanks; NULL: unreadable (a kernel thread, gone) */
};

/* One line of the table: a row, or (in the tree) one of its process's flows. */
struct line {
	const struct fa_view_row *row;
	__u64 key; /* what the row is, for its history and to keep it selected */
	bool child, last_child;
};

struct fa_tui {
	/* Owned by the view's thread: what is shown, and how. */
	struct fa_view_opts view; /* view.filter points at filter[] or is NULL */
	enum fa_group group_back; /* the grouping `c` returns to */
	char filter[FILTER_LEN];
	int max_rows; /* -r */
	char selection[512]; /* fa_tui_opts.selection */
	double linger_s;
	bool exact, bits, help, colors, utf8;
	unsigned hidden; /* columns turned off (1u << col) */
	bool chooser; /* the column chooser is open */
	int chooser_pos;
	bool panel; /* Enter: the selected row's detail */
	bool prompting;
	char prompt[FILTER_LEN];
	size_t prompt_len;
	int avg_sort; /* 1..3: sorted by an average (fa_tui_avg_windows), over view.sort */
	long scroll; /* index of the first line on screen */
	long sel; /* the selected line */
	__u64 sel_key; /* and what it is, so it stays selected as rows move */
	bool follow_end; /* End: the selection stays on the last line */
	__u32 expanded[MAX_EXPANDED]; /* processes opened into their flows (per process) */
	int nexpanded;
	int want[FA_TUI_COL_MAX]; /* widest content seen, so columns do not jitter */
	struct user_name *users;
	size_t nusers;
	struct cmd_line cmds[CMD_CACHE_MAX];
	size_t ncmds, cmd_next;
	/* the last frame's geometry, for the mouse */
	struct fa_tui_col_pos cols[FA_TUI_COL_MAX];
	int ncols;
	long first_shown;
	int nshown;

	/* Shared with the main thread, under lock. */
	pthread_mutex_t lock;
	double interval;
	bool paused;
	/* shown is drawn; while paused, new data waits in latest */
	struct fa_snapshot shown, latest;
	bool have_shown, have_latest, ever_shown, fresh;
	struct fa_hist *hist; /* fed with every snapshot, paused or not */
	enum fa_group feed_group; /* the grouping shown, whose groups the history keeps */
	double peak[2]; /* the highest RX/s and TX/s of one interval since start */
	bool stop;
	bool want_quit, want_interval; /* for the main thread: fa_tui_input() */

	SCREEN *screen;
	FILE *tty_in; /* /dev/tty when stdin is not the terminal */
	int epfd; /* the view's thread waits on keys, resizes and wake_fd */
	int wake_fd; /* eventfd: new data, or stop */
	int notify_fd; /* eventfd: the main thread polls it (fa_tui_fd) */
	int winch_pipe[2];
	pthread_t thread;
	bool thread_running;
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
	/* the mouse reports the view turned on (xterm's modes: clicks, SGR encoding) */
	for (const char *m = "\033[?1000l\033[?1006l"; *m; m++)
		crash_reset_putc(*m);
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

/* A process's command line, read once per process (and again if its pid is reused). */
static const char *cmd_lookup(struct fa_tui *t, const struct fa_ident *p)
{
	char path[40], buf[CMD_LEN];
	struct cmd_line *c;
	ssize_t n;
	int fd;

	for (size_t i = 0; i < t->ncmds; i++)
		if (t->cmds[i].pid == p->pid && !memcmp(t->cmds[i].comm, p->comm, sizeof(p->comm)))
			return t->cmds[i].text;
	/* a ring: the oldest entry makes room */
	c = &t->cmds[t->ncmds < CMD_CACHE_MAX ? t->ncmds++ : t->cmd_next++ % CMD_CACHE_MAX];
	free(c->text);
	c->text = NULL;
	c->pid = p->pid;
	memcpy(c->comm, p->comm, sizeof(c->comm));
	if (p->exited)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%u/cmdline", p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	while (n > 0 && !buf[n - 1])
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
	c->text = strdup(buf);
	return c->text;
}

/* ---- what a row is: its key in the history ---- */

enum key_kind { KEY_FLOW = 1, KEY_PROC, KEY_OVERFLOW, KEY_UNMATCHED, KEY_GROUP, KEY_TOTAL };

static __u64 flow_key(__u32 pid, const struct fa_tuple *t)
{
	return fa_hist_key(t, sizeof(*t), ((__u64)KEY_FLOW << 32) | pid);
}

static __u64 proc_key(__u32 pid)
{
	return fa_hist_key(&pid, sizeof(pid), (__u64)KEY_PROC << 32);
}

static __u64 row_key(const struct fa_view_row *r, enum fa_group g)
{
	if (r->proc && r->tuple)
		return flow_key(r->proc->pid, r->tuple);
	if (r->tuple)
		return fa_hist_key(r->tuple, sizeof(*r->tuple), (__u64)KEY_UNMATCHED << 32);
	if (r->proc && r->label) /* a process's overflow row */
		return fa_hist_key(&r->proc->pid, sizeof(r->proc->pid), (__u64)KEY_OVERFLOW << 32);
	if (r->proc)
		return proc_key(r->proc->pid);
	return fa_hist_key(r->label ? r->label : "", r->label ? strlen(r->label) : 0,
			   ((__u64)KEY_GROUP << 32) | g);
}

static const __u64 total_key = (__u64)KEY_TOTAL << 56;

/* Rates are per second of the interval, never above what moved (see snapshot.h). */
static double rate_secs(const struct fa_snapshot *s)
{
	return fa_snapshot_rate_secs(s);
}

/*
 * Every snapshot goes into the history, whether it is drawn or not: flows, processes,
 * the machine, and the groups of the grouping on screen (groups are made from the rows,
 * which costs a view build, so only for the one shown).
 */
static void history_feed(struct fa_tui *t, const struct fa_snapshot *s, enum fa_group g)
{
	double dt = rate_secs(s);

	fa_hist_begin(t->hist, dt);
	for (size_t i = 0; i < s->nflows; i++)
		fa_hist_add(t->hist, flow_key(s->flows[i].proc.pid, &s->flows[i].tuple),
			    s->flows[i].delta.rx_bytes, s->flows[i].delta.tx_bytes);
	for (size_t i = 0; i < s->noverflow; i++)
		fa_hist_add(t->hist,
			    fa_hist_key(&s->overflow[i].proc.pid, sizeof(s->overflow[i].proc.pid),
					(__u64)KEY_OVERFLOW << 32),
			    s->overflow[i].delta.rx_bytes, s->overflow[i].delta.tx_bytes);
	for (size_t i = 0; i < s->nprocs; i++)
		fa_hist_add(t->hist, proc_key(s->procs[i].proc.pid), s->procs[i].delta.rx_bytes,
			    s->procs[i].delta.tx_bytes);
	fa_hist_add(t->hist, total_key, s->delta.rx_bytes, s->delta.tx_bytes);
	if (fa_group_is_cgroups(g)) {
		struct fa_view_opts o = { .group = g };
		struct fa_view_row *rows;
		size_t n;

		if (!fa_view_build(s, &o, &rows, &n)) {
			for (size_t i = 0; i < n; i++)
				fa_hist_add(t->hist, row_key(&rows[i], g), rows[i].delta->rx_bytes,
					    rows[i].delta->tx_bytes);
			free(rows);
		}
	}
	fa_hist_end(t->hist);
	for (int d = 0; d < 2; d++) {
		double r = (d ? s->delta.tx_bytes : s->delta.rx_bytes) / dt;

		if (r > t->peak[d])
			t->peak[d] = r;
	}
}

/* ---- the lines of the table ---- */

static bool is_expanded(const struct fa_tui *t, __u32 pid)
{
	for (int i = 0; i < t->nexpanded; i++)
		if (t->expanded[i] == pid)
			return true;
	return false;
}

static void toggle_expanded(struct fa_tui *t, __u32 pid)
{
	for (int i = 0; i < t->nexpanded; i++) {
		if (t->expanded[i] == pid) {
			t->expanded[i] = t->expanded[--t->nexpanded];
			return;
		}
	}
	if (t->nexpanded < MAX_EXPANDED)
		t->expanded[t->nexpanded++] = pid;
}

/* A closed flow lingers, dimmed, before it leaves (its bytes stay in its process's). */
static bool row_closed(const struct fa_view_row *r)
{
	return r->closed;
}

static int cmp_avg_desc(const void *a, const void *b)
{
	const struct fa_view_row *x = a, *y = b;

	/* sort_key[0] holds the average, scaled to an integer, for this sort only */
	return (x->sort_key[0] < y->sort_key[0]) - (x->sort_key[0] > y->sort_key[0]);
}

static int cmp_pid_stable(const void *a, const void *b)
{
	const struct fa_view_row *const *x = a, *const *y = b;
	__u32 p = (*x)->proc ? (*x)->proc->pid : 0, q = (*y)->proc ? (*y)->proc->pid : 0;

	if (p != q)
		return (p > q) - (p < q);
	return (*x > *y) - (*x < *y); /* keep the view's order within a process */
}

struct lines {
	struct fa_view_row *rows, *flows; /* owned */
	struct fa_view_row **by_pid; /* flows, by pid (the tree) */
	size_t nrows, nflows;
	struct line *v; /* the first n of the total lines: only those a frame may show */
	size_t n, total;
};

static void lines_free(struct lines *l)
{
	free(l->rows);
	free(l->flows);
	free(l->by_pid);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Called under lock: reads the snapshot and the history. */
static int lines_build(struct fa_tui *t, size_t top, struct lines *l)
{
	struct fa_view_opts o = t->view;
	bool tree = t->view.group == FA_GROUP_PROCESS && t->nexpanded;
	size_t cap, lim;

	memset(l, 0, sizeof(*l));
	/* averages and the tree need every row; otherwise only what fits is sorted */
	o.top = t->avg_sort || tree ? 0 : top;
	if (fa_view_build(&t->shown, &o, &l->rows, &l->nrows))
		return -ENOMEM;
	if (t->max_rows > 0 && l->nrows > (size_t)t->max_rows && !t->avg_sort)
		l->nrows = t->max_rows;
	if (t->avg_sort) {
		double w = fa_tui_avg_windows[t->avg_sort - 1];

		for (size_t i = 0; i < l->nrows; i++)
			l->rows[i].sort_key[0] = (__u64)fa_hist_avg(
				t->hist, row_key(&l->rows[i], t->view.group), w, FA_HIST_BOTH);
		fa_qsort(l->rows, l->nrows, sizeof(*l->rows), cmp_avg_desc);
		if (t->max_rows > 0 && l->nrows > (size_t)t->max_rows)
			l->nrows = t->max_rows;
	}
	if (tree) {
		o.group = FA_GROUP_FLOW;
		o.top = 0;
		if (fa_view_build(&t->shown, &o, &l->flows, &l->nflows))
			return -ENOMEM;
		l->by_pid = malloc((l->nflows + 1) * sizeof(*l->by_pid));
		if (!l->by_pid)
			return -ENOMEM;
		for (size_t i = 0; i < l->nflows; i++)
			l->by_pid[i] = &l->flows[i];
		fa_qsort(l->by_pid, l->nflows, sizeof(*l->by_pid), cmp_pid_stable);
	}
	/* a line's key is a hash: 100k of them a frame were a tenth of the view's cost */
	lim = !tree && top && top < l->nrows ? top : l->nrows;
	cap = lim + (tree ? l->nflows : 0) + 1;
	l->v = malloc(cap * sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	for (size_t i = 0; i < lim; i++) {
		const struct fa_view_row *r = &l->rows[i];
		size_t lo = 0, hi = l->nflows;

		l->v[l->n++] = (struct line){ .row = r, .key = row_key(r, t->view.group) };
		if (!tree || !r->proc || !is_expanded(t, r->proc->pid))
			continue;
		while (lo < hi) { /* the first flow of this pid */
			size_t mid = (lo + hi) / 2;

			if (l->by_pid[mid]->proc && l->by_pid[mid]->proc->pid < r->proc->pid)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo;
		     k < l->nflows && l->by_pid[k]->proc && l->by_pid[k]->proc->pid == r->proc->pid;
		     k++) {
			bool last = k + 1 >= l->nflows || !l->by_pid[k + 1]->proc ||
				    l->by_pid[k + 1]->proc->pid != r->proc->pid;

			l->v[l->n++] = (struct line){ .row = l->by_pid[k],
						      .key = row_key(l->by_pid[k], FA_GROUP_FLOW),
						      .child = true,
						      .last_child = last };
		}
	}
	l->total = l->n + (l->nrows - lim);
	return 0;
}

/* ---- drawing (the view's thread, under lock but for doupdate) ---- */

/* mvaddnstr clipped to the screen, so nothing ever wraps onto the next line. */
static void put(int y, int x, const char *s)
{
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	mvaddnstr(y, x, s, COLS - x);
}

/* A graph (or a tree's branch) whose width in cells the caller made fit: put() counts
 * bytes, and a UTF-8 block element is three. */
static void put_cells(int y, int x, const char *s)
{
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	mvaddstr(y, x, s);
}

static struct fa_tui_table table_of(const struct fa_tui *t)
{
	return (struct fa_tui_table){ .group = t->view.group,
				      .packets = t->have_shown && t->shown.packets,
				      .health = t->have_shown && t->shown.health,
				      .exact = t->exact,
				      .bits = t->bits,
				      .hidden = t->hidden };
}

static void fmt_total(char *buf, size_t len, double v, bool exact)
{
	char b[FA_FMT_BYTES_LEN];

	if (exact)
		snprintf(buf, len, "%.0f B", v);
	else
		snprintf(buf, len, "%s", fa_fmt_bytes(b, sizeof(b), v));
}

/* A rate with its unit: "391 KiB/s", "3.20 Mb/s", "1536 B/s". */
static char *fmt_rate_unit(char *buf, size_t len, double v, const struct fa_tui_table *tab)
{
	char b[40];

	fa_tui_rate(b, sizeof(b), v, tab);
	snprintf(buf, len, "%s%s/s", b, tab->exact && !tab->bits ? " B" : "");
	return buf;
}

static void draw_title(struct fa_tui *t)
{
	const struct fa_snapshot *s = &t->shown;
	char f[6][64], line[512], clock[16] = "--:--:--";
	const char *fields[6];
	int n = 0;

	if (t->have_shown) {
		struct tm tm;

		localtime_r(&s->ts.tv_sec, &tm);
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	}
	snprintf(f[0], sizeof(f[0]), "flowacct %s", clock);
	snprintf(f[1], sizeof(f[1]), "interval %gs", t->interval);
	snprintf(f[2], sizeof(f[2]), "backend %s", t->have_shown && s->backend ? s->backend : "-");
	snprintf(f[3], sizeof(f[3]), "flows %zu", t->have_shown ? s->nflows : 0);
	snprintf(f[4], sizeof(f[4]), "processes %zu", t->have_shown ? s->nprocs : 0);
	for (int i = 0; i < 5; i++)
		fields[n++] = f[i];
	fa_tui_fields(line, sizeof(line), COLS - (t->paused ? 10 : 0), fields, n);
	put(0, 0, line);
	if (t->paused) {
		attron(A_REVERSE | A_BOLD);
		put(0, strlen(line) + 2, " PAUSED ");
		attroff(A_REVERSE | A_BOLD);
	}
}

/*
 * One direction's meter: its rate now, iftop's 2 s, 10 s and 40 s averages, the peak of
 * one interval since start, the total; then a graph of the last intervals in what width
 * is left. Fields that do not fit leave whole.
 */
static void draw_meter(struct fa_tui *t, int y, enum fa_hist_dir d, const struct fa_tui_table *tab)
{
	const struct fa_snapshot *s = &t->shown;
	char f[6][80], r[48], line[512], spark[SPARK_MAX * 3 + 1];
	const char *fields[6];
	double v[SPARK_MAX], other[SPARK_MAX], max = 0;
	double now = t->have_shown ? (d == FA_HIST_RX ? s->delta.rx_bytes : s->delta.tx_bytes) /
					     rate_secs(s)
				   : 0;
	int graph = COLS >= 72 ? COLS / 4 : 0;

	if (graph > SPARK_MAX)
		graph = SPARK_MAX;
	snprintf(f[0], sizeof(f[0]), "%s %s", d == FA_HIST_RX ? "RX" : "TX",
		 fmt_rate_unit(r, sizeof(r), now, tab));
	for (int i = 0; i < 3; i++)
		snprintf(f[1 + i], sizeof(f[1]), "%gs %s", fa_tui_avg_windows[i],
			 fmt_rate_unit(r, sizeof(r),
				       fa_hist_avg(t->hist, total_key, fa_tui_avg_windows[i], d),
				       tab));
	snprintf(f[4], sizeof(f[4]), "peak %s", fmt_rate_unit(r, sizeof(r), t->peak[d], tab));
	fmt_total(r, sizeof(r),
		  t->have_shown ? (d == FA_HIST_RX ? s->total.rx_bytes : s->total.tx_bytes) : 0,
		  t->exact);
	snprintf(f[5], sizeof(f[5]), "total %s", r);
	for (int i = 0; i < 6; i++)
		fields[i] = f[i];
	fa_tui_fields(line, sizeof(line), COLS - (graph ? graph + 3 : 0), fields, 6);
	if (!strstr(line, f[5])) /* the total must stay: drop the averages first */
		fa_tui_fields(line, sizeof(line), COLS - (graph ? graph + 3 : 0),
			      (const char *const[]){ f[0], f[5] }, 2);
	put(y, 0, line);
	if (!graph)
		return;
	/* both directions on one scale, so their heights compare */
	fa_hist_series(t->hist, total_key, d, v, graph);
	fa_hist_series(t->hist, total_key, d == FA_HIST_RX ? FA_HIST_TX : FA_HIST_RX, other, graph);
	for (int i = 0; i < graph; i++) {
		if (v[i] > max)
			max = v[i];
		if (other[i] > max)
			max = other[i];
	}
	fa_tui_spark(spark, sizeof(spark), v, graph, max, t->utf8);
	if (t->colors)
		attron(COLOR_PAIR(d == FA_HIST_RX ? PAIR_RX : PAIR_TX));
	put_cells(y, COLS - graph - 1, spark);
	if (t->colors)
		attroff(COLOR_PAIR(d == FA_HIST_RX ? PAIR_RX : PAIR_TX));
}

static void draw_loss(struct fa_tui *t, const struct fa_tui_table *tab)
{
	const struct fa_snapshot *s = &t->shown;
	char line[512], a[40];
	bool lossy = false;
	int x = 0;

	(void)tab;
	for (int i = 0; t->have_shown && i < FA_DROP_MAX; i++) {
		if (!s->drops[i])
			continue;
		if (!lossy) {
			/* losses must not go unnoticed: red, or inverse without colour */
			attron(t->colors ? COLOR_PAIR(PAIR_LOSS) | A_BOLD : A_REVERSE | A_BOLD);
			put(3, 0, "LOSS:");
			x = 5;
		}
		snprintf(line, sizeof(line), " %s=%llu", fa_drop_descs[i].name,
			 (unsigned long long)s->drops[i]);
		if (x + (int)strlen(line) > COLS)
			break; /* a counter is shown whole or not at all */
		put(3, x, line);
		x += strlen(line);
		lossy = true;
	}
	if (lossy)
		attrset(A_NORMAL);
	else
		put(3, 0, "loss: none");
	x = lossy ? x + 2 : (int)strlen("loss: none") + 2;
	for (size_t i = 0; t->have_shown && i < s->nother; i++) { /* beside, not in, the totals */
		char name[FA_OTHER_NAME_LEN];

		fmt_total(a, sizeof(a), s->other[i].total.rx_bytes + s->other[i].total.tx_bytes,
			  t->exact);
		snprintf(line, sizeof(line), "%s%s %s", i ? "  " : "other: ",
			 fa_other_name(name, sizeof(name), s->other[i].family, s->other[i].proto),
			 a);
		if (x + (int)strlen(line) > COLS)
			break;
		put(3, x, line);
		x += strlen(line);
	}
}

static void draw_status(struct fa_tui *t, size_t first, size_t shown, size_t n)
{
	char f[12][FILTER_LEN * 4 + 32], esc[FILTER_LEN * 4], line[1024];
	const char *fields[12];
	int k = 0;

	if (t->prompting) {
		snprintf(line, sizeof(line), "Filter: %s", t->prompt);
		put(4, 0, line);
		return;
	}
	if (t->avg_sort)
		snprintf(f[k++], sizeof(f[0]), "sort avg%gs", fa_tui_avg_windows[t->avg_sort - 1]);
	else
		snprintf(f[k++], sizeof(f[0]), "sort %s%s", fa_sort_names[t->view.sort],
			 t->view.reverse ? " reversed" : "");
	snprintf(f[k++], sizeof(f[0]), "by %s", fa_group_names[t->view.group]);
	/* typed filters are printable, but one from the command line may be anything */
	if (t->view.filter)
		snprintf(f[k++], sizeof(f[0]), "filter '%s'",
			 fa_escape(esc, sizeof(esc), t->filter, strlen(t->filter)));
	else
		snprintf(f[k++], sizeof(f[0]), "filter -");
	snprintf(f[k++], sizeof(f[0]), "rows %zu-%zu of %zu", shown ? first + 1 : 0, first + shown,
		 n);
	/* what is counted at all, in the kernel (a cgroup path may be anything: escaped) */
	if (t->selection[0])
		snprintf(f[k++], sizeof(f[0]), "counting %s",
			 fa_escape(esc, sizeof(esc), t->selection, strlen(t->selection)));
	if (t->exact)
		snprintf(f[k++], sizeof(f[0]), "exact bytes");
	if (t->bits)
		snprintf(f[k++], sizeof(f[0]), "bits/s");
	if (t->view.active_only)
		snprintf(f[k++], sizeof(f[0]), "active only");
	/* -p: nothing more will be counted; the view stays on the last interval, as top's */
	if (t->have_shown && t->shown.watched_exited)
		snprintf(f[k++], sizeof(f[0]), "every watched process has exited");
	snprintf(f[k++], sizeof(f[0]), "(h help, q quit)");
	for (int i = 0; i < k; i++)
		fields[i] = f[i];
	fa_tui_fields(line, sizeof(line), COLS, fields, k);
	put(4, 0, line);
}

static void draw_keybar(void)
{
	static const char *const keys[][2] = {
		{ "Enter", "Detail" }, { "Space", "Tree" }, { "g", "Group" }, { "/", "Filter" },
		{ "s", "Sort" },       { "C", "Columns" },  { "B", "Bits" },  { "p", "Pause" },
		{ "h", "Help" },       { "q", "Quit" },
	};
	int x = 0;

	move(LINES - 1, 0);
	clrtoeol();
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int w = strlen(keys[i][0]) + strlen(keys[i][1]) + 3;

		if (x + w > COLS)
			break; /* a key is shown whole or not at all */
		attron(A_BOLD);
		put(LINES - 1, x, keys[i][0]);
		attroff(A_BOLD);
		attron(A_REVERSE);
		put(LINES - 1, x + strlen(keys[i][0]) + 1, keys[i][1]);
		attroff(A_REVERSE);
		x += w;
	}
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"flowacct keys",
		"",
		"  Up Down k j PgUp PgDn Home End   select a row (End stays on the last)",
		"  Enter  the selected row's detail: counters, averages, TCP health, command line",
		"  Space  per process: open or close the process's flows (a tree); Right opens,",
		"         Left closes; in the per-flow view, opens the flow's process",
		"  r      sort by RX/s                t      sort by TX/s",
		"  o, T   sort by RX/s + TX/s         O      sort by bytes since start",
		"  P      sort by PID                 Esc    close the detail panel",
		"  n      sort by name (COMM)         < >    sort by the column to the left/right",
		"  X      sort by TCP retransmits     L      sort by RTT",
		"  s      the next sort order         A      sort by the 2 s, 10 s, 40 s average",
		"  R      reverse the sort order      g      rows per flow, process, service,",
		"                                            container, cgroup (in turn)",
		"  c      rows per service (the container, else the systemd unit), or back",
		"  /      filter by name, address or port; Enter applies (empty: all), Esc cancels",
		"  a      only rows that moved bytes this interval, or all",
		"  b      exact byte counts, or KiB/MiB/GiB       B   bits per second, or bytes",
		"  C, F2  choose the columns                     p   pause (counting goes on)",
		"  + -    longer / shorter interval              Ctrl-L  redraw",
		"  mouse  click a row to select it, a title to sort by it, the wheel scrolls",
		"  q, F10 quit                                   h ? F1  this help",
		"",
		"RX/s and TX/s: per second over the interval. RX_TOTAL and TX_TOTAL: since start.",
		"'v' or '^' after a title: the rows are sorted on it, descending or ascending.",
		"Dimmed rows: a process that exited, or a connection that closed; they leave after",
		"the linger. HISTORY: the row's rate over the last intervals, tallest = its peak.",
		"",
		"Press any key to return.",
	};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		put(METER_LINES + i, 0, lines[i]);
}

static void draw_chooser(struct fa_tui *t)
{
	char line[128];

	put(HEADER_LINES, 0, "Columns (Space or Enter: show/hide, Esc or C: done)");
	for (size_t i = 0; i < fa_tui_noptional_cols; i++) {
		enum fa_tui_col c = fa_tui_optional_cols[i];

		snprintf(line, sizeof(line), " [%c] %s", t->hidden & (1u << c) ? ' ' : 'x',
			 fa_tui_col_name(c));
		if ((int)i == t->chooser_pos)
			attron(A_REVERSE);
		put(HEADER_LINES + 1 + i, 0, line);
		if ((int)i == t->chooser_pos)
			attroff(A_REVERSE);
	}
}

static struct fa_tui_rowinfo row_info(struct fa_tui *t, const struct line *l, bool need_cmd)
{
	struct fa_tui_rowinfo info = { .known = fa_hist_known(t->hist, l->key) };
	const struct fa_view_row *r = l->row;

	if (r->proc) {
		info.user = user_lookup(t, r->proc->uid);
		if (need_cmd)
			info.cmdline = cmd_lookup(t, r->proc);
	}
	for (int i = 0; i < 3; i++)
		info.avg[i] = fa_hist_avg(t->hist, l->key, fa_tui_avg_windows[i], FA_HIST_BOTH);
	return info;
}

static bool col_shown_now(const struct fa_tui *t, enum fa_tui_col c)
{
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].col == c)
			return true;
	return false;
}

static void measure(struct fa_tui *t, const struct line *v, size_t n,
		    const struct fa_tui_table *tab)
{
	static const enum fa_tui_col measured[] = {
		FA_TUI_COL_USER,   FA_TUI_COL_COMM,	FA_TUI_COL_LOCAL,
		FA_TUI_COL_REMOTE, FA_TUI_COL_WORKLOAD,
	};
	char cell[FA_TUI_CELL_LEN];

	for (size_t i = 0; i < n; i++) {
		struct fa_tui_rowinfo info = { 0 };

		if (v[i].child)
			continue; /* a flow under its process is drawn across the columns */
		if (v[i].row->proc)
			info.user = user_lookup(t, v[i].row->proc->uid);
		for (size_t j = 0; j < ARRAY_SIZE(measured); j++) {
			enum fa_tui_col c = measured[j];
			int len;

			fa_tui_cell(cell, sizeof(cell), c, v[i].row, tab, 1, &info);
			len = strlen(cell);
			if (len > t->want[c])
				t->want[c] = len;
		}
	}
}

/* A flow under its process, in the tree: "tcp 10.0.0.5:51002 > 93.184.216.34:443". */
static void child_text(char *buf, size_t len, const struct line *l)
{
	const struct fa_tuple *tu = l->row->tuple;
	char a[FA_FMT_ENDPOINT_LEN], b[FA_FMT_ENDPOINT_LEN];

	if (!tu) {
		snprintf(buf, len, "%s", l->row->label ? l->row->label : "-");
		return;
	}
	fa_fmt_endpoint(a, sizeof(a), tu->family, tu->laddr, tu->lport);
	fa_fmt_endpoint(b, sizeof(b), tu->family, tu->raddr, tu->rport);
	snprintf(buf, len, "%s %s > %s", fa_proto_name(tu->proto), a, b);
}

static void draw_row(struct fa_tui *t, int y, const struct line *l, const struct fa_tui_table *tab,
		     bool selected)
{
	char cell[FA_TUI_CELL_LEN], fit[FA_TUI_CELL_LEN];
	const struct fa_view_row *r = l->row;
	bool dim = (r->proc && r->proc->exited) || row_closed(r);
	struct fa_tui_rowinfo info = row_info(t, l, col_shown_now(t, FA_TUI_COL_CMD));
	attr_t attr = (dim ? A_DIM : 0) | (selected ? A_REVERSE : 0);
	int span_from = -1, span_to = -1;

	if (attr) {
		attron(attr);
		mvhline(y, 0, ' ', COLS);
	}
	if (l->child) {
		/* the flow's text spans from the first column after PID to the numbers */
		for (int c = 0; c < t->ncols; c++) {
			enum fa_tui_col col = t->cols[c].col;

			if (col == FA_TUI_COL_PID)
				continue;
			/* the flow's own counts start at its rates: what is before them in a
			 * process row (its flows, its retransmits) gives way to the endpoints */
			if (col == FA_TUI_COL_RX_RATE) {
				span_to = t->cols[c].x - 1;
				break;
			}
			if (span_from < 0)
				span_from = t->cols[c].x;
		}
		if (span_from >= 0) {
			int w = (span_to < span_from ? COLS : span_to) - span_from - 3;
			const char *branch =
				t->utf8 ? (l->last_child ? "\u2514\u2500" : "\u251c\u2500")
					: (l->last_child ? "`-" : "|-");

			if (span_to < span_from)
				span_to = COLS;
			put_cells(y, span_from, branch);
			child_text(cell, sizeof(cell), l);
			/* too long: the protocol goes, then the text is cut from the left,
			 * keeping the remote port */
			if ((int)strlen(cell) > w && !strncmp(cell, "tcp ", 4))
				memmove(cell, cell + 4, strlen(cell + 4) + 1);
			else if ((int)strlen(cell) > w && !strncmp(cell, "udp ", 4))
				memmove(cell, cell + 4, strlen(cell + 4) + 1);
			fa_tui_fit(fit, sizeof(fit), cell, w, false, true);
			put(y, span_from + 3, fit);
		}
	}
	for (int c = 0; c < t->ncols; c++) {
		const struct fa_tui_col_pos *p = &t->cols[c];
		/* an address's port and a cgroup path's last part matter most */
		bool tail = p->col == FA_TUI_COL_LOCAL || p->col == FA_TUI_COL_REMOTE ||
			    (p->col == FA_TUI_COL_WORKLOAD && t->view.group == FA_GROUP_CGROUP);

		if (l->child && p->x >= span_from && p->x < span_to && p->col != FA_TUI_COL_PID)
			continue;
		/* a flow under its process has no PID, FLOWS or PROCS of its own */
		if (l->child && (p->col == FA_TUI_COL_PID || p->col == FA_TUI_COL_FLOWS ||
				 p->col == FA_TUI_COL_PROCS))
			continue;
		if (p->col == FA_TUI_COL_HIST) {
			double v[SPARK_MAX];
			char spark[SPARK_MAX * 3 + 1];
			int n = p->width < SPARK_MAX ? p->width : SPARK_MAX;

			fa_hist_series(t->hist, l->key, FA_HIST_BOTH, v, n);
			fa_tui_spark(spark, sizeof(spark), v, n, 0, t->utf8);
			put_cells(y, p->x, spark);
			continue;
		}
		fa_tui_cell(cell, sizeof(cell), p->col, r, tab, rate_secs(&t->shown), &info);
		fa_tui_fit(fit, sizeof(fit), cell, p->width, p->right, tail);
		put(y, p->x, fit);
	}
	if (attr)
		attroff(attr);
}

/* The selected row, all of it: what it is, its counters and averages, its TCP health. */
static void draw_panel(struct fa_tui *t, const struct line *l, const struct fa_tui_table *tab,
		       int y0)
{
	const struct fa_view_row *r = l->row;
	const struct fa_counts *c = r->total, *d = r->delta;
	struct fa_tui_rowinfo info = row_info(t, l, true);
	char line[1024], a[64], b[64], w[FA_TUI_CELL_LEN];
	double iv = rate_secs(&t->shown);
	int y = y0;

	attron(A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	put(y++, 0, " Detail (Enter or Esc closes)");
	attroff(A_REVERSE);
	fa_tui_detail(line, sizeof(line), r, tab);
	put(y++, 1, line);
	if (r->proc) {
		char user[64];
		const char *cmd = info.cmdline;
		char esc[CMD_LEN * 4];

		fa_tui_cell(user, sizeof(user), FA_TUI_COL_USER, r, tab, 1, &info);
		snprintf(line, sizeof(line), "user %s  command %s%s", user,
			 cmd ? fa_escape(esc, sizeof(esc), cmd, strlen(cmd)) : "-",
			 r->proc->exited ? "  (exited)"
			 : row_closed(r) ? "  (closed)"
					 : "");
		put(y++, 1, line);
	}
	if (r->cgroup && r->cgroup->path[0]) {
		fa_escape(w, sizeof(w), r->cgroup->path, strlen(r->cgroup->path));
		snprintf(line, sizeof(line), "cgroup %s", w);
		put(y++, 1, line);
	}
	for (int dir = 0; dir < 2; dir++) {
		__u64 tot = dir ? c->tx_bytes : c->rx_bytes, now = dir ? d->tx_bytes : d->rx_bytes;
		char avg[3][48], peak[48];

		for (int i = 0; i < 3; i++)
			fmt_rate_unit(avg[i], sizeof(avg[i]),
				      fa_hist_avg(t->hist, l->key, fa_tui_avg_windows[i], dir),
				      tab);
		fmt_rate_unit(peak, sizeof(peak), fa_hist_peak(t->hist, l->key, dir), tab);
		fmt_rate_unit(a, sizeof(a), now / iv, tab);
		fa_fmt_bytes(b, sizeof(b), tot);
		snprintf(line, sizeof(line),
			 "%s %s  2s %s  10s %s  40s %s  peak %s  total %llu bytes (%s)  calls "
			 "%llu",
			 dir ? "TX" : "RX", a, avg[0], avg[1], avg[2], peak,
			 (unsigned long long)tot, b,
			 (unsigned long long)(dir ? c->tx_calls : c->rx_calls));
		if (tab->packets)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "  packets %llu",
				 (unsigned long long)(dir ? c->tx_packets : c->rx_packets));
		put(y++, 1, line);
	}
	{
		double v[SPARK_MAX];
		char spark[SPARK_MAX * 3 + 1];
		int n = COLS - 12 < FA_HIST_SAMPLES ? COLS - 12 : FA_HIST_SAMPLES;

		if (n > 0) {
			fa_hist_series(t->hist, l->key, FA_HIST_BOTH, v, n);
			fa_tui_spark(spark, sizeof(spark), v, n, 0, t->utf8);
			put(y, 1, "history");
			put_cells(y++, 9, spark);
		}
	}
	(void)y;
}

/* The table: titles, lines, the selection kept on what it was, the detail panel. */
static void draw_table(struct fa_tui *t)
{
	struct fa_tui_table tab = table_of(t);
	char cell[FA_TUI_CELL_LEN], fit[FA_TUI_CELL_LEN];
	int bottom = LINES - 1; /* the key bar */
	int page, panel_y = -1;
	struct lines l = { 0 };
	size_t n = 0, first, shown, top;

	if (t->panel)
		bottom -= PANEL_LINES;
	page = bottom - HEADER_LINES;
	if (page < 1)
		page = 1;
	/* the lines as far as the selection or the page reaches; End needs them all */
	top = (size_t)(t->scroll > t->sel ? t->scroll : t->sel) + (size_t)page + 1;
	if (t->have_shown && lines_build(t, t->follow_end ? 0 : top, &l)) {
		lines_free(&l);
		put(HEADER_LINES, 0, "out of memory");
		return;
	}
	n = l.total;
	/* the selection follows its row; End keeps it on the last */
	if (t->follow_end && n) {
		t->sel = n - 1;
	} else if (t->sel_key) { /* among the lines sorted: past them it keeps its place */
		for (size_t i = 0; i < l.n; i++) {
			if (l.v[i].key == t->sel_key) {
				t->sel = i;
				break;
			}
		}
	}
	if (t->sel >= (long)l.n) /* l.n <= n: the lines built reach the selection */
		t->sel = (long)l.n - 1;
	if (t->sel < 0)
		t->sel = 0;
	if (l.n)
		t->sel_key = l.v[t->sel].key;
	if (t->sel < t->scroll)
		t->scroll = t->sel;
	if (t->sel >= t->scroll + page)
		t->scroll = t->sel - page + 1;
	if (t->scroll > (long)n - page)
		t->scroll = (long)n - page;
	if (t->scroll < 0)
		t->scroll = 0;
	first = t->scroll;
	shown = n - first < (size_t)page ? n - first : (size_t)page;
	if (first + shown > l.n)
		shown = l.n > first ? l.n - first : 0;
	draw_status(t, first, shown, n);

	measure(t, l.v + first, shown, &tab);
	t->ncols = fa_tui_layout(COLS, &tab, t->want, t->cols);
	t->first_shown = first;
	t->nshown = shown;

	attron(A_REVERSE);
	mvhline(HEADER_LINES - 1, 0, ' ', COLS);
	for (int c = 0; c < t->ncols; c++) {
		bool sorted = !t->avg_sort
				      ? fa_tui_col_is_sorted(t->cols[c].col, &t->view)
				      : (int)t->cols[c].col == FA_TUI_COL_AVG2 + t->avg_sort - 1;

		if (!t->avg_sort)
			fa_tui_title(cell, sizeof(cell), t->cols[c].col, &t->view);
		else
			snprintf(cell, sizeof(cell), "%s%s", fa_tui_col_name(t->cols[c].col),
				 sorted ? " v" : "");
		fa_tui_fit(fit, sizeof(fit), cell, t->cols[c].width, t->cols[c].right, false);
		/* the sorted title stands out of the bar, never as a hole in it: in colour, its
		 * own (not inverted: inverted, black on cyan is cyan on black), else bold and
		 * underlined in the inverse bar */
		if (sorted && t->colors)
			attroff(A_REVERSE), attron(A_BOLD | COLOR_PAIR(PAIR_SORTED));
		else if (sorted)
			attron(A_BOLD | A_UNDERLINE);
		put(HEADER_LINES - 1, t->cols[c].x, fit);
		if (sorted)
			attroff(A_BOLD | A_UNDERLINE | COLOR_PAIR(PAIR_SORTED)), attron(A_REVERSE);
	}
	attroff(A_REVERSE);

	if (!t->have_shown)
		put(HEADER_LINES, 0, "waiting for the first interval...");
	else if (!n)
		put(HEADER_LINES, 0,
		    t->view.filter ? "no rows match the filter" : "no traffic yet");
	for (size_t i = 0; i < shown; i++)
		draw_row(t, HEADER_LINES + i, &l.v[first + i], &tab, (long)(first + i) == t->sel);
	if (t->panel && l.n) {
		panel_y = LINES - 1 - PANEL_LINES;
		draw_panel(t, &l.v[t->sel], &tab, panel_y);
	}
	lines_free(&l);
}

static void draw_locked(struct fa_tui *t)
{
	erase();
	draw_title(t);
	if (t->help) {
		draw_help();
	} else {
		struct fa_tui_table tab = table_of(t);

		draw_meter(t, 1, FA_HIST_RX, &tab);
		draw_meter(t, 2, FA_HIST_TX, &tab);
		draw_loss(t, &tab);
		if (t->chooser) {
			draw_status(t, 0, 0, 0);
			draw_chooser(t);
		} else {
			draw_table(t);
		}
		draw_keybar();
	}
	if (t->prompting) {
		int x = strlen("Filter: ") + t->prompt_len;

		curs_set(1);
		move(4, x < COLS ? x : COLS - 1);
	} else {
		curs_set(0);
	}
	wnoutrefresh(stdscr);
}

/* Composing reads the shared snapshot, under lock; writing to the terminal, which may
 * block, is done without it. */
static void draw(struct fa_tui *t)
{
	pthread_mutex_lock(&t->lock);
	/* between the release of one snapshot and the next, the screen stays as it is */
	if (t->have_shown || !t->ever_shown)
		draw_locked(t);
	pthread_mutex_unlock(&t->lock);
	doupdate();
}

/* ---- keys ---- */

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

/* Under lock. */
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

static void chooser_key(struct fa_tui *t, int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		if (t->chooser_pos > 0)
			t->chooser_pos--;
		break;
	case KEY_DOWN:
	case 'j':
		if (t->chooser_pos + 1 < (int)fa_tui_noptional_cols)
			t->chooser_pos++;
		break;
	case ' ':
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->hidden ^= 1u << fa_tui_optional_cols[t->chooser_pos];
		memset(t->want, 0, sizeof(t->want));
		break;
	case 27:
	case 'C':
	case 'q':
	case KEY_F(2):
		t->chooser = false;
		break;
	default:
		break;
	}
}

/* The row a selection is on, for keys that act on it: its pid, or 0. */
static __u32 selected_pid(struct fa_tui *t)
{
	struct lines l;
	__u32 pid = 0;

	pthread_mutex_lock(&t->lock);
	if (t->have_shown && !lines_build(t, t->sel + 1, &l) && t->sel < (long)l.n &&
	    l.v[t->sel].row->proc)
		pid = l.v[t->sel].row->proc->pid;
	lines_free(&l);
	pthread_mutex_unlock(&t->lock);
	return pid;
}

static void sort_by_col(struct fa_tui *t, enum fa_tui_col col)
{
	static const struct {
		enum fa_tui_col col;
		enum fa_sort sort;
	} by[] = {
		{ FA_TUI_COL_PID, FA_SORT_PID },
		{ FA_TUI_COL_COMM, FA_SORT_COMM },
		{ FA_TUI_COL_WORKLOAD, FA_SORT_COMM },
		{ FA_TUI_COL_RX_RATE, FA_SORT_RX },
		{ FA_TUI_COL_TX_RATE, FA_SORT_TX },
		{ FA_TUI_COL_RETRANS, FA_SORT_RETRANS },
		{ FA_TUI_COL_RTT, FA_SORT_RTT },
		{ FA_TUI_COL_RX_TOTAL, FA_SORT_TOTAL_BYTES },
		{ FA_TUI_COL_TX_TOTAL, FA_SORT_TOTAL_BYTES },
	};

	if (col >= FA_TUI_COL_AVG2 && col <= FA_TUI_COL_AVG40) {
		t->avg_sort = col - FA_TUI_COL_AVG2 + 1;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(by); i++) {
		if (by[i].col == col) {
			t->avg_sort = 0;
			t->view.sort = by[i].sort;
		}
	}
}

static void mouse_event(struct fa_tui *t)
{
	MEVENT me;

	if (getmouse(&me) != OK)
		return;
	if (me.bstate & BUTTON4_PRESSED) {
		t->sel -= 3, t->follow_end = false, t->sel_key = 0;
		return;
	}
	if (me.bstate & BUTTON5_PRESSED) {
		t->sel += 3, t->sel_key = 0;
		return;
	}
	if (!(me.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED)))
		return;
	if (me.y == HEADER_LINES - 1) { /* a title: sort by its column */
		for (int c = 0; c < t->ncols; c++)
			if (me.x >= t->cols[c].x && me.x < t->cols[c].x + t->cols[c].width + 1)
				sort_by_col(t, t->cols[c].col);
		return;
	}
	if (me.y >= HEADER_LINES && me.y < HEADER_LINES + t->nshown) {
		t->sel = t->first_shown + me.y - HEADER_LINES;
		t->sel_key = 0;
		t->follow_end = false;
		if (me.bstate & BUTTON1_DOUBLE_CLICKED)
			t->panel = !t->panel;
	}
}

/* Moves the selection; 0 from the key's line to the row under it: sel_key is forgotten. */
static void move_sel(struct fa_tui *t, long by)
{
	t->sel += by;
	t->sel_key = 0;
	t->follow_end = false;
}

static void handle_key(struct fa_tui *t, int ch)
{
	int page = LINES - HEADER_LINES - 1 - (t->panel ? PANEL_LINES : 0);
	double iv;

	if (page < 1)
		page = 1;
	if (ch == KEY_RESIZE)
		return; /* the redraw that follows every key lays out again */
	if (t->prompting) {
		prompt_key(t, ch);
		return;
	}
	if (t->help) { /* any key leaves the help screen, and does only that */
		t->help = false;
		return;
	}
	if (t->chooser) {
		chooser_key(t, ch);
		return;
	}
	switch (ch) {
	case 'q':
	case 'Q':
	case KEY_F(10):
		pthread_mutex_lock(&t->lock);
		t->want_quit = true;
		pthread_mutex_unlock(&t->lock);
		break;
	case 'r':
		t->view.sort = FA_SORT_RX, t->avg_sort = 0;
		break;
	case 't':
		t->view.sort = FA_SORT_TX, t->avg_sort = 0;
		break;
	case 'o':
	case 'T':
		t->view.sort = FA_SORT_RATE, t->avg_sort = 0;
		break;
	case 'O': /* bytes since start */
		t->view.sort = FA_SORT_TOTAL_BYTES, t->avg_sort = 0;
		break;
	case 'P':
		t->view.sort = FA_SORT_PID, t->avg_sort = 0;
		break;
	case 'n':
	case 'N':
		t->view.sort = FA_SORT_COMM, t->avg_sort = 0;
		break;
	case 'X':
		t->view.sort = FA_SORT_RETRANS, t->avg_sort = 0;
		break;
	case 'L':
		t->view.sort = FA_SORT_RTT, t->avg_sort = 0;
		break;
	case 'A': /* the averages in turn, then back to the sort before */
		t->avg_sort = (t->avg_sort + 1) % 4;
		break;
	case 's':
		t->avg_sort = 0;
		t->view.sort = (t->view.sort + 1) % FA_SORT_MAX;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->panel = !t->panel;
		break;
	case 27:
		t->panel = false;
		break;
	case '<':
	case '>':
		t->avg_sort = 0;
		t->view.sort = fa_tui_sort_step(t->view.sort, ch == '<' ? -1 : 1);
		break;
	case 'R':
		t->view.reverse = !t->view.reverse;
		break;
	case 'p':
		pthread_mutex_lock(&t->lock);
		set_paused(t, !t->paused);
		pthread_mutex_unlock(&t->lock);
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
	case ' ':
	case KEY_RIGHT:
	case KEY_LEFT: {
		/* the tree: a process opens into its flows; from a flow, its process opens */
		__u32 pid = selected_pid(t);

		if (!pid)
			break;
		if (t->view.group != FA_GROUP_PROCESS) {
			if (ch == KEY_LEFT)
				break;
			t->view.group = FA_GROUP_PROCESS;
			memset(t->want, 0, sizeof(t->want));
			if (!is_expanded(t, pid))
				toggle_expanded(t, pid);
			t->sel_key = proc_key(pid);
			break;
		}
		if ((ch == KEY_RIGHT && is_expanded(t, pid)) ||
		    (ch == KEY_LEFT && !is_expanded(t, pid)))
			break;
		toggle_expanded(t, pid);
		t->sel_key = proc_key(pid); /* a closed process keeps the selection */
		break;
	}
	case 'a':
		t->view.active_only = !t->view.active_only;
		break;
	case 'b':
		t->exact = !t->exact;
		memset(t->want, 0, sizeof(t->want));
		break;
	case 'B':
		t->bits = !t->bits;
		break;
	case 'C':
	case KEY_F(2):
		t->chooser = true;
		break;
	case '+':
	case '=':
	case '-':
	case '_':
		iv = interval_step(t->interval, ch == '+' || ch == '=' ? 1 : -1);
		pthread_mutex_lock(&t->lock);
		if (iv != t->interval) {
			t->interval = iv;
			t->want_interval = true;
		}
		pthread_mutex_unlock(&t->lock);
		break;
	case KEY_UP:
	case 'k':
		move_sel(t, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(t, 1);
		break;
	case KEY_PPAGE:
		move_sel(t, -page);
		t->scroll -= page;
		break;
	case KEY_NPAGE:
		move_sel(t, page);
		t->scroll += page;
		break;
	case KEY_HOME:
		t->sel = 0, t->sel_key = 0, t->scroll = 0, t->follow_end = false;
		break;
	case KEY_END:
		t->follow_end = true; /* stays on the last row as rows come and go */
		break;
	case KEY_MOUSE:
		mouse_event(t);
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
	pthread_mutex_lock(&t->lock); /* for the history, which the main thread feeds */
	t->feed_group = t->view.group;
	pthread_mutex_unlock(&t->lock);
}

/* ---- the view's thread ---- */

static void *tui_main(void *arg)
{
	struct fa_tui *t = arg;
	struct epoll_event ev[4];

	for (;;) {
		bool dirty = false, stop, notify;
		char drain[64];
		__u64 v;
		int ch;

		if (epoll_wait(t->epfd, ev, ARRAY_SIZE(ev), -1) < 0 && errno != EINTR)
			break;
		/* a wakeup alone draws nothing: new data while paused must not move the screen */
		if (read(t->wake_fd, &v, sizeof(v)) < 0) {
			/* not what woke us */
		}
		while (read(t->winch_pipe[0], drain, sizeof(drain)) > 0)
			dirty = true;
		pthread_mutex_lock(&t->lock);
		stop = t->stop;
		if (t->fresh)
			dirty = true, t->fresh = false;
		pthread_mutex_unlock(&t->lock);
		if (stop)
			break;
		while ((ch = getch()) != ERR) {
			handle_key(t, ch);
			dirty = true;
		}
		pthread_mutex_lock(&t->lock);
		notify = t->want_quit || t->want_interval;
		pthread_mutex_unlock(&t->lock);
		if (notify) {
			v = 1;
			if (write(t->notify_fd, &v, sizeof(v)) < 0) {
				/* the counter is already set: the main thread will look */
			}
		}
		if (dirty)
			draw(t);
	}
	return NULL;
}

static void wake(struct fa_tui *t)
{
	__u64 v = 1;

	if (write(t->wake_fd, &v, sizeof(v)) < 0) {
		/* already pending */
	}
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
	int fds[3];

	if (pipe2(t->winch_pipe, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->wake_fd < 0 || t->notify_fd < 0 || t->epfd < 0)
		return -errno;
	fds[0] = in_fd;
	fds[1] = t->winch_pipe[0];
	fds[2] = t->wake_fd;
	for (int i = 0; i < 3; i++) {
		ev.data.fd = fds[i];
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fds[i], &ev))
			return -errno;
	}
	return 0;
}

/* Is the terminal's character set UTF-8 (the graphs' and the tree's block elements)? */
static bool locale_utf8(void)
{
	const char *cs = setlocale(LC_CTYPE, "") ? nl_langinfo(CODESET) : "";

	return cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
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
	t->epfd = t->winch_pipe[0] = t->winch_pipe[1] = t->wake_fd = t->notify_fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	t->view = opts->view;
	t->feed_group = opts->view.group;
	set_filter(t, opts->view.filter);
	t->max_rows = opts->rows;
	t->interval = opts->interval_s > 0 ? opts->interval_s : 1;
	t->bits = opts->bits;
	snprintf(t->selection, sizeof(t->selection), "%s", opts->selection);
	t->linger_s = opts->linger_s;
	t->hidden = FA_TUI_HIDDEN_DEFAULT;
	t->hist = fa_hist_new();
	if (!t->hist) {
		err = fa_err_set(why, -ENOMEM, "out of memory");
		goto fail;
	}
	/* LC_CTYPE only: numbers in every output keep their '.' */
	t->utf8 = locale_utf8();

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
	nodelay(stdscr, TRUE); /* keys are read as they come, never waited for */
	set_escdelay(25); /* a lone Esc (cancel the filter prompt) must not take a second */
	curs_set(0);
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED |
			  BUTTON5_PRESSED,
		  NULL);
	mouseinterval(200);
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(PAIR_LOSS, COLOR_RED, -1);
		init_pair(PAIR_SORTED, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_RX, COLOR_GREEN, -1);
		init_pair(PAIR_TX, COLOR_BLUE, -1);
		init_pair(PAIR_KEY, COLOR_BLACK, COLOR_CYAN);
		t->colors = true;
	}
	signals_install(t);
	draw(t);
	err = fa_thread_start(&t->thread, "flowacct-view", tui_main, t);
	if (err) {
		fa_err_set(why, err, "cannot start the view's thread: %s", strerror(-err));
		goto fail;
	}
	t->thread_running = true;
	*out = t;
	return 0;

fail:
	fa_tui_close(t);
	return err;
}

int fa_tui_fd(const struct fa_tui *tui)
{
	return tui->notify_fd;
}

void fa_tui_update(struct fa_tui *tui, struct fa_snapshot *snap)
{
	struct fa_snapshot *dst;
	bool *have;

	pthread_mutex_lock(&tui->lock);
	history_feed(tui, snap, tui->feed_group);
	dst = tui->paused ? &tui->latest : &tui->shown;
	have = tui->paused ? &tui->have_latest : &tui->have_shown;
	if (*have)
		fa_snapshot_free(dst);
	*dst = *snap; /* taken, not copied: at 100k flows a copy is 20 MB */
	memset(snap, 0, sizeof(*snap));
	*have = true;
	tui->ever_shown = true;
	tui->fresh = !tui->paused;
	pthread_mutex_unlock(&tui->lock);
	wake(tui);
}

void fa_tui_release(struct fa_tui *tui)
{
	pthread_mutex_lock(&tui->lock);
	if (!tui->paused && tui->have_shown) {
		fa_snapshot_free(&tui->shown);
		tui->have_shown = false;
	}
	pthread_mutex_unlock(&tui->lock);
}

enum fa_tui_action fa_tui_input(struct fa_tui *tui)
{
	enum fa_tui_action act = FA_TUI_NONE;
	__u64 v;

	if (read(tui->notify_fd, &v, sizeof(v)) < 0) {
		/* nothing pending: a spurious wakeup */
	}
	pthread_mutex_lock(&tui->lock);
	if (tui->want_quit)
		act = FA_TUI_QUIT;
	else if (tui->want_interval)
		act = FA_TUI_INTERVAL;
	tui->want_interval = false;
	pthread_mutex_unlock(&tui->lock);
	return act;
}

double fa_tui_interval(const struct fa_tui *tui)
{
	double iv;

	pthread_mutex_lock((pthread_mutex_t *)&tui->lock);
	iv = tui->interval;
	pthread_mutex_unlock((pthread_mutex_t *)&tui->lock);
	return iv;
}

void fa_tui_close(struct fa_tui *tui)
{
	if (!tui)
		return;
	if (tui->thread_running) {
		struct timespec until;

		pthread_mutex_lock(&tui->lock);
		tui->stop = true;
		pthread_mutex_unlock(&tui->lock);
		wake(tui);
		/* a terminal that no longer reads holds the thread in a write: give it a
		 * moment, then leave without it (the process is ending) */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 2;
		if (pthread_timedjoin_np(tui->thread, NULL, &until)) {
			tui_active = 0;
			return;
		}
	}
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
	if (tui->wake_fd >= 0)
		close(tui->wake_fd);
	if (tui->notify_fd >= 0)
		close(tui->notify_fd);
	if (tui->tty_in)
		fclose(tui->tty_in);
	if (tui->have_shown)
		fa_snapshot_free(&tui->shown);
	if (tui->have_latest)
		fa_snapshot_free(&tui->latest);
	for (size_t i = 0; i < tui->nusers; i++)
		free(tui->users[i].name);
	free(tui->users);
	for (size_t i = 0; i < tui->ncmds; i++)
		free(tui->cmds[i].text);
	fa_hist_free(tui->hist);
	pthread_mutex_destroy(&tui->lock);
	free(tui);
}
