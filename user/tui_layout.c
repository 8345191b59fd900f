// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "format.h"
#include "tui_layout.h"
#include "util.h"

#define NEVER_DROPPED (-1)
#define MAX_DROP_RANK 11
/* below it, the endpoints and COMM are squeezed before anything else goes */
#define SQUEEZE_RANK 7

struct col_def {
	const char *title;
	int min; /* width with human-readable units */
	int min_exact; /* width with exact byte counts (0: same as min) */
	int max; /* widest it grows to when content and the terminal allow */
	bool right;
	int drop_rank; /* dropped in increasing rank when the terminal is too narrow */
	int tight; /* squeezed to this before the columns of SQUEEZE_RANK and above go (0: no) */
};

/*
 * Widths: "1023 KiB" is the longest human-readable byte count, and a title needs two more
 * columns for its sort marker. Exact counts get room for 99 TB totals and 10 GB/s rates.
 * What a flow row is, its endpoints, goes last: totals, PROTO and PID leave before them,
 * and they are cut from the left (keeping the port) before they leave.
 */
static const struct col_def cols[FA_TUI_COL_MAX] = {
	[FA_TUI_COL_PID] = { "PID", 7, 0, 7, true, 9, 0 },
	[FA_TUI_COL_USER] = { "USER", 8, 0, 16, false, 3, 0 },
	[FA_TUI_COL_COMM] = { "COMM", 15, 0, FA_ESCAPED_COMM_LEN - 1, false, NEVER_DROPPED, 8 },
	[FA_TUI_COL_WORKLOAD] = { "CONTAINER/UNIT", 14, 0, 64, false, 4, 0 },
	[FA_TUI_COL_PROTO] = { "PROTO", 5, 0, 5, false, 8, 0 },
	[FA_TUI_COL_LOCAL] = { "LOCAL", 21, 0, FA_FMT_ENDPOINT_LEN - 1, false, 10, 12 },
	[FA_TUI_COL_REMOTE] = { "REMOTE", 21, 0, FA_FMT_ENDPOINT_LEN - 1, false, 11, 14 },
	[FA_TUI_COL_PROCS] = { "PROCS", 6, 0, 6, true, 5, 0 },
	[FA_TUI_COL_FLOWS] = { "FLOWS", 6, 0, 6, true, 5, 0 },
	[FA_TUI_COL_RX_RATE] = { "RX/s", 9, 11, 9, true, NEVER_DROPPED, 0 },
	[FA_TUI_COL_TX_RATE] = { "TX/s", 9, 11, 9, true, NEVER_DROPPED, 0 },
	[FA_TUI_COL_HIST] = { "HISTORY", 10, 0, 10, false, 3, 0 },
	[FA_TUI_COL_AVG2] = { "AVG2s", 9, 12, 9, true, 2, 0 },
	[FA_TUI_COL_AVG10] = { "AVG10s", 9, 12, 9, true, 2, 0 },
	[FA_TUI_COL_AVG40] = { "AVG40s", 9, 12, 9, true, 2, 0 },
	[FA_TUI_COL_RX_TOTAL] = { "RX_TOTAL", 10, 15, 10, true, 6, 0 },
	[FA_TUI_COL_TX_TOTAL] = { "TX_TOTAL", 10, 15, 10, true, 5, 0 },
	[FA_TUI_COL_RETRANS] = { "RETRANS", 9, 0, 9, true, 1, 0 },
	[FA_TUI_COL_RTT] = { "RTT", 8, 0, 8, true, 1, 0 },
	[FA_TUI_COL_RX_PKTS] = { "RXPKT/s", 9, 0, 9, true, 1, 0 },
	[FA_TUI_COL_TX_PKTS] = { "TXPKT/s", 9, 0, 9, true, 0, 0 },
	[FA_TUI_COL_CMD] = { "COMMAND", 12, 0, 1024, false, 2, 0 },
};

const double fa_tui_avg_windows[3] = { 2, 10, 40 };

const enum fa_tui_col fa_tui_optional_cols[] = {
	FA_TUI_COL_PID,	     FA_TUI_COL_USER,	  FA_TUI_COL_WORKLOAD, FA_TUI_COL_PROTO,
	FA_TUI_COL_HIST,     FA_TUI_COL_AVG2,	  FA_TUI_COL_AVG10,    FA_TUI_COL_AVG40,
	FA_TUI_COL_RX_TOTAL, FA_TUI_COL_TX_TOTAL, FA_TUI_COL_RETRANS,  FA_TUI_COL_RTT,
	FA_TUI_COL_RX_PKTS,  FA_TUI_COL_TX_PKTS,  FA_TUI_COL_CMD,
};
const size_t fa_tui_noptional_cols = ARRAY_SIZE(fa_tui_optional_cols);

