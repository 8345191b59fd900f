// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -b/--batch, or stdout is not a terminal: a plain table per interval, active rows only. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "output.h"

struct text_output {
	struct fa_output base;
	FILE *f;
	struct fa_view_opts view;
	int rows;
};

static void print_header(FILE *f, const struct fa_snapshot *snap)
{
	char t[16], rxr[FA_FMT_BYTES_LEN], txr[FA_FMT_BYTES_LEN];
	char rxt[FA_FMT_BYTES_LEN], txt[FA_FMT_BYTES_LEN];
	double iv = snap->interval_s > 0 ? snap->interval_s : 1;
	struct tm tm;
	bool lossy = false;

	localtime_r(&snap->ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	fprintf(f,
		"%s  interval %.2fs  backend %s  flows %zu  processes %zu  RX %s/s  TX %s/s  "
		"RX total %s  TX total %s\n",
		t, snap->interval_s, snap->backend, snap->nflows, snap->nprocs,
		fa_fmt_bytes(rxr, sizeof(rxr), snap->delta.rx_bytes / iv),
		fa_fmt_bytes(txr, sizeof(txr), snap->delta.tx_bytes / iv),
		fa_fmt_bytes(rxt, sizeof(rxt), snap->total.rx_bytes),
		fa_fmt_bytes(txt, sizeof(txt), snap->total.tx_bytes));
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

/* A row's CONTAINER/UNIT: the container, else the systemd unit, escaped; "-" if neither. */
static const char *workload(char *buf, size_t len, const struct fa_view_row *r)
{
	const char *w = r->cgroup ? fa_cgroup_workload(r->cgroup) : "";

	if (!*w)
		return "-";
	return fa_escape(buf, len, w, strlen(w));
}

static void print_packets(FILE *f, const struct fa_view_row *r, bool packets)
{
	if (packets)
		fprintf(f, " %9llu %9llu", (unsigned long long)r->delta->rx_packets,
			(unsigned long long)r->delta->tx_packets);
}

/* --by service, container or cgroup: the numbers first, the (long) name last */
static void print_group(FILE *f, const struct fa_view_row *r, double iv, bool packets)
{
	char b[4][FA_FMT_BYTES_LEN], name[FA_CGROUP_PATH_LEN * 4];

	fprintf(f, "%6u %6u %9s %9s %9s %9s", r->nprocs, r->nflows,
		fa_fmt_bytes(b[0], sizeof(b[0]), r->delta->rx_bytes / iv),
		fa_fmt_bytes(b[1], sizeof(b[1]), r->delta->tx_bytes / iv),
		fa_fmt_bytes(b[2], sizeof(b[2]), r->total->rx_bytes),
		fa_fmt_bytes(b[3], sizeof(b[3]), r->total->tx_bytes));
	print_packets(f, r, packets);
	fprintf(f, "  %s\n", fa_escape(name, sizeof(name), r->label, strlen(r->label)));
}

static void print_row(FILE *f, const struct fa_view_row *r, double iv, bool packets)
{
	char wl[FA_RT_NAME_LEN * 4];
	char comm[FA_ESCAPED_COMM_LEN] = "(no process)", l[FA_FMT_ENDPOINT_LEN] = "-";
	char rem[FA_FMT_ENDPOINT_LEN] = "-", b[4][FA_FMT_BYTES_LEN], pid[16] = "-";
	const struct fa_tuple *t = r->tuple;

	if (r->proc) {
		snprintf(pid, sizeof(pid), "%u", r->proc->pid);
		fa_escape(comm, sizeof(comm), r->proc->comm, sizeof(r->proc->comm));
	}
	if (t) {
		fa_fmt_endpoint(l, sizeof(l), t->family, t->laddr, t->lport);
		fa_fmt_endpoint(rem, sizeof(rem), t->family, t->raddr, t->rport);
	} else if (r->label) {
		snprintf(l, sizeof(l), "%s", r->label);
	} else {
		snprintf(l, sizeof(l), "(%u flows)", r->nflows);
	}
	fprintf(f, "%-7s %-15s %-5s  %-21s %-21s %9s %9s %9s %9s", pid, comm,
		t ? fa_proto_name(t->proto) : "*", l, rem,
		fa_fmt_bytes(b[0], sizeof(b[0]), r->delta->rx_bytes / iv),
		fa_fmt_bytes(b[1], sizeof(b[1]), r->delta->tx_bytes / iv),
		fa_fmt_bytes(b[2], sizeof(b[2]), r->total->rx_bytes),
		fa_fmt_bytes(b[3], sizeof(b[3]), r->total->tx_bytes));
	print_packets(f, r, packets);
	fprintf(f, "  %s\n", workload(wl, sizeof(wl), r));
}

static void print_titles(FILE *f, enum fa_group g, bool packets)
{
	const char *pkts = packets ? "  RX_PKTS   TX_PKTS" : "";
	char name[16];
	size_t i;

	if (!fa_group_is_cgroups(g)) {
		fprintf(f, "%-7s %-15s %-5s  %-21s %-21s %9s %9s %9s %9s%s  %s\n", "PID", "COMM",
			"PROTO", "LOCAL", "REMOTE", "RX/s", "TX/s", "RX_TOTAL", "TX_TOTAL", pkts,
			"CONTAINER/UNIT");
		return;
	}
	for (i = 0; i < sizeof(name) - 1 && fa_group_names[g][i]; i++)
		name[i] = toupper((unsigned char)fa_group_names[g][i]);
	name[i] = '\0';
	fprintf(f, "%6s %6s %9s %9s %9s %9s%s  %s\n", "PROCS", "FLOWS", "RX/s", "TX/s", "RX_TOTAL",
		"TX_TOTAL", pkts, name);
}

static int text_emit(struct fa_output *out, const struct fa_snapshot *snap)
{
	struct text_output *t = (struct text_output *)out;
	double iv = snap->interval_s > 0 ? snap->interval_s : 1;
	struct fa_view_row *rows;
	size_t n;
	int err;

	err = fa_view_build(snap, &t->view, &rows, &n);
	if (err)
		return err;
	print_header(t->f, snap);
	print_titles(t->f, t->view.group, snap->packets);
	for (size_t i = 0; i < n && (t->rows <= 0 || i < (size_t)t->rows); i++)
		(fa_group_is_cgroups(t->view.group) ? print_group : print_row)(t->f, &rows[i], iv,
									       snap->packets);
	fputc('\n', t->f);
	free(rows);
	return fflush(t->f) ? -errno : 0;
}

struct fa_output *fa_text_open(FILE *f, const struct fa_view_opts *view, int rows)
{
	struct text_output *t = fa_output_new(sizeof(*t), "text", text_emit);

	if (!t)
		return NULL;
	t->f = f;
	t->view = *view;
	t->view.active_only = true;
	t->rows = rows;
	t->view.top = rows > 0 ? (size_t)rows : 0;
	return &t->base;
}
