// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "audit.h"
#include "log.h"
#include "sockdiag.h"
#include "util.h"

/* Reading both sides again after a disagreement: each attempt 20 ms apart */
#define ATTEMPTS 5
#define RETRY_MS 20

enum verdict {
	V_PENDING, /* not judged yet: busy or disagreeing in every attempt so far */
	V_EXACT,
	V_UNJUDGED,
};

/* One socket of flowacct's table, as sock_diag names it. */
struct audited {
	struct fa_tuple tuple; /* normalized: a v4-mapped IPv6 socket is IPv4 */
	struct fa_audit_value counted;
	enum verdict verdict;
	bool busy; /* the last attempt saw bytes move */
	__u64 read, written; /* the last attempt's kernel figures */
};

struct table {
	struct audited *v;
	size_t n;
};

static int by_tuple(const void *a, const void *b)
{
	return fa_tuple_cmp(a, b); /* both structs start with their tuple */
}

static __u32 own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (__u32)st.st_ino;
}

static void key_tuple(const struct fa_audit_key *k, struct fa_tuple *t)
{
	size_t len = k->family == FA_FAMILY_IPV4 ? 4 : FA_ADDR_LEN;

	memset(t, 0, sizeof(*t));
	memcpy(t->laddr, k->laddr, len);
	memcpy(t->raddr, k->raddr, len);
	t->lport = k->lport;
	t->rport = k->rport;
	t->proto = FA_PROTO_TCP;
	t->family = k->family;
	fa_tuple_normalize(t);
}

/* Every socket of the table in our namespace, sorted by tuple (first) or, later, the
 * counts of the same sockets again (the table re-read in place). */
static int table_read(int fd, __u32 netns, struct table *t, bool refresh)
{
	struct fa_audit_key k, cur, *prev = NULL;
	struct fa_audit_value v;
	size_t cap = t->n;

	if (!refresh)
		t->n = 0;
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		cur = k;
		prev = &cur;
		if (k.netns != netns || bpf_map_lookup_elem(fd, &k, &v))
			continue;
		if (refresh) {
			struct audited want = {}, *a;

			key_tuple(&k, &want.tuple);
			a = fa_bsearch(&want, t->v, t->n, sizeof(*t->v), by_tuple);
			if (a)
				a->counted = v;
			continue;
		}
		if (t->n == cap) {
			struct audited *nv =
				realloc(t->v, (cap = cap ? cap * 2 : 64) * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			t->v = nv;
		}
		memset(&t->v[t->n], 0, sizeof(t->v[0]));
		key_tuple(&k, &t->v[t->n].tuple);
		t->v[t->n++].counted = v;
	}
	if (!refresh)
		fa_qsort(t->v, t->n, sizeof(*t->v), by_tuple);
	return 0;
}

static int dump_sorted(struct fa_tcp_diag **d, size_t *n, struct fa_err *err)
{
	int e = fa_sockdiag_tcp_dump(d, n, err);

	if (!e)
		fa_qsort(*d, *n, sizeof(**d), by_tuple);
	return e;
}

/* What the kernel says the application moved, or false. */
static bool kernel_says(const struct fa_tcp_diag *d, size_t n, const struct fa_tuple *t,
			__u64 *read, __u64 *written)
{
	const struct fa_tcp_diag *s = fa_bsearch(t, d, n, sizeof(*d), by_tuple);

	return s && fa_tcp_diag_app_bytes(s, read, written);
}

/*
 * One attempt for the sockets not yet judged: the kernel's counters, flowacct's, the
 * kernel's again, flowacct's again. Judged only if neither side moved in between.
 */
static int attempt(int fd, __u32 netns, struct table *t, struct fa_err *err)
{
	struct fa_tcp_diag *a = NULL, *b = NULL;
	struct fa_audit_value *first = NULL;
	size_t na = 0, nb = 0;
	int e;

	first = malloc((t->n ? t->n : 1) * sizeof(*first));
	if (!first)
		return -ENOMEM;
	e = dump_sorted(&a, &na, err);
	if (!e)
		e = table_read(fd, netns, t, true);
	for (size_t i = 0; !e && i < t->n; i++)
		first[i] = t->v[i].counted;
	if (!e)
		e = dump_sorted(&b, &nb, err);
	if (!e)
		e = table_read(fd, netns, t, true);
	for (size_t i = 0; !e && i < t->n; i++) {
		struct audited *s = &t->v[i];
		__u64 ra, wa, rb, wb;

		if (s->verdict != V_PENDING)
			continue;
		if (!kernel_says(a, na, &s->tuple, &ra, &wa) ||
		    !kernel_says(b, nb, &s->tuple, &rb, &wb)) {
			s->verdict = V_UNJUDGED; /* closed meanwhile, or counters that cannot say */
			continue;
		}
		s->busy = ra != rb || wa != wb || memcmp(&first[i], &s->counted, sizeof(first[i]));
		s->read = rb;
		s->written = wb;
		if (!s->busy && s->counted.bytes[FA_DIR_RX] == rb &&
		    s->counted.bytes[FA_DIR_TX] == wb)
			s->verdict = V_EXACT;
	}
	free(first);
	free(a);
	free(b);
	return e;
}

int fa_audit_probe(struct fa_err *err)
{
	struct fa_tcp_diag *d = NULL;
	struct fa_err why = {};
	size_t n;
	int e = fa_sockdiag_tcp_dump(&d, &n, &why);

	free(d);
	if (e == -ENOENT)
		return fa_err_set(err, e,
				  "--audit: the kernel cannot report TCP sockets (%s): load "
				  "tcp_diag (modprobe tcp_diag)",
				  why.msg);
	if (e)
		return fa_err_set(err, e, "--audit: %s", why.msg);
	return 0;
}

int fa_audit_run(int audit_fd, struct fa_audit_result *r, struct fa_err *err)
{
	__u32 netns = own_netns();
	struct table t = {};
	int e;

	memset(r, 0, sizeof(*r));
	if (!netns)
		return fa_err_set(err, -errno,
				  "--audit: cannot tell this network namespace "
				  "(/proc/self/ns/net)");
	e = table_read(audit_fd, netns, &t, false);
	for (int i = 0; !e && i < ATTEMPTS; i++) {
		bool pending = false;

		if (i) {
			struct timespec ts = { 0, RETRY_MS * 1000000L };

			nanosleep(&ts, NULL);
		}
		e = attempt(audit_fd, netns, &t, err);
		for (size_t k = 0; k < t.n; k++)
			pending |= t.v[k].verdict == V_PENDING;
		if (!pending)
			break;
	}
	for (size_t i = 0; !e && i < t.n; i++) {
		const struct audited *s = &t.v[i];

		r->watched++;
		if (s->verdict == V_EXACT) {
			r->exact++;
		} else if (s->verdict == V_UNJUDGED) {
			r->unjudged++;
		} else if (s->busy) {
			r->busy++;
		} else {
			if (r->mismatched < FA_AUDIT_MAX_MISMATCHES)
				r->mismatch[r->mismatched] = (struct fa_audit_mismatch){
					.tuple = s->tuple,
					.counted_rx = s->counted.bytes[FA_DIR_RX],
					.counted_tx = s->counted.bytes[FA_DIR_TX],
					.read = s->read,
					.written = s->written,
				};
			r->mismatched++;
		}
	}
	if (e == -ENOMEM)
		fa_err_set(err, e, "--audit: out of memory");
	free(t.v);
	return e;
}
