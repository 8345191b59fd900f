// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests of the user-space core: units, addresses, escaping, views, options, JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "format.h"
#include "output.h"
#include "view.h"

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

static struct fa_row mkrow(__u32 pid, const char *comm, __u16 lport, __u64 rx, __u64 tx)
{
	struct fa_row r = { .kind = FA_ROW_FLOW };

	r.key.pid = pid;
	r.key.proto = FA_PROTO_TCP;
	r.key.family = FA_FAMILY_IPV4;
	r.key.laddr[0] = 127;
	r.key.laddr[3] = 1;
	r.key.raddr[0] = 127;
	r.key.raddr[3] = 1;
	r.key.lport = lport;
	r.key.rport = 80;
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	r.delta.rx_bytes = rx;
	r.delta.tx_bytes = tx;
	r.total.rx_bytes = rx * 10;
	r.total.tx_bytes = tx * 10;
	return r;
}

static void test_view_sort_keys(void **state)
{
	struct fa_row rows[] = { mkrow(30, "curl", 1000, 5, 100), mkrow(10, "apt", 1001, 50, 1),
				 mkrow(20, "zsh", 1002, 1, 1000) };
	struct fa_snapshot snap = { .nrows = 3, .rows = rows };
	struct fa_view_opts o = {};
	struct fa_row *out;
	size_t n;
	static const struct {
		enum fa_sort sort;
		bool reverse;
		__u32 order[3];
	} cases[] = {
		{ FA_SORT_RX, false, { 10, 30, 20 } },	 { FA_SORT_TX, false, { 20, 30, 10 } },
		{ FA_SORT_TOTAL, false, { 20, 30, 10 } }, { FA_SORT_PID, false, { 10, 20, 30 } },
		{ FA_SORT_COMM, false, { 10, 30, 20 } },	 { FA_SORT_PID, true, { 30, 20, 10 } },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		o.sort = cases[c].sort;
		o.reverse = cases[c].reverse;
		assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
		assert_int_equal(n, 3);
		for (int i = 0; i < 3; i++)
			assert_int_equal(out[i].key.pid, cases[c].order[i]);
		free(out);
	}
}

static void test_view_group_by_process_adds_up(void **state)
{
	struct fa_row rows[] = { mkrow(7, "nginx", 1, 100, 200), mkrow(8, "curl", 2, 1, 2),
				 mkrow(7, "nginx", 3, 1000, 2000), mkrow(7, "nginx", 4, 0, 0) };
	struct fa_snapshot snap = { .nrows = 4, .rows = rows };
	struct fa_view_opts o = { .group = FA_GROUP_PROCESS, .sort = FA_SORT_PID };
	struct fa_row *out;
	size_t n;

	(void)state;
	rows[3].kind = FA_ROW_OVERFLOW;
	rows[3].delta.rx_bytes = 5;
	rows[3].total.rx_bytes = 55;
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].key.pid, 7);
	assert_int_equal(out[0].kind, FA_ROW_PROCESS);
	assert_int_equal(out[0].nflows, 2); /* the overflow row is not a flow */
	assert_int_equal(out[0].delta.rx_bytes, 1105);
	assert_int_equal(out[0].delta.tx_bytes, 2200);
	assert_int_equal(out[0].total.rx_bytes, 11055);
	assert_int_equal(out[1].delta.rx_bytes, 1);
	free(out);
}

static void test_view_filter_and_active(void **state)
{
	struct fa_row rows[] = { mkrow(1, "Firefox", 5000, 1, 0), mkrow(2, "sshd", 22, 0, 0),
				 mkrow(3, "curl", 443, 0, 9) };
	struct fa_snapshot snap = { .nrows = 3, .rows = rows };
	struct fa_view_opts o = { .filter = "fire" };
	struct fa_row *out;
	size_t n;

	(void)state;
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].key.pid, 1);
	free(out);
	o.filter = ":22"; /* a port */
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].key.pid, 2);
	free(out);
	o.filter = NULL;
	o.active_only = true;
	assert_int_equal(fa_view_build(&snap, &o, &out, &n), 0);
	assert_int_equal(n, 2);
	free(out);
}

static enum fa_cli_result parse(struct fa_config *cfg, char *err, ...)
{
	char *argv[32] = { "flowacct" };
	int argc = 1;
	va_list ap;
	char *a;

	va_start(ap, err);
	while ((a = va_arg(ap, char *)))
		argv[argc++] = a;
	va_end(ap);
	return fa_cli_parse(argc, argv, cfg, stdout, err, 256);
}

