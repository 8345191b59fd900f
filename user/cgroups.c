// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cgroups.h"
#include "util.h"

struct cg_entry {
	__u64 id;
	char *path;
	char *container; /* the runtime's name, once found */
	struct cg_entry *next;
};

#define NBUCKETS 1024

struct fa_cgroups {
	struct cg_entry *buckets[NBUCKETS];
	char root[4096];
	size_t rootlen;
	bool have_root;
	int root_fd; /* for open_by_handle_at(); -1 */
	bool no_handles; /* open_by_handle_at() refused: walk instead */
	double last_walk; /* CLOCK_MONOTONIC seconds; 0: never */
	struct fa_rtnames *rt;
};

/* nftw() takes no context argument: the walk in progress */
static struct fa_cgroups *walking;

static struct cg_entry **slot_of(struct fa_cgroups *c, __u64 id)
{
	struct cg_entry **e = &c->buckets[fa_hash(&id, sizeof(id)) % NBUCKETS];

	while (*e && (*e)->id != id)
		e = &(*e)->next;
	return e;
}

static int remember(struct fa_cgroups *c, __u64 id, const char *rel)
{
	struct cg_entry **e = slot_of(c, id);

	if (*e)
		return 0;
	*e = calloc(1, sizeof(**e));
	if (!*e)
		return -ENOMEM;
	(*e)->id = id;
	(*e)->path = strdup(*rel ? rel : "/");
	if (!(*e)->path) {
		free(*e);
		*e = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct fa_cgroups *c = walking;
	const char *rel;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	rel = path + c->rootlen;
	/* known already, or added: a cgroup keeps its path for its whole life (cgroup v2
	 * does not rename) */
	return remember(c, st->st_ino, rel) ? -1 : 0;
}

static void walk(struct fa_cgroups *c)
{
	c->last_walk = fa_mono_now();
	if (!c->have_root)
		return;
	walking = c;
	/* FTW_PHYS: cgroupfs has no links; FTW_MOUNT: stay in the hierarchy */
	nftw(c->root, visit, 32, FTW_PHYS | FTW_MOUNT);
	walking = NULL;
}

/* kernfs (cgroupfs) file handles are the node's 64-bit id: the cgroup id itself */
#define FILEID_KERNFS 0xfe

/* One id, at once: the cgroup's directory opened by its id as a file handle (needs
 * CAP_DAC_READ_SEARCH), and its path read back from /proc. 0, or -errno. */
static int by_handle(struct fa_cgroups *c, __u64 id)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh = { .handle_bytes = sizeof(__u64), .handle_type = FILEID_KERNFS } };
	char link[64], path[4096];
	ssize_t n;
	int fd, err;

	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(c->root_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	path[n] = '\0';
	if (strncmp(path, c->root, c->rootlen))
		return -ENOENT; /* outside our view of the hierarchy */
	return remember(c, id, path + c->rootlen);
}

struct fa_cgroups *fa_cgroups_new(const char *host_root)
{
	struct fa_cgroups *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rt = fa_rtnames_new(host_root);
	if (!c->rt) {
		free(c);
		return NULL;
	}
	c->have_root = !fa_cgroup2_path(c->root, sizeof(c->root));
	c->rootlen = strlen(c->root);
	c->root_fd = c->have_root ? open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	return c;
}

void fa_cgroups_free(struct fa_cgroups *c)
{
	if (!c)
		return;
	if (c->root_fd >= 0)
		close(c->root_fd);
	fa_rtnames_free(c->rt);
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct cg_entry *e = c->buckets[b], *next;

		for (; e; e = next) {
			next = e->next;
			free(e->path);
			free(e->container);
			free(e);
		}
	}
	free(c);
}

void fa_cgroups_resolve(struct fa_cgroups *c, __u64 id, struct fa_cgroup_info *out)
{
	struct cg_entry *e = *slot_of(c, id);

	memset(out, 0, sizeof(*out));
	out->id = id;
	/* a new id: by its handle, else by walking the hierarchy again (at most once a
	 * second) */
	if (!e && id && c->root_fd >= 0 && !c->no_handles) {
		int err = by_handle(c, id);

		if (err == -EPERM || err == -EOPNOTSUPP || err == -EINVAL || err == -ENOSYS)
			c->no_handles = true;
		e = *slot_of(c, id);
	}
	if (!e && id && (c->no_handles || c->root_fd < 0) &&
	    (!c->last_walk || fa_mono_now() - c->last_walk >= 1.0)) {
		walk(c);
		e = *slot_of(c, id);
	}
	if (!e)
		return;
	out->known = true;
	snprintf(out->path, sizeof(out->path), "%s", e->path);
	fa_cg_classify(e->path, &out->name);
	if (!e->container &&
	    fa_rtnames_lookup(c->rt, &out->name, out->container, sizeof(out->container)))
		e->container = strdup(out->container); /* a container keeps its name */
	if (e->container)
		snprintf(out->container, sizeof(out->container), "%s", e->container);
	else
		fa_cg_short(&out->name, out->container, sizeof(out->container));
	if (out->name.kind == FA_CG_SERVICE || out->name.kind == FA_CG_NONE)
		out->container[0] = '\0';
}
