/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Small helpers every module may use: each exists here once. */
#ifndef FA_UTIL_H
#define FA_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* FNV-1a over n bytes: the hash of every table keyed by plain structs (no pointers, no
 * uninitialised padding: callers zero their keys first). */
static inline __u64 fa_hash(const void *p, size_t n)
{
	const __u8 *b = p;
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * A growable array with an open-addressing index of it (the tables summed per interval:
 * processes by pid, groups by name). index[h] holds an element's position + 1; 0 is
 * empty; linear probing. fa_indexed_grow doubles the array (elem bytes each) and
 * rebuilds the index from hash(array, i) of each element. 0 or -ENOMEM (nothing changed
 * but the array's address).
 */
struct fa_indexed {
	void *v;
	size_t n, cap;
	__u32 *index;
	size_t mask;
};

int fa_indexed_grow(struct fa_indexed *t, size_t elem, __u64 (*hash)(const void *array, size_t i));

/* bsearch() over n elements, NULL when there are none: bsearch's and qsort's arrays must
 * not be NULL even then (C11 7.22.5), and an empty table's array often is. */
static inline void *fa_bsearch(const void *key, const void *base, size_t n, size_t size,
			       int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

/* qsort() of n elements, nothing when there are none (the same rule as fa_bsearch). */
static inline void fa_qsort(void *base, size_t n, size_t size,
			    int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, size, cmp);
}

/* CLOCK_MONOTONIC, in seconds. */
double fa_mono_now(void);

/* Is cap (CAP_*) in the calling thread's effective set? */
bool fa_cap_effective(int cap);
/* Narrows the calling thread's capabilities (effective and permitted) to keep, a mask of
 * 1ULL << CAP_*: those of them it has (asking for more is no error). 0 or -errno. */
int fa_caps_keep(unsigned long long keep);

/*
 * Runs fn(arg) with every signal but those of faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
 * SIGABRT, SIGSYS) blocked in the calling thread, then restores the mask,
 * and returns what fn returned. Threads created inside inherit the blocked mask, so
 * SIGINT and SIGTERM only ever reach the main thread, whose ppoll() waits for them.
 */
int fa_with_signals_blocked(int (*fn)(void *arg), void *arg);
/* pthread_create under fa_with_signals_blocked, named `name` (15 bytes at most). 0 or -errno. */
int fa_thread_start(pthread_t *thread, const char *name, void *(*fn)(void *), void *arg);

/* The root of the cgroup v2 hierarchy (/sys/fs/cgroup on pure v2 hosts,
 * /sys/fs/cgroup/unified on hybrid ones), opened read-only; -1 if none is mounted. */
int fa_cgroup2_open(void);
/* Its mount point into buf: 0, -ENOENT (none mounted), -errno. */
int fa_cgroup2_path(char *buf, size_t len);
/* The same, from a mountinfo file's text (the parser fa_cgroup2_path uses). */
int fa_cgroup2_mountpoint(FILE *mountinfo, char *buf, size_t len);

/* -p ID: the process (thread group) whose thread ID is, from /proc/ID/status (the ID of a
 * process is its own). 0, -ENOENT (no such process or thread), -errno. */
int fa_pid_tgid(__u32 id, __u32 *tgid);
/* The same, from a status file's text (the parser fa_pid_tgid uses). 0, -EINVAL (no Tgid). */
int fa_status_tgid(FILE *status, __u32 *tgid);

/* --prometheus [ADDR:]PORT: ADDR a name, an IPv4 address or a bracketed IPv6 one
 * ("[::1]:9100"), 127.0.0.1 if none. 0, or -EINVAL with a reason in err. */
struct sockaddr_storage;
int fa_listen_parse(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen);

/* The index of s in names[0..n), for options that take a name from a fixed table; -EINVAL. */
int fa_name_lookup(const char *const *names, int n, const char *s);

#endif /* FA_UTIL_H */
