// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests of the user-space core: units, addresses, escaping, views, options, JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "prom_render.h"
#include "format.h"
#include "log.h"
#include "output.h"
#include "view.h"
#include "util.h"

static void test_fmt_bytes_units(void **state)
{
	char b[FA_FMT_BYTES_LEN];

	(void)state;
	assert_string_equal(fa_fmt_bytes(b, sizeof(b), 0), "0 B");
	assert_string_equal(fa_fmt_bytes(b, sizeof(b), 1023), "1023 B");
	assert_string_equal(fa_fmt_bytes(b, sizeof(b), 1024), "1.0 KiB");
	assert_string_equal(fa_fmt_bytes(b, sizeof(b), 1536), "1.5 KiB");
	assert_string_equal(fa_fmt_bytes(b, sizeof(b), 12 * 1024), "12 KiB");
	assert_string_equal(fa_fmt_bytes(b, sizeof(b), 5.0 * 1024 * 1024), "5.0 MiB");
	assert_string_equal(fa_fmt_bytes(b, sizeof(b), 3.0 * (1ULL << 40)), "3.0 TiB");
}

/* --bits: decimal SI, as link speeds and iftop; 3 significant digits */
static void test_fmt_bits_and_count_rate(void **state)
{
	char b[FA_FMT_BYTES_LEN];

	(void)state;
	assert_string_equal(fa_fmt_bits(b, sizeof(b), 0), "0 b");
	assert_string_equal(fa_fmt_bits(b, sizeof(b), 100), "800 b");
	assert_string_equal(fa_fmt_bits(b, sizeof(b), 124.9), "999 b");
	assert_string_equal(fa_fmt_bits(b, sizeof(b), 125), "1.0 kb"); /* not "1000 b" */
	assert_string_equal(fa_fmt_bits(b, sizeof(b), 1200), "9.6 kb");
	assert_string_equal(fa_fmt_bits(b, sizeof(b), 15e6), "120 Mb");
	assert_string_equal(fa_fmt_bits(b, sizeof(b), 125e6), "1.0 Gb"); /* 1 Gbit/s */
	assert_string_equal(fa_fmt_bits(b, sizeof(b), 1.25e9), "10 Gb");
	assert_string_equal(fa_fmt_count_rate(b, sizeof(b), 0), "0");
	assert_string_equal(fa_fmt_count_rate(b, sizeof(b), 0.5), "0.5"); /* 1 in 2 s */
	assert_string_equal(fa_fmt_count_rate(b, sizeof(b), 1.0 / 30), "0.03");
	assert_string_equal(fa_fmt_count_rate(b, sizeof(b), 3), "3");
	assert_string_equal(fa_fmt_count_rate(b, sizeof(b), 12.4), "12");
}

static void test_fmt_u64(void **state)
{
	static const __u64 vals[] = { 0, 9, 10, 4242, 1ULL << 32, UINT64_MAX };
	char b[FA_FMT_U64_LEN], want[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		snprintf(want, sizeof(want), "%llu", (unsigned long long)vals[i]);
		assert_int_equal(fa_fmt_u64(b, vals[i]), strlen(want));
		assert_string_equal(b, want);
	}
}

static void test_fmt_endpoint_families(void **state)
{
	__u8 a[FA_ADDR_LEN] = {};
	char b[FA_FMT_ENDPOINT_LEN];

	(void)state;
	inet_pton(AF_INET, "10.0.0.5", a);
	assert_string_equal(fa_fmt_endpoint(b, sizeof(b), FA_FAMILY_IPV4, a, 51544),
			    "10.0.0.5:51544");
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_string_equal(fa_fmt_endpoint(b, sizeof(b), FA_FAMILY_IPV6, a, 443),
			    "[2001:db8::1]:443");
	inet_pton(AF_INET6, "::ffff:192.0.2.7", a);
	assert_string_equal(fa_fmt_endpoint(b, sizeof(b), FA_FAMILY_IPV6, a, 80), "192.0.2.7:80");
}

static void test_escape_hostile_bytes(void **state)
{
	char out[FA_ESCAPED_COMM_LEN];
	const char evil[] = "a\x1b[2J\\\"\n\xff\x7f";

	(void)state;
	fa_escape(out, sizeof(out), evil, sizeof(evil));
	assert_string_equal(out, "a\\x1b[2J\\\\\"\\x0a\\xff\\x7f");
	/* a short buffer truncates between escapes, never inside one */
	fa_escape(out, 6, "\x01\x02", 2);
	assert_string_equal(out, "\\x01");
	/* stops at srclen even without a NUL */
	fa_escape(out, sizeof(out), "abcdef", 3);
	assert_string_equal(out, "abc");
}

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct fa_flow mkflow(__u32 pid, const char *comm, __u16 lport, __u64 rx, __u64 tx)
{
	struct fa_flow f = {};

	f.proc.pid = pid;
	f.tuple.proto = FA_PROTO_TCP;
	f.tuple.family = FA_FAMILY_IPV4;
	f.tuple.laddr[0] = 127;
	f.tuple.laddr[3] = 1;
	f.tuple.raddr[0] = 127;
	f.tuple.raddr[3] = 1;
	f.tuple.lport = lport;
	f.tuple.rport = 80;
	snprintf(f.proc.comm, sizeof(f.proc.comm), "%s", comm);
	f.delta.rx_bytes = rx;
	f.delta.tx_bytes = tx;
	f.total.rx_bytes = rx * 10;
	f.total.tx_bytes = tx * 10;
	return f;
}

/* A snapshot over the caller's arrays, with its processes added up (free snap.procs). */
static struct fa_snapshot mksnap(struct fa_flow *flows, size_t nflows, struct fa_overflow *ov,
				 size_t nov)
{
	struct fa_snapshot snap = {
		.flows = flows, .nflows = nflows, .overflow = ov, .noverflow = nov
	};

	assert_int_equal(fa_snapshot_aggregate(&snap), 0);
	return snap;
}

static void test_view_sort_keys(void **state)
{
	struct fa_flow flows[] = { mkflow(30, "curl", 1000, 5, 100), mkflow(10, "apt", 1001, 50, 1),
				   mkflow(20, "zsh", 1002, 1, 1000) };
	struct fa_snapshot snap = mksnap(flows, 3, NULL, 0);
	struct fa_view_opts o = {};
	struct fa_view_row *out;
	size_t n;
	static const struct {
		enum fa_sort sort;
		bool reverse;
		__u32 order[3];
	} cases[] = {
		{ FA_SORT_RX, false, { 10, 30, 20 } },	 { FA_SORT_TX, false, { 20, 30, 10 } },
		{ FA_SORT_RATE, false, { 20, 30, 10 } }, { FA_SORT_PID, false, { 10, 20, 30 } },
		{ FA_SORT_COMM, false, { 10, 30, 20 } }, { FA_SORT_PID, true, { 30, 20, 10 } },
	};

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		o.sort = cases[c].sort;
		o.reverse = cases[c].reverse;
		assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
		assert_int_equal(n, 3);
		for (int i = 0; i < 3; i++)
			assert_int_equal(out[i].proc->pid, cases[c].order[i]);
		free(out);
	}
	free(snap.procs);
}

