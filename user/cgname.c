// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "cgname.h"

const char *const fa_cg_kind_names[FA_CG_KIND_MAX] = {
	[FA_CG_NONE] = "none",	   [FA_CG_SERVICE] = "service", [FA_CG_DOCKER] = "docker",
	[FA_CG_PODMAN] = "podman", [FA_CG_CRI] = "cri",		[FA_CG_LXC] = "lxc",
};

/* One path component: a pointer into the path and its length (no NUL of its own). */
struct comp {
	const char *s;
	size_t n;
};

#define MAX_COMPS 64

static bool has_prefix(struct comp c, const char *p)
{
	size_t n = strlen(p);

	return c.n >= n && !memcmp(c.s, p, n);
}

static bool has_suffix(struct comp c, const char *p)
{
	size_t n = strlen(p);

	return c.n >= n && !memcmp(c.s + c.n - n, p, n);
}

static bool is_id(const char *s, size_t n)
{
	if (n != FA_CG_ID_LEN - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void copy(char *dst, size_t len, const char *s, size_t n)
{
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* "<prefix><id><suffix>" (suffix may be ""): the id's start, or NULL */
static const char *wrapped_id(struct comp c, const char *prefix, const char *suffix)
{
	size_t p = strlen(prefix), s = strlen(suffix);

	if (!has_prefix(c, prefix) || !has_suffix(c, suffix) || c.n < p + s ||
	    !is_id(c.s + p, c.n - p - s))
		return NULL;
	return c.s + p;
}

/* A container's own cgroup, given the component and its parent (NULL at the top). */
static enum fa_cg_kind container_of(struct comp c, const struct comp *parent, bool in_kubepods,
				    const char **id)
{
	static const struct {
		const char *prefix, *suffix;
		enum fa_cg_kind kind;
	} wrapped[] = {
		{ "docker-", ".scope", FA_CG_DOCKER }, /* systemd cgroup driver */
		{ "libpod-", ".scope", FA_CG_PODMAN }, /* systemd driver */
		{ "libpod-", "", FA_CG_PODMAN }, /* cgroupfs driver */
		{ "cri-containerd-", ".scope", FA_CG_CRI }, /* containerd, systemd driver */
		{ "crio-", ".scope", FA_CG_CRI }, /* CRI-O, systemd driver */
	};

	for (size_t i = 0; i < sizeof(wrapped) / sizeof(wrapped[0]); i++)
		if ((*id = wrapped_id(c, wrapped[i].prefix, wrapped[i].suffix)))
			return wrapped[i].kind;
	/* cgroupfs drivers: the bare id under /docker/ or anywhere under /kubepods/ */
	if (is_id(c.s, c.n)) {
		*id = c.s;
		if (parent && parent->n == 6 && !memcmp(parent->s, "docker", 6))
			return FA_CG_DOCKER;
		if (in_kubepods)
			return FA_CG_CRI;
	}
	return FA_CG_NONE;
}

/* Kubernetes' pod cgroup: "kubepods-burstable-pod<uid>.slice" (uid with '_' for '-') or
 * "pod<uid>" (cgroupfs driver). */
static bool pod_uid(struct comp c, char *out, size_t len)
{
	const char *p = NULL;
	size_t n = 0;

	if (has_prefix(c, "kubepods") && has_suffix(c, ".slice")) {
		for (size_t i = 0; i + 3 < c.n; i++)
			if (!memcmp(c.s + i, "pod", 3))
				p = c.s + i + 3;
		if (p)
			n = c.s + c.n - strlen(".slice") - p;
	} else if (has_prefix(c, "pod") && c.n > 3) {
		p = c.s + 3;
		n = c.n - 3;
	}
	if (!p || !n || n >= len)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i] == '_' ? '-' : p[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || ch == '-'))
			return false;
		out[i] = ch;
	}
	out[n] = '\0';
	return true;
}

void fa_cg_classify(const char *path, struct fa_cg_name *out)
{
	struct comp comps[MAX_COMPS];
	int n = 0, unit = -1;
	bool kubepods = false;

	memset(out, 0, sizeof(*out));
	for (const char *p = path; *p && n < MAX_COMPS;) {
		const char *e;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		comps[n++] = (struct comp){ p, (size_t)(e - p) };
		p = e;
	}
	/* outermost first: a container wins over whatever runs nested inside it */
	for (int i = 0; i < n; i++) {
		const struct comp *parent = i ? &comps[i - 1] : NULL;
		const char *id;
		enum fa_cg_kind kind;
		char uid[sizeof(out->pod_uid)];

		kubepods |= has_prefix(comps[i], "kubepods");
		if (kubepods && pod_uid(comps[i], uid, sizeof(uid)))
			memcpy(out->pod_uid, uid, sizeof(uid));
		kind = container_of(comps[i], parent, kubepods, &id);
		if (kind != FA_CG_NONE) {
			out->kind = kind;
			copy(out->id, sizeof(out->id), id, FA_CG_ID_LEN - 1);
			return;
		}
		if (has_prefix(comps[i], "lxc.payload.") && comps[i].n > strlen("lxc.payload.")) {
			out->kind = FA_CG_LXC;
			copy(out->unit, sizeof(out->unit), comps[i].s + strlen("lxc.payload."),
			     comps[i].n - strlen("lxc.payload."));
			return;
		}
		if (parent && parent->n == 3 && !memcmp(parent->s, "lxc", 3)) {
			out->kind = FA_CG_LXC;
			copy(out->unit, sizeof(out->unit), comps[i].s, comps[i].n);
			return;
		}
		if (has_suffix(comps[i], ".service") || has_suffix(comps[i], ".scope"))
			unit = i; /* the innermost unit, unless a container comes after */
	}
	if (unit >= 0) {
		out->kind = FA_CG_SERVICE;
		copy(out->unit, sizeof(out->unit), comps[unit].s, comps[unit].n);
	}
	if (out->kind != FA_CG_CRI)
		out->pod_uid[0] = '\0';
}

const char *fa_cg_short(const struct fa_cg_name *n, char *buf, size_t len)
{
	if (n->kind == FA_CG_DOCKER || n->kind == FA_CG_PODMAN || n->kind == FA_CG_CRI)
		snprintf(buf, len, "%.12s", n->id);
	else
		snprintf(buf, len, "%s", n->unit);
	return buf;
}
