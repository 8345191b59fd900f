// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The /metrics page of synthetic snapshots: exposition format, monotonic counters, hostile
 * process names in labels, and the same names in the JSON output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "log.h"
#include "output.h"
#include "prom_render.h"
#include "util.h"

/* 16 bytes a process can give itself with prctl(PR_SET_NAME): quote, backslash, newline,
 * a terminal escape sequence and bytes that are not UTF-8. */
static const char hostile_comm[FA_COMM_LEN] = "a\"b\\c\nd\x1b[31m\xff\xfe}";

/* A row as a test describes it; snapshot_of() sorts rows into the snapshot's arrays. */
enum row_kind { ROW_FLOW, ROW_OVERFLOW, ROW_UNMATCHED };

struct row {
	enum row_kind kind;
	struct fa_flow f; /* overflow rows use f.proc and the counts, unmatched f.tuple */
};

static struct row flow_row(__u32 pid, const char *comm, __u8 proto, __u16 lport, __u64 rx_total,
			   __u64 rx_delta)
{
	struct row r = { .kind = ROW_FLOW, .f.proc.uid = 1000 };

	r.f.proc.pid = pid;
	r.f.tuple.proto = proto;
	r.f.tuple.family = FA_FAMILY_IPV4;
	r.f.tuple.laddr[0] = 127;
	r.f.tuple.laddr[3] = 1;
	r.f.tuple.raddr[0] = 10;
	r.f.tuple.raddr[3] = 9;
	r.f.tuple.lport = lport;
	r.f.tuple.rport = 443;
	memcpy(r.f.proc.comm, comm, strnlen(comm, FA_COMM_LEN));
	r.f.total.rx_bytes = rx_total;
	r.f.delta.rx_bytes = rx_delta;
	r.f.total.tx_bytes = 2 * rx_total;
	r.f.delta.tx_bytes = 2 * rx_delta;
	r.f.total.rx_calls = 1;
	return r;
}

#define MAX_ROWS 8
static struct fa_flow flows_buf[MAX_ROWS];
static struct fa_overflow overflow_buf[MAX_ROWS];
static struct fa_unmatched unmatched_buf[MAX_ROWS];
static struct fa_proc *procs_buf; /* the last snapshot's, freed by the next */
static struct fa_cgroup_info cgroups_buf[MAX_ROWS]; /* by id, as the snapshot's */
static size_t ncgroups;

/* A known cgroup, ids increasing: a container named name, or the systemd unit name. */
static void cgroup_add(__u64 id, enum fa_cg_kind kind, const char *name)
{
	struct fa_cgroup_info *cg = &cgroups_buf[ncgroups++];

	assert_true(ncgroups <= MAX_ROWS && (ncgroups == 1 || cg[-1].id < id));
	memset(cg, 0, sizeof(*cg));
	cg->id = id;
	cg->known = true;
	cg->name.kind = kind;
	if (kind == FA_CG_SERVICE)
		strncpy(cg->name.unit, name, sizeof(cg->name.unit) - 1);
	else
		strncpy(cg->container, name, sizeof(cg->container) - 1);
}

static struct fa_snapshot snapshot_of(const struct row *rows, size_t n)
{
	struct fa_snapshot s = { .backend = "fentry", .interval_s = 1.0 };

	assert_true(n <= MAX_ROWS);
	s.ts.tv_sec = 1700000000;
	s.flows = flows_buf;
	s.overflow = overflow_buf;
	s.unmatched = unmatched_buf;
	s.cgroups = cgroups_buf;
	s.ncgroups = ncgroups;
	for (size_t i = 0; i < n; i++) {
		const struct fa_flow *f = &rows[i].f;

		fa_counts_add(&s.total, &f->total);
		switch (rows[i].kind) {
		case ROW_FLOW:
			flows_buf[s.nflows++] = *f;
			break;
		case ROW_OVERFLOW:
			overflow_buf[s.noverflow++] = (struct fa_overflow){ .proc = f->proc,
									    .delta = f->delta,
									    .total = f->total };
			break;
		case ROW_UNMATCHED:
			unmatched_buf[s.nunmatched++] = (struct fa_unmatched){ .tuple = f->tuple,
									       .delta = f->delta,
									       .total = f->total };
			break;
		}
	}
	free(procs_buf);
	assert_int_equal(fa_snapshot_aggregate(&s), 0);
	procs_buf = s.procs;
	return s;
}

static char *render_opts(struct fa_prom_state *st, const struct fa_snapshot *snap,
			 const struct fa_prom_opts *opts)
{
	size_t len = 0;
	char *page = fa_prom_render(st, snap, opts, &len);

	assert_non_null(page);
	assert_int_equal(len, strlen(page));
	return page;
}

/* The page with per-process series (--prometheus-pids), as the older tests expect. */
static char *render(struct fa_prom_state *st, const struct fa_snapshot *snap, bool flows)
{
	const struct fa_prom_opts opts = { .flows = flows, .pids = true, .max_names = 256 };

	return render_opts(st, snap, &opts);
}