/* A table that shows its first rows only: exactly those of the full sort, in order. */
static void test_view_top_rows_match_full_sort(void **state)
{
	enum { NF = 997 };
	struct fa_flow *flows = calloc(NF, sizeof(*flows));
	struct fa_snapshot snap;
	struct fa_view_row *all, *top;
	size_t n, nt;
	static const size_t tops[] = { 1, 10, 45, 996, 997, 5000 };

	(void)state;
	assert_non_null(flows);
	srand(7);
	for (size_t i = 0; i < NF; i++) /* few distinct values: many ties to break */
		flows[i] = mkflow(1 + rand() % 50, i % 3 ? "a" : "b", 1000 + i, rand() % 20,
				  rand() % 20);
	snap = mksnap(flows, NF, NULL, 0);
	for (int sort = 0; sort < FA_SORT_MAX; sort++)
		for (size_t t = 0; t < ARRAY_SIZE(tops); t++) {
			struct fa_view_opts o = { .sort = sort, .reverse = t % 2 };

			assert_int_equal(fa_view_build(&snap, &o, &all, &n), 0);
			o.top = tops[t];
			assert_int_equal(fa_view_build(&snap, &o, &top, &nt), 0);
			assert_int_equal(nt, NF); /* every row is still counted */
			for (size_t i = 0; i < tops[t] && i < n; i++)
				assert_ptr_equal(top[i].delta, all[i].delta);
			free(all);
			free(top);
		}
	free(snap.procs);
	free(flows);
}

static void test_processes_add_up_flows_and_overflow(void **state)
{
	struct fa_flow flows[] = { mkflow(7, "nginx", 1, 100, 200), mkflow(8, "curl", 2, 1, 2),
				   mkflow(7, "nginx", 3, 1000, 2000) };
	struct fa_overflow ov[] = {
		{ .proc = { .pid = 7 }, .delta = { .rx_bytes = 5 }, .total = { .rx_bytes = 55 } }
	};
	struct fa_snapshot snap;
	struct fa_view_opts o = { .group = FA_GROUP_PROCESS, .sort = FA_SORT_PID };
	struct fa_view_row *out;
	size_t n;

	(void)state;
	flows[1].tuple.proto = FA_PROTO_UDP;
	snap = mksnap(flows, 3, ov, 1);
	assert_int_equal(snap.nprocs, 2);
	assert_int_equal(snap.procs[0].proc.pid, 7);
	assert_string_equal(snap.procs[0].proc.comm, "nginx");
	assert_int_equal(snap.procs[0].nflows, 2); /* the overflow row is not a flow */
	assert_int_equal(snap.procs[0].delta.rx_bytes, 1105);
	assert_int_equal(snap.procs[0].delta.tx_bytes, 2200);
	assert_int_equal(snap.procs[0].total.rx_bytes, 11055);
	assert_true(snap.procs[0].part[FA_PART_TCP].present);
	assert_false(snap.procs[0].part[FA_PART_UDP].present);
	assert_int_equal(snap.procs[0].part[FA_PART_OVERFLOW].total.rx_bytes, 55);
	assert_true(snap.procs[1].part[FA_PART_UDP].present);
	assert_int_equal(snap.procs[1].delta.rx_bytes, 1);

	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(out[0].delta, &snap.procs[0].delta);
	assert_null(out[0].tuple);
	assert_int_equal(out[0].nflows, 2);
	free(out);
	free(snap.procs);
}

/* A cgroup the snapshot names, classified from its path as the collector would. */
static struct fa_cgroup_info mkcg(__u64 id, const char *path, const char *container)
{
	struct fa_cgroup_info cg = { .id = id, .known = true };

	snprintf(cg.path, sizeof(cg.path), "%s", path);
	fa_cg_classify(path, &cg.name);
	snprintf(cg.container, sizeof(cg.container), "%s", container);
	return cg;
}

/* The group row named `name` (NULL if none). */
static const struct fa_view_row *group_row(const struct fa_view_row *rows, size_t n,
					   const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].label, name))
			return &rows[i];
	return NULL;
}

/*
 * By service, container and cgroup: every flow and overflow row lands in exactly one
 * group by its own cgroup (a process that moved has rows in two), sums are exact,
 * processes are counted once, and a cgroup the snapshot cannot name is "(unknown)".
 */
static void test_view_groups_by_cgroup_names(void **state)
{
	struct fa_cgroup_info cgs[] = {
		mkcg(10, "/system.slice/docker-" ID64 ".scope", "web"),
		mkcg(11, "/system.slice/sshd.service", ""),
		mkcg(12, "/system.slice/docker-" ID64 ".scope/init.scope", "web"),
		mkcg(13, "/", ""),
	};
	struct fa_flow flows[] = {
		mkflow(7, "nginx", 1, 100, 200), mkflow(7, "nginx", 2, 1, 2),
		mkflow(8, "sshd", 3, 10, 20),	 mkflow(9, "init", 4, 1000, 2000),
		mkflow(8, "sshd", 5, 3, 4),	 mkflow(6, "bash", 6, 5, 5),
		mkflow(5, "gone", 7, 7, 7),
	};
	struct fa_overflow ov[] = { { .proc = { .pid = 7, .cgroup_id = 10 },
				      .delta = { .rx_bytes = 5 },
				      .total = { .rx_bytes = 55 } } };
	static const __u64 ids[] = { 10, 10, 11, 12, 10, 13, 99 };
	struct fa_snapshot snap;
	struct fa_view_row *rows;
	const struct fa_view_row *r;
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(flows); i++)
		flows[i].proc.cgroup_id = ids[i];
	snap = mksnap(flows, ARRAY_SIZE(flows), ov, 1);
	snap.cgroups = cgs;
	snap.ncgroups = ARRAY_SIZE(cgs);

	/* service: the container (both its cgroups), the unit, the rest by path */
	assert_int_equal(fa_view_build(&snap, &(struct fa_view_opts){ .group = FA_GROUP_SERVICE },
				       &rows, &n),
			 0);
	assert_int_equal(n, 4);
	r = group_row(rows, n, "web");
	assert_non_null(r);
	/* pid 7's two flows and overflow row, pid 9's flow, and pid 8's flow that moved */
	assert_int_equal(r->delta->rx_bytes, 100 + 1 + 5 + 1000 + 3);
	assert_int_equal(r->total->rx_bytes, 1000 + 10 + 55 + 10000 + 30);
	assert_int_equal(r->nprocs, 3);
	assert_int_equal(r->nflows, 4);
	r = group_row(rows, n, "sshd.service");
	assert_true(r && r->delta->tx_bytes == 20 && r->nprocs == 1 && r->nflows == 1);
	r = group_row(rows, n, "/");
	assert_true(r && r->delta->rx_bytes == 5);
	r = group_row(rows, n, "(unknown)");
	assert_true(r && r->delta->rx_bytes == 7 && r->cgroup == NULL);
	assert_string_equal(rows[0].label, "web"); /* the biggest talker first */
	free(rows);

	/* container: the container, and everything else is the host's */
	assert_int_equal(fa_view_build(&snap, &(struct fa_view_opts){ .group = FA_GROUP_CONTAINER },
				       &rows, &n),
			 0);
	assert_int_equal(n, 3);
	r = group_row(rows, n, "(host)");
	assert_true(r && r->delta->rx_bytes == 10 + 5 && r->nprocs == 2);
	free(rows);

	/* cgroup: one row per path; a filter on the name picks the group whole */
	assert_int_equal(fa_view_build(&snap,
				       &(struct fa_view_opts){ .group = FA_GROUP_CGROUP,
							       .filter = "INIT.scope" },
				       &rows, &n),
			 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(rows[0].cgroup, &cgs[2]);
	assert_int_equal(rows[0].delta->tx_bytes, 2000);
	free(rows);
	/* a filter on a member's name picks its group, with all of its traffic */
	assert_int_equal(
		fa_view_build(&snap,
			      &(struct fa_view_opts){ .group = FA_GROUP_SERVICE, .filter = "sshd" },
			      &rows, &n),
		0);
	assert_int_equal(n, 2); /* sshd.service, and web, where one sshd flow is */
	free(rows);
	free(snap.procs);
}

