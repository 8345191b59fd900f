// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "log.h"
#include "protos.h"
#include "util.h"

#define MAX_PARAMS 6

/* One known prototype: its parameter names, in order (NULL ends them). */
struct proto {
	const char *params[MAX_PARAMS + 1];
};

static const struct proto send_sk_msg_size = { { "sk", "msg", "size" } };
static const struct proto send_sk_msg_len = { { "sk", "msg", "len" } };
static const struct proto sendpage = { { "sk", "page", "offset", "size", "flags" } };

/* The receive hooks: chosen because their prototypes have not changed (the recvmsg
 * functions' have, bpf/core_fixes.bpf.h) */
static const struct proto cleanup_rbuf = { { "sk", "copied" } };
static const struct proto consume_udp = { { "sk", "skb", "len" } };
/* a socket's last close: its flows end */
static const struct proto release = { { "sock" } };

/* "(sk, msg, len)": what the kernel has, for the refusal */
static void describe(const struct btf *btf, const struct btf_type *fp, char *buf, size_t len)
{
	const struct btf_param *p = btf_params(fp);
	size_t off = 0;

	off += snprintf(buf, len, "(");
	for (int i = 0; i < btf_vlen(fp) && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				btf__name_by_offset(btf, p[i].name_off));
	if (off < len)
		snprintf(buf + off, len - off, ")");
}

static bool proto_is(const struct btf *btf, const struct btf_type *fp, const struct proto *want)
{
	const struct btf_param *p = btf_params(fp);
	int n = 0;

	while (n < MAX_PARAMS && want->params[n])
		n++;
	if (btf_vlen(fp) != n)
		return false;
	for (int i = 0; i < n; i++) {
		const char *name = btf__name_by_offset(btf, p[i].name_off);

		if (!name || strcmp(name, want->params[i]))
			return false;
	}
	return true;
}

/* The function's prototype, or NULL if the kernel has no such function. */
static const struct btf_type *func_proto(const struct btf *btf, const char *func)
{
	int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

	t = t ? btf__type_by_id(btf, t->type) : NULL;
	return t && btf_is_func_proto(t) ? t : NULL;
}

/* Which of n known prototypes func has: its index, -ENOENT (no function), -EOPNOTSUPP. */
static int match(const struct btf *btf, const char *func, const struct proto *protos, int n,
		 struct fa_err *why)
{
	const struct btf_type *fp = func_proto(btf, func);
	char have[256];

	if (!fp)
		return fa_err_set(why, -ENOENT, "the kernel has no function %s", func);
	for (int i = 0; i < n; i++)
		if (protos[i].params[0] && proto_is(btf, fp, &protos[i]))
			return i;
	describe(btf, fp, have, sizeof(have));
	return fa_err_set(why, -EOPNOTSUPP, "%s has a prototype flowacct does not know: %s", func,
			  have);
}

int fa_protos_check(const struct btf *btf, struct fa_err *why)
{
	static const struct {
		const char *func;
		const struct proto *proto;
	} hooked[] = {
		{ "tcp_sendmsg", &send_sk_msg_size },  { "udp_sendmsg", &send_sk_msg_len },
		{ "udpv6_sendmsg", &send_sk_msg_len }, { "tcp_sendpage", &sendpage },
		{ "tcp_cleanup_rbuf", &cleanup_rbuf }, { "skb_consume_udp", &consume_udp },
		{ "inet_release", &release },
	};
	int err;

	if (!btf)
		return fa_err_set(why, -ENOENT,
				  "the kernel has no BTF (/sys/kernel/btf/vmlinux): the hooked "
				  "functions' prototypes cannot be checked");
	for (size_t i = 0; i < ARRAY_SIZE(hooked); i++) {
		/* tcp_sendpage is gone since 6.5, and then not hooked */
		if (!strcmp(hooked[i].func, "tcp_sendpage") && !func_proto(btf, "tcp_sendpage"))
			continue;
		err = match(btf, hooked[i].func, hooked[i].proto, 1, why);
		if (err < 0)
			return err;
	}
	return 0;
}