/* The default page: process series by name, container and unit. */
static char *render_default(struct fa_prom_state *st, const struct fa_snapshot *snap,
			    unsigned max_names)
{
	const struct fa_prom_opts opts = { .max_names = max_names };

	return render_opts(st, snap, &opts);
}

/* The value of the sample whose line starts with `prefix` (name and labels); -1: none. */
static long long sample(const char *page, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = page; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, prefix, n) && l[n] == ' ')
			return strtoll(l + n + 1, NULL, 10);
	}
	return -1;
}

/* Label value as written in the page → the string it stands for. NULL: bad escape. */
static char *unescape_label(const char *v, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (v[i] != '\\') {
			*o++ = v[i];
			continue;
		}
		if (++i == len)
			goto bad;
		if (v[i] == '\\' || v[i] == '"')
			*o++ = v[i];
		else if (v[i] == 'n')
			*o++ = '\n';
		else
			goto bad;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/*
 * Checks the page line by line against the text format 0.0.4: every sample belongs to the
 * family of the last # TYPE (declared once, after its # HELP), label values are quoted
 * with only the three escapes the format knows, the value is a number, no series twice.
 */
static void assert_exposition(const char *page)
{
	char family[256] = "", seen[64][256], type[32] = "";
	char *copy = strdup(page), *save = NULL;
	char **series = calloc(strlen(page) + 1, sizeof(char *));
	size_t nseries = 0, nseen = 0;

	assert_true(page[strlen(page) - 1] == '\n');
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[256], *p = l;
		size_t n = 0;

		if (!strncmp(l, "# HELP ", 7)) {
			continue;
		} else if (!strncmp(l, "# TYPE ", 7)) {
			assert_int_equal(sscanf(l, "# TYPE %255s %31s", family, type), 2);
			assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
				    !strcmp(type, "histogram"));
			for (size_t i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], family);
			assert_true(nseen < 64);
			strcpy(seen[nseen++], family);
			continue;
		}
		assert_true(l[0] != '#');
		while (name_char(*p, p == l))
			name[n++] = *p++;
		name[n] = '\0';
		if (!strcmp(type, "histogram")) { /* family_bucket, family_sum, family_count */
			size_t fl = strlen(family);

			assert_memory_equal(name, family, fl);
			assert_true(!strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") ||
				    !strcmp(name + fl, "_count"));
		} else {
			assert_string_equal(name, family);
		}
		if (*p == '{') {
			p++;
			while (*p != '}') {
				char *v, *u;

				assert_true(name_char(*p, true));
				while (name_char(*p, false))
					p++;
				assert_int_equal(*p++, '=');
				assert_int_equal(*p++, '"');
				v = p;
				while (*p && *p != '"')
					p += *p == '\\' ? 2 : 1;
				assert_int_equal(*p, '"');
				u = unescape_label(v, p - v);
				assert_non_null(u);
				free(u);
				p++;
				if (*p == ',')
					p++;
			}
			p++;
		}
		assert_int_equal(*p, ' ');
		series[nseries++] = strndup(l, p - l);
		char *end;

		strtod(p + 1, &end);
		assert_true(end != p + 1 && *end == '\0');
	}
	for (size_t i = 0; i < nseries; i++) {
		for (size_t j = i + 1; j < nseries; j++)
			assert_string_not_equal(series[i], series[j]);
	}
	for (size_t i = 0; i < nseries; i++)
		free(series[i]);
	free(series);
	free(copy);
}

/* pid 42: two TCP flows, a UDP one, and bytes of flows that did not fit (overflow). */
static size_t curl_rows(struct row rows[4])
{
	rows[0] = flow_row(42, "curl", FA_PROTO_TCP, 5000, 100, 100);
	rows[1] = flow_row(42, "curl", FA_PROTO_TCP, 5001, 50, 50);
	rows[2] = flow_row(42, "curl", FA_PROTO_UDP, 5002, 7, 7);
	rows[3] = (struct row){ .kind = ROW_OVERFLOW,
				.f.proc = { .pid = 42, .comm = "curl", .uid = 1000 },
				.f.total.rx_bytes = 9,
				.f.delta.rx_bytes = 9 };
	return 4;
}

static void test_page_is_valid_exposition_format(void **state)
{
	struct row rows[6];
	struct fa_snapshot snap;
	struct fa_prom_state *st = fa_prom_state_new();
	char *page;

	(void)state;
	curl_rows(rows);
	rows[4] = flow_row(43, hostile_comm, FA_PROTO_TCP, 5003, 1, 1);
	rows[5] = (struct row){ .kind = ROW_UNMATCHED,
				.f.tuple.proto = FA_PROTO_UDP,
				.f.total.rx_packets = 3 };
	snap = snapshot_of(rows, 6);
	snap.packets = true;
	page = render(st, &snap, true);
	assert_exposition(page);
	free(page);
	snap.packets = false;
	page = render(st, &snap, false);
	assert_exposition(page);
	free(page);
	fa_prom_state_free(st);
}