/* Sorting by TCP health: retransmits now first, then since start; RTT largest first. */
static void test_view_sorts_by_retrans_and_rtt(void **state)
{
	struct fa_flow flows[] = { mkflow(1, "a", 1, 0, 0), mkflow(2, "b", 2, 0, 0),
				   mkflow(3, "c", 3, 0, 0) };
	struct fa_snapshot snap;
	struct fa_view_row *rows;
	size_t n;

	(void)state;
	flows[0].delta.retrans_segs = 0, flows[0].total.retrans_segs = 50;
	flows[1].delta.retrans_segs = 2, flows[1].total.retrans_segs = 2;
	flows[2].delta.retrans_segs = 0, flows[2].total.retrans_segs = 7;
	flows[0].tcp.srtt_us = 300, flows[1].tcp.srtt_us = 100, flows[2].tcp.srtt_us = 200;
	snap = mksnap(flows, 3, NULL, 0);
	snap.health = true;
	assert_int_equal(
		fa_view_build(&snap, &(struct fa_view_opts){ .sort = FA_SORT_RETRANS }, &rows, &n),
		0);
	assert_true(n == 3 && rows[0].proc->pid == 2 && rows[1].proc->pid == 1 &&
		    rows[2].proc->pid == 3);
	assert_ptr_equal(rows[0].tcp, &flows[1].tcp);
	free(rows);
	assert_int_equal(
		fa_view_build(&snap, &(struct fa_view_opts){ .sort = FA_SORT_RTT }, &rows, &n), 0);
	assert_true(rows[0].proc->pid == 1 && rows[1].proc->pid == 3 && rows[2].proc->pid == 2);
	free(rows);
	snap.health = false; /* no health: no RTT to show or sort on */
	assert_int_equal(
		fa_view_build(&snap, &(struct fa_view_opts){ .sort = FA_SORT_RTT }, &rows, &n), 0);
	assert_null(rows[0].tcp);
	free(rows);
	free(snap.procs);
}

static void test_view_filter_and_active(void **state)
{
	struct fa_flow flows[] = { mkflow(1, "Firefox", 5000, 1, 0), mkflow(2, "sshd", 22, 0, 0),
				   mkflow(3, "curl", 443, 0, 9) };
	struct fa_snapshot snap = mksnap(flows, 3, NULL, 0);
	struct fa_view_opts o = { .filter = "fire" };
	struct fa_view_row *out;
	size_t n;

	(void)state;
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].proc->pid, 1);
	free(out);
	o.filter = ":22"; /* a port */
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].proc->pid, 2);
	free(out);
	o.group = FA_GROUP_PROCESS; /* a process with a matching flow, with all its traffic */
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].proc->pid, 2);
	free(out);
	o.group = FA_GROUP_FLOW;
	o.filter = NULL;
	o.active_only = true;
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 2);
	free(out);
	free(snap.procs);
}

/* The rows of a view as their pids, in order, into buf ("1 3"). */
static const char *pids_of(const struct fa_snapshot *snap, const struct fa_view_opts *o, char *buf,
			   size_t len)
{
	struct fa_view_row *rows;
	size_t n, k = 0;

	assert_int_equal(fa_view_build(snap, o, &rows, &n), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++)
		k += snprintf(buf + k, len - k, "%s%u", i ? " " : "", rows[i].proc->pid);
	free(rows);
	return buf;
}

/* :PORT is a port exactly, local or remote; !TERM negates; terms all hold; fields are what
 * the table shows, the CONTAINER/UNIT among them. */
static void test_view_filter_terms(void **state)
{
	struct fa_cgroup_info cgs[] = { mkcg(10, "/system.slice/nginx.service", "") };
	struct fa_flow flows[] = { mkflow(1, "web", 50, 1, 1), mkflow(2, "web", 5011, 1, 1),
				   mkflow(3, "curl", 8080, 1, 1), mkflow(4, "sshd", 22, 1, 1) };
	struct fa_snapshot snap;
	struct fa_view_opts o = { .sort = FA_SORT_PID };
	char b[64];
	static const struct {
		const char *filter, *pids;
	} cases[] = {
		{ ":50", "1" }, /* not 5011 */
		{ ":5011", "2" },
		{ ":80", "1 2 3 4" }, /* every remote port is 80 */
		{ ":8080", "3" },
		{ "!:8080", "1 2 4" },
		{ "!127.0.0.1", "" }, /* every flow is on loopback */
		{ "web :50", "1" }, /* both terms hold */
		{ "web !:50", "2" },
		{ "  WEB   !:5011  ", "1" }, /* any case, any spaces */
		{ "nginx", "1 2" }, /* the CONTAINER/UNIT */
		{ "!nginx.service", "3 4" },
		{ "TCP :22", "4" }, /* the protocol */
		{ "127.0.0.1:50 ", "1 2" }, /* text: 127.0.0.1:50 and 127.0.0.1:5011 */
		{ "!", "1 2 3 4" }, /* a lone ! is no condition */
		{ ":", "1 2 3 4" }, /* text: every endpoint has a colon */
		{ ":99999", "" }, /* no port, and no text either */
		{ "", "1 2 3 4" },
	};

	(void)state;
	flows[0].proc.cgroup_id = flows[1].proc.cgroup_id = 10;
	snap = mksnap(flows, ARRAY_SIZE(flows), NULL, 0);
	snap.cgroups = cgs;
	snap.ncgroups = ARRAY_SIZE(cgs);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		o.filter = cases[i].filter;
		pids_of(&snap, &o, b, sizeof(b));
		if (strcmp(b, cases[i].pids))
			fail_msg("--filter '%s': rows of pids '%s', want '%s'", cases[i].filter, b,
				 cases[i].pids);
	}
	/* per process: a process is shown when one of its rows matches the whole filter */
	o.group = FA_GROUP_PROCESS;
	o.filter = "!:22";
	assert_string_equal(pids_of(&snap, &o, b, sizeof(b)), "1 2 3");
	/* per service: a group's name counts as one of each row's fields, so that a negated
	 * term hides the group it names */
	o.group = FA_GROUP_SERVICE;
	o.filter = "!nginx";
	{
		struct fa_view_row *rows;
		size_t n;

		assert_int_equal(fa_view_build(&snap, &o, &rows, &n), 0);
		assert_int_equal(n, 1);
		assert_string_equal(rows[0].label, "(unknown)");
		free(rows);
		o.filter = "nginx.SERVICE :5011";
		assert_int_equal(fa_view_build(&snap, &o, &rows, &n), 0);
		assert_true(n == 1 && !strcmp(rows[0].label, "nginx.service"));
		assert_int_equal(rows[0].delta->rx_bytes, 2); /* both of its flows: all its bytes */
		free(rows);
	}
	free(snap.procs);
}