const char *fa_tui_col_name(enum fa_tui_col col)
{
	return col < FA_TUI_COL_MAX ? cols[col].title : "?";
}

/* Spare width goes to the columns whose content is longest, most useful first; the
 * command line, last of all, takes what is left. */
static const enum fa_tui_col grow_order[] = {
	FA_TUI_COL_COMM, FA_TUI_COL_REMOTE,   FA_TUI_COL_LOCAL,
	FA_TUI_COL_USER, FA_TUI_COL_WORKLOAD, FA_TUI_COL_CMD,
};

/* The order `<` and `>` walk, following the columns left to right. */
static const enum fa_sort sort_order[] = {
	FA_SORT_PID,  FA_SORT_COMM,	   FA_SORT_RX,	    FA_SORT_TX,
	FA_SORT_RATE, FA_SORT_TOTAL_BYTES, FA_SORT_RETRANS, FA_SORT_RTT,
};

static bool col_shown(enum fa_tui_col c, const struct fa_tui_table *tab)
{
	bool groups = fa_group_is_cgroups(tab->group);

	switch (c) {
	case FA_TUI_COL_PID:
	case FA_TUI_COL_USER:
	case FA_TUI_COL_COMM:
		return !groups;
	case FA_TUI_COL_PROTO:
	case FA_TUI_COL_LOCAL:
	case FA_TUI_COL_REMOTE:
		return tab->group == FA_GROUP_FLOW;
	case FA_TUI_COL_PROCS:
		return groups;
	case FA_TUI_COL_FLOWS:
		return tab->group != FA_GROUP_FLOW;
	case FA_TUI_COL_RX_PKTS:
	case FA_TUI_COL_TX_PKTS:
		return tab->packets;
	case FA_TUI_COL_RETRANS:
		return tab->health;
	case FA_TUI_COL_RTT:
		return tab->health && tab->group == FA_GROUP_FLOW;
	case FA_TUI_COL_CMD:
		return !groups;
	default:
		return true;
	}
}

static int col_min(enum fa_tui_col c, const struct fa_tui_table *tab)
{
	return tab->exact && cols[c].min_exact ? cols[c].min_exact : cols[c].min;
}

/* Leaves out the columns of one drop rank, while the table is too wide. */
static void drop_rank(int rank, int width, const struct fa_tui_table *tab, int *w, int *need)
{
	for (int c = 0; c<FA_TUI_COL_MAX && * need> width; c++) {
		if (cols[c].drop_rank != rank || !w[c])
			continue;
		/* a group's name is the group view's COMM */
		if (c == FA_TUI_COL_WORKLOAD && fa_group_is_cgroups(tab->group))
			continue;
		*need -= w[c] + 1;
		w[c] = 0;
	}
}

int fa_tui_layout(int width, const struct fa_tui_table *tab, const int *want,
		  struct fa_tui_col_pos *out)
{
	static const enum fa_tui_col squeeze[] = { FA_TUI_COL_LOCAL, FA_TUI_COL_COMM,
						   FA_TUI_COL_REMOTE };
	int w[FA_TUI_COL_MAX] = { 0 };
	int need = -1, slack, x = 0, n = 0;

	for (int c = 0; c < FA_TUI_COL_MAX; c++) {
		if (!col_shown(c, tab) || (tab->hidden & (1u << c)))
			continue;
		w[c] = col_min(c, tab);
		need += w[c] + 1; /* one blank column between neighbours */
	}
	for (int rank = 0; rank < SQUEEZE_RANK && need > width; rank++)
		drop_rank(rank, width, tab, w, &need);
	for (size_t i = 0; i < ARRAY_SIZE(squeeze) && need > width; i++) {
		enum fa_tui_col c = squeeze[i];
		int cut = w[c] - cols[c].tight < need - width ? w[c] - cols[c].tight : need - width;

		if (w[c] && cut > 0) {
			w[c] -= cut;
			need -= cut;
		}
	}
	for (int rank = SQUEEZE_RANK; rank <= MAX_DROP_RANK && need > width; rank++)
		drop_rank(rank, width, tab, w, &need);
	slack = width - need;
	for (size_t i = 0; i < ARRAY_SIZE(grow_order) && slack > 0; i++) {
		enum fa_tui_col c = grow_order[i];
		int target = c == FA_TUI_COL_CMD ? cols[c].max : want ? want[c] : 0;

		if (!w[c])
			continue;
		if (target > cols[c].max)
			target = cols[c].max;
		if (target > w[c]) {
			int add = target - w[c] < slack ? target - w[c] : slack;

			w[c] += add;
			slack -= add;
		}
	}
	for (int c = 0; c < FA_TUI_COL_MAX && x < width; c++) {
		if (!w[c])
			continue;
		out[n].col = c;
		out[n].x = x;
		out[n].width = x + w[c] > width ? width - x : w[c];
		out[n].right = cols[c].right;
		x += w[c] + 1;
		n++;
	}
	return n;
}

