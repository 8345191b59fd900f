// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The JSON of a snapshot, for -j/--json (one object per interval per line), --json-file
 * and fa_json_render(). The schema is docs/flowacct.schema.json.
 *
 * One yajl generator writes it, value by value, straight into a stdio stream: no tree of
 * the document and no whole copy of its text is ever in memory, however many flows there
 * are. yajl escapes the strings; they are ASCII anyway (fa_escape, addresses, fixed names).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include "format.h"
#include "output.h"

/* -errno of a failed stdio call; stdio sets errno, but a stream may fail without */
static int stream_err(void)
{
	return errno ? -errno : -EIO;
}

/* A cgroup's strings as JSON shows them, escaped once per snapshot rather than per row. */
struct cg_text {
	char *path, *container, *service; /* NULL: null */
};

struct json_writer {
	yajl_gen g;
	FILE *f; /* locked by the writer while it writes */
	int err; /* the first failure, -errno; every call after it does nothing */
	struct cg_text *cgt; /* by the index of snap->cgroups */
};

/* yajl's print callback: into f's stdio buffer. yajl prints in small pieces (often one
 * byte: a quote, a comma), so the stream is locked once for the whole object and written
 * unlocked. */
static void json_print(void *ctx, const char *s, size_t len)
{
	struct json_writer *w = ctx;
	size_t n = len == 1 ? putc_unlocked(*s, w->f) != EOF : fwrite_unlocked(s, 1, len, w->f);

	if (n != len && !w->err)
		w->err = stream_err();
}

/* A refusal of yajl's is a bug here or, for a string, bytes that are not UTF-8. */
static void check(struct json_writer *w, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok && !w->err)
		w->err = st == yajl_gen_invalid_string ? -EILSEQ : -EINVAL;
}

/* NULL, a name the snapshot lacks (never in practice), becomes null rather than a crash */
static void put_str(struct json_writer *w, const char *s)
{
	if (!w->err)
		check(w, s ? yajl_gen_string(w->g, (const unsigned char *)s, strlen(s))
			   : yajl_gen_null(w->g));
}

static void set_str(struct json_writer *w, const char *k, const char *v)
{
	put_str(w, k);
	put_str(w, v);
}

/* Counters are __u64: written as unsigned text (yajl_gen_integer is signed, and a byte
 * counter past 2^63 must not turn negative). */
static void set_int(struct json_writer *w, const char *k, __u64 v)
{
	char num[FA_FMT_U64_LEN];
	size_t len = fa_fmt_u64(num, v);

	put_str(w, k);
	if (!w->err)
		check(w, yajl_gen_number(w->g, num, len));
}

static void set_bool(struct json_writer *w, const char *k, bool v)
{
	put_str(w, k);
	if (!w->err)
		check(w, yajl_gen_bool(w->g, v));
}

/*
 * A real as jansson's JSON_REAL_PRECISION(6) wrote it, so the text stays the same: %.6g,
 * ".0" added when that looks like an integer (1 is "1.0"), and the exponent without '+'
 * or leading zeros ("1e6", "1e-7"). yajl_gen_double would give %.20g, digits of binary
 * noise. flowacct never calls setlocale(), so the decimal point is '.'.
 */
static void set_real(struct json_writer *w, const char *k, double v)
{
	char num[32], *e;
	int n;

	put_str(w, k);
	if (w->err)
		return;
	if (!isfinite(v)) {
		check(w, yajl_gen_invalid_number); /* JSON has no NaN or infinity */
		return;
	}
	n = snprintf(num, sizeof(num) - 2, "%.6g", v);
	if (!strpbrk(num, ".e")) {
		strcpy(num + n, ".0");
		n += 2;
	}
	e = strchr(num, 'e');
	if (e) {
		char *digits = e + 1 + (e[1] == '-'), *from = e + 1;

		from += *from == '+' || *from == '-';
		while (*from == '0' && from[1])
			from++;
		memmove(digits, from, strlen(from) + 1);
		n = strlen(num);
	}
	check(w, yajl_gen_number(w->g, num, n));
}

/* Opens or closes a map or an array (fn: yajl_gen_map_open, yajl_gen_array_close, ...),
 * after its key k unless that is NULL */
static void bracket(struct json_writer *w, const char *k, yajl_gen_status (*fn)(yajl_gen))
{
	if (k)
		put_str(w, k);
	if (!w->err)
		check(w, fn(w->g));
}

/* NAME for this interval, NAME_total since start, of the kinds (enum fa_count_kind) the row
 * has: packets only with --packets, TCP health only where it is known */
