// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The interactive view's pure parts: which columns fit, cell text, units, escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "history.h"
#include "tui_layout.h"
#include "util.h"

/* the columns as they were before the history graph: the layouts below name them all */
#define HIDDEN (FA_TUI_HIDDEN_DEFAULT | (1u << FA_TUI_COL_HIST))
static const struct fa_tui_table flow_tab = { .group = FA_GROUP_FLOW, .hidden = HIDDEN };

/* A flow and the table row that shows it. */
struct trow {
	struct fa_flow f;
	struct fa_view_row v;
};

static void make_row(struct trow *r)
{
	memset(r, 0, sizeof(*r));
	r->f.proc.uid = 1000;
	r->f.proc.pid = 4242;
	r->f.tuple.family = FA_FAMILY_IPV4;
	r->f.tuple.proto = FA_PROTO_TCP;
	r->f.tuple.laddr[0] = 127;
	r->f.tuple.laddr[3] = 1;
	r->f.tuple.raddr[0] = 10;
	r->f.tuple.raddr[3] = 5;
	r->f.tuple.lport = 40000;
	r->f.tuple.rport = 443;
	strcpy(r->f.proc.comm, "curl");
	r->v = (struct fa_view_row){
		.proc = &r->f.proc, .tuple = &r->f.tuple, .delta = &r->f.delta, .total = &r->f.total
	};
}

/* One cell's text; the buffer is reused by the next call. */
static const char *cell(enum fa_tui_col col, const struct fa_view_row *r,
			const struct fa_tui_table *tab, double iv, const char *user)
{
	static char buf[FA_TUI_CELL_LEN];
	const struct fa_tui_rowinfo info = { .user = user };

	return fa_tui_cell(buf, sizeof(buf), col, r, tab, iv, &info);
}

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Columns shown at a width, as a string like "PID COMM RX/s", for readable failures. */
static void layout_names(int width, const struct fa_tui_table *tab, const int *want, char *out,
			 size_t len)
{
	const struct fa_view_opts unsorted = { .group = tab->group, .sort = FA_SORT_MAX };
	struct fa_tui_col_pos cols[FA_TUI_COL_MAX];
	int n = fa_tui_layout(width, tab, want, cols);
	char title[32];

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		fa_tui_title(title, sizeof(title), cols[i].col, &unsorted);
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", title);
	}
}

static void layout_wide_terminal_shows_every_flow_column(void **state)
{
	char names[256];

	(void)state;
	layout_names(160, &flow_tab, NULL, names, sizeof(names));
	assert_string_equal(names, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_"
				   "TOTAL,TX_TOTAL");
}

static void layout_narrow_terminal_drops_least_important_first(void **state)
{
	static const struct {
		int width;
		const char *names;
	} cases[] = {
		{ 139, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_TOTAL,TX_"
		       "TOTAL" },
		{ 138, "PID,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_TOTAL,TX_TOTAL" },
		{ 130, "PID,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_TOTAL,TX_TOTAL" },
		{ 129, "PID,COMM,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_TOTAL,TX_TOTAL" },
		/* the totals go before the endpoints, which are what a flow row is */
		{ 114, "PID,COMM,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_TOTAL" },
		{ 104, "PID,COMM,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_TOTAL" },
		{ 103, "PID,COMM,PROTO,LOCAL,REMOTE,RX/s,TX/s" },
		/* then they and COMM are cut to what still tells rows apart */
		{ 80, "PID,COMM,PROTO,LOCAL,REMOTE,RX/s,TX/s" },
		{ 70, "PID,COMM,PROTO,LOCAL,REMOTE,RX/s,TX/s" },
		{ 69, "PID,COMM,LOCAL,REMOTE,RX/s,TX/s" },
		{ 64, "PID,COMM,LOCAL,REMOTE,RX/s,TX/s" },
		{ 60, "COMM,LOCAL,REMOTE,RX/s,TX/s" },
		{ 56, "COMM,LOCAL,REMOTE,RX/s,TX/s" },
		{ 55, "COMM,REMOTE,RX/s,TX/s" },
		{ 43, "COMM,REMOTE,RX/s,TX/s" },
		{ 42, "COMM,RX/s,TX/s" },
		{ 20, "COMM,RX/s,TX/s" }, /* nothing left to drop: clipped at the edge */
	};
	char names[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		layout_names(cases[i].width, &flow_tab, NULL, names, sizeof(names));
		assert_string_equal(names, cases[i].names);
	}
}

