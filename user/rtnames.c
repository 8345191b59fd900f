// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>
#include "rtnames.h"
#include "util.h"

#define NBUCKETS     256
#define MAX_JSON     (64u << 20) /* containers.json of thousands of containers fits */
#define MAX_CONFIG   (4u << 20) /* one Docker container's config.v2.json */
#define POD_NAME_LEN (FA_RT_NAME_LEN - 16)

/* key → name; name NULL: looked up and not found, look again after retry_at */
struct entry {
	char *key, *name;
	double retry_at;
	struct entry *next;
};

struct map {
	struct entry *b[NBUCKETS];
};

/* A source read whole (a file or a directory): when, and what it looked like then. */
struct source {
	double next_scan; /* CLOCK_MONOTONIC seconds */
	struct timespec mtime;
};

struct fa_rtnames {
	char root[4096]; /* the host's root, without a trailing '/' ("" for /) */
	char docker_root[8192]; /* <root><data-root> */
	struct map docker; /* container id → name, one config file each */
	struct map podman; /* container id → name (containers.json) */
	struct map kube; /* container id → namespace/pod/container */
	struct map pods; /* pod uid → namespace/pod */
	struct source podman_src, kube_src, pods_src;
};

static struct entry **map_slot(struct map *m, const char *key)
{
	struct entry **e = &m->b[fa_hash(key, strlen(key)) % NBUCKETS];

	while (*e && strcmp((*e)->key, key))
		e = &(*e)->next;
	return e;
}

/* Sets key's name (NULL: a miss until retry_at); the old one is replaced. */
static void map_set(struct map *m, const char *key, const char *name, double retry_at)
{
	struct entry **slot = map_slot(m, key), *e = *slot;

	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = strdup(key))) {
			free(e);
			return; /* out of memory: the name stays unknown */
		}
		*slot = e;
	}
	free(e->name);
	e->name = name ? strndup(name, FA_RT_NAME_LEN - 1) : NULL;
	e->retry_at = retry_at;
}

static void map_free(struct map *m)
{
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct entry *e = m->b[i], *next; e; e = next) {
			next = e->next;
			free(e->key);
			free(e->name);
			free(e);
		}
}

/* A file into a NUL-terminated buffer of at most max bytes; NULL if absent or bigger. */
static char *slurp(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf = NULL;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > max ||
	    !(buf = malloc(st.st_size + 1)))
		goto out;
	n = read(fd, buf, st.st_size);
	if (n < 0) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
out:
	close(fd);
	return buf;
}

static yajl_val parse_file(const char *path, size_t max)
{
	char *text = slurp(path, max);
	yajl_val v;

	if (!text)
		return NULL;
	v = yajl_tree_parse(text, NULL, 0);
	free(text);
	return v;
}