static void put_counts(struct json_writer *w, const struct fa_counts *delta,
		       const struct fa_counts *total, unsigned kinds)
{
	for (size_t i = 0; i < FA_NCOUNTS; i++) {
		const struct fa_count_desc *d = &fa_count_descs[i];

		if (!(d->kind & kinds))
			continue;
		set_int(w, d->name, fa_count_get(delta, d));
		set_int(w, d->total_name, fa_count_get(total, d));
	}
}

static char *escaped(const char *raw, size_t len)
{
	char esc[FA_CGROUP_PATH_LEN * 4];

	return strdup(fa_escape(esc, sizeof(esc), raw, len));
}

static void cg_text_free(struct cg_text *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].path);
		free(t[i].container);
		free(t[i].service);
	}
	free(t);
}

/*
 * What each cgroup of the snapshot shows: its path (null if unknown: a v1-only host, or
 * a cgroup gone before flowacct saw it), the container or the service it runs (null if
 * none). All untrusted: a container can name itself anything. NULL on ENOMEM.
 */
static struct cg_text *cg_text_of(const struct fa_snapshot *snap)
{
	struct cg_text *t = calloc(snap->ncgroups + 1, sizeof(*t));

	for (size_t i = 0; t && i < snap->ncgroups; i++) {
		const struct fa_cgroup_info *cg = &snap->cgroups[i];
		enum fa_cg_kind kind = cg->name.kind;
		bool bad = false;

		if (!cg->known)
			continue;
		bad |= !(t[i].path = escaped(cg->path, sizeof(cg->path)));
		if (kind != FA_CG_NONE && kind != FA_CG_SERVICE)
			bad |= !(t[i].container = escaped(cg->container, sizeof(cg->container)));
		if (kind == FA_CG_SERVICE)
			bad |= !(t[i].service = escaped(cg->name.unit, sizeof(cg->name.unit)));
		if (bad) {
			cg_text_free(t, snap->ncgroups);
			return NULL;
		}
	}
	return t;
}

/* The process's cgroup: its id and what cg_text_of says of it. */
static void put_cgroup(struct json_writer *w, const struct fa_snapshot *snap, __u64 id)
{
	const struct fa_cgroup_info *cg = fa_snapshot_cgroup(snap, id);
	const struct cg_text *t = cg ? &w->cgt[cg - snap->cgroups] : NULL;
	bool container = t && t->container;

	set_int(w, "cgroup_id", id);
	set_str(w, "cgroup", t ? t->path : NULL);
	set_str(w, "container", container ? t->container : NULL);
	set_str(w, "container_id", container && cg->name.id[0] ? cg->name.id : NULL);
	set_str(w, "container_kind", container ? fa_cg_kind_names[cg->name.kind] : NULL);
	set_str(w, "pod_uid", container && cg->name.pod_uid[0] ? cg->name.pod_uid : NULL);
	set_str(w, "service", t ? t->service : NULL);
}

static void put_process(struct json_writer *w, const struct fa_snapshot *snap,
			const struct fa_ident *p)
{
	char comm[FA_ESCAPED_COMM_LEN];

	set_int(w, "pid", p->pid);
	set_int(w, "uid", p->uid);
	set_str(w, "comm", fa_escape(comm, sizeof(comm), p->comm, sizeof(p->comm)));
	set_bool(w, "exited", p->exited);
	put_cgroup(w, snap, p->cgroup_id);
}

static void put_tuple(struct json_writer *w, const struct fa_tuple *t)
{
	char a[FA_FMT_ENDPOINT_LEN];

	set_str(w, "proto", fa_proto_name(t->proto));
	set_str(w, "family", fa_family_name(t->family));
	set_str(w, "laddr", fa_fmt_addr(a, sizeof(a), t->family, t->laddr));
	set_int(w, "lport", t->lport);
	set_str(w, "raddr", fa_fmt_addr(a, sizeof(a), t->family, t->raddr));
	set_int(w, "rport", t->rport);
}

/* A TCP flow's health now: RTTs in microseconds (null before the first sample), state. */
static void put_tcp(struct json_writer *w, const struct fa_tcp_now *tcp)
{
	if (tcp->srtt_us)
		set_int(w, "srtt_us", tcp->srtt_us);
	else
		set_str(w, "srtt_us", NULL);
	if (tcp->min_rtt_us)
		set_int(w, "min_rtt_us", tcp->min_rtt_us);
	else
		set_str(w, "min_rtt_us", NULL);
	set_str(w, "state", tcp->state ? fa_tcp_state_name(tcp->state) : NULL);
}