static void layout_never_extends_past_the_width(void **state)
{
	static const int want[FA_TUI_COL_MAX] = {
		[FA_TUI_COL_COMM] = 64,
		[FA_TUI_COL_LOCAL] = 47,
		[FA_TUI_COL_REMOTE] = 47,
		[FA_TUI_COL_USER] = 32,
	};
	struct fa_tui_col_pos cols[FA_TUI_COL_MAX];

	(void)state;
	for (int g = 0; g < FA_GROUP_MAX; g++) {
		for (int flags = 0; flags < 4; flags++) {
			struct fa_tui_table tab = { .group = g,
						    .packets = flags & 1,
						    .exact = flags & 2 };

			for (int w = 0; w <= 300; w++) {
				int n = fa_tui_layout(w, &tab, want, cols);
				int prev_end = -1;

				for (int i = 0; i < n; i++) {
					assert_true(cols[i].width > 0);
					assert_true(cols[i].x > prev_end);
					assert_true(cols[i].x + cols[i].width <= w);
					prev_end = cols[i].x + cols[i].width - 1;
				}
			}
		}
	}
}

static void layout_packet_columns_go_first(void **state)
{
	struct fa_tui_table tab = { .group = FA_GROUP_FLOW, .packets = true, .hidden = HIDDEN };
	char names[256];

	(void)state;
	layout_names(200, &tab, NULL, names, sizeof(names));
	assert_string_equal(names, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_"
				   "TOTAL,TX_TOTAL,RXPKT/s,TXPKT/s");
	layout_names(145, &tab, NULL, names, sizeof(names));
	assert_string_equal(names, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX_"
				   "TOTAL,TX_TOTAL");
}

static void layout_process_view_shows_flows_not_addresses(void **state)
{
	struct fa_tui_table tab = { .group = FA_GROUP_PROCESS, .hidden = HIDDEN };
	char names[256];

	(void)state;
	layout_names(160, &tab, NULL, names, sizeof(names));
	assert_string_equal(names,
			    "PID,USER,COMM,CONTAINER/UNIT,FLOWS,RX/s,TX/s,RX_TOTAL,TX_TOTAL");
}

/* By service, container or cgroup: the group's name, titled by the grouping, stays when
 * everything else but the rates has gone. */
static void layout_group_views_show_the_name_and_counts(void **state)
{
	static const struct {
		enum fa_group g;
		int width;
		const char *names;
	} cases[] = {
		{ FA_GROUP_SERVICE, 100, "SERVICE,PROCS,FLOWS,RX/s,TX/s,RX_TOTAL,TX_TOTAL" },
		{ FA_GROUP_CONTAINER, 100, "CONTAINER,PROCS,FLOWS,RX/s,TX/s,RX_TOTAL,TX_TOTAL" },
		{ FA_GROUP_CGROUP, 100, "CGROUP,PROCS,FLOWS,RX/s,TX/s,RX_TOTAL,TX_TOTAL" },
		{ FA_GROUP_CGROUP, 60, "CGROUP,RX/s,TX/s,RX_TOTAL,TX_TOTAL" },
		{ FA_GROUP_CGROUP, 20, "CGROUP,RX/s" },
	};
	char names[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fa_tui_table tab = { .group = cases[i].g, .hidden = HIDDEN };

		layout_names(cases[i].width, &tab, NULL, names, sizeof(names));
		assert_string_equal(names, cases[i].names);
	}
}