/* --packets with packets no flow matched: never a process, in any output. */
static struct fa_snapshot snap_with_unmatched(struct fa_flow *flows, struct fa_unmatched *u)
{
	struct fa_snapshot snap = mksnap(flows, 1, NULL, 0);

	snap.packets = true;
	snap.backend = "tracepoint";
	snap.interval_s = 1;
	u->tuple = flows[0].tuple;
	u->tuple.lport = 9;
	u->delta.rx_packets = u->total.rx_packets = 3;
	snap.unmatched = u;
	snap.nunmatched = 1;
	return snap;
}

static char *text_of(const struct fa_snapshot *snap, enum fa_group group)
{
	struct fa_text_opts opts = { .view = { .group = group } };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct fa_output *o = fa_text_open(f, &opts);

	assert_non_null(o);
	assert_int_equal(o->emit(o, snap), 0);
	o->close(o);
	fclose(f);
	return buf;
}

static void test_unmatched_packets_are_no_process(void **state)
{
	struct fa_flow flows[] = { mkflow(5, "srv", 80, 1, 1) };
	struct fa_unmatched u = {};
	struct fa_snapshot snap = snap_with_unmatched(flows, &u);
	struct fa_view_opts o = { .group = FA_GROUP_PROCESS };
	struct fa_view_row *out;
	json_error_t jerr;
	json_t *root, *procs;
	char *s;
	size_t n;

	(void)state;
	assert_int_equal(snap.nprocs, 1);
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_non_null(out[0].proc);
	free(out);

	s = text_of(&snap, FA_GROUP_PROCESS); /* once showed "0  <empty>  * (0 flows)" */
	assert_null(strstr(s, "no process"));
	assert_null(strstr(s, "\n0 "));
	{
		const char *l = strstr(s, "\n5 ");
		unsigned pid, nflows;
		char comm[16];

		assert_non_null(l); /* PID COMM FLOWS ...: the process, with its one flow */
		assert_int_equal(sscanf(l, "%u %15s %u", &pid, comm, &nflows), 3);
		assert_true(pid == 5 && !strcmp(comm, "srv") && nflows == 1);
	}
	free(s);
	s = text_of(&snap, FA_GROUP_FLOW); /* per flow, its 5-tuple, without a process */
	assert_non_null(strstr(s, "(no process)"));
	assert_non_null(strstr(s, "127.0.0.1:9"));
	free(s);

	s = fa_json_render(&snap);
	root = json_loads(s, 0, &jerr);
	assert_non_null(root);
	procs = json_object_get(root, "processes");
	assert_int_equal(json_array_size(procs), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(procs, 0), "pid")), 5);
	assert_int_equal(json_array_size(json_object_get(root, "unmatched_packets")), 1);
	json_decref(root);
	free(s);
	free(snap.procs);
}

static enum fa_cli_result parse(struct fa_config *cfg, struct fa_err *err, ...)
{
	char *argv[32] = { "flowacct" };
	int argc = 1;
	va_list ap;
	char *a;

	va_start(ap, err);
	while ((a = va_arg(ap, char *)))
		argv[argc++] = a;
	va_end(ap);
	return fa_cli_parse(argc, argv, cfg, stdout, err);
}

static void test_cli_options(void **state)
{
	struct fa_config cfg;
	struct fa_err err;

	(void)state;
	assert_int_equal(parse(&cfg, &err, NULL), FA_CLI_RUN);
	assert_true(cfg.interval_s == 1 && cfg.count == 0 && cfg.view.sort == FA_SORT_RATE);
	assert_int_equal(cfg.kernel.want, FA_WANT_IPV4 | FA_WANT_IPV6 | FA_WANT_TCP | FA_WANT_UDP);
	assert_int_equal(parse(&cfg, &err, "-b", "-p", "12", "--pid", "34", "-6", "--udp", "--by",
			       "process", "-s", "rx", "-r", "5", "--backend", "kprobe",
			       "--max-flows", "64", "0.5", "7", NULL),
			 FA_CLI_RUN);
	assert_true(cfg.batch && cfg.kernel.npids == 2 && cfg.pids[0] == 12 && cfg.pids[1] == 34);
	assert_int_equal(cfg.kernel.want, FA_WANT_IPV6 | FA_WANT_UDP);
	assert_true(cfg.view.group == FA_GROUP_PROCESS && cfg.view.sort == FA_SORT_RX);
	assert_true(cfg.rows == 5 && cfg.kernel.backend == FA_BACKEND_KPROBE &&
		    cfg.kernel.max_flows == 64);
	assert_true(cfg.interval_s == 0.5 && cfg.count == 7);
	assert_int_equal(parse(&cfg, &err, "--packets=eth0", "--tpacket-version", "2", NULL),
			 FA_CLI_RUN);
	assert_true(cfg.packets && !strcmp(cfg.ring.ifname, "eth0") &&
		    cfg.ring.tpacket_version == 2);
	assert_int_equal(parse(&cfg, &err, "--packets", NULL), FA_CLI_RUN);
	assert_true(cfg.packets && cfg.ring.ifname == NULL && cfg.ring.tpacket_version == 3);
	for (int g = 0; g < FA_GROUP_MAX; g++) {
		assert_int_equal(parse(&cfg, &err, "--by", fa_group_names[g], NULL), FA_CLI_RUN);
		assert_int_equal(cfg.view.group, g);
	}
	assert_int_equal(parse(&cfg, &err, "--host-root", "/host", "--prometheus", "9100",
			       "--prometheus-max-names", "3", NULL),
			 FA_CLI_RUN);
	assert_true(!strcmp(cfg.host_root, "/host") && cfg.prom_max_names == 3 && !cfg.prom_pids);
	assert_int_equal(parse(&cfg, &err, "--prometheus", "9100", "--prometheus-pids", NULL),
			 FA_CLI_RUN);
	assert_true(cfg.prom_pids && cfg.prom_max_names == FA_PROM_MAX_NAMES_DEFAULT);
}