bool fa_tui_col_is_sorted(enum fa_tui_col col, const struct fa_view_opts *view)
{
	switch (view->sort) {
	case FA_SORT_RX:
		return col == FA_TUI_COL_RX_RATE;
	case FA_SORT_TX:
		return col == FA_TUI_COL_TX_RATE;
	case FA_SORT_RATE:
		return col == FA_TUI_COL_RX_RATE || col == FA_TUI_COL_TX_RATE;
	case FA_SORT_TOTAL_BYTES:
		return col == FA_TUI_COL_RX_TOTAL || col == FA_TUI_COL_TX_TOTAL;
	case FA_SORT_PID:
		return col == FA_TUI_COL_PID;
	case FA_SORT_COMM:
		return col ==
		       (fa_group_is_cgroups(view->group) ? FA_TUI_COL_WORKLOAD : FA_TUI_COL_COMM);
	case FA_SORT_RETRANS:
		return col == FA_TUI_COL_RETRANS;
	case FA_SORT_RTT:
		return col == FA_TUI_COL_RTT;
	default:
		return false;
	}
}

bool fa_tui_sort_ascending(enum fa_sort sort, bool reverse)
{
	bool asc = sort == FA_SORT_PID || sort == FA_SORT_COMM;

	return asc != reverse;
}

enum fa_sort fa_tui_sort_step(enum fa_sort sort, int dir)
{
	int i = 0;

	while ((size_t)i < ARRAY_SIZE(sort_order) && sort_order[i] != sort)
		i++;
	if ((size_t)i == ARRAY_SIZE(sort_order))
		return FA_SORT_RX;
	i += dir < 0 ? -1 : dir > 0 ? 1 : 0;
	if (i < 0)
		i = 0;
	if ((size_t)i >= ARRAY_SIZE(sort_order))
		i = ARRAY_SIZE(sort_order) - 1;
	return sort_order[i];
}

/* A group view's name column is titled by what it groups: SERVICE, CONTAINER, CGROUP. */
static const char *col_title(enum fa_tui_col col, enum fa_group g, char *buf, size_t len)
{
	size_t i;

	if (col != FA_TUI_COL_WORKLOAD || !fa_group_is_cgroups(g))
		return cols[col].title;
	for (i = 0; i + 1 < len && fa_group_names[g][i]; i++)
		buf[i] = toupper((unsigned char)fa_group_names[g][i]);
	buf[i] = '\0';
	return buf;
}

char *fa_tui_title(char *buf, size_t len, enum fa_tui_col col, const struct fa_view_opts *view)
{
	char name[32];
	const char *title = col_title(col, view->group, name, sizeof(name));

	if (fa_tui_col_is_sorted(col, view))
		snprintf(buf, len, "%s %s", title,
			 fa_tui_sort_ascending(view->sort, view->reverse) ? "^" : "v");
	else
		snprintf(buf, len, "%s", title);
	return buf;
}

char *fa_tui_rate(char *buf, size_t len, double bytes_per_s, const struct fa_tui_table *tab)
{
	if (tab->bits)
		return fa_fmt_bits(buf, len, bytes_per_s);
	if (tab->exact)
		snprintf(buf, len, "%.0f", bytes_per_s);
	else
		fa_fmt_bytes(buf, len, bytes_per_s);
	return buf;
}

static char *fmt_total(char *buf, size_t len, __u64 v, bool exact)
{
	if (exact)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		fa_fmt_bytes(buf, len, v);
	return buf;
}