/* The CONTAINER/UNIT cell: the container, else the unit, escaped; a group's own name. */
static void cell_workload_is_escaped(void **state)
{
	struct fa_cgroup_info cg = { .known = true };
	struct trow r;
	struct fa_counts c = {};
	struct fa_view_row group = { .label = "web\x1b[2J", .nprocs = 3, .delta = &c, .total = &c };

	(void)state;
	make_row(&r);
	assert_string_equal(cell(FA_TUI_COL_WORKLOAD, &r.v, &flow_tab, 1, NULL), "-");
	r.v.cgroup = &cg;
	cg.name.kind = FA_CG_SERVICE;
	strcpy(cg.name.unit, "sshd.service");
	assert_string_equal(cell(FA_TUI_COL_WORKLOAD, &r.v, &flow_tab, 1, NULL), "sshd.service");
	cg.name.kind = FA_CG_DOCKER;
	strcpy(cg.container, "evil\n\x7fname");
	assert_true(printable_ascii(cell(FA_TUI_COL_WORKLOAD, &r.v, &flow_tab, 1, NULL)));
	assert_non_null(strstr(cell(FA_TUI_COL_WORKLOAD, &r.v, &flow_tab, 1, NULL), "evil"));
	assert_true(printable_ascii(cell(FA_TUI_COL_WORKLOAD, &group, &flow_tab, 1, NULL)));
	assert_string_equal(cell(FA_TUI_COL_PROCS, &group, &flow_tab, 1, NULL), "3");
}

static void layout_spare_width_fits_long_names_and_addresses(void **state)
{
	static const int want[FA_TUI_COL_MAX] = {
		[FA_TUI_COL_COMM] = 30,
		[FA_TUI_COL_REMOTE] = 40,
	};
	struct fa_tui_col_pos cols[FA_TUI_COL_MAX];
	int n;

	(void)state;
	n = fa_tui_layout(200, &flow_tab, want, cols);
	for (int i = 0; i < n; i++) {
		if (cols[i].col == FA_TUI_COL_COMM)
			assert_int_equal(cols[i].width, 30);
		if (cols[i].col == FA_TUI_COL_REMOTE)
			assert_int_equal(cols[i].width, 40);
		if (cols[i].col == FA_TUI_COL_LOCAL)
			assert_int_equal(cols[i].width, 21);
	}
	/* only 5 columns to spare at 144: COMM gets them, REMOTE keeps its minimum */
	n = fa_tui_layout(144, &flow_tab, want, cols);
	for (int i = 0; i < n; i++) {
		if (cols[i].col == FA_TUI_COL_COMM)
			assert_int_equal(cols[i].width, 20);
		if (cols[i].col == FA_TUI_COL_REMOTE)
			assert_int_equal(cols[i].width, 21);
	}
}

static void cell_rates_and_totals_use_binary_units(void **state)
{
	struct trow r;
	struct fa_tui_table exact = { .group = FA_GROUP_FLOW, .exact = true };

	(void)state;
	make_row(&r);
	r.f.delta.rx_bytes = 1536;
	r.f.delta.tx_bytes = 1000;
	r.f.total.rx_bytes = 123456;
	r.f.total.tx_bytes = 3ULL << 30;
	assert_string_equal(cell(FA_TUI_COL_RX_RATE, &r.v, &flow_tab, 1, NULL), "1.5 KiB");
	assert_string_equal(cell(FA_TUI_COL_RX_RATE, &r.v, &flow_tab, 2, NULL), "768 B");
	assert_string_equal(cell(FA_TUI_COL_TX_RATE, &r.v, &flow_tab, 0.5, NULL), "2.0 KiB");
	assert_string_equal(cell(FA_TUI_COL_RX_TOTAL, &r.v, &flow_tab, 1, NULL), "121 KiB");
	assert_string_equal(cell(FA_TUI_COL_TX_TOTAL, &r.v, &flow_tab, 1, NULL), "3.0 GiB");
	/* `b`: exact counts, for accounting and for tests */
	assert_string_equal(cell(FA_TUI_COL_RX_TOTAL, &r.v, &exact, 1, NULL), "123456");
	assert_string_equal(cell(FA_TUI_COL_TX_TOTAL, &r.v, &exact, 1, NULL), "3221225472");
	assert_string_equal(cell(FA_TUI_COL_TX_RATE, &r.v, &exact, 0.5, NULL), "2000");
	/* an interval of 0 (first sample) must not divide by zero */
	assert_string_equal(cell(FA_TUI_COL_RX_RATE, &r.v, &exact, 0, NULL), "1536");
}