/* One array element: identity (either part may be absent), then the counters of the
 * kinds it has; tcp: a TCP flow's health, where it is known; closed: a flow's (-1: not a
 * flow). */
static void put_row(struct json_writer *w, const struct fa_ident *proc, const struct fa_tuple *t,
		    const struct fa_counts *delta, const struct fa_counts *total,
		    const struct fa_snapshot *snap, bool active_only, long nflows, long long netns,
		    unsigned kinds, const struct fa_tcp_now *tcp, int closed)
{
	if (active_only && !fa_counts_moved(delta))
		return;
	bracket(w, NULL, yajl_gen_map_open);
	if (proc)
		put_process(w, snap, proc);
	if (t)
		put_tuple(w, t);
	if (netns >= 0) /* a flow: the socket's network namespace */
		set_int(w, "netns", netns);
	if (closed >= 0) /* and whether its socket has closed (it leaves after the linger) */
		set_bool(w, "closed", closed);
	if (nflows >= 0)
		set_int(w, "flows", nflows);
	if (tcp)
		put_tcp(w, tcp);
	put_counts(w, delta, total, kinds);
	bracket(w, NULL, yajl_gen_map_close);
}

/*
 * The rows of --by service: what runs the processes (a container, else a systemd unit,
 * else the cgroup's path), its processes and flows added up. The name is untrusted.
 */
static void put_services(struct json_writer *w, const struct fa_snapshot *snap, bool active_only)
{
	const struct fa_view_opts by = { .group = FA_GROUP_SERVICE, .active_only = active_only };
	struct fa_view_row *rows;
	size_t n;
	int err = fa_view_build(snap, &by, &rows, &n);

	if (err) {
		w->err = w->err ?: err;
		return;
	}
	bracket(w, "services", yajl_gen_array_open);
	for (size_t i = 0; i < n && !w->err; i++) {
		const struct fa_view_row *r = &rows[i];
		const struct fa_cg_name *cn = r->cgroup ? &r->cgroup->name : NULL;
		char esc[FA_CGROUP_PATH_LEN * 4];

		bracket(w, NULL, yajl_gen_map_open);
		set_str(w, "name", fa_escape(esc, sizeof(esc), r->label, strlen(r->label)));
		set_str(w, "kind",
			cn && cn->kind != FA_CG_NONE ? fa_cg_kind_names[cn->kind] : NULL);
		set_int(w, "procs", r->nprocs);
		set_int(w, "flows", r->nflows);
		put_counts(w, r->delta, r->total, fa_snapshot_kinds(snap, true));
		bracket(w, NULL, yajl_gen_map_close);
	}
	bracket(w, NULL, yajl_gen_array_close);
	free(rows);
}