static void test_cli_rejects_bad_input(void **state)
{
	struct fa_config cfg;
	struct fa_err err;

	(void)state;
	assert_int_equal(parse(&cfg, &err, "-p", "0", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg, "invalid PID '0'");
	assert_int_equal(parse(&cfg, &err, "-p", "12x", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, &err, "-r", "-1", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, &err, "nan", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, &err, "1", "0", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, &err, "--ring-block-size", "5000", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, &err, "--prometheus-flows", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg, "--prometheus-flows needs --prometheus");
	assert_int_equal(parse(&cfg, &err, "-s", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg, "option '-s' needs an argument");
	assert_int_equal(parse(&cfg, &err, "--by", "pod", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg,
			    "--by takes flow, process, service, container or cgroup, not 'pod'");
	assert_int_equal(parse(&cfg, &err, "--host-root", "host", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, &err, "--prometheus-pids", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg, "--prometheus-pids needs --prometheus");
	assert_int_equal(
		parse(&cfg, &err, "--prometheus", "9100", "--prometheus-max-names", "0", NULL),
		FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, &err, "--prometheus-max-names", "5", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, &err, "--prometheus", "9100", "--prometheus-pids",
			       "--prometheus-max-names", "5", NULL),
			 FA_CLI_ERROR);
}

/* rate: RX/s + TX/s (the default); total: RX_TOTAL + TX_TOTAL, since start */
static void test_view_sort_rate_and_total(void **state)
{
	struct fa_flow flows[] = { mkflow(1, "a", 1, 100, 0), mkflow(2, "b", 2, 10, 0),
				   mkflow(3, "c", 3, 50, 0) };
	struct fa_snapshot snap;
	struct fa_config cfg;
	struct fa_err err;
	char b[64];

	(void)state;
	flows[0].total.rx_bytes = 100; /* new and busy */
	flows[1].total.rx_bytes = 1 << 20; /* a long history */
	flows[2].total.rx_bytes = 5000;
	snap = mksnap(flows, 3, NULL, 0);
	assert_int_equal(parse(&cfg, &err, NULL), FA_CLI_RUN);
	assert_int_equal(cfg.view.sort, FA_SORT_RATE);
	assert_string_equal(pids_of(&snap, &cfg.view, b, sizeof(b)), "1 3 2");
	assert_int_equal(parse(&cfg, &err, "-s", "rate", NULL), FA_CLI_RUN);
	assert_string_equal(pids_of(&snap, &cfg.view, b, sizeof(b)), "1 3 2");
	assert_int_equal(parse(&cfg, &err, "-s", "total", NULL), FA_CLI_RUN);
	assert_int_equal(cfg.view.sort, FA_SORT_TOTAL_BYTES);
	assert_string_equal(pids_of(&snap, &cfg.view, b, sizeof(b)), "2 3 1");
	assert_int_equal(parse(&cfg, &err, "-s", "total", "-R", NULL), FA_CLI_RUN);
	assert_string_equal(pids_of(&snap, &cfg.view, b, sizeof(b)), "1 3 2");
	assert_int_equal(parse(&cfg, &err, "-s", "size", NULL), FA_CLI_ERROR);
	assert_string_equal(
		err.msg, "--sort takes rate, rx, tx, total, pid, comm, retrans or rtt, not 'size'");
	free(snap.procs);
}

/* Options in top's style, and what each combination means or why it is refused. */
static void test_cli_top_style_options(void **state)
{
	struct fa_config cfg;
	struct fa_err err;

	(void)state;
	assert_int_equal(parse(&cfg, &err, "-d", "2.5", "-n", "3", "-q", NULL), FA_CLI_RUN);
	assert_true(cfg.interval_s == 2.5 && cfg.count == 3 && cfg.quiet);
	assert_int_equal(
		parse(&cfg, &err, "--delay", "0.5", "--iterations", "7", "--quiet", "--bits", NULL),
		FA_CLI_RUN);
	assert_true(cfg.interval_s == 0.5 && cfg.count == 7 && cfg.quiet && cfg.bits);
	assert_int_equal(parse(&cfg, &err, "-n", "4", "2", NULL), FA_CLI_RUN); /* the interval */
	assert_true(cfg.interval_s == 2 && cfg.count == 4);
	/* the first argument is the interval, with -d or without */
	assert_int_equal(parse(&cfg, &err, "-d", "2", "9", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg, "the interval is given twice, by -d and as '9': give one");
	assert_int_equal(parse(&cfg, &err, "-n", "2", "1", "4", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg, "the count is given twice, by -n and as '4': give one");
	assert_int_equal(parse(&cfg, &err, "-d", "0", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg,
			    "--delay takes a number of seconds from 0.01 to 86400, not '0'");
	assert_int_equal(parse(&cfg, &err, "-n", "x", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg, "--iterations takes a positive number, not 'x'");

	/* --no-stdout: a service's outputs only */
	assert_int_equal(parse(&cfg, &err, "--no-stdout", "--prometheus", "9100", NULL),
			 FA_CLI_RUN);
	assert_true(cfg.no_stdout);
	assert_int_equal(parse(&cfg, &err, "--no-stdout", "--json-file", "/tmp/x.json", NULL),
			 FA_CLI_RUN);
	assert_int_equal(parse(&cfg, &err, "--no-stdout", NULL), FA_CLI_ERROR);
	assert_string_equal(err.msg,
			    "--no-stdout leaves nothing to show: add --prometheus or --json-file");
	assert_int_equal(parse(&cfg, &err, "--no-stdout", "-j", "--prometheus", "9100", NULL),
			 FA_CLI_ERROR);
	assert_string_equal(err.msg,
			    "--no-stdout writes nothing to standard output: it excludes --json");
	assert_int_equal(parse(&cfg, &err, "--no-stdout", "--prometheus", "9100", "-s", "rx", NULL),
			 FA_CLI_ERROR);
	assert_string_equal(
		err.msg,
		"--sort shapes the tables of -b and the live view, and --no-stdout shows none");
}

/* -j writes every flow that moved: the table's options would be silently ignored */
static void test_cli_json_refuses_table_options(void **state)
{
	static const char *const given[][3] = {
		{ "-r", "5", "--rows" },       { "--filter", "ssh", "--filter" },
		{ "--by", "process", "--by" }, { "-s", "rx", "--sort" },
		{ "-R", NULL, "--reverse" },   { "--bits", NULL, "--bits" },
	};
	struct fa_config cfg;
	struct fa_err err;
	char want[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(given); i++) {
		assert_int_equal(parse(&cfg, &err, "-j", given[i][0], given[i][1], NULL),
				 FA_CLI_ERROR);
		snprintf(want, sizeof(want),
			 "%s does not apply to -j, which writes every flow that moved, each "
			 "interval: --by, --sort, --reverse, --rows, --filter and --bits shape the "
			 "tables of -b and the live view (filter the JSON with jq)",
			 given[i][2]);
		assert_string_equal(err.msg, want);
		/* the same options with -b, or without an output option (the live view) */
		assert_int_equal(parse(&cfg, &err, "-b", given[i][0], given[i][1], NULL),
				 FA_CLI_RUN);
		assert_int_equal(parse(&cfg, &err, given[i][0], given[i][1], NULL), FA_CLI_RUN);
	}
	/* the JSON file and the endpoint go with any output */
	assert_int_equal(parse(&cfg, &err, "-b", "-s", "rx", "--json-file", "/tmp/x.json",
			       "--prometheus", "9100", NULL),
			 FA_CLI_RUN);
	assert_int_equal(parse(&cfg, &err, "-j", "--json-file", "/tmp/x.json", "--prometheus",
			       "9100", "-q", "-d", "2", NULL),
			 FA_CLI_RUN);
}

/* A path or name taken from the next word when that word is one of flowacct's options:
 * `--json-file -b` once created a file named -b, and -b was lost. */
static void test_cli_value_is_not_an_option(void **state)
{
	static const struct {
		const char *opt, *value, *msg;
	} cases[] = {
		{ "--json-file", "-b",
		  "--json-file needs a path, not the option '-b' (for a file of that name write "
		  "./-b)" },
		{ "--json-file", "--batch",
		  "--json-file needs a path, not the option '--batch' (for a file of that name "
		  "write ./--batch)" },
		{ "--json-file", "--bat", NULL }, /* getopt takes the prefix as --batch */
		{ "--json-file", "-jb", NULL },
		{ "--web-config", "-q",
		  "--web-config needs a path, not the option '-q' (for a file of "
		  "that name write ./-q)" },
		{ "--cgroup", "-4",
		  "--cgroup needs a path, not the option '-4' (for a cgroup of that name write "
		  "/-4)" },
		{ "--user", "-v", "--user needs a user name, not the option '-v'" },
		{ "--host-root", "--quiet", "--host-root needs a path, not the option '--quiet'" },
		{ "--filter", "-b",
		  "--filter needs a text, not the option '-b' (to filter on that text write "
		  "--filter=-b)" },
	};
	struct fa_config cfg;
	struct fa_err err;
	char eq[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse(&cfg, &err, "--prometheus", "9100", cases[i].opt,
				       cases[i].value, NULL),
				 FA_CLI_ERROR);
		if (cases[i].msg)
			assert_string_equal(err.msg, cases[i].msg);
	}
	/* not options: a value beginning with '-' that is none, a value in the same word */
	assert_int_equal(parse(&cfg, &err, "--json-file", "-x.json", NULL), FA_CLI_RUN);
	assert_string_equal(cfg.json_file, "-x.json");
	assert_int_equal(parse(&cfg, &err, "--json-file", "-", NULL), FA_CLI_RUN);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!strcmp(cases[i].opt, "--host-root")) /* must be absolute anyway */
			continue;
		snprintf(eq, sizeof(eq), "%s=%s", cases[i].opt, cases[i].value);
		assert_int_equal(parse(&cfg, &err, "--prometheus", "9100", eq, NULL), FA_CLI_RUN);
	}
	assert_string_equal(cfg.view.filter, "-b");
	assert_int_equal(parse(&cfg, &err, "--filter", "!127.0.0.1", NULL), FA_CLI_RUN);
	assert_int_equal(parse(&cfg, &err, "--json-file", "./-b", "-b", NULL), FA_CLI_RUN);
	assert_true(cfg.batch && !strcmp(cfg.json_file, "./-b"));
}

/* The batch table's text for a snapshot, with the table options given. */
static char *table_of(const struct fa_snapshot *snap, const struct fa_text_opts *opts)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct fa_output *o = fa_text_open(f, opts);

	assert_non_null(o);
	assert_int_equal(o->emit(o, snap), 0);
	o->close(o);
	fclose(f);
	return buf;
}

/* The line of s that starts with start (after a newline), as a copy. */
static char *line_of(const char *s, const char *start)
{
	char key[64];
	const char *l;

	snprintf(key, sizeof(key), "\n%s", start);
	l = strstr(s, key);
	if (!l)
		fail_msg("no line starting '%s' in:\n%s", start, s);
	l++;
	return strndup(l, strcspn(l, "\n"));
}

/* The cell of a right-aligned column: what of row ends where col's title ends (cells are
 * two spaces apart), as a copy. */
static char *cell_under(const char *row, const char *title, const char *col)
{
	size_t end = strstr(title, col) - title + strlen(col), start = end;

	assert_true(end <= strlen(row) && (row[end] == ' ' || !row[end]));
	while (start > 1 && !(row[start - 1] == ' ' && row[start - 2] == ' '))
		start--;
	return strndup(row + start, end - start);
}

static void assert_cell(const char *row, const char *title, const char *col, const char *want)
{
	char *c = cell_under(row, title, col);

	if (strcmp(c, want))
		fail_msg("%s: '%s', want '%s', in\n%s\n%s", col, c, want, title, row);
	free(c);
}

/*
 * The batch table: the live view's column titles, each column as wide as its widest cell
 * (a 46-character IPv6 endpoint moves no column of another row), rates per second over
 * max(measured, nominal interval), packets per second, --bits.
 */
static void test_text_table_columns_and_rates(void **state)
{
	struct fa_flow flows[] = { mkflow(7, "short", 1, 999, 0),
				   mkflow(1234567, "a-much-longer-nm", 2, 0, 125000) };
	struct fa_snapshot snap;
	struct fa_text_opts opts = {};
	char *s, *title, *row[2];
	const char *cols[] = { "COMM", "PROTO", "LOCAL", "REMOTE", "CONTAINER/UNIT" };

	(void)state;
	flows[1].tuple.family = FA_FAMILY_IPV6;
	inet_pton(AF_INET6, "fd00:1234:5678:9abc:def0:1234:5678:9abc", flows[1].tuple.laddr);
	inet_pton(AF_INET6, "fd00:1234:5678:9abc:def0:1234:5678:9abd", flows[1].tuple.raddr);
	flows[1].tuple.lport = 65535;
	flows[0].delta.rx_packets = 3;
	snap = mksnap(flows, 2, NULL, 0);
	snap.backend = "tracepoint";
	snap.interval_s = 0.998; /* a timer that fired late the interval before */
	snap.nominal_s = 1;
	snap.packets = true;
	snap.delta.rx_bytes = 999, snap.delta.tx_bytes = 125000;
	snap.total.rx_bytes = 9990, snap.total.tx_bytes = 1250000;

	s = table_of(&snap, &opts);
	assert_non_null(strstr(s, "(rates per second over the 1.00 s interval; totals since "
				  "start)\n"));
	title = line_of(s, "PID  ");
	assert_string_equal(title,
			    "PID      COMM              PROTO  LOCAL"
			    "                                            REMOTE"
			    "                                            RX/s      TX/s  RX_TOTAL"
			    "  TX_TOTAL  RXPKT/s  TXPKT/s  CONTAINER/UNIT");
	row[0] = line_of(s, "7 ");
	row[1] = line_of(s, "1234567 ");
	/* left-aligned columns start where their titles do, in every row */
	for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
		size_t at = strstr(title, cols[c]) - title;

		for (int r = 0; r < 2; r++)
			if (row[r][at - 1] != ' ' || row[r][at - 2] != ' ' || row[r][at] == ' ')
				fail_msg("column %s (at %zu) is not aligned in '%s'", cols[c], at,
					 row[r]);
	}
	/* right-aligned ones end where their titles do */
	assert_cell(row[0], title, "RX/s", "999 B"); /* over 1 s, not 0.998 s: not 1001 B */
	assert_cell(row[1], title, "TX/s", "122 KiB");
	assert_cell(row[0], title, "RX_TOTAL", "9.8 KiB");
	assert_cell(row[0], title, "RXPKT/s", "3"); /* 3 packets in 1 s */
	assert_cell(row[1], title, "TXPKT/s", "0");
	assert_non_null(strstr(row[1], "[fd00:1234:5678:9abc:def0:1234:5678:9abc]:65535  "));
	free(row[0]), free(row[1]), free(s);

	/* --bits: rates in bits, totals in bytes; a sub-second interval says it extrapolates */
	opts.bits = true;
	snap.interval_s = 0.5;
	snap.nominal_s = 0.5;
	s = table_of(&snap, &opts);
	assert_non_null(strstr(s, "RX 16 kb/s  TX 2.0 Mb/s  RX_TOTAL 9.8 KiB  TX_TOTAL 1.2 MiB  "
				  "(rates in bits per second, extrapolated from the 0.50 s "
				  "interval; totals in bytes since start)"));
	free(title);
	title = line_of(s, "PID  ");
	row[0] = line_of(s, "7 ");
	assert_cell(row[0], title, "RX/s", "16 kb"); /* 999 B in 0.5 s: 15984 b/s */
	assert_cell(row[0], title, "RX_TOTAL", "9.8 KiB");
	assert_cell(row[0], title, "RXPKT/s", "6"); /* 3 packets in 0.5 s */
	free(title), free(row[0]), free(s);

	/* per process: the live view's columns, FLOWS instead of the endpoints */
	opts = (struct fa_text_opts){ .view = { .group = FA_GROUP_PROCESS } };
	s = table_of(&snap, &opts);
	title = line_of(s, "PID  ");
	assert_string_equal(title, "PID      COMM              FLOWS      RX/s      TX/s  RX_TOTAL"
				   "  TX_TOTAL  RXPKT/s  TXPKT/s  CONTAINER/UNIT");
	free(title), free(s);
	/* -r: the widths are those of the rows shown */
	opts = (struct fa_text_opts){ .view = { .sort = FA_SORT_PID }, .rows = 1 };
	s = table_of(&snap, &opts);
	assert_non_null(strstr(s, "\nPID  COMM   PROTO  LOCAL        REMOTE"));
	assert_null(strstr(s, "1234567"));
	free(s);
	free(snap.procs);
}

/* The rate divisor every output uses: never below the nominal interval, never 0 */
static void test_snapshot_rate_secs(void **state)
{
	(void)state;
	assert_true(fa_snapshot_rate_secs(
			    &(struct fa_snapshot){ .interval_s = 0.9997, .nominal_s = 1 }) == 1);
	assert_true(fa_snapshot_rate_secs(&(struct fa_snapshot){ .interval_s = 1.0004,
								 .nominal_s = 1 }) == 1.0004);
	/* cut short (no nominal length): its own length */
	assert_true(fa_snapshot_rate_secs(&(struct fa_snapshot){ .interval_s = 0.3 }) == 0.3);
	assert_true(fa_snapshot_rate_secs(&(struct fa_snapshot){ .interval_s = 0 }) == 1);
}

/* -p with a thread's id: its process, read from the Tgid line of /proc/ID/status */
static void test_pid_of_thread(void **state)
{
	static const char status[] = "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\n"
				     "Tgid:\t1234\nNgid:\t0\nPid:\t1235\nPPid:\t1\n";
	FILE *f = fmemopen((void *)status, sizeof(status) - 1, "r");
	__u32 tgid = 0;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fa_status_tgid(f, &tgid), 0);
	assert_int_equal(tgid, 1234);
	fclose(f);
	f = fmemopen((void *)"Name:\tx\n", 8, "r");
	assert_int_equal(fa_status_tgid(f, &tgid), -EINVAL);
	fclose(f);
	/* this very process, and no process at all */
	assert_int_equal(fa_pid_tgid(getpid(), &tgid), 0);
	assert_int_equal(tgid, getpid());
	assert_int_equal(fa_pid_tgid(0x7ffffffe, &tgid), -ENOENT);
}

static void test_json_render_fields_and_escaping(void **state)
{
	struct fa_flow flows[1] = { mkflow(42, "ev\x1b]0;x\x07\"il", 1234, 10, 20) };
	struct fa_overflow ov[1] = { { .proc = { .pid = 42, .comm = "ev" },
				       .delta = { .rx_bytes = 3, .tx_bytes = 4 },
				       .total = { .rx_bytes = 30, .tx_bytes = 40 } } };
	struct fa_snapshot snap = mksnap(flows, 1, ov, 1);
	json_error_t jerr;
	json_t *root, *f, *p;
	char *s;

	(void)state;
	snap.ts = (struct timespec){ 1700000000, 123456789 };
	snap.interval_s = 1.5;
	snap.backend = "tracepoint";
	snap.drops[FA_DROP_FLOWS_DROPPED] = 3;
	snap.total.rx_bytes = 9;
	s = fa_json_render(&snap);
	assert_non_null(s);
	assert_null(strchr(s, '\x1b'));
	root = json_loads(s, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "ts")),
			    "2023-11-14T22:13:20.123Z");
	assert_int_equal(json_integer_value(
				 json_object_get(json_object_get(root, "drops"), "flows_dropped")),
			 3);
	assert_int_equal(json_object_size(json_object_get(root, "drops")), FA_DROP_MAX);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "totals"),
							    "rx_bytes_total")),
			 9);
	assert_int_equal(json_integer_value(json_object_get(root, "nflows")), 1);
	assert_int_equal(json_integer_value(json_object_get(root, "nprocs")), 1);
	f = json_array_get(json_object_get(root, "flows"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "comm")), "ev\\x1b]0;x\\x07\"il");
	assert_string_equal(json_string_value(json_object_get(f, "laddr")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(f, "lport")), 1234);
	assert_int_equal(json_integer_value(json_object_get(f, "rx_bytes_total")), 100);
	assert_int_equal(json_array_size(json_object_get(root, "overflow")), 1);
	p = json_array_get(json_object_get(root, "processes"), 0);
	assert_int_equal(json_integer_value(json_object_get(p, "rx_bytes")), 13);
	assert_int_equal(json_integer_value(json_object_get(p, "flows")), 1);
	json_decref(root);
	free(s);
	free(snap.procs);
}