static void cell_identity_columns(void **state)
{
	struct trow r;

	(void)state;
	make_row(&r);
	assert_string_equal(cell(FA_TUI_COL_PID, &r.v, &flow_tab, 1, NULL), "4242");
	assert_string_equal(cell(FA_TUI_COL_USER, &r.v, &flow_tab, 1, NULL), "1000");
	assert_string_equal(cell(FA_TUI_COL_USER, &r.v, &flow_tab, 1, "alice"), "alice");
	assert_string_equal(cell(FA_TUI_COL_PROTO, &r.v, &flow_tab, 1, NULL), "tcp");
	assert_string_equal(cell(FA_TUI_COL_LOCAL, &r.v, &flow_tab, 1, NULL), "127.0.0.1:40000");
	assert_string_equal(cell(FA_TUI_COL_REMOTE, &r.v, &flow_tab, 1, NULL), "10.0.0.5:443");

	r.v.tuple = NULL; /* an overflow row */
	r.v.label = "(overflow)";
	assert_string_equal(cell(FA_TUI_COL_LOCAL, &r.v, &flow_tab, 1, NULL), "(overflow)");
	assert_string_equal(cell(FA_TUI_COL_PROTO, &r.v, &flow_tab, 1, NULL), "*");

	r.v.proc = NULL; /* unmatched packets */
	r.v.tuple = &r.f.tuple;
	r.v.label = NULL;
	assert_string_equal(cell(FA_TUI_COL_PID, &r.v, &flow_tab, 1, NULL), "-");
	assert_string_equal(cell(FA_TUI_COL_USER, &r.v, &flow_tab, 1, NULL), "-");
	assert_string_equal(cell(FA_TUI_COL_COMM, &r.v, &flow_tab, 1, NULL), "(no process)");
	assert_string_equal(cell(FA_TUI_COL_LOCAL, &r.v, &flow_tab, 1, NULL), "127.0.0.1:40000");

	r.v.proc = &r.f.proc; /* a process */
	r.v.tuple = NULL;
	r.v.nflows = 3;
	assert_string_equal(cell(FA_TUI_COL_LOCAL, &r.v, &flow_tab, 1, NULL), "-");
	assert_string_equal(cell(FA_TUI_COL_PID, &r.v, &flow_tab, 1, NULL), "4242");
	assert_string_equal(cell(FA_TUI_COL_FLOWS, &r.v, &flow_tab, 1, NULL), "3");
}

static void cell_hostile_names_are_escaped(void **state)
{
	struct trow r;
	char buf[FA_TUI_CELL_LEN];

	(void)state;
	make_row(&r);
	/* a name that would turn the terminal red and ring its bell */
	memcpy(r.f.proc.comm, "\x1b[31mevil\x07", sizeof("\x1b[31mevil\x07"));
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_COMM, &r.v, &flow_tab, 1, NULL);
	assert_string_equal(buf, "\\x1b[31mevil\\x07");

	/* 16 bytes, none of them printable and no terminating NUL inside comm */
	memset(r.f.proc.comm, 0x9b, FA_COMM_LEN); /* 0x9b: the 8-bit CSI */
	r.f.proc.comm[FA_COMM_LEN] = '\0';
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_COMM, &r.v, &flow_tab, 1, NULL);
	assert_int_equal(strlen(buf), 4 * FA_COMM_LEN);
	assert_true(printable_ascii(buf));
	assert_memory_equal(buf, "\\x9b\\x9b", 8);

	/* a backslash is doubled, so "\x1b" typed as a name cannot pass for an escape */
	strcpy(r.f.proc.comm, "a\\x1b");
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_COMM, &r.v, &flow_tab, 1, NULL);
	assert_string_equal(buf, "a\\\\x1b");

	/* user names come from NSS: escaped as well */
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_USER, &r.v, &flow_tab, 1,
		    &(struct fa_tui_rowinfo){ .user = "ev\x1b]0;pwn\x07" });
	assert_string_equal(buf, "ev\\x1b]0;pwn\\x07");
	assert_true(printable_ascii(buf));
}

static void fit_pads_cuts_and_keeps_ports(void **state)
{
	char buf[FA_TUI_CELL_LEN];

	(void)state;
	assert_string_equal(fa_tui_fit(buf, sizeof(buf), "12", 5, true, false), "   12");
	assert_string_equal(fa_tui_fit(buf, sizeof(buf), "ab", 5, false, false), "ab   ");
	assert_string_equal(fa_tui_fit(buf, sizeof(buf), "firefox-bin", 6, false, false), "firef~");
	/* an address keeps its port, the part that tells flows apart */
	assert_string_equal(fa_tui_fit(buf, sizeof(buf), "[2001:db8::1234]:443", 10, false, true),
			    "~1234]:443");
	assert_string_equal(fa_tui_fit(buf, sizeof(buf), "abc", 0, false, false), "");
	/* never past the buffer, whatever the width asked */
	assert_string_equal(fa_tui_fit(buf, 4, "abcdef", 10, false, false), "ab~");
}