static void test_process_series_add_up_flows_by_protocol(void **state)
{
	struct row rows[4];
	struct fa_snapshot snap = snapshot_of(rows, curl_rows(rows));
	struct fa_prom_state *st = fa_prom_state_new();
	char *page = render(st, &snap, false);

	(void)state;
	assert_int_equal(sample(page, "flowacct_process_rx_bytes_total{pid=\"42\",uid=\"1000\","
				      "comm=\"curl\",container=\"\",service=\"\",proto=\"tcp\"}"),
			 150);
	assert_int_equal(sample(page, "flowacct_process_tx_bytes_total{pid=\"42\",uid=\"1000\","
				      "comm=\"curl\",container=\"\",service=\"\",proto=\"tcp\"}"),
			 300);
	assert_int_equal(sample(page, "flowacct_process_rx_bytes_total{pid=\"42\",uid=\"1000\","
				      "comm=\"curl\",container=\"\",service=\"\",proto=\"udp\"}"),
			 7);
	assert_int_equal(sample(page,
				"flowacct_process_rx_bytes_total{pid=\"42\",uid=\"1000\","
				"comm=\"curl\",container=\"\",service=\"\",proto=\"unknown\"}"),
			 9);
	assert_int_equal(sample(page, "flowacct_process_rx_calls_total{pid=\"42\",uid=\"1000\","
				      "comm=\"curl\",container=\"\",service=\"\",proto=\"tcp\"}"),
			 2);
	assert_int_equal(sample(page, "flowacct_rx_bytes_total"), 166);
	free(page);
	fa_prom_state_free(st);
}

static void test_counters_stay_monotonic_when_flows_leave(void **state)
{
	const char *tcp = "flowacct_process_rx_bytes_total{pid=\"42\",uid=\"1000\",comm=\"curl\","
			  "container=\"\",service=\"\",proto=\"tcp\"}";
	struct row rows[] = {
		flow_row(42, "curl", FA_PROTO_TCP, 5000, 100, 100),
		flow_row(42, "curl", FA_PROTO_TCP, 5001, 50, 50),
	};
	struct fa_snapshot snap = snapshot_of(rows, 2);
	struct fa_prom_state *st = fa_prom_state_new();
	char *page = render(st, &snap, false);

	(void)state;
	assert_int_equal(sample(page, tcp), 150);
	free(page);

	/* the 50-byte flow closed and left the table; the process's counter must not drop */
	rows[0] = flow_row(42, "curl", FA_PROTO_TCP, 5000, 110, 10);
	snap = snapshot_of(rows, 1);
	page = render(st, &snap, false);
	assert_int_equal(sample(page, tcp), 160);
	free(page);

	/* a new flow appears with bytes from before it was first seen: never below its total */
	rows[1] = flow_row(42, "curl", FA_PROTO_TCP, 5009, 500, 20);
	snap = snapshot_of(rows, 2);
	page = render(st, &snap, false);
	assert_int_equal(sample(page, tcp), 610);
	free(page);

	/* the process left the snapshot: its series leaves the page */
	snap = snapshot_of(rows, 0);
	page = render(st, &snap, false);
	assert_int_equal(sample(page, tcp), -1);
	assert_non_null(strstr(page, "# TYPE flowacct_process_rx_bytes_total counter\n"));
	free(page);
	fa_prom_state_free(st);
}

static void test_flow_series_only_when_asked(void **state)
{
	struct row rows[] = { flow_row(42, "curl", FA_PROTO_TCP, 5000, 100, 100) };
	struct fa_snapshot snap = snapshot_of(rows, 1);
	struct fa_prom_state *st = fa_prom_state_new();
	char *page = render(st, &snap, false);

	(void)state;
	assert_null(strstr(page, "flowacct_flow_rx_bytes_total"));
	free(page);
	page = render(st, &snap, true);
	assert_int_equal(
		sample(page,
		       "flowacct_flow_rx_bytes_total{pid=\"42\",uid=\"1000\","
		       "comm=\"curl\",container=\"\",service=\"\",proto=\"tcp\",family=\"ipv4\","
		       "laddr=\"127.0.0.1\",lport=\"5000\",raddr=\"10.0.0.9\","
		       "rport=\"443\"}"),
		100);
	free(page);
	fa_prom_state_free(st);
}

