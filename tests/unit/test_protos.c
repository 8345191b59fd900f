// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The prototype check against synthetic kernel BTF: kernels before and after 5.19 (whose
 * recvmsg functions changed, and are therefore not hooked) are both accepted; a hooked
 * function with another prototype is refused, naming it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include "log.h"
#include "protos.h"

/* A FUNC named func whose prototype has these parameter names (NULL ends them). */
static void add_func(struct btf *btf, int int_id, const char *func, const char *const *params)
{
	int proto = btf__add_func_proto(btf, int_id);

	assert_true(proto > 0);
	for (; *params; params++)
		assert_int_equal(btf__add_func_param(btf, *params, int_id), 0);
	assert_true(btf__add_func(btf, func, BTF_FUNC_GLOBAL, proto) > 0);
}

static const char *const send_size[] = { "sk", "msg", "size", NULL };
static const char *const send_len[] = { "sk", "msg", "len", NULL };
static const char *const cleanup_rbuf[] = { "sk", "copied", NULL };
static const char *const consume_udp[] = { "sk", "skb", "len", NULL };
static const char *const release[] = { "sock", NULL };

/* The prototypes as the kernel generations have them */
static const char *const recv_pre519[] = {
	"sk", "msg", "len", "nonblock", "flags", "addr_len", NULL
};
static const char *const recv_post519[] = { "sk", "msg", "len", "flags", "addr_len", NULL };
static const char *const recv_no_addr_len[] = { "sk", "msg", "len", "flags", NULL };

struct kernel_desc {
	const char *const *recv; /* tcp_recvmsg, udp(v6)_recvmsg */
	bool sendpage; /* before 6.5 */
	const char *const *tcp_sendmsg, *const *cleanup, *const *consume;
};

static struct btf *kernel(const struct kernel_desc *k)
{
	static const char *const page[] = { "sk", "page", "offset", "size", "flags", NULL };
	struct btf *btf = btf__new_empty();
	int int_id;

	assert_non_null(btf);
	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	assert_true(int_id > 0);
	add_func(btf, int_id, "tcp_sendmsg", k->tcp_sendmsg ? k->tcp_sendmsg : send_size);
	add_func(btf, int_id, "udp_sendmsg", send_len);
	add_func(btf, int_id, "udpv6_sendmsg", send_len);
	if (k->sendpage)
		add_func(btf, int_id, "tcp_sendpage", page);
	add_func(btf, int_id, "tcp_recvmsg", k->recv);
	add_func(btf, int_id, "udp_recvmsg", k->recv);
	add_func(btf, int_id, "udpv6_recvmsg", k->recv);
	add_func(btf, int_id, "tcp_cleanup_rbuf", k->cleanup ? k->cleanup : cleanup_rbuf);
	add_func(btf, int_id, "skb_consume_udp", k->consume ? k->consume : consume_udp);
	add_func(btf, int_id, "inet_release", release);
	return btf;
}

static void test_each_generation_accepted(void **state)
{
	static const struct kernel_desc cases[] = {
		{ .recv = recv_pre519, .sendpage = true }, /* 5.15 */
		{ .recv = recv_post519, .sendpage = true }, /* 6.1 */
		{ .recv = recv_post519 }, /* 6.12: no tcp_sendpage */
		{ .recv = recv_no_addr_len }, /* 6.18 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct btf *btf = kernel(&cases[i]);
		struct fa_err why = {};

		assert_int_equal(fa_protos_check(btf, &why), 0);
		btf__free(btf);
	}
}

static void test_unknown_prototypes_refused(void **state)
{
	static const char *const cleanup_swapped[] = { "copied", "sk", NULL };
	static const char *const consume_more[] = { "sk", "skb", "len", "flags", NULL };
	static const struct {
		struct kernel_desc k;
		const char *msg;
	} cases[] = {
		{ { .recv = recv_post519, .cleanup = cleanup_swapped },
		  "tcp_cleanup_rbuf has a prototype flowacct does not know: (copied, sk)" },
		{ { .recv = recv_post519, .consume = consume_more },
		  "skb_consume_udp has a prototype flowacct does not know: (sk, skb, len, flags)" },
		/* a send function renamed its argument: the check does not guess */
		{ { .recv = recv_post519, .tcp_sendmsg = send_len },
		  "tcp_sendmsg has a prototype flowacct does not know: (sk, msg, len)" },
	};
	struct fa_err why = {};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct btf *btf = kernel(&cases[i].k);

		assert_int_equal(fa_protos_check(btf, &why), -EOPNOTSUPP);
		assert_string_equal(why.msg, cases[i].msg);
		btf__free(btf);
	}
	assert_int_equal(fa_protos_check(NULL, &why), -ENOENT);
	assert_non_null(strstr(why.msg, "no BTF"));
}

static void test_missing_hook_refused(void **state)
{
	struct btf *btf = btf__new_empty();
	struct fa_err why = {};
	int int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);

	(void)state;
	add_func(btf, int_id, "tcp_sendmsg", send_size);
	add_func(btf, int_id, "udp_sendmsg", send_len);
	add_func(btf, int_id, "udpv6_sendmsg", send_len);
	add_func(btf, int_id, "tcp_cleanup_rbuf", cleanup_rbuf);
	assert_int_equal(fa_protos_check(btf, &why), -ENOENT);
	assert_string_equal(why.msg, "the kernel has no function skb_consume_udp");
	btf__free(btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_generation_accepted),
		cmocka_unit_test(test_unknown_prototypes_refused),
		cmocka_unit_test(test_missing_hook_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