static void titles_mark_the_sort_column_and_direction(void **state)
{
	struct fa_view_opts v = { .sort = FA_SORT_RX };
	char buf[32];

	(void)state;
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RX_RATE, &v), "RX/s v");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_TX_RATE, &v), "TX/s");
	v.reverse = true;
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RX_RATE, &v), "RX/s ^");
	v = (struct fa_view_opts){ .sort = FA_SORT_PID };
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_PID, &v), "PID ^");
	v.sort = FA_SORT_COMM;
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_COMM, &v), "COMM ^");
	v.sort = FA_SORT_RATE;
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RX_RATE, &v), "RX/s v");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_TX_RATE, &v), "TX/s v");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RX_TOTAL, &v), "RX_TOTAL");
	v.sort = FA_SORT_TOTAL_BYTES; /* bytes since start: the totals are marked */
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RX_TOTAL, &v), "RX_TOTAL v");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_TX_TOTAL, &v), "TX_TOTAL v");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RX_RATE, &v), "RX/s");
}

static void sort_step_walks_columns_left_to_right(void **state)
{
	(void)state;
	assert_int_equal(fa_tui_sort_step(FA_SORT_PID, -1), FA_SORT_PID);
	assert_int_equal(fa_tui_sort_step(FA_SORT_PID, 1), FA_SORT_COMM);
	assert_int_equal(fa_tui_sort_step(FA_SORT_COMM, 1), FA_SORT_RX);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RX, 1), FA_SORT_TX);
	assert_int_equal(fa_tui_sort_step(FA_SORT_TX, 1), FA_SORT_RATE);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RATE, 1), FA_SORT_TOTAL_BYTES);
	assert_int_equal(fa_tui_sort_step(FA_SORT_TOTAL_BYTES, 1), FA_SORT_RETRANS);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RETRANS, 1), FA_SORT_RTT);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RTT, 1), FA_SORT_RTT);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RATE, -1), FA_SORT_TX);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RX, -1), FA_SORT_COMM);
}

/* TCP health: RTT and RETRANS cells, their columns where the snapshot has health, and the
 * detail line, escaped. */
static void cell_and_detail_show_tcp_health(void **state)
{
	struct fa_tui_table tab = { .group = FA_GROUP_FLOW, .health = true, .hidden = HIDDEN };
	struct fa_tcp_now tcp = { .srtt_us = 87, .min_rtt_us = 50, .state = 1 };
	struct trow r;
	char buf[1024], names[256];

	(void)state;
	make_row(&r);
	r.v.tcp = &tcp;
	strcpy(r.f.proc.comm, "evil\x1b[2J");
	r.f.total.retrans_segs = 12;
	r.f.total.retrans_bytes = 1536;
	r.f.total.active_opens = 1;
	r.f.total.resets_received = 1;
	assert_string_equal(cell(FA_TUI_COL_RTT, &r.v, &tab, 1, NULL), "87us");
	tcp.srtt_us = 1250;
	assert_string_equal(cell(FA_TUI_COL_RTT, &r.v, &tab, 1, NULL), "1.25ms");
	tcp.srtt_us = 310000;
	assert_string_equal(cell(FA_TUI_COL_RTT, &r.v, &tab, 1, NULL), "310ms");
	tcp.srtt_us = 87;
	assert_string_equal(cell(FA_TUI_COL_RETRANS, &r.v, &tab, 1, NULL), "12");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RETRANS,
					 &(struct fa_view_opts){ .sort = FA_SORT_RETRANS }),
			    "RETRANS v");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RTT,
					 &(struct fa_view_opts){ .sort = FA_SORT_RTT }),
			    "RTT v");
	fa_tui_detail(buf, sizeof(buf), &r.v, &tab);
	assert_true(printable_ascii(buf));
	assert_non_null(strstr(buf, "tcp 127.0.0.1:40000 > 10.0.0.5:443  pid 4242 evil\\x1b[2J"));
	assert_non_null(strstr(buf,
			       "state ESTAB  rtt 87us (min 50us)  retrans 12 (1.5 KiB)  "
			       "opens 1 active 0 passive  closes 0  resets 0 sent 1 received"));
	r.v.tcp = NULL;
	assert_string_equal(cell(FA_TUI_COL_RTT, &r.v, &tab, 1, NULL), "-");
	r.f.tuple.proto = FA_PROTO_UDP;
	assert_string_equal(cell(FA_TUI_COL_RETRANS, &r.v, &tab, 1, NULL), "-");
	fa_tui_detail(buf, sizeof(buf), &r.v, &tab);
	assert_null(strstr(buf, "retrans")); /* UDP has none */
	layout_names(200, &tab, NULL, names, sizeof(names));
	assert_string_equal(names, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RTT,RETRANS,"
				   "RX/s,TX/s,RX_TOTAL,TX_TOTAL");
	tab.group = FA_GROUP_PROCESS;
	layout_names(200, &tab, NULL, names, sizeof(names));
	assert_string_equal(
		names, "PID,USER,COMM,CONTAINER/UNIT,FLOWS,RETRANS,RX/s,TX/s,RX_TOTAL,TX_TOTAL");
}