static void test_cli_options(void **state)
{
	struct fa_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, NULL), FA_CLI_RUN);
	assert_true(cfg.interval_s == 1 && cfg.count == 0 && cfg.view.sort == FA_SORT_TOTAL);
	assert_int_equal(cfg.want, FA_WANT_IPV4 | FA_WANT_IPV6 | FA_WANT_TCP | FA_WANT_UDP);
	assert_int_equal(parse(&cfg, err, "-j", "-p", "12", "--pid", "34", "-6", "--udp", "--by",
			       "process", "-s", "rx", "-r", "5", "--backend", "kprobe",
			       "--max-flows", "64", "0.5", "7", NULL),
			 FA_CLI_RUN);
	assert_true(cfg.json && cfg.npids == 2 && cfg.pids[0] == 12 && cfg.pids[1] == 34);
	assert_int_equal(cfg.want, FA_WANT_IPV6 | FA_WANT_UDP);
	assert_true(cfg.view.group == FA_GROUP_PROCESS && cfg.view.sort == FA_SORT_RX);
	assert_true(cfg.rows == 5 && cfg.backend == FA_BACKEND_KPROBE && cfg.max_flows == 64);
	assert_true(cfg.interval_s == 0.5 && cfg.count == 7);
	assert_int_equal(parse(&cfg, err, "--packets=eth0", "--tpacket-version", "2", NULL),
			 FA_CLI_RUN);
	assert_true(cfg.packets && !strcmp(cfg.ring.ifname, "eth0") && cfg.ring.tpacket_version == 2);
	assert_int_equal(parse(&cfg, err, "--packets", NULL), FA_CLI_RUN);
	assert_true(cfg.packets && cfg.ring.ifname == NULL && cfg.ring.tpacket_version == 3);
}

static void test_cli_rejects_bad_input(void **state)
{
	struct fa_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "-p", "0", NULL), FA_CLI_ERROR);
	assert_string_equal(err, "invalid PID '0'");
	assert_int_equal(parse(&cfg, err, "-p", "12x", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, err, "-r", "-1", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, err, "nan", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, err, "1", "0", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, err, "--ring-block-size", "5000", NULL), FA_CLI_ERROR);
	assert_int_equal(parse(&cfg, err, "--prometheus-flows", NULL), FA_CLI_ERROR);
	assert_string_equal(err, "--prometheus-flows needs --prometheus");
	assert_int_equal(parse(&cfg, err, "-s", NULL), FA_CLI_ERROR);
	assert_string_equal(err, "option '-s' needs an argument");
}

static void test_json_render_fields_and_escaping(void **state)
{
	struct fa_row rows[2] = { mkrow(42, "ev\x1b]0;x\x07\"il", 1234, 10, 20),
				  mkrow(42, "ev", 0, 3, 4) };
	struct fa_snapshot snap = { .ts = { 1700000000, 123456789 }, .interval_s = 1.5,
				    .backend = "tracepoint", .nrows = 2, .rows = rows,
				    .nflows = 1, .nprocs = 1 };
	json_error_t jerr;
	json_t *root, *f, *p;
	char *s;

	(void)state;
	rows[1].kind = FA_ROW_OVERFLOW;
	snap.drops[FA_DROP_FLOWS_DROPPED] = 3;
	snap.total.rx_bytes = 9;
	s = fa_json_render(&snap);
	assert_non_null(s);
	assert_null(strchr(s, '\x1b'));
	root = json_loads(s, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "ts")),
			    "2023-11-14T22:13:20.123Z");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "drops"),
							     "flows_dropped")), 3);
	assert_int_equal(json_object_size(json_object_get(root, "drops")), FA_DROP_MAX);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "totals"),
							     "rx_bytes_total")), 9);
	f = json_array_get(json_object_get(root, "flows"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "comm")),
			    "ev\\x1b]0;x\\x07\"il");
	assert_string_equal(json_string_value(json_object_get(f, "laddr")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(f, "lport")), 1234);
	assert_int_equal(json_integer_value(json_object_get(f, "rx_bytes_total")), 100);
	assert_int_equal(json_array_size(json_object_get(root, "overflow")), 1);
	p = json_array_get(json_object_get(root, "processes"), 0);
	assert_int_equal(json_integer_value(json_object_get(p, "rx_bytes")), 13);
	assert_int_equal(json_integer_value(json_object_get(p, "flows")), 1);
	json_decref(root);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_bytes_units),
		cmocka_unit_test(test_fmt_endpoint_families),
		cmocka_unit_test(test_escape_hostile_bytes),
		cmocka_unit_test(test_view_sort_keys),
		cmocka_unit_test(test_view_group_by_process_adds_up),
		cmocka_unit_test(test_view_filter_and_active),
		cmocka_unit_test(test_cli_options),
		cmocka_unit_test(test_cli_rejects_bad_input),
		cmocka_unit_test(test_json_render_fields_and_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
