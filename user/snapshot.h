/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One interval's view of the machine. The collector builds a snapshot; every output
 * (text, JSON, the interactive view, the JSON file, Prometheus) only formats one.
 * Adding an output never touches the collector.
 *
 * A snapshot holds distinct things in distinct arrays: flows, overflow rows, processes
 * (their flows and overflow row added up, once, here) and packets that no flow matched.
 * No output has to guess what a row means.
 */
#ifndef FA_SNAPSHOT_H
#define FA_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include "cgroups.h"
#include "counters.h"
#include "tuple.h"

/* Who moved the bytes: taken in the kernel when a flow is first seen. */
struct fa_ident {
	__u32 pid; /* thread group id */
	__u32 uid;
	char comm[FA_COMM_LEN + 1]; /* raw bytes from the kernel: escape before output */
	bool exited; /* the process has exited; its rows leave after a few intervals */
	__u64 cgroup_id; /* cgroup v2 id, at first sight (snapshot's cgroups name it) */
};

/* A TCP flow's health now (its counters are in fa_counts): valid where snap->health. */
struct fa_tcp_now {
	__u32 srtt_us; /* smoothed RTT; 0: no sample yet */
	__u32 min_rtt_us; /* 0: none */
	__u8 state; /* the last TCP state seen (TCP_ESTABLISHED = 1, ...); 0: none */
};

/* One process's flow. v4-mapped IPv6 flows are reported as IPv4. */
struct fa_flow {
	struct fa_ident proc;
	struct fa_tuple tuple;
	__u32 netns; /* the socket's network namespace (inode number) */
	/* its socket has closed (TCP, where snap->health: state CLOSE; UDP, and TCP on the
	 * kprobe backend: released, its last file closed); it leaves after the linger */
	bool closed;
	struct fa_tcp_now tcp; /* TCP flows, where snap->health */
	struct fa_counts delta; /* this interval */
	struct fa_counts total; /* since flowacct started (or since the flow appeared) */
};

/* One process's bytes whose flows did not fit in the flow table. */
struct fa_overflow {
	struct fa_ident proc;
	struct fa_counts delta, total;
};

/* The parts a process's traffic is split into, for outputs that label by protocol. */
enum fa_part {
	FA_PART_TCP,
	FA_PART_UDP,
	FA_PART_OVERFLOW, /* protocol unknown: the flow table was full */
	FA_PART_MAX,
};

/* A process: its flows, overflow row and closed flows added up. */
struct fa_proc {
	struct fa_ident proc; /* exited only once every row of it has */
	__u32 nflows;
	struct fa_counts delta, total;
	struct {
		bool present; /* it has rows of this part */
		struct fa_counts delta, total;
	} part[FA_PART_MAX];
};

/*
 * A live process's bytes on flows that have left the table (their TCP socket closed, or
 * idle under table pressure), by cgroup and part: totals only, so that the process's and
 * its group's totals stay cumulative while the table holds only what is current.
 * Outputs that carry what leaves themselves (Prometheus) do not read them.
 */
struct fa_closed {
	struct fa_ident proc;
	enum fa_part part;
	struct fa_counts total;
};

/* --packets: the packets of a 5-tuple that no process's flow has. */
struct fa_unmatched {
	struct fa_tuple tuple;
	struct fa_counts delta, total; /* packet counters only */
};

/*
 * Bytes on sockets of a family or protocol that has no flows (AF_UNIX, UDP-Lite, ...), by
 * family and protocol: counted, never dropped, and apart from the totals, which are TCP
 * and UDP over IP.
 */
struct fa_other {
	__u16 family; /* AF_* */
	__u16 proto; /* the socket's protocol number */
	struct fa_counts delta, total; /* bytes and calls only */
};

struct fa_snapshot {
	struct timespec ts; /* CLOCK_REALTIME at the end of the interval */
	double interval_s; /* measured length of the interval (CLOCK_MONOTONIC) */
	/* the length asked for (the interval, -d, the live view's + and -); 0 when the
	 * interval had none: cut short (the run was interrupted, every watched process
	 * exited) or lengthened midway. Rates divide by fa_snapshot_rate_secs(). */
	double nominal_s;
	const char *backend; /* "tracepoint", "fentry", "kprobe" */
	bool packets; /* packet counts (--packets) are valid */
	bool health; /* TCP health (FA_CK_HEALTH counts, fa_flow.tcp) is valid: the backend
		      * has its hooks */
	bool final; /* the last interval, emitted on exit */
	bool watched_exited; /* -p: every watched process has exited; nothing more is counted */
	struct fa_counts delta,
		total; /* everything: unattributed bytes and unmatched packets too */
	__u64 drops[FA_DROP_MAX];
	struct fa_flow *flows;
	size_t nflows;
	struct fa_overflow *overflow;
	size_t noverflow;
	struct fa_closed *closed;
	size_t nclosed;
	struct fa_proc *procs; /* sorted by pid */
	size_t nprocs;
	struct fa_unmatched *unmatched;
	size_t nunmatched;
	struct fa_other *other; /* by family, then protocol */
	size_t nother;
	struct fa_cgroup_info *cgroups; /* every cgroup id of a row, sorted by id */
	size_t ncgroups;
};

/*
 * The seconds every output divides an interval's counts by for a rate per second: the
 * measured length, but never less than the nominal one, so that no rate is above what
 * moved in a second (a timer that fired 0.3 ms late made the next interval 0.9997 s
 * long). An interval shorter than a second is extrapolated to one by nature. Never 0.
 */
static inline double fa_snapshot_rate_secs(const struct fa_snapshot *snap)
{
	double s = snap->interval_s > snap->nominal_s ? snap->interval_s : snap->nominal_s;

	return s > 0 ? s : 1;
}

/* The path and name of a row's cgroup id; NULL if the snapshot does not have it. */
const struct fa_cgroup_info *fa_snapshot_cgroup(const struct fa_snapshot *snap, __u64 id);

/* The kinds of counters (enum fa_count_kind) a row of this snapshot has; tcp: the row
 * has TCP in it (a TCP flow, a process, a group), not a UDP flow alone. */
unsigned fa_snapshot_kinds(const struct fa_snapshot *snap, bool tcp);

/* A TCP state's name as ss(8) prints it ("ESTAB", "SYN-SENT", ...); "?" if unknown. */
const char *fa_tcp_state_name(__u8 state);

/* What a cgroup runs, for a CONTAINER/UNIT column: the container, else the systemd unit;
 * "" if neither. */
const char *fa_cgroup_workload(const struct fa_cgroup_info *ci);

/* Fills snap->procs from snap->flows, snap->overflow and snap->closed: the one
 * per-process sum. 0, -ENOMEM. */
int fa_snapshot_aggregate(struct fa_snapshot *snap);
/* The part a flow's protocol belongs to. */
enum fa_part fa_part_of(__u8 proto);

void fa_snapshot_free(struct fa_snapshot *snap);
/* Deep copy, for outputs that keep a snapshot past the next interval. 0 or -ENOMEM. */
int fa_snapshot_copy(struct fa_snapshot *dst, const struct fa_snapshot *src);

#endif /* FA_SNAPSHOT_H */