/* The endpoints are what a flow row is: at 80 and 60 columns they stay, cut from the left
 * (the port kept), and no column passes the edge. */
static void layout_keeps_endpoints_at_80_and_60_columns(void **state)
{
	static const int want[FA_TUI_COL_MAX] = {
		[FA_TUI_COL_COMM] = 15, [FA_TUI_COL_LOCAL] = 21,    [FA_TUI_COL_REMOTE] = 21,
		[FA_TUI_COL_USER] = 8,	[FA_TUI_COL_WORKLOAD] = 14,
	};
	const struct fa_tui_table tab = { .group = FA_GROUP_FLOW, .hidden = FA_TUI_HIDDEN_DEFAULT };
	struct fa_tui_col_pos cols[FA_TUI_COL_MAX];
	char buf[64];

	(void)state;
	for (int w = 56; w <= 100; w++) {
		int n = fa_tui_layout(w, &tab, want, cols), seen = 0;

		for (int i = 0; i < n; i++) {
			if (cols[i].col == FA_TUI_COL_LOCAL || cols[i].col == FA_TUI_COL_REMOTE) {
				assert_true(cols[i].width >= 12);
				seen++;
			}
			assert_true(cols[i].x + cols[i].width <= w);
		}
		assert_int_equal(seen, 2);
	}
	/* an endpoint too long for its cell keeps its port */
	fa_tui_fit(buf, sizeof(buf), "[fd00:1234::5678:9abc]:51002", 12, false, true);
	assert_string_equal(buf, "~9abc]:51002");
}

/* The chooser's columns: hidden ones leave, the others keep their order. */
static void layout_hidden_columns_leave(void **state)
{
	struct fa_tui_table tab = { .group = FA_GROUP_FLOW,
				    .hidden = (1u << FA_TUI_COL_USER) | (1u << FA_TUI_COL_PROTO) };
	char names[256];

	(void)state;
	layout_names(300, &tab, NULL, names, sizeof(names));
	assert_string_equal(names, "PID,COMM,CONTAINER/UNIT,LOCAL,REMOTE,RX/s,TX/s,HISTORY,AVG2s,"
				   "AVG10s,AVG40s,RX_TOTAL,TX_TOTAL,COMMAND");
	tab.hidden = FA_TUI_HIDDEN_DEFAULT;
	layout_names(300, &tab, NULL, names, sizeof(names));
	assert_string_equal(names, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,"
				   "HISTORY,RX_TOTAL,TX_TOTAL");
}

