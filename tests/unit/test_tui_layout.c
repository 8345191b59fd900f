// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The interactive view's pure parts: which columns fit, cell text, units, escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "tui_layout.h"
#include "util.h"

static const struct fa_tui_table flow_tab = { .group = FA_GROUP_FLOW };

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

	return fa_tui_cell(buf, sizeof(buf), col, r, tab, iv, user);
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
	assert_string_equal(names, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX "
				   "total,TX total");
}

static void layout_narrow_terminal_drops_least_important_first(void **state)
{
	static const struct {
		int width;
		const char *names;
	} cases[] = {
		{ 139, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX total,TX "
		       "total" },
		{ 138, "PID,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX total,TX total" },
		{ 130, "PID,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX total,TX total" },
		{ 129, "PID,COMM,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX total,TX total" },
		{ 114, "PID,COMM,LOCAL,REMOTE,RX/s,TX/s,RX total,TX total" },
		{ 108, "PID,COMM,REMOTE,RX/s,TX/s,RX total,TX total" },
		{ 80, "PID,COMM,RX/s,TX/s,RX total,TX total" },
		{ 60, "PID,COMM,RX/s,TX/s,RX total" },
		{ 50, "PID,COMM,RX/s,TX/s" },
		{ 40, "COMM,RX/s,TX/s" },
		{ 20, "COMM,RX/s" }, /* nothing left to drop: clipped at the edge */
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
	struct fa_tui_table tab = { .group = FA_GROUP_FLOW, .packets = true };
	char names[256];

	(void)state;
	layout_names(200, &tab, NULL, names, sizeof(names));
	assert_string_equal(names, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX "
				   "total,TX total,RXpkt/s,TXpkt/s");
	layout_names(145, &tab, NULL, names, sizeof(names));
	assert_string_equal(names, "PID,USER,COMM,CONTAINER/UNIT,PROTO,LOCAL,REMOTE,RX/s,TX/s,RX "
				   "total,TX total");
}

static void layout_process_view_shows_flows_not_addresses(void **state)
{
	struct fa_tui_table tab = { .group = FA_GROUP_PROCESS };
	char names[256];

	(void)state;
	layout_names(160, &tab, NULL, names, sizeof(names));
	assert_string_equal(names,
			    "PID,USER,COMM,CONTAINER/UNIT,FLOWS,RX/s,TX/s,RX total,TX total");
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
		{ FA_GROUP_SERVICE, 100, "SERVICE,PROCS,FLOWS,RX/s,TX/s,RX total,TX total" },
		{ FA_GROUP_CONTAINER, 100, "CONTAINER,PROCS,FLOWS,RX/s,TX/s,RX total,TX total" },
		{ FA_GROUP_CGROUP, 100, "CGROUP,PROCS,FLOWS,RX/s,TX/s,RX total,TX total" },
		{ FA_GROUP_CGROUP, 60, "CGROUP,RX/s,TX/s,RX total,TX total" },
		{ FA_GROUP_CGROUP, 20, "CGROUP,RX/s" },
	};
	char names[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fa_tui_table tab = { .group = cases[i].g };

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
	fa_tui_cell(buf, sizeof(buf), FA_TUI_COL_USER, &r.v, &flow_tab, 1, "ev\x1b]0;pwn\x07");
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
	v.sort = FA_SORT_TOTAL;
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RX_RATE, &v), "RX/s v");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_TX_RATE, &v), "TX/s v");
	assert_string_equal(fa_tui_title(buf, sizeof(buf), FA_TUI_COL_RX_TOTAL, &v), "RX total");
}

static void sort_step_walks_columns_left_to_right(void **state)
{
	(void)state;
	assert_int_equal(fa_tui_sort_step(FA_SORT_PID, -1), FA_SORT_PID);
	assert_int_equal(fa_tui_sort_step(FA_SORT_PID, 1), FA_SORT_COMM);
	assert_int_equal(fa_tui_sort_step(FA_SORT_COMM, 1), FA_SORT_RX);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RX, 1), FA_SORT_TX);
	assert_int_equal(fa_tui_sort_step(FA_SORT_TX, 1), FA_SORT_TOTAL);
	assert_int_equal(fa_tui_sort_step(FA_SORT_TOTAL, 1), FA_SORT_RETRANS);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RETRANS, 1), FA_SORT_RTT);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RTT, 1), FA_SORT_RTT);
	assert_int_equal(fa_tui_sort_step(FA_SORT_TOTAL, -1), FA_SORT_TX);
	assert_int_equal(fa_tui_sort_step(FA_SORT_RX, -1), FA_SORT_COMM);
}

/* TCP health: RTT and RETRANS cells, their columns where the snapshot has health, and the
 * detail line, escaped. */
static void cell_and_detail_show_tcp_health(void **state)
{
	struct fa_tui_table tab = { .group = FA_GROUP_FLOW, .health = true };
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
				   "RX/s,TX/s,RX total,TX total");
	tab.group = FA_GROUP_PROCESS;
	layout_names(200, &tab, NULL, names, sizeof(names));
	assert_string_equal(
		names, "PID,USER,COMM,CONTAINER/UNIT,FLOWS,RETRANS,RX/s,TX/s,RX total,TX total");
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
