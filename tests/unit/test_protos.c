// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The prototype check against synthetic kernel BTF: each recvmsg generation, and refusals. */
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

/* A kernel whose recvmsg functions all take `recv`; tcp_sendpage too if sendpage. */
static struct btf *kernel(const char *const *recv, bool sendpage)
{
	static const char *const page[] = { "sk", "page", "offset", "size", "flags", NULL };
	struct btf *btf = btf__new_empty();
	int int_id;

	assert_non_null(btf);
	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	assert_true(int_id > 0);
	add_func(btf, int_id, "tcp_sendmsg", send_size);
	add_func(btf, int_id, "udp_sendmsg", send_len);
	add_func(btf, int_id, "udpv6_sendmsg", send_len);
	if (sendpage)
		add_func(btf, int_id, "tcp_sendpage", page);
	add_func(btf, int_id, "tcp_recvmsg", recv);
	add_func(btf, int_id, "udp_recvmsg", recv);
	add_func(btf, int_id, "udpv6_recvmsg", recv);
	return btf;
}

static void test_each_generation(void **state)
{
	static const char *const pre519[] = { "sk",    "msg",	   "len", "nonblock",
					      "flags", "addr_len", NULL };
	static const char *const post519[] = { "sk", "msg", "len", "flags", "addr_len", NULL };
	static const char *const no_addr_len[] = { "sk", "msg", "len", "flags", NULL };
	static const struct {
		const char *const *recv;
		bool sendpage;
		__u8 want;
	} cases[] = {
		{ pre519, true, FA_RECV_NONBLOCK }, /* 5.15 */
		{ post519, true, FA_RECV_ADDR_LEN }, /* 6.1 */
		{ post519, false, FA_RECV_ADDR_LEN }, /* 6.12: no tcp_sendpage */
		{ no_addr_len, false, FA_RECV_FLAGS }, /* 6.18 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct btf *btf = kernel(cases[i].recv, cases[i].sendpage);
		struct fa_err why = {};
		__u8 got = 0;

		assert_int_equal(fa_protos_check(btf, &got, &why), 0);
		assert_int_equal(got, cases[i].want);
		btf__free(btf);
	}
}

static void test_unknown_prototypes_refused(void **state)
{
	static const char *const swapped[] = { "sk", "msg", "len", "addr_len", "flags", NULL };
	struct fa_err why = {};
	struct btf *btf = kernel(swapped, false);
	__u8 got = 0;

	(void)state;
	assert_int_equal(fa_protos_check(btf, &got, &why), -EOPNOTSUPP);
	assert_string_equal(why.msg, "tcp_recvmsg has a prototype flowacct does not know: "
				     "(sk, msg, len, addr_len, flags)");
	btf__free(btf);
	assert_int_equal(fa_protos_check(NULL, &got, &why), -ENOENT);
	assert_non_null(strstr(why.msg, "no BTF"));
}

/* A send function renamed its argument: the check does not guess */
static void test_send_prototype_checked(void **state)
{
	static const char *const recv[] = { "sk", "msg", "len", "flags", NULL };
	struct btf *btf = btf__new_empty();
	struct fa_err why = {};
	int int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	__u8 got = 0;

	(void)state;
	add_func(btf, int_id, "tcp_sendmsg", send_len); /* "len", not "size" */
	add_func(btf, int_id, "udp_sendmsg", send_len);
	add_func(btf, int_id, "udpv6_sendmsg", send_len);
	add_func(btf, int_id, "tcp_recvmsg", recv);
	add_func(btf, int_id, "udp_recvmsg", recv);
	assert_int_equal(fa_protos_check(btf, &got, &why), -EOPNOTSUPP);
	assert_non_null(strstr(why.msg, "tcp_sendmsg"));
	btf__free(btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_generation),
		cmocka_unit_test(test_unknown_prototypes_refused),
		cmocka_unit_test(test_send_prototype_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