/* active_only: only rows that moved bytes or packets this interval (-j on a busy host) */
static void put_snapshot(struct json_writer *w, const struct fa_snapshot *snap, bool active_only)
{
	char ts[64];
	struct tm tm;

	gmtime_r(&snap->ts.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", snap->ts.tv_nsec / 1000000);
	bracket(w, NULL, yajl_gen_map_open);
	set_str(w, "ts", ts);
	set_real(w, "interval_s", snap->interval_s);
	set_str(w, "backend", snap->backend);
	set_bool(w, "final", snap->final);
	set_bool(w, "packets", snap->packets);
	set_int(w, "nflows", snap->nflows);
	set_int(w, "nprocs", snap->nprocs);

	bracket(w, "totals", yajl_gen_map_open);
	put_counts(w, &snap->delta, &snap->total, fa_snapshot_kinds(snap, true));
	bracket(w, NULL, yajl_gen_map_close);
	bracket(w, "drops", yajl_gen_map_open);
	for (int i = 0; i < FA_DROP_MAX; i++)
		set_int(w, fa_drop_descs[i].name, snap->drops[i]);
	bracket(w, NULL, yajl_gen_map_close);

	bracket(w, "flows", yajl_gen_array_open);
	for (size_t i = 0; i < snap->nflows && !w->err; i++) {
		const struct fa_flow *f = &snap->flows[i];

		bool tcp = f->tuple.proto == FA_PROTO_TCP;

		put_row(w, &f->proc, &f->tuple, &f->delta, &f->total, snap, active_only, -1,
			f->netns, fa_snapshot_kinds(snap, tcp),
			tcp && snap->health ? &f->tcp : NULL, f->closed);
	}
	bracket(w, NULL, yajl_gen_array_close);
	bracket(w, "overflow", yajl_gen_array_open);
	for (size_t i = 0; i < snap->noverflow && !w->err; i++) {
		const struct fa_overflow *o = &snap->overflow[i];

		put_row(w, &o->proc, NULL, &o->delta, &o->total, snap, active_only, -1, -1,
			fa_snapshot_kinds(snap, false), NULL, -1);
	}
	bracket(w, NULL, yajl_gen_array_close);
	if (snap->packets) {
		bracket(w, "unmatched_packets", yajl_gen_array_open);
		for (size_t i = 0; i < snap->nunmatched && !w->err; i++) {
			const struct fa_unmatched *u = &snap->unmatched[i];

			put_row(w, NULL, &u->tuple, &u->delta, &u->total, snap, active_only, -1, -1,
				fa_snapshot_kinds(snap, false), NULL, -1);
		}
		bracket(w, NULL, yajl_gen_array_close);
	}
	bracket(w, "other", yajl_gen_array_open);
	for (size_t i = 0; i < snap->nother && !w->err; i++) {
		const struct fa_other *o = &snap->other[i];
		char name[FA_OTHER_NAME_LEN];

		if (active_only && !fa_counts_moved(&o->delta))
			continue;
		bracket(w, NULL, yajl_gen_map_open);
		set_str(w, "kind", fa_other_name(name, sizeof(name), o->family, o->proto));
		set_int(w, "family_id", o->family);
		set_int(w, "protocol_id", o->proto);
		put_counts(w, &o->delta, &o->total, FA_CK_BASE);
		bracket(w, NULL, yajl_gen_map_close);
	}
	bracket(w, NULL, yajl_gen_array_close);
	bracket(w, "processes", yajl_gen_array_open);
	for (size_t i = 0; i < snap->nprocs && !w->err; i++) {
		const struct fa_proc *p = &snap->procs[i];

		put_row(w, &p->proc, NULL, &p->delta, &p->total, snap, active_only, p->nflows, -1,
			fa_snapshot_kinds(snap, p->part[FA_PART_TCP].present), NULL, -1);
	}
	bracket(w, NULL, yajl_gen_array_close);
	put_services(w, snap, active_only);
	bracket(w, NULL, yajl_gen_map_close);
}

int fa_json_write(FILE *f, const struct fa_snapshot *snap, bool active_only)
{
	struct json_writer w = { .f = f };

	w.g = yajl_gen_alloc(NULL);
	if (!w.g)
		return -ENOMEM;
	/* compact (yajl's default); strings checked to be UTF-8, so none can make the text
	 * invalid JSON even if an escaping upstream ever let raw bytes through */
	if (!yajl_gen_config(w.g, yajl_gen_print_callback, json_print, &w) ||
	    !yajl_gen_config(w.g, yajl_gen_validate_utf8, 1)) {
		yajl_gen_free(w.g);
		return -EINVAL;
	}
	w.cgt = cg_text_of(snap);
	if (!w.cgt) {
		yajl_gen_free(w.g);
		return -ENOMEM;
	}
	flockfile(f);
	put_snapshot(&w, snap, active_only);
	funlockfile(f);
	cg_text_free(w.cgt, snap->ncgroups);
	yajl_gen_free(w.g);
	return w.err;
}

/* The same generator into a memory stream, which, unlike yajl's own buffer (it does not
 * check malloc), reports ENOMEM; and the caller gets the buffer itself, not a copy. */
char *fa_json_render(const struct fa_snapshot *snap)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return NULL;
	err = fa_json_write(f, snap, false);
	if (fclose(f) && !err)
		err = stream_err();
	if (err) {
		free(buf);
		errno = -err;
		return NULL;
	}
	return buf;
}

struct json_output {
	struct fa_output base;
	FILE *f;
};

static int json_emit(struct fa_output *out, const struct fa_snapshot *snap)
{
	struct json_output *j = (struct json_output *)out;
	int err = fa_json_write(j->f, snap, true);

	/* the newline even after a failure: the next interval's line starts a line of its own */
	if (fputc('\n', j->f) == EOF && !err)
		err = stream_err();
	if (fflush(j->f) && !err)
		err = stream_err();
	return err;
}

struct fa_output *fa_json_open(FILE *f)
{
	struct json_output *j = fa_output_new(sizeof(*j), "json", json_emit);

	if (!j)
		return NULL;
	j->f = f;
	return &j->base;
}
