// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "counters.h"

const struct fa_count_desc fa_count_descs[FA_NCOUNTS] = {
#define FA_COUNT_DESC(n, k, h)                                                                     \
	{ .name = #n,                                                                              \
	  .total_name = #n "_total",                                                               \
	  .off = offsetof(struct fa_counts, n),                                                    \
	  .kind = k,                                                                               \
	  .help = h },
	FA_COUNTS(FA_COUNT_DESC)
#undef FA_COUNT_DESC
};

const struct fa_drop_desc fa_drop_descs[FA_DROP_MAX] = {
#define FA_DROP_DESC(id, n, h) [FA_DROP_##id] = { .name = #n, .help = h },
	FA_DROPS(FA_DROP_DESC)
#undef FA_DROP_DESC
};

void fa_counts_add(struct fa_counts *a, const struct fa_counts *b)
{
	__u64 *x = (__u64 *)a;
	const __u64 *y = (const __u64 *)b;

	for (size_t i = 0; i < FA_NCOUNTS; i++)
		x[i] += y[i];
}

void fa_counts_sub(struct fa_counts *out, const struct fa_counts *a, const struct fa_counts *b)
{
	__u64 *o = (__u64 *)out;
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	for (size_t i = 0; i < FA_NCOUNTS; i++)
		o[i] = x[i] - y[i];
}