static void test_packet_series_only_with_packets(void **state)
{
	struct row rows[] = {
		flow_row(42, "curl", FA_PROTO_TCP, 5000, 100, 100),
		{ .kind = ROW_UNMATCHED, .f.tuple.proto = FA_PROTO_UDP, .f.total.rx_packets = 3 },
		{ .kind = ROW_UNMATCHED, .f.tuple.proto = FA_PROTO_UDP, .f.total.rx_packets = 4 },
	};
	struct fa_snapshot snap = snapshot_of(rows, 3);
	struct fa_prom_state *st = fa_prom_state_new();
	char *page = render(st, &snap, false);

	(void)state;
	assert_null(strstr(page, "packets_total{"));
	assert_null(strstr(page, "flowacct_unmatched_"));
	assert_non_null(strstr(page, "packets=\"false\""));
	free(page);
	rows[0].f.total.tx_packets = 5;
	snap = snapshot_of(rows, 3);
	snap.packets = true;
	page = render(st, &snap, false);
	assert_int_equal(sample(page, "flowacct_unmatched_rx_packets_total{proto=\"udp\"}"), 7);
	assert_int_equal(sample(page, "flowacct_process_tx_packets_total{pid=\"42\",uid=\"1000\","
				      "comm=\"curl\",container=\"\",service=\"\",proto=\"tcp\"}"),
			 5);
	/* unmatched packets are not a process */
	assert_null(strstr(page, "pid=\"0\""));
	free(page);
	fa_prom_state_free(st);
}

static void test_loss_counters_and_build_info(void **state)
{
	struct fa_snapshot snap = snapshot_of(NULL, 0);
	struct fa_prom_state *st = fa_prom_state_new();
	char name[128], *page;

	(void)state;
	for (int i = 0; i < FA_DROP_MAX; i++)
		snap.drops[i] = 1000 + i;
	/* rows the render reads (idle ones): the gauge counts them */
	memset(flows_buf, 0, sizeof(flows_buf));
	snap.nflows = MAX_ROWS;
	snap.nprocs = 3;
	page = render(st, &snap, false);
	for (int i = 0; i < FA_DROP_MAX; i++) {
		char help[512];

		snprintf(name, sizeof(name), "flowacct_%s_total", fa_drop_descs[i].name);
		assert_int_equal(sample(page, name), 1000 + i);
		/* each its own HELP: a generic one once shipped for packets_table_full */
		snprintf(help, sizeof(help), "# HELP %s %s.\n", name, fa_drop_descs[i].help);
		if (!strstr(page, help))
			fail_msg("no \"%s\" on the page", help);
	}
	assert_null(strstr(page, "Loss counter."));
	assert_non_null(strstr(page, "# HELP flowacct_packets_table_full_total --packets: "));
	assert_int_equal(sample(page, "flowacct_flows"), MAX_ROWS);
	assert_int_equal(sample(page, "flowacct_processes"), 3);
	snprintf(name, sizeof(name),
		 "flowacct_build_info{version=\"%s\",backend=\"fentry\","
		 "packets=\"false\"}",
		 FA_VERSION);
	assert_int_equal(sample(page, name), 1);
	free(page);
	fa_prom_state_free(st);
}

/* Finds comm="..." of the series of pid 43 and returns the string it stands for. */
static char *comm_of_pid43(const char *page)
{
	const char *p = strstr(page, "{pid=\"43\",uid=\"1000\",comm=\""), *v, *e;

	assert_non_null(p);
	v = strstr(p, "comm=\"") + 6;
	for (e = v; *e != '"'; e += *e == '\\' ? 2 : 1)
		assert_true(*e);
	return unescape_label(v, e - v);
}

static void test_hostile_comm_is_escaped_in_labels(void **state)
{
	struct row rows[] = { flow_row(43, hostile_comm, FA_PROTO_TCP, 5003, 1, 1) };
	struct fa_snapshot snap = snapshot_of(rows, 1);
	struct fa_prom_state *st = fa_prom_state_new();
	char want[FA_ESCAPED_COMM_LEN], *page, *got;

	(void)state;
	fa_escape(want, sizeof(want), hostile_comm, sizeof(hostile_comm));
	assert_string_equal(want, "a\"b\\\\c\\x0ad\\x1b[31m\\xff\\xfe}");
	page = render(st, &snap, true);
	/* on the page: fa_escape's output, then the exposition's own quoting */
	assert_non_null(strstr(page, "comm=\"a\\\"b\\\\\\\\c\\\\x0ad\\\\x1b[31m\\\\xff\\\\xfe}\""));
	got = comm_of_pid43(page);
	assert_string_equal(got, want);
	for (const unsigned char *c = (const unsigned char *)page; *c; c++)
		assert_true(*c == '\n' || (*c >= 0x20 && *c < 0x7f));
	free(got);
	free(page);
	fa_prom_state_free(st);
}

static void test_escape_label_never_splits_an_escape(void **state)
{
	char buf[5];

	(void)state;
	assert_string_equal(fa_prom_escape_label(buf, sizeof(buf), "a\"b"), "a\\\"b");
	assert_string_equal(fa_prom_escape_label(buf, sizeof(buf), "ab\\c"), "ab\\\\");
	assert_string_equal(fa_prom_escape_label(buf, sizeof(buf), "abc\n"), "abc");
	assert_string_equal(fa_prom_escape_label(buf, sizeof(buf), "x\ny"), "x\\ny");
}