char *fa_tui_spark(char *dst, size_t len, const double *v, int n, double max, bool utf8)
{
	static const char ascii[] = " .:-=+*#";
	size_t k = 0;

	if (!(max > 0))
		for (int i = 0; i < n; i++)
			if (v[i] > max)
				max = v[i];
	for (int i = 0; i < n && k + 4 <= len; i++) {
		/* 1..8: anything that moved shows, the largest is a full cell */
		int level = v[i] > 0 && max > 0 ? 1 + (int)(v[i] / max * 7.999) : 0;

		if (level > 8)
			level = 8;
		if (!utf8) {
			dst[k++] = ascii[level ? (level * 7 + 7) / 8 : 0];
		} else if (!level) {
			dst[k++] = ' ';
		} else { /* U+2581 + level - 1, in UTF-8 */
			dst[k++] = (char)0xe2;
			dst[k++] = (char)0x96;
			dst[k++] = (char)(0x80 + level);
		}
	}
	if (len)
		dst[k < len ? k : len - 1] = '\0';
	return dst;
}

char *fa_tui_fields(char *dst, size_t len, int width, const char *const *fields, int n)
{
	int used = 0;

	if (!len)
		return dst;
	dst[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = fields[i] ? (int)strlen(fields[i]) : 0;
		int sep = used ? 2 : 0;

		if (!w || used + sep + w > width || (size_t)(used + sep + w) >= len)
			continue;
		snprintf(dst + used, len - used, "%s%s", sep ? "  " : "", fields[i]);
		used += sep + w;
	}
	return dst;
}