/* Runs snap through the -j output into memory: its line, malloc'd; err gets emit's result. */
static char *json_line_of(const struct fa_snapshot *snap, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct fa_output *o = fa_json_open(f);

	assert_non_null(o);
	*err = o->emit(o, snap);
	o->close(o);
	fclose(f);
	return buf;
}

/*
 * A process name with a quote, a backslash, control bytes, DEL and bytes that are not
 * UTF-8 goes through the one JSON generator (fa_json_render and -j alike) as printable
 * ASCII that jansson parses back to exactly what fa_escape makes of it.
 */
static void test_json_hostile_comm_round_trips(void **state)
{
	struct fa_flow flows[1] = { mkflow(7, "q\"b\\c\x01\t\n\x7f\xff\xc3(\xe2\x82", 80, 1, 1) };
	struct fa_snapshot snap = mksnap(flows, 1, NULL, 0);
	char want[FA_ESCAPED_COMM_LEN], *texts[2];
	int err;

	(void)state;
	snap.backend = "fentry";
	snap.interval_s = 1;
	fa_escape(want, sizeof(want), flows[0].proc.comm, sizeof(flows[0].proc.comm));
	/* what the generator itself must escape */
	assert_non_null(strchr(want, '"'));
	assert_non_null(strchr(want, '\\'));
	texts[0] = fa_json_render(&snap);
	texts[1] = json_line_of(&snap, &err);
	assert_int_equal(err, 0);
	for (int i = 0; i < 2; i++) {
		json_error_t jerr;
		json_t *root;

		assert_non_null(texts[i]);
		for (const unsigned char *c = (const unsigned char *)texts[i]; *c; c++)
			assert_true((*c >= 0x20 && *c < 0x7f) || (i == 1 && *c == '\n' && !c[1]));
		root = json_loads(texts[i], JSON_REJECT_DUPLICATES, &jerr);
		if (!root)
			fail_msg("invalid JSON: %s: %s", jerr.text, texts[i]);
		assert_string_equal(
			json_string_value(json_object_get(
				json_array_get(json_object_get(root, "flows"), 0), "comm")),
			want);
		assert_string_equal(
			json_string_value(json_object_get(
				json_array_get(json_object_get(root, "processes"), 0), "comm")),
			want);
		json_decref(root);
		free(texts[i]);
	}
	free(snap.procs);
}