static void test_hostile_comm_round_trips_through_json(void **state)
{
	struct row rows[] = { flow_row(43, hostile_comm, FA_PROTO_TCP, 5003, 1, 1) };
	struct fa_snapshot snap = snapshot_of(rows, 1);
	char want[FA_ESCAPED_COMM_LEN], *text;
	json_error_t jerr;
	json_t *root, *procs, *flows;

	(void)state;
	fa_escape(want, sizeof(want), hostile_comm, sizeof(hostile_comm));
	text = fa_json_render(&snap);
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	root = json_loads(text, 0, &jerr);
	if (!root)
		fail_msg("fa_json_render made invalid JSON: %s: %s", jerr.text, text);
	flows = json_object_get(root, "flows");
	procs = json_object_get(root, "processes");
	assert_int_equal(json_array_size(flows), 1);
	assert_int_equal(json_array_size(procs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(flows, 0), "comm")),
			    want);
	assert_string_equal(json_string_value(json_object_get(json_array_get(procs, 0), "comm")),
			    want);
	json_decref(root);
	free(text);
}

static void test_listen_address_errors_say_why(void **state)
{
	static const struct {
		const char *listen, *why;
	} bad[] = {
		{ "80000", "1..65535" },
		{ "0", "1..65535" },
		{ "http", "1..65535" },
		{ "127.0.0.1:", "1..65535" },
		{ "::1:9100", "brackets" },
		{ ":9100", "give an address" },
		{ "[::1]9100", "[IPV6]:PORT" },
		{ "[::1:9100", "[IPV6]:PORT" },
		{ "[127.0.0.1]:9100", "127.0.0.1" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct fa_err err = {};
		struct fa_output *o = NULL;
		const struct fa_prom_opts opts = { .max_names = 256 };
		int rc = fa_prom_open(bad[i].listen, &opts, NULL, &o, &err);

		if (o)
			o->close(o);
		assert_null(o);
		assert_true(rc < 0);
#ifdef FA_NO_HTTP
		assert_non_null(strstr(err.msg, "static build"));
#else
		if (!strstr(err.msg, bad[i].why))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].listen, err.msg,
				 bad[i].why);
#endif
	}
}

/* A flow of pid in cgroup cg: rx_total bytes received, twice that sent. */
static struct row cg_row(__u32 pid, const char *comm, __u64 cg, __u16 lport, __u64 rx_total,
			 __u64 rx_delta)
{
	struct row r = flow_row(pid, comm, FA_PROTO_TCP, lport, rx_total, rx_delta);

	r.f.proc.cgroup_id = cg;
	return r;
}

