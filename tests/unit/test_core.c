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
		{ FA_SORT_RX, false, { 10, 30, 20 } },	  { FA_SORT_TX, false, { 20, 30, 10 } },
		{ FA_SORT_TOTAL, false, { 20, 30, 10 } }, { FA_SORT_PID, false, { 10, 20, 30 } },
		{ FA_SORT_COMM, false, { 10, 30, 20 } },  { FA_SORT_PID, true, { 30, 20, 10 } },
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
	struct fa_view_opts view = { .group = group };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct fa_output *o = fa_text_open(f, &view, 0);

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
	assert_null(strstr(s, "(0 flows)"));
	assert_null(strstr(s, "no process"));
	assert_non_null(strstr(s, "(1 flows)"));
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
	assert_true(cfg.interval_s == 1 && cfg.count == 0 && cfg.view.sort == FA_SORT_TOTAL);
	assert_int_equal(cfg.kernel.want, FA_WANT_IPV4 | FA_WANT_IPV6 | FA_WANT_TCP | FA_WANT_UDP);
	assert_int_equal(parse(&cfg, &err, "-j", "-p", "12", "--pid", "34", "-6", "--udp", "--by",
			       "process", "-s", "rx", "-r", "5", "--backend", "kprobe",
			       "--max-flows", "64", "0.5", "7", NULL),
			 FA_CLI_RUN);
	assert_true(cfg.json && cfg.kernel.npids == 2 && cfg.pids[0] == 12 && cfg.pids[1] == 34);
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
		cmocka_unit_test(test_fmt_u64),
		cmocka_unit_test(test_fmt_endpoint_families),
		cmocka_unit_test(test_escape_hostile_bytes),
		cmocka_unit_test(test_view_sort_keys),
		cmocka_unit_test(test_view_top_rows_match_full_sort),
		cmocka_unit_test(test_processes_add_up_flows_and_overflow),
		cmocka_unit_test(test_view_filter_and_active),
		cmocka_unit_test(test_view_groups_by_cgroup_names),
		cmocka_unit_test(test_view_sorts_by_retrans_and_rtt),
		cmocka_unit_test(test_unmatched_packets_are_no_process),
		cmocka_unit_test(test_cli_options),
		cmocka_unit_test(test_cli_rejects_bad_input),
		cmocka_unit_test(test_json_render_fields_and_escaping),
		cmocka_unit_test(test_json_hostile_comm_round_trips),
		cmocka_unit_test(test_json_interval_as_before),
		cmocka_unit_test(test_json_errors_are_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