/* Averages and the command line come from what the view looked up; unknown is "-". */
static void cell_averages_bits_and_command_line(void **state)
{
	struct fa_tui_table tab = { .group = FA_GROUP_FLOW };
	struct fa_tui_rowinfo info = { .cmdline = "sh -c \x1b[2Jx",
				       .avg = { 1536, 125000, 0 },
				       .known = true };
	char buf[FA_TUI_CELL_LEN];
	struct trow r;

	(void)state;
	make_row(&r);
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_AVG2, &r.v, &tab, 1, &info);
	assert_string_equal(buf, "1.5 KiB");
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_CMD, &r.v, &tab, 1, &info);
	assert_string_equal(buf, "sh -c \\x1b[2Jx");
	assert_true(printable_ascii(buf));
	tab.bits = true; /* SI, as link speeds: 125000 B/s is 1 Mb/s */
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_AVG10, &r.v, &tab, 1, &info);
	assert_string_equal(buf, "1.0 Mb");
	r.f.delta.rx_bytes = 100;
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_RX_RATE, &r.v, &tab, 1, &info);
	assert_string_equal(buf, "800 b");
	r.f.delta.rx_bytes = 1250000000;
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_RX_RATE, &r.v, &tab, 1, &info);
	assert_string_equal(buf, "10 Gb");
	info.known = false;
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_AVG2, &r.v, &tab, 1, &info);
	assert_string_equal(buf, "-");
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_CMD, &r.v, &tab, 1, NULL);
	assert_string_equal(buf, "-");
}

/* Header fields: whole or not at all, in their order, two blanks apart. */
static void fields_are_dropped_whole(void **state)
{
	const char *f[] = { "flowacct 12:00:00", "interval 1s", "backend tracepoint", "flows 187",
			    "processes 12" };
	char buf[256];

	(void)state;
	fa_tui_fields(buf, sizeof(buf), 200, f, 5);
	assert_string_equal(buf, "flowacct 12:00:00  interval 1s  backend tracepoint  flows 187  "
				 "processes 12");
	fa_tui_fields(buf, sizeof(buf), 60, f, 5);
	assert_string_equal(buf, "flowacct 12:00:00  interval 1s  backend tracepoint");
	assert_true(strlen(buf) <= 60);
	/* "flows 187" needs 61 columns there: at 60 it goes whole, never as "flows 18" */
	fa_tui_fields(buf, sizeof(buf), 61, f, 5);
	assert_string_equal(buf, "flowacct 12:00:00  interval 1s  backend tracepoint  flows 187");
	fa_tui_fields(buf, sizeof(buf), 57, f, 5);
	assert_string_equal(buf, "flowacct 12:00:00  interval 1s  backend tracepoint");
	/* a shorter field further on still may */
	fa_tui_fields(buf, sizeof(buf), 45, f, 5);
	assert_string_equal(buf, "flowacct 12:00:00  interval 1s  flows 187");
	fa_tui_fields(buf, sizeof(buf), 5, f, 5);
	assert_string_equal(buf, "");
}

/* The graph: one cell a value, scaled to the largest, anything moved shows. */
static void spark_scales_and_shows_any_traffic(void **state)
{
	const double v[] = { 0, 1, 50, 100, 0.001 };
	char buf[64];

	(void)state;
	fa_tui_spark(buf, sizeof(buf), v, 5, 0, false);
	assert_string_equal(buf, " .=#.");
	fa_tui_spark(buf, sizeof(buf), v, 5, 0, true);
	assert_string_equal(buf, " \u2581\u2584\u2588\u2581");
	fa_tui_spark(buf, sizeof(buf), v, 5, 200, false); /* a shared scale */
	assert_string_equal(buf, " .:=.");
	fa_tui_spark(buf, 4, v, 5, 0, true); /* never past the buffer */
	assert_true(strlen(buf) < 4);
}

