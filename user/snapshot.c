// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot.h"

const char *const fa_drop_names[FA_DROP_MAX] = {
	[FA_DROP_FLOW_TABLE_FULL] = "flow_table_full",
	[FA_DROP_FLOWS_DROPPED] = "flows_dropped",
	[FA_DROP_OVERFLOW_TABLE_FULL] = "overflow_table_full",
	[FA_DROP_UNATTRIBUTED_RX_BYTES] = "unattributed_rx_bytes",
	[FA_DROP_UNATTRIBUTED_TX_BYTES] = "unattributed_tx_bytes",
	[FA_DROP_KRETPROBE_MISSED] = "kretprobe_missed",
	[FA_DROP_INFLIGHT_FULL] = "inflight_full",
	[FA_DROP_RING_PACKETS_DROPPED] = "ring_packets_dropped",
	[FA_DROP_RING_FREEZES] = "ring_freezes",
	[FA_DROP_PACKETS_UNPARSED] = "packets_unparsed",
	[FA_DROP_PACKETS_TABLE_FULL] = "packets_table_full",
};

/* struct fa_counts is nothing but __u64 counters, so it can be walked as an array */
#define NCOUNTS (sizeof(struct fa_counts) / sizeof(__u64))
_Static_assert(sizeof(struct fa_counts) % sizeof(__u64) == 0, "fa_counts holds __u64 only");

void fa_counts_add(struct fa_counts *a, const struct fa_counts *b)
{
	__u64 *x = (__u64 *)a;
	const __u64 *y = (const __u64 *)b;

	for (size_t i = 0; i < NCOUNTS; i++)
		x[i] += y[i];
}

void fa_counts_sub(struct fa_counts *out, const struct fa_counts *a, const struct fa_counts *b)
{
	__u64 *o = (__u64 *)out;
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	for (size_t i = 0; i < NCOUNTS; i++)
		o[i] = x[i] - y[i];
}

void fa_snapshot_free(struct fa_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->rows);
	snap->rows = NULL;
	snap->nrows = 0;
}

int fa_snapshot_copy(struct fa_snapshot *dst, const struct fa_snapshot *src)
{
	*dst = *src;
	dst->rows = NULL;
	if (src->nrows) {
		dst->rows = malloc(src->nrows * sizeof(*src->rows));
		if (!dst->rows) {
			dst->nrows = 0;
			return -ENOMEM;
		}
		memcpy(dst->rows, src->rows, src->nrows * sizeof(*src->rows));
	}
	return 0;
}