char *fa_tui_cell(char *buf, size_t len, enum fa_tui_col col, const struct fa_view_row *row,
		  const struct fa_tui_table *tab, double iv, const struct fa_tui_rowinfo *info)
{
	const struct fa_ident *p = row->proc;
	const struct fa_tuple *t = row->tuple;
	const char *user = info ? info->user : NULL;

	if (!(iv > 0))
		iv = 1;
	switch (col) {
	case FA_TUI_COL_PID:
		if (p)
			snprintf(buf, len, "%u", p->pid);
		else
			snprintf(buf, len, "-");
		break;
	case FA_TUI_COL_USER:
		if (!p)
			snprintf(buf, len, "-");
		else if (user)
			fa_escape(buf, len, user, strlen(user));
		else
			snprintf(buf, len, "%u", p->uid);
		break;
	case FA_TUI_COL_COMM:
		if (p)
			fa_escape(buf, len, p->comm, sizeof(p->comm));
		else
			snprintf(buf, len, "(no process)");
		break;
	case FA_TUI_COL_WORKLOAD: {
		const char *w = row->label && !p && !t ? row->label
				: row->cgroup	       ? fa_cgroup_workload(row->cgroup)
						       : "";

		if (*w)
			fa_escape(buf, len, w, strlen(w));
		else
			snprintf(buf, len, "-");
		break;
	}
	case FA_TUI_COL_PROCS:
		snprintf(buf, len, "%u", row->nprocs);
		break;
	case FA_TUI_COL_PROTO:
		snprintf(buf, len, "%s", t ? fa_proto_name(t->proto) : "*");
		break;
	case FA_TUI_COL_LOCAL:
		if (t)
			fa_fmt_endpoint(buf, len, t->family, t->laddr, t->lport);
		else
			snprintf(buf, len, "%s", row->label ? row->label : "-");
		break;
	case FA_TUI_COL_REMOTE:
		if (t)
			fa_fmt_endpoint(buf, len, t->family, t->raddr, t->rport);
		else
			snprintf(buf, len, "-");
		break;
	case FA_TUI_COL_FLOWS:
		snprintf(buf, len, "%u", row->nflows);
		break;
	case FA_TUI_COL_RX_RATE:
		fa_tui_rate(buf, len, row->delta->rx_bytes / iv, tab);
		break;
	case FA_TUI_COL_TX_RATE:
		fa_tui_rate(buf, len, row->delta->tx_bytes / iv, tab);
		break;
	case FA_TUI_COL_AVG2:
	case FA_TUI_COL_AVG10:
	case FA_TUI_COL_AVG40:
		if (info && info->known)
			fa_tui_rate(buf, len, info->avg[col - FA_TUI_COL_AVG2], tab);
		else
			snprintf(buf, len, "-");
		break;
	case FA_TUI_COL_HIST: /* drawn by the view, which has the samples */
		snprintf(buf, len, "%s", "");
		break;
	case FA_TUI_COL_CMD:
		if (p && info && info->cmdline)
			fa_escape(buf, len, info->cmdline, strlen(info->cmdline));
		else
			snprintf(buf, len, "-");
		break;
	case FA_TUI_COL_RX_TOTAL:
		fmt_total(buf, len, row->total->rx_bytes, tab->exact);
		break;
	case FA_TUI_COL_TX_TOTAL:
		fmt_total(buf, len, row->total->tx_bytes, tab->exact);
		break;
	case FA_TUI_COL_RETRANS:
		if (t && t->proto != FA_PROTO_TCP)
			snprintf(buf, len, "-"); /* UDP has none to count */
		else
			snprintf(buf, len, "%llu", (unsigned long long)row->total->retrans_segs);
		break;
	case FA_TUI_COL_RTT:
		fa_fmt_usecs(buf, len, row->tcp ? row->tcp->srtt_us : 0);
		break;
	case FA_TUI_COL_RX_PKTS:
		fa_fmt_count_rate(buf, len, row->delta->rx_packets / iv);
		break;
	case FA_TUI_COL_TX_PKTS:
		fa_fmt_count_rate(buf, len, row->delta->tx_packets / iv);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
	return buf;
}

char *fa_tui_detail(char *buf, size_t len, const struct fa_view_row *row,
		    const struct fa_tui_table *tab)
{
	char who[FA_TUI_CELL_LEN] = "", what[FA_TUI_CELL_LEN], l[FA_FMT_ENDPOINT_LEN],
	     rem[FA_FMT_ENDPOINT_LEN], srtt[16], minrtt[16], rb[FA_FMT_BYTES_LEN];
	const struct fa_counts *c = row->total;
	const struct fa_tuple *t = row->tuple;
	size_t n;

	fa_tui_cell(what, sizeof(what), FA_TUI_COL_WORKLOAD, row, tab, 1, NULL);
	if (row->proc)
		snprintf(who, sizeof(who), "pid %u ", row->proc->pid);
	n = strlen(who);
	fa_tui_cell(who + n, sizeof(who) - n, FA_TUI_COL_COMM, row, tab, 1, NULL);
	if (t) {
		fa_fmt_endpoint(l, sizeof(l), t->family, t->laddr, t->lport);
		fa_fmt_endpoint(rem, sizeof(rem), t->family, t->raddr, t->rport);
		snprintf(buf, len, "%s %s > %s  %s  %s", fa_proto_name(t->proto), l, rem, who,
			 what);
	} else {
		snprintf(buf, len, "%s  %s", row->proc ? who : "", what);
	}
	if (!tab->health || (t && t->proto != FA_PROTO_TCP))
		return buf;
	n = strlen(buf);
	if (row->tcp)
		snprintf(buf + n, len - n, "  state %s  rtt %s (min %s)",
			 row->tcp->state ? fa_tcp_state_name(row->tcp->state) : "-",
			 fa_fmt_usecs(srtt, sizeof(srtt), row->tcp->srtt_us),
			 fa_fmt_usecs(minrtt, sizeof(minrtt), row->tcp->min_rtt_us));
	n = strlen(buf);
	snprintf(buf + n, len - n,
		 "  retrans %llu (%s)  opens %llu active %llu passive  closes %llu  resets %llu "
		 "sent %llu received",
		 (unsigned long long)c->retrans_segs,
		 fa_fmt_bytes(rb, sizeof(rb), c->retrans_bytes),
		 (unsigned long long)c->active_opens, (unsigned long long)c->passive_opens,
		 (unsigned long long)c->closes, (unsigned long long)c->resets_sent,
		 (unsigned long long)c->resets_received);
	return buf;
}

char *fa_tui_fit(char *dst, size_t len, const char *text, int width, bool right, bool keep_tail)
{
	int n = strlen(text);

	if (!len)
		return dst;
	if (width < 0)
		width = 0;
	if ((size_t)width >= len)
		width = len - 1;
	if (n <= width) {
		int pad = width - n;

		if (right) {
			memset(dst, ' ', pad);
			memcpy(dst + pad, text, n);
		} else {
			memcpy(dst, text, n);
			memset(dst + n, ' ', pad);
		}
	} else if (width > 0 && keep_tail) {
		dst[0] = '~';
		memcpy(dst + 1, text + n - (width - 1), width - 1);
	} else if (width > 0) {
		memcpy(dst, text, width - 1);
		dst[width - 1] = '~';
	}
	dst[width] = '\0';
	return dst;
}