/* History: per row, per sample; averages over whole samples covering the window. */
static void history_averages_peaks_and_forgets(void **state)
{
	struct fa_hist *h = fa_hist_new();
	__u64 a = fa_hist_key("a", 1, 0), b = fa_hist_key("b", 1, 0);
	double v[4];

	(void)state;
	assert_non_null(h);
	for (int i = 1; i <= 5; i++) { /* a: 1000 B/s up, 100*i down; b: only once */
		fa_hist_begin(h, 1.0);
		fa_hist_add(h, a, 1000, 100 * i);
		if (i == 2)
			fa_hist_add(h, b, 4000, 0);
		fa_hist_end(h);
	}
	assert_int_equal(fa_hist_depth(h), 5);
	assert_true(fa_hist_avg(h, a, 2, FA_HIST_RX) == 1000);
	assert_true(fa_hist_avg(h, a, 2, FA_HIST_TX) == 450); /* (500 + 400) / 2 */
	assert_true(fa_hist_avg(h, a, 40, FA_HIST_BOTH) == 1300); /* 5 s of history */
	assert_true(fa_hist_avg(h, b, 10, FA_HIST_RX) == 800); /* 4000 over 5 s */
	assert_true(fa_hist_avg(h, b, 2, FA_HIST_RX) == 0);
	assert_true(fa_hist_peak(h, b, FA_HIST_RX) == 4000);
	assert_true(fa_hist_peak(h, a, FA_HIST_BOTH) == 1500);
	assert_int_equal(fa_hist_series(h, b, FA_HIST_RX, v, 4), 4);
	assert_true(v[0] == 4000 && v[1] == 0 && v[2] == 0 && v[3] == 0);
	/* a half-second sample counts as half a second */
	fa_hist_begin(h, 0.5);
	fa_hist_add(h, a, 1000, 0);
	fa_hist_add(h, a, 1000, 0); /* a row added to twice in one sample */
	fa_hist_end(h);
	assert_true(fa_hist_avg(h, a, 0.5, FA_HIST_RX) == 4000);
	assert_true(fa_hist_avg(h, a, 1.5, FA_HIST_RX) == 2000); /* (2000 + 1000) / 1.5 */
	/* a row quiet for FA_HIST_SAMPLES samples is forgotten; a busy one is not */
	for (int i = 0; i < FA_HIST_SAMPLES; i++) {
		fa_hist_begin(h, 1.0);
		fa_hist_add(h, a, 1, 0);
		fa_hist_end(h);
	}
	assert_false(fa_hist_known(h, b));
	assert_true(fa_hist_known(h, a));
	assert_true(fa_hist_avg(h, b, 40, FA_HIST_BOTH) == 0);
	/* many rows: each found again after the index grew and was rebuilt */
	fa_hist_begin(h, 1.0);
	for (__u64 k = 1; k <= 5000; k++)
		fa_hist_add(h, fa_hist_key(&k, sizeof(k), 0), k, 0);
	fa_hist_end(h);
	for (__u64 k = 1; k <= 5000; k += 499) {
		double a = fa_hist_avg(h, fa_hist_key(&k, sizeof(k), 0), 1, FA_HIST_RX);

		/* exact to 2047 bytes a sample, then within 1/1024 */
		assert_true(k < 2048 ? a == k : a <= k && a > k * (1 - 1.0 / 1024));
	}
	/* large samples: 11 significant bits, never more than moved */
	fa_hist_begin(h, 1.0);
	fa_hist_add(h, a, 3000000000ULL, 123456789);
	fa_hist_end(h);
	assert_true(fa_hist_avg(h, a, 1, FA_HIST_RX) <= 3e9);
	assert_true(fa_hist_avg(h, a, 1, FA_HIST_RX) > 3e9 * (1 - 1.0 / 1024));
	assert_true(fa_hist_avg(h, a, 1, FA_HIST_TX) > 123456789 * (1 - 1.0 / 1024));
	fa_hist_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_wide_terminal_shows_every_flow_column),
		cmocka_unit_test(layout_narrow_terminal_drops_least_important_first),
		cmocka_unit_test(layout_never_extends_past_the_width),
		cmocka_unit_test(layout_packet_columns_go_first),
		cmocka_unit_test(layout_process_view_shows_flows_not_addresses),
		cmocka_unit_test(layout_group_views_show_the_name_and_counts),
		cmocka_unit_test(cell_workload_is_escaped),
		cmocka_unit_test(cell_and_detail_show_tcp_health),
		cmocka_unit_test(layout_spare_width_fits_long_names_and_addresses),
		cmocka_unit_test(cell_rates_and_totals_use_binary_units),
		cmocka_unit_test(cell_identity_columns),
		cmocka_unit_test(cell_hostile_names_are_escaped),
		cmocka_unit_test(fit_pads_cuts_and_keeps_ports),
		cmocka_unit_test(titles_mark_the_sort_column_and_direction),
		cmocka_unit_test(sort_step_walks_columns_left_to_right),
		cmocka_unit_test(layout_keeps_endpoints_at_80_and_60_columns),
		cmocka_unit_test(layout_hidden_columns_leave),
		cmocka_unit_test(cell_averages_bits_and_command_line),
		cmocka_unit_test(fields_are_dropped_whole),
		cmocka_unit_test(spark_scales_and_shows_any_traffic),
		cmocka_unit_test(history_averages_peaks_and_forgets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
