/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --audit: flowacct's per-socket TCP counts (the kernel side's audit_socks table, kept
 * for sockets it saw connect) against the kernel's own counters of the same sockets
 * (sock_diag, user/sockdiag.c). A second oracle beside any traffic generator, on a live
 * machine.
 */
#ifndef FA_AUDIT_H
#define FA_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tuple.h"

struct fa_err;

/* One socket whose counts disagree, and by how much. */
struct fa_audit_mismatch {
	struct fa_tuple tuple;
	__u64 counted_rx, counted_tx; /* flowacct */
	__u64 read, written; /* the kernel: what the application read and wrote */
};

#define FA_AUDIT_MAX_MISMATCHES 64

struct fa_audit_result {
	size_t watched; /* sockets in flowacct's table, in this network namespace */
	size_t exact; /* checked: the counts agree to the byte */
	size_t mismatched; /* checked: they do not (the first FA_AUDIT_MAX_MISMATCHES below) */
	size_t busy; /* bytes moved during every attempt to read both sides: not judged */
	size_t unjudged; /* the kernel's counters cannot say (a state, kTLS, MPTCP), or gone */
	struct fa_audit_mismatch mismatch[FA_AUDIT_MAX_MISMATCHES];
};

/*
 * Checks every socket of audit_fd (struct fa_audit_key -> struct fa_audit_value) that
 * lives in the caller's network namespace. A socket is judged only when neither side
 * moved while both were read; one that disagrees is read again a few times before it is
 * called a mismatch, since a hook runs just after the kernel's counters move. 0, or
 * -errno with the reason in err.
 */
int fa_audit_run(int audit_fd, struct fa_audit_result *r, struct fa_err *err);

/* Can this kernel report TCP sockets through sock_diag (tcp_diag may be a module)? Called
 * before counting starts, so that --audit fails at once. 0, or -errno and why in err. */
int fa_audit_probe(struct fa_err *err);

#endif /* FA_AUDIT_H */