/* How many samples' lines start with prefix. */
static int count_lines(const char *page, const char *prefix)
{
	int n = 0;

	for (const char *l = page; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		n += !strncmp(l, prefix, strlen(prefix));
	return n;
}

#define NGINX_WEB "comm=\"nginx\",container=\"web\",service=\"\""

static void test_same_name_in_one_container_is_one_series_of_the_sum(void **state)
{
	struct row rows[] = {
		cg_row(42, "nginx", 100, 5000, 100, 100),
		cg_row(43, "nginx", 100, 5001, 250, 250),
		cg_row(43, "nginx", 100, 5002, 1, 1),
		/* pid 43 moved to a service's cgroup: those bytes are the service's */
		cg_row(43, "nginx", 101, 5003, 40, 40),
		{ .kind = ROW_OVERFLOW,
		  .f.proc = { .pid = 44, .comm = "nginx", .cgroup_id = 100 },
		  .f.total.rx_bytes = 9,
		  .f.delta.rx_bytes = 9 },
	};
	struct fa_prom_state *st = fa_prom_state_new();
	struct fa_snapshot snap;
	char *page;

	(void)state;
	ncgroups = 0;
	cgroup_add(100, FA_CG_DOCKER, "web");
	cgroup_add(101, FA_CG_SERVICE, "nginx.service");
	snap = snapshot_of(rows, ARRAY_SIZE(rows));
	page = render_default(st, &snap, 256);
	assert_exposition(page);
	assert_int_equal(
		sample(page, "flowacct_process_rx_bytes_total{" NGINX_WEB ",proto=\"tcp\"}"), 351);
	assert_int_equal(
		sample(page, "flowacct_process_tx_bytes_total{" NGINX_WEB ",proto=\"tcp\"}"), 702);
	assert_int_equal(
		sample(page, "flowacct_process_rx_bytes_total{" NGINX_WEB ",proto=\"unknown\"}"),
		9);
	assert_int_equal(sample(page,
				"flowacct_process_rx_bytes_total{comm=\"nginx\",container=\"\","
				"service=\"nginx.service\",proto=\"tcp\"}"),
			 40);
	/* three processes, two cgroups, two parts: three series, none per pid */
	assert_int_equal(count_lines(page, "flowacct_process_rx_bytes_total{"), 3);
	assert_null(strstr(page, "pid=\""));
	free(page);
	fa_prom_state_free(st);
	ncgroups = 0;
}

static void test_name_series_outlive_their_processes_and_stay_monotonic(void **state)
{
	const char *rx = "flowacct_process_rx_bytes_total{comm=\"curl\",container=\"web\","
			 "service=\"\",proto=\"tcp\"}";
	struct row rows[2] = {
		cg_row(42, "curl", 100, 5000, 100, 100),
		cg_row(43, "curl", 100, 5001, 50, 50),
	};
	struct fa_prom_state *st = fa_prom_state_new();
	struct fa_snapshot snap;
	char *page;

	(void)state;
	ncgroups = 0;
	cgroup_add(100, FA_CG_DOCKER, "web");
	snap = snapshot_of(rows, 2);
	page = render_default(st, &snap, 256);
	assert_int_equal(sample(page, rx), 150);
	free(page);

	/* pid 43 left (its 50 bytes with it), pid 42 moved 10 more: 160, not 110 */
	rows[0] = cg_row(42, "curl", 100, 5000, 110, 10);
	snap = snapshot_of(rows, 1);
	page = render_default(st, &snap, 256);
	assert_int_equal(sample(page, rx), 160);
	free(page);

	/* every curl left: the series stays, at its value */
	for (int i = 0; i < 2; i++) {
		snap = snapshot_of(rows, 0);
		page = render_default(st, &snap, 256);
		assert_int_equal(sample(page, rx), 160);
		assert_exposition(page);
		free(page);
	}

	/* a new curl in the same container adds to it */
	rows[0] = cg_row(50, "curl", 100, 6000, 30, 30);
	snap = snapshot_of(rows, 1);
	page = render_default(st, &snap, 256);
	assert_int_equal(sample(page, rx), 190);
	free(page);
	rows[0] = cg_row(50, "curl", 100, 6000, 35, 5);
	snap = snapshot_of(rows, 1);
	page = render_default(st, &snap, 256);
	assert_int_equal(sample(page, rx), 195);
	free(page);
	fa_prom_state_free(st);
	ncgroups = 0;
}

#define FOLDED(label) "flowacct_prometheus_folded_label_values{label=\"" label "\"}"
#define APP_IN(ctr)                                                                                \
	"flowacct_process_rx_bytes_total{comm=\"app\",container=\"" ctr "\",service=\"\","         \
	"proto=\"tcp\"}"

static void test_names_beyond_the_cap_fold_into_other(void **state)
{
	struct row rows[4] = {
		cg_row(1, "app", 100, 5000, 10, 10),
		cg_row(2, "app", 101, 5001, 20, 20),
	};
	struct fa_prom_state *st = fa_prom_state_new();
	struct fa_snapshot snap;
	char *page;

	(void)state;
	ncgroups = 0;
	cgroup_add(100, FA_CG_DOCKER, "a");
	cgroup_add(101, FA_CG_DOCKER, "b");
	cgroup_add(102, FA_CG_DOCKER, "c");
	cgroup_add(103, FA_CG_DOCKER, "d");
	snap = snapshot_of(rows, 2);
	page = render_default(st, &snap, 2);
	assert_int_equal(sample(page, APP_IN("a")), 10);
	assert_int_equal(sample(page, APP_IN("b")), 20);
	assert_int_equal(sample(page, FOLDED("container")), 0);
	assert_int_equal(sample(page, FOLDED("comm")), 0);
	assert_int_equal(sample(page, FOLDED("service")), 0);
	free(page);

	/* a third container: its bytes counted under "(other)", the first two stay */
	rows[0] = cg_row(1, "app", 100, 5000, 10, 0);
	rows[1] = cg_row(2, "app", 101, 5001, 20, 0);
	rows[2] = cg_row(3, "app", 102, 5002, 40, 40);
	snap = snapshot_of(rows, 3);
	page = render_default(st, &snap, 2);
	assert_exposition(page);
	assert_int_equal(sample(page, APP_IN("a")), 10);
	assert_int_equal(sample(page, APP_IN("b")), 20);
	assert_int_equal(sample(page, APP_IN("(other)")), 40);
	assert_int_equal(sample(page, APP_IN("c")), -1);
	assert_int_equal(sample(page, FOLDED("container")), 1);
	assert_int_equal(sample(page, FOLDED("comm")), 0);
	free(page);

	/* a fourth adds to "(other)" and to the count; c seen again is not counted twice */
	rows[2] = cg_row(3, "app", 102, 5002, 45, 5);
	rows[3] = cg_row(4, "app", 103, 5003, 100, 100);
	snap = snapshot_of(rows, 4);
	page = render_default(st, &snap, 2);
	assert_int_equal(sample(page, APP_IN("(other)")), 145);
	assert_int_equal(sample(page, FOLDED("container")), 2);
	free(page);
	fa_prom_state_free(st);

	/* new names of one snapshot are admitted in sorted order, whatever the row order */
	st = fa_prom_state_new();
	rows[0] = cg_row(1, "zeta", 103, 5000, 1, 1);
	rows[1] = cg_row(2, "beta", 103, 5001, 2, 2);
	rows[2] = cg_row(3, "alpha", 103, 5002, 4, 4);
	snap = snapshot_of(rows, 3);
	page = render_default(st, &snap, 2);
	assert_int_equal(sample(page,
				"flowacct_process_rx_bytes_total{comm=\"alpha\",container=\"d\","
				"service=\"\",proto=\"tcp\"}"),
			 4);
	assert_int_equal(sample(page,
				"flowacct_process_rx_bytes_total{comm=\"beta\",container=\"d\","
				"service=\"\",proto=\"tcp\"}"),
			 2);
	assert_int_equal(sample(page, "flowacct_process_rx_bytes_total{comm=\"(other)\",container="
				      "\"d\",service=\"\",proto=\"tcp\"}"),
			 1);
	assert_int_equal(sample(page, FOLDED("comm")), 1);
	free(page);
	fa_prom_state_free(st);
	ncgroups = 0;
}

/* The value of label `name` in the first line that starts with prefix, unescaped. */
static char *label_of(const char *page, const char *prefix, const char *name)
{
	char key[64];
	const char *l = strstr(page, prefix), *v, *e;

	assert_non_null(l);
	snprintf(key, sizeof(key), ",%s=\"", name);
	v = strstr(l, key);
	assert_non_null(v);
	v += strlen(key);
	for (e = v; *e != '"'; e += *e == '\\' ? 2 : 1)
		assert_true(*e && *e != '\n');
	return unescape_label(v, e - v);
}

static void test_hostile_container_and_unit_names_are_escaped(void **state)
{
	static const char hostile[] = "q\"b\\s\n\x1b[1m\xffz";
	char longest[FA_RT_NAME_LEN], want[FA_RT_NAME_LEN * 4 + 1], *page, *got;
	struct row rows[] = {
		cg_row(42, "a", 100, 5000, 1, 1),
		cg_row(43, "b", 101, 5001, 2, 2),
		cg_row(44, "c", 102, 5002, 3, 3),
	};
	const struct fa_prom_opts modes[] = {
		{ .max_names = 256 },
		{ .flows = true, .max_names = 256 },
		{ .flows = true, .pids = true, .max_names = 256 },
	};

	(void)state;
	/* the longest name, every byte escaped to four: never cut */
	memset(longest, 0xff, sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	ncgroups = 0;
	cgroup_add(100, FA_CG_DOCKER, hostile);
	cgroup_add(101, FA_CG_SERVICE, hostile);
	cgroup_add(102, FA_CG_CRI, longest);
	for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
		struct fa_prom_state *st = fa_prom_state_new();
		struct fa_snapshot snap = snapshot_of(rows, ARRAY_SIZE(rows));

		page = render_opts(st, &snap, &modes[m]);
		assert_exposition(page);
		for (const unsigned char *c = (const unsigned char *)page; *c; c++)
			assert_true(*c == '\n' || (*c >= 0x20 && *c < 0x7f));
		fa_escape(want, sizeof(want), hostile, strlen(hostile));
		assert_string_equal(want, "q\"b\\\\s\\x0a\\x1b[1m\\xffz");
		got = label_of(page, "flowacct_process_rx_bytes_total{", "container");
		assert_string_equal(got, want);
		free(got);
		got = label_of(page,
			       modes[m].pids ? "flowacct_process_rx_bytes_total{pid=\"43\""
					     : "flowacct_process_rx_bytes_total{comm=\"b\"",
			       "service");
		assert_string_equal(got, want);
		free(got);
		fa_escape(want, sizeof(want), longest, strlen(longest));
		assert_int_equal(strlen(want), 4 * (FA_RT_NAME_LEN - 1));
		got = label_of(page,
			       modes[m].flows ? "flowacct_flow_rx_bytes_total{pid=\"44\""
					      : "flowacct_process_rx_bytes_total{comm=\"c\"",
			       "container");
		assert_string_equal(got, want);
		free(got);
		free(page);
		fa_prom_state_free(st);
	}
	ncgroups = 0;
}

static void test_pid_labels_only_with_prometheus_pids(void **state)
{
	struct row rows[] = { cg_row(42, "curl", 100, 5000, 100, 100) };
	struct fa_prom_state *st = fa_prom_state_new(), *st_pids = fa_prom_state_new();
	struct fa_snapshot snap;
	char *page;

	(void)state;
	ncgroups = 0;
	cgroup_add(100, FA_CG_PODMAN, "web");
	snap = snapshot_of(rows, 1);
	page = render_default(st, &snap, 256);
	assert_null(strstr(page, "pid=\""));
	assert_null(strstr(page, "uid=\""));
	assert_int_equal(sample(page, "flowacct_process_rx_bytes_total{comm=\"curl\",container="
				      "\"web\",service=\"\",proto=\"tcp\"}"),
			 100);
	free(page);
	page = render(st_pids, &snap, false);
	assert_int_equal(sample(page,
				"flowacct_process_rx_bytes_total{pid=\"42\",uid=\"1000\","
				"comm=\"curl\",container=\"web\",service=\"\",proto=\"tcp\"}"),
			 100);
	assert_null(strstr(page, "flowacct_process_rx_bytes_total{comm="));
	free(page);
	fa_prom_state_free(st);
	fa_prom_state_free(st_pids);
	ncgroups = 0;
}

/*
 * TCP health: its counters per process where the snapshot has it (absent otherwise), and
 * the RTT histogram: one observation per TCP flow that moved, in the documented buckets.
 */
static void test_tcp_health_counters_and_rtt_histogram(void **state)
{
	const char *b = "flowacct_process_rtt_seconds_bucket{comm=\"curl\",container=\"\","
			"service=\"\",proto=\"tcp\",le=";
	struct row rows[3] = {
		flow_row(42, "curl", FA_PROTO_TCP, 5000, 100, 100),
		flow_row(42, "curl", FA_PROTO_TCP, 5001, 100, 100),
		flow_row(42, "curl", FA_PROTO_TCP, 5002, 100, 0), /* did not move: not observed */
	};
	struct fa_prom_state *st = fa_prom_state_new();
	struct fa_snapshot snap;
	char *page, key[512];

	(void)state;
	ncgroups = 0;
	rows[0].f.tcp.srtt_us = 80;
	rows[1].f.tcp.srtt_us = 3000;
	rows[2].f.tcp.srtt_us = 900000;
	rows[0].f.total.retrans_segs = rows[0].f.delta.retrans_segs = 3;
	rows[1].f.total.resets_received = rows[1].f.delta.resets_received = 1;
	snap = snapshot_of(rows, 3);
	page = render_default(st, &snap, 256);
	assert_null(strstr(page, "retrans_segs")); /* not known: absent, never zero */
	assert_null(strstr(page, "rtt_seconds"));
	free(page);
	fa_prom_state_free(st);

	st = fa_prom_state_new();
	snap.health = true;
	page = render_default(st, &snap, 256);
	assert_exposition(page);
	assert_int_equal(sample(page, "flowacct_process_retrans_segs_total{comm=\"curl\","
				      "container=\"\",service=\"\",proto=\"tcp\"}"),
			 3);
	assert_int_equal(sample(page, "flowacct_process_resets_received_total{comm=\"curl\","
				      "container=\"\",service=\"\",proto=\"tcp\"}"),
			 1);
	snprintf(key, sizeof(key), "%s\"5e-05\"}", b);
	assert_int_equal(sample(page, key), 0);
	snprintf(key, sizeof(key), "%s\"0.0001\"}", b);
	assert_int_equal(sample(page, key), 1);
	snprintf(key, sizeof(key), "%s\"0.0025\"}", b);
	assert_int_equal(sample(page, key), 1);
	snprintf(key, sizeof(key), "%s\"0.005\"}", b);
	assert_int_equal(sample(page, key), 2);
	snprintf(key, sizeof(key), "%s\"+Inf\"}", b);
	assert_int_equal(sample(page, key), 2);
	assert_non_null(strstr(page, "flowacct_process_rtt_seconds_sum{comm=\"curl\",container="
				     "\"\",service=\"\",proto=\"tcp\"} 0.003080\n"));
	free(page);
	/* the next interval adds its observations to the cumulative buckets */
	snap = snapshot_of(rows, 1);
	snap.health = true;
	page = render_default(st, &snap, 256);
	snprintf(key, sizeof(key), "%s\"+Inf\"}", b);
	assert_int_equal(sample(page, key), 3);
	free(page);
	fa_prom_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_health_counters_and_rtt_histogram),
		cmocka_unit_test(test_page_is_valid_exposition_format),
		cmocka_unit_test(test_process_series_add_up_flows_by_protocol),
		cmocka_unit_test(test_counters_stay_monotonic_when_flows_leave),
		cmocka_unit_test(test_flow_series_only_when_asked),
		cmocka_unit_test(test_packet_series_only_with_packets),
		cmocka_unit_test(test_loss_counters_and_build_info),
		cmocka_unit_test(test_hostile_comm_is_escaped_in_labels),
		cmocka_unit_test(test_escape_label_never_splits_an_escape),
		cmocka_unit_test(test_hostile_comm_round_trips_through_json),
		cmocka_unit_test(test_listen_address_errors_say_why),
		cmocka_unit_test(test_same_name_in_one_container_is_one_series_of_the_sum),
		cmocka_unit_test(test_name_series_outlive_their_processes_and_stay_monotonic),
		cmocka_unit_test(test_names_beyond_the_cap_fold_into_other),
		cmocka_unit_test(test_hostile_container_and_unit_names_are_escaped),
		cmocka_unit_test(test_pid_labels_only_with_prometheus_pids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