/* interval_s is written as jansson's JSON_REAL_PRECISION(6) wrote it, always a real */
static void test_json_interval_as_before(void **state)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
		{ 1, "\"interval_s\":1.0," },
		{ 0.5, "\"interval_s\":0.5," },
		{ 1.000123456, "\"interval_s\":1.00012," },
		{ 3600, "\"interval_s\":3600.0," },
		{ 1e6, "\"interval_s\":1e6," },
		{ 1e-7, "\"interval_s\":1e-7," },
		{ 0, "\"interval_s\":0.0," },
		{ 2.5e10, "\"interval_s\":2.5e10," },
	};
	struct fa_snapshot snap = { .backend = "kprobe" };
	char *s;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		snap.interval_s = cases[i].v;
		s = fa_json_render(&snap);
		assert_non_null(s);
		if (!strstr(s, cases[i].text))
			fail_msg("%g: no %s in %s", cases[i].v, cases[i].text, s);
		free(s);
	}
	/* a counter past 2^63 stays positive */
	snap.interval_s = 1;
	snap.total.rx_bytes = UINT64_MAX;
	s = fa_json_render(&snap);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"rx_bytes_total\":18446744073709551615,"));
	free(s);
	snap.total.rx_bytes = 0;
	/* JSON has no NaN: an error, not a text that does not parse */
	snap.interval_s = NAN;
	errno = 0;
	assert_null(fa_json_render(&snap));
	assert_int_equal(errno, EINVAL);
}

