// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * -b/--batch, or stdout is not a terminal: a plain table per interval, active rows only.
 * The columns are the live view's, by the same titles, except that no title has a space
 * (awk splits on them). Each text column of a table is as wide as its widest cell in that
 * table, as `column -t` makes them, so that one long IPv6 endpoint moves no other column
 * (sizes and rates: as wide as their unit format's widest);
 * columns are two spaces apart (a size has one inside: "1.2 KiB"), and the last one, a
 * name, is not padded.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "output.h"
#include "util.h"

struct text_output {
	struct fa_output base;
	FILE *f;
	struct fa_text_opts opts;
};

enum text_col {
	COL_PID,
	COL_COMM,
	COL_PROTO, /* per flow */
	COL_LOCAL, /* per flow */
	COL_REMOTE, /* per flow */
	COL_PROCS, /* groups of processes */
	COL_FLOWS, /* processes and groups */
	COL_RX_RATE,
	COL_TX_RATE,
	COL_RX_TOTAL,
	COL_TX_TOTAL,
	COL_RX_PKTS, /* --packets */
	COL_TX_PKTS,
	COL_NAME, /* CONTAINER/UNIT; for groups, the group's name, titled by the grouping */
	COL_MAX,
};

static const struct {
	const char *title;
	bool right; /* numbers; PID stays left, where a line starts with it */
} cols[COL_MAX] = {
	[COL_PID] = { "PID", false },	       [COL_COMM] = { "COMM", false },
	[COL_PROTO] = { "PROTO", false },      [COL_LOCAL] = { "LOCAL", false },
	[COL_REMOTE] = { "REMOTE", false },    [COL_PROCS] = { "PROCS", true },
	[COL_FLOWS] = { "FLOWS", true },       [COL_RX_RATE] = { "RX/s", true },
	[COL_TX_RATE] = { "TX/s", true },      [COL_RX_TOTAL] = { "RX_TOTAL", true },
	[COL_TX_TOTAL] = { "TX_TOTAL", true }, [COL_RX_PKTS] = { "RXPKT/s", true },
	[COL_TX_PKTS] = { "TXPKT/s", true },   [COL_NAME] = { "CONTAINER/UNIT", false },
};

/* What one interval's table shows, and how. */
struct table {
	enum fa_group group;
	bool packets, bits;
	double secs; /* the rates' divisor */
	char name_title[16]; /* groups: "SERVICE", "CONTAINER", "CGROUP" */
	int width[COL_MAX]; /* 0: not shown */
};

/* The longest cell: a group's escaped cgroup path */
#define CELL_LEN (FA_CGROUP_PATH_LEN * 4 + 1)

static bool col_shown(enum text_col c, const struct table *tab)
{
	bool groups = fa_group_is_cgroups(tab->group);

	switch (c) {
	case COL_PID:
	case COL_COMM:
		return !groups;
	case COL_PROTO:
	case COL_LOCAL:
	case COL_REMOTE:
		return tab->group == FA_GROUP_FLOW;
	case COL_PROCS:
		return groups;
	case COL_FLOWS:
		return tab->group != FA_GROUP_FLOW;
	case COL_RX_PKTS:
	case COL_TX_PKTS:
		return tab->packets;
	default:
		return true;
	}
}

static const char *rate(char *buf, size_t len, __u64 bytes, const struct table *tab)
{
	return (tab->bits ? fa_fmt_bits : fa_fmt_bytes)(buf, len, bytes / tab->secs);
}

static const char *cell(char *buf, size_t len, enum text_col c, const struct fa_view_row *r,
			const struct table *tab)
{
	const struct fa_ident *p = r->proc;
	const struct fa_tuple *t = r->tuple;
	const char *s = NULL;

	switch (c) {
	case COL_PID:
		if (p)
			snprintf(buf, len, "%u", p->pid);
		else
			s = "-";
		break;
	case COL_COMM:
		if (p)
			fa_escape(buf, len, p->comm, sizeof(p->comm));
		else
			s = "(no process)";
		break;
	case COL_PROTO:
		s = t ? fa_proto_name(t->proto) : "*";
		break;
	case COL_LOCAL:
		if (t)
			fa_fmt_endpoint(buf, len, t->family, t->laddr, t->lport);
		else
			s = r->label ? r->label : "-"; /* "(overflow)" */
		break;
	case COL_REMOTE:
		if (t)
			fa_fmt_endpoint(buf, len, t->family, t->raddr, t->rport);
		else
			s = "-";
		break;
	case COL_PROCS:
		snprintf(buf, len, "%u", r->nprocs);
		break;
	case COL_FLOWS:
		snprintf(buf, len, "%u", r->nflows);
		break;
	case COL_RX_RATE:
		rate(buf, len, r->delta->rx_bytes, tab);
		break;
	case COL_TX_RATE:
		rate(buf, len, r->delta->tx_bytes, tab);
		break;
	case COL_RX_TOTAL:
		fa_fmt_bytes(buf, len, r->total->rx_bytes);
		break;
	case COL_TX_TOTAL:
		fa_fmt_bytes(buf, len, r->total->tx_bytes);
		break;
	case COL_RX_PKTS:
		fa_fmt_count_rate(buf, len, r->delta->rx_packets / tab->secs);
		break;
	case COL_TX_PKTS:
		fa_fmt_count_rate(buf, len, r->delta->tx_packets / tab->secs);
		break;
	case COL_NAME: {
		/* a group's name; else what runs the process: its container, else its unit */
		const char *w = fa_group_is_cgroups(tab->group) ? r->label
				: r->cgroup			? fa_cgroup_workload(r->cgroup)
								: "";

		if (w && *w)
			fa_escape(buf, len, w, strlen(w));
		else
			s = "-";
		break;
	}
	default:
		s = "?";
		break;
	}
	if (s)
		snprintf(buf, len, "%s", s);
	return buf;
}

static int digits(unsigned long long v)
{
	int n = 1;

	for (unsigned long long p = 10; v >= p && n < 20; p *= 10)
		n++;
	return n;
}

/*
 * A cell's width without making its text where that is cheap: at 100k flows, formatting
 * every cell twice (once to measure, once to print) doubled the table's cost. Sizes and
 * rates take their unit format's widest ("1023 KiB", "999 Mb"), so their columns are as
 * wide as any value could make them; PIDs, counts, names and IPv4 endpoints are
 * measured exactly; the rest is formatted.
 */
static int cell_width(enum text_col c, const struct fa_view_row *r, const struct table *tab)
{
	const struct fa_ident *p = r->proc;
	const struct fa_tuple *t = r->tuple;
	char buf[CELL_LEN];
	int n = 0;

	switch (c) {
	case COL_PID:
		return p ? digits(p->pid) : 1;
	case COL_COMM:
		if (!p)
			return strlen("(no process)");
		for (size_t i = 0; i < sizeof(p->comm) && p->comm[i]; i++) {
			unsigned char ch = p->comm[i];

			n += ch == '\\' ? 2 : ch >= 0x20 && ch < 0x7f ? 1 : 4; /* as fa_escape */
		}
		return n;
	case COL_LOCAL:
	case COL_REMOTE:
		if (t && t->family == FA_FAMILY_IPV4) {
			const __u8 *a = c == COL_LOCAL ? t->laddr : t->raddr;

			for (int i = 0; i < 4; i++)
				n += digits(a[i]) + 1; /* the dots and the colon */
			return n + digits(c == COL_LOCAL ? t->lport : t->rport);
		}
		break;
	case COL_PROCS:
		return digits(r->nprocs);
	case COL_FLOWS:
		return digits(r->nflows);
	case COL_RX_RATE:
	case COL_TX_RATE:
		return tab->bits ? 6 : 8;
	case COL_RX_TOTAL:
	case COL_TX_TOTAL:
		return 8;
	default:
		break;
	}
	return strlen(cell(buf, sizeof(buf), c, r, tab));
}

static const char *title(enum text_col c, const struct table *tab)
{
	return c == COL_NAME && fa_group_is_cgroups(tab->group) ? tab->name_title : cols[c].title;
}

/* One line: each shown column padded to its width, but the last; made in a buffer and
 * written at once (a stdio call per cell, each taking the stream's lock, cost a fifth of
 * the table). */
static void print_line(FILE *f, const struct table *tab, const struct fa_view_row *r)
{
	char buf[CELL_LEN], line[COL_MAX * 64 + CELL_LEN + 2];
	size_t n = 0;

	for (int c = 0; c < COL_MAX; c++) {
		const char *s;
		size_t w, width = tab->width[c];

		if (!width)
			continue;
		s = r ? cell(buf, sizeof(buf), c, r, tab) : title(c, tab);
		w = strlen(s);
		if (n) {
			memcpy(line + n, "  ", 2);
			n += 2;
		}
		if (c == COL_NAME || w > width || width > 64)
			width = w; /* the last column, unpadded; widths are bounded, but be sure */
		if (n + width + 1 >= sizeof(line))
			break;
		if (cols[c].right) {
			memset(line + n, ' ', width - w);
			memcpy(line + n + width - w, s, w);
		} else {
			memcpy(line + n, s, w);
			memset(line + n + w, ' ', width - w);
		}
		n += width;
	}
	line[n++] = '\n';
	fwrite(line, 1, n, f);
}

static void print_header(FILE *f, const struct fa_snapshot *snap, const struct table *tab)
{
	char t[16], rxr[FA_FMT_BYTES_LEN], txr[FA_FMT_BYTES_LEN];
	char rxt[FA_FMT_BYTES_LEN], txt[FA_FMT_BYTES_LEN];
	struct tm tm;
	bool lossy = false;

	localtime_r(&snap->ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	fprintf(f,
		"%s  backend %s  flows %zu  processes %zu  RX %s/s  TX %s/s  RX_TOTAL %s  "
		"TX_TOTAL %s  (rates %sper second%s the %.2f s interval; totals %ssince start)\n",
		t, snap->backend, snap->nflows, snap->nprocs,
		rate(rxr, sizeof(rxr), snap->delta.rx_bytes, tab),
		rate(txr, sizeof(txr), snap->delta.tx_bytes, tab),
		fa_fmt_bytes(rxt, sizeof(rxt), snap->total.rx_bytes),
		fa_fmt_bytes(txt, sizeof(txt), snap->total.tx_bytes), tab->bits ? "in bits " : "",
		tab->secs < 1 ? ", extrapolated from" : " over", tab->secs,
		tab->bits ? "in bytes " : "");
	for (int i = 0; i < FA_DROP_MAX; i++) {
		if (!snap->drops[i])
			continue;
		fprintf(f, "%s%s=%llu", lossy ? " " : "LOSS: ", fa_drop_descs[i].name,
			(unsigned long long)snap->drops[i]);
		lossy = true;
	}
	if (lossy)
		fputc('\n', f);
	for (size_t i = 0; i < snap->nother; i++) {
		const struct fa_other *o = &snap->other[i];
		char name[FA_OTHER_NAME_LEN];

		fprintf(f, "%s%s rx=%llu tx=%llu", i ? "  " : "OTHER (not in the totals): ",
			fa_other_name(name, sizeof(name), o->family, o->proto),
			(unsigned long long)o->total.rx_bytes,
			(unsigned long long)o->total.tx_bytes);
		if (i + 1 == snap->nother)
			fputc('\n', f);
	}
}

static int text_emit(struct fa_output *out, const struct fa_snapshot *snap)
{
	struct text_output *t = (struct text_output *)out;
	struct table tab = { .group = t->opts.view.group,
			     .packets = snap->packets,
			     .bits = t->opts.bits,
			     .secs = fa_snapshot_rate_secs(snap) };
	const char *g = fa_group_names[tab.group];
	struct fa_view_row *rows;
	size_t n, i;
	int err;

	err = fa_view_build(snap, &t->opts.view, &rows, &n);
	if (err)
		return err;
	if (t->opts.rows > 0 && n > (size_t)t->opts.rows)
		n = t->opts.rows;
	for (i = 0; i < sizeof(tab.name_title) - 1 && g[i]; i++)
		tab.name_title[i] = toupper((unsigned char)g[i]);
	tab.name_title[i] = '\0';
	/* the widths: a pass over the cells before the pass that prints them, so that no
	 * table of 100k flows is held as text */
	for (int c = 0; c < COL_MAX; c++)
		if (col_shown(c, &tab))
			tab.width[c] = strlen(title(c, &tab));
	for (i = 0; i < n; i++)
		for (int c = 0; c < COL_MAX; c++) {
			int w;

			if (!tab.width[c] || c == COL_NAME)
				continue;
			w = cell_width(c, &rows[i], &tab);
			if (w > tab.width[c])
				tab.width[c] = w;
		}
	print_header(t->f, snap, &tab);
	print_line(t->f, &tab, NULL);
	for (i = 0; i < n; i++)
		print_line(t->f, &tab, &rows[i]);
	fputc('\n', t->f);
	free(rows);
	return fflush(t->f) ? -errno : 0;
}

struct fa_output *fa_text_open(FILE *f, const struct fa_text_opts *opts)
{
	struct text_output *t = fa_output_new(sizeof(*t), "text", text_emit);

	if (!t)
		return NULL;
	t->f = f;
	t->opts = *opts;
	t->opts.view.active_only = true;
	t->opts.view.top = opts->rows > 0 ? (size_t)opts->rows : 0;
	return &t->base;
}
