// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "tuple.h"

bool fa_addr_is_v4mapped(const __u8 addr[FA_ADDR_LEN])
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(addr, prefix, sizeof(prefix));
}

static bool addr_zero(const __u8 addr[FA_ADDR_LEN])
{
	static const __u8 zero[FA_ADDR_LEN];

	return !memcmp(addr, zero, sizeof(zero));
}

void fa_tuple_normalize(struct fa_tuple *t)
{
	if (t->family != FA_FAMILY_IPV6 || !fa_addr_is_v4mapped(t->laddr) ||
	    !(fa_addr_is_v4mapped(t->raddr) || addr_zero(t->raddr)))
		return;
	t->family = FA_FAMILY_IPV4;
	memmove(t->laddr, t->laddr + 12, 4);
	memset(t->laddr + 4, 0, FA_ADDR_LEN - 4);
	memmove(t->raddr, t->raddr + 12, 4);
	memset(t->raddr + 4, 0, FA_ADDR_LEN - 4);
}

int fa_tuple_cmp(const struct fa_tuple *a, const struct fa_tuple *b)
{
	return memcmp(a, b, sizeof(*a));
}