/* Failures reach the caller: a string that is not UTF-8 (yajl checks), a full disk. */
static void test_json_errors_are_reported(void **state)
{
	struct fa_snapshot snap = { .backend = "\xff", .interval_s = 1 };
	struct fa_output *o;
	FILE *full;

	(void)state;
	errno = 0;
	assert_null(fa_json_render(&snap));
	assert_int_equal(errno, EILSEQ);
	snap.backend = "fentry";
	full = fopen("/dev/full", "w");
	assert_non_null(full);
	o = fa_json_open(full);
	assert_non_null(o);
	assert_int_equal(o->emit(o, &snap), -ENOSPC);
	o->close(o);
	fclose(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_bytes_units),
		cmocka_unit_test(test_fmt_bits_and_count_rate),
		cmocka_unit_test(test_fmt_u64),
		cmocka_unit_test(test_fmt_endpoint_families),
		cmocka_unit_test(test_escape_hostile_bytes),
		cmocka_unit_test(test_view_sort_keys),
		cmocka_unit_test(test_view_top_rows_match_full_sort),
		cmocka_unit_test(test_processes_add_up_flows_and_overflow),
		cmocka_unit_test(test_view_filter_and_active),
		cmocka_unit_test(test_view_filter_terms),
		cmocka_unit_test(test_view_groups_by_cgroup_names),
		cmocka_unit_test(test_view_sorts_by_retrans_and_rtt),
		cmocka_unit_test(test_unmatched_packets_are_no_process),
		cmocka_unit_test(test_cli_options),
		cmocka_unit_test(test_cli_rejects_bad_input),
		cmocka_unit_test(test_view_sort_rate_and_total),
		cmocka_unit_test(test_cli_top_style_options),
		cmocka_unit_test(test_cli_json_refuses_table_options),
		cmocka_unit_test(test_cli_value_is_not_an_option),
		cmocka_unit_test(test_text_table_columns_and_rates),
		cmocka_unit_test(test_snapshot_rate_secs),
		cmocka_unit_test(test_pid_of_thread),
		cmocka_unit_test(test_json_render_fields_and_escaping),
		cmocka_unit_test(test_json_hostile_comm_round_trips),
		cmocka_unit_test(test_json_interval_as_before),
		cmocka_unit_test(test_json_errors_are_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