static const char *json_str(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

/* Docker's data-root, from daemon.json if it moves it (rootless Docker is not looked at). */
static void docker_root(struct fa_rtnames *r)
{
	char path[8400];
	yajl_val conf;
	const char *dr;

	snprintf(path, sizeof(path), "%s/etc/docker/daemon.json", r->root);
	conf = parse_file(path, 1u << 20);
	dr = conf ? json_str(conf, "data-root") : NULL;
	snprintf(r->docker_root, sizeof(r->docker_root), "%s%s", r->root,
		 dr && dr[0] == '/' ? dr : "/var/lib/docker");
	yajl_tree_free(conf);
}

struct fa_rtnames *fa_rtnames_new(const char *host_root)
{
	struct fa_rtnames *r = calloc(1, sizeof(*r));
	size_t n;

	if (!r)
		return NULL;
	snprintf(r->root, sizeof(r->root), "%s", host_root ? host_root : "/");
	n = strlen(r->root);
	while (n && r->root[n - 1] == '/')
		r->root[--n] = '\0';
	docker_root(r);
	return r;
}

void fa_rtnames_free(struct fa_rtnames *r)
{
	if (!r)
		return;
	map_free(&r->docker);
	map_free(&r->podman);
	map_free(&r->kube);
	map_free(&r->pods);
	free(r);
}

/* Whether a whole-source rescan is due now, and path changed since the last one. */
static bool rescan_due(struct source *s, const char *path)
{
	struct stat st;
	double now = fa_mono_now();

	if (now < s->next_scan)
		return false;
	s->next_scan = now + FA_RT_RESCAN_S;
	if (stat(path, &st))
		return false;
	if (st.st_mtim.tv_sec == s->mtime.tv_sec && st.st_mtim.tv_nsec == s->mtime.tv_nsec)
		return false;
	s->mtime = st.st_mtim;
	return true;
}

/* The name in map m, "" for a miss; NULL if key was never looked up or its retry is due. */
static const char *map_get(struct map *m, const char *key)
{
	struct entry *e = *map_slot(m, key);

	if (!e || (!e->name && fa_mono_now() >= e->retry_at))
		return NULL;
	return e->name ? e->name : "";
}

static void docker_lookup(struct fa_rtnames *r, const char *id)
{
	char path[8400];
	yajl_val conf;
	const char *name;

	snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json", r->docker_root, id);
	conf = parse_file(path, MAX_CONFIG);
	name = conf ? json_str(conf, "Name") : NULL;
	if (name && *name == '/')
		name++; /* Docker keeps names as "/web" */
	map_set(&r->docker, id, name && *name ? name : NULL, fa_mono_now() + FA_RT_RESCAN_S);
	yajl_tree_free(conf);
}

/* containers/storage's list of containers: Podman's, and CRI-O's. */
static void podman_scan(struct fa_rtnames *r)
{
	static const char *const drivers[] = { "overlay", "vfs", "btrfs", "zfs" };
	char path[8400];

	for (size_t d = 0; d < ARRAY_SIZE(drivers); d++) {
		yajl_val list;

		snprintf(path, sizeof(path),
			 "%s/var/lib/containers/storage/%s-containers/containers.json", r->root,
			 drivers[d]);
		if (access(path, R_OK))
			continue;
		if (!rescan_due(&r->podman_src, path))
			return;
		list = parse_file(path, MAX_JSON);
		for (size_t i = 0; YAJL_IS_ARRAY(list) && i < YAJL_GET_ARRAY(list)->len; i++) {
			yajl_val c = YAJL_GET_ARRAY(list)->values[i];
			const char *names_path[] = { "names", NULL };
			yajl_val names = yajl_tree_get(c, names_path, yajl_t_array);
			const char *id = json_str(c, "id");

			if (id && names && YAJL_GET_ARRAY(names)->len &&
			    YAJL_IS_STRING(YAJL_GET_ARRAY(names)->values[0]))
				map_set(&r->podman, id,
					YAJL_GET_STRING(YAJL_GET_ARRAY(names)->values[0]), 0);
		}
		yajl_tree_free(list);
		return;
	}
}

/* Splits s at '_' into exactly want parts (Kubernetes names have no '_'); false if not. */
static bool split3(char *s, char *part[3])
{
	part[0] = s;
	for (int i = 1; i < 3; i++) {
		char *u = strchr(part[i - 1], '_');

		if (!u)
			return false;
		*u = '\0';
		part[i] = u + 1;
	}
	return !strchr(part[2], '_') && *part[0] && *part[1] && *part[2];
}

/* Each entry of the directory rel under the host's root, if it changed since its last
 * scan (at most once per FA_RT_RESCAN_S), to fn with a copy of its name it may cut. */
static void scan_dir(struct fa_rtnames *r, struct source *src, const char *rel,
		     void (*fn)(struct fa_rtnames *r, char *name, size_t len))
{
	char path[8400];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s", r->root, rel);
	if (!rescan_due(src, path) || !(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		char buf[512];
		size_t n = strlen(de->d_name);

		if (n < sizeof(buf)) {
			memcpy(buf, de->d_name, n + 1);
			fn(r, buf, n);
		}
	}
	closedir(d);
}

/* <pod>_<namespace>_<container>-<64 hex id>.log, the kubelet's links to a container's log */
static void kube_entry(struct fa_rtnames *r, char *buf, size_t n)
{
	size_t idlen = FA_CG_ID_LEN - 1;
	char *part[3], name[FA_RT_NAME_LEN];
	const char *id;

	if (n < idlen + 6 || strcmp(buf + n - 4, ".log"))
		return;
	buf[n - 4] = '\0';
	id = buf + n - 4 - idlen;
	if (id[-1] != '-')
		return;
	buf[n - 5 - idlen] = '\0';
	if (!split3(buf, part))
		return;
	snprintf(name, sizeof(name), "%s/%s/%s", part[1], part[0], part[2]);
	map_set(&r->kube, id, name, 0);
}

static void kube_scan(struct fa_rtnames *r)
{
	scan_dir(r, &r->kube_src, "/var/log/containers", kube_entry);
}

/* <namespace>_<pod>_<uid>: a pod's directory of logs, its name by its uid */
static void pods_entry(struct fa_rtnames *r, char *buf, size_t n)
{
	char *part[3], name[FA_RT_NAME_LEN];

	(void)n;
	if (!split3(buf, part))
		return;
	snprintf(name, sizeof(name), "%.*s/%.*s", POD_NAME_LEN / 2, part[0], POD_NAME_LEN / 2,
		 part[1]);
	map_set(&r->pods, part[2], name, 0);
}

static void pods_scan(struct fa_rtnames *r)
{
	scan_dir(r, &r->pods_src, "/var/log/pods", pods_entry);
}

/* The name of key in m, scanning its source again if it is missing; NULL if none. */
static const char *scanned(struct fa_rtnames *r, struct map *m, void (*scan)(struct fa_rtnames *),
			   const char *key)
{
	const char *name = map_get(m, key);

	if (!name) {
		scan(r);
		name = map_get(m, key);
		if (!name) /* not there: remember the miss until the next scan may run */
			map_set(m, key, NULL, fa_mono_now() + FA_RT_RESCAN_S);
	}
	return name && *name ? name : NULL;
}

static bool put(char *buf, size_t len, const char *name)
{
	if (!name)
		return false;
	snprintf(buf, len, "%s", name);
	return true;
}

bool fa_rtnames_lookup(struct fa_rtnames *r, const struct fa_cg_name *n, char *buf, size_t len)
{
	const char *name;

	switch (n->kind) {
	case FA_CG_DOCKER:
		if (!map_get(&r->docker, n->id))
			docker_lookup(r, n->id);
		name = map_get(&r->docker, n->id);
		return put(buf, len, name && *name ? name : NULL);
	case FA_CG_PODMAN:
		return put(buf, len, scanned(r, &r->podman, podman_scan, n->id));
	case FA_CG_CRI:
		if (put(buf, len, scanned(r, &r->kube, kube_scan, n->id)))
			return true;
		/* a container without a log of its own (the pod's sandbox): the pod, and
		 * which of its containers */
		if (n->pod_uid[0] && (name = scanned(r, &r->pods, pods_scan, n->pod_uid))) {
			snprintf(buf, len, "%s/%.12s", name, n->id);
			return true;
		}
		return put(buf, len, scanned(r, &r->podman, podman_scan, n->id));
	default:
		return false;
	}
}
