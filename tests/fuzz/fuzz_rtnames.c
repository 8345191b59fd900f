// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the container runtimes' state flowacct reads (user/rtnames.c),
 * all of it written by others: an input's first byte says which file the rest is, under
 * a host root made for the process: 0 Docker's config.v2.json, 1 Docker's daemon.json
 * (its data-root moves the containers), 2 containers/storage's containers.json, 3 names
 * of the kubelet's log links and pod directories, one per line. Then each runtime's
 * container of ID (the id the seeds use) is looked up; an answer must fit its buffer.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rtnames.h"

#define ID  "c210000000000000000000000000000000000000000000000000000000000003"
#define UID "5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab"

static char root[64];

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void put(const char *rel, const uint8_t *data, size_t size)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (write(fd, data, size) < 0) {
		/* a short file is an input too */
	}
	close(fd);
}

/* empties dir (rel to root) of the entries put_names made: files or empty dirs */
static void empty_dir(const char *rel, int flags)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, flags);
	closedir(d);
}

static void clear(void)
{
	char path[512];

	empty_dir("/var/log/containers", 0);
	empty_dir("/var/log/pods", AT_REMOVEDIR);
	snprintf(path, sizeof(path), "%s/var/lib/docker/containers/%s/config.v2.json", root, ID);
	unlink(path);
	snprintf(path, sizeof(path), "%s/etc/docker/daemon.json", root);
	unlink(path);
	snprintf(path, sizeof(path),
		 "%s/var/lib/containers/storage/overlay-containers/containers.json", root);
	unlink(path);
}

static void remove_root(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd)) {
		/* a directory left behind in /dev/shm or /tmp */
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char cmd[512];

	(void)argc;
	(void)argv;
	/* tmpfs when there is one: an input is a few file writes */
	snprintf(root, sizeof(root), "%s/fa-fuzz-rtnames.%d",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/etc/docker %s/var/lib/docker/containers/%s "
		 "%s/var/lib/containers/storage/overlay-containers %s/var/log/containers "
		 "%s/var/log/pods",
		 root, root, ID, root, root, root);
	check(system(cmd) == 0);
	atexit(remove_root);
	return 0;
}

/* each line of data, made a file name (no '/', no NUL), as a log link and a pod dir */
static void put_names(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	for (int n = 0; p < end && n < 8; n++) {
		const uint8_t *nl = memchr(p, '\n', end - p);
		size_t len = (nl ? nl : end) - p;
		char name[256], path[512];
		size_t o = 0;

		for (size_t i = 0; i < len && o < sizeof(name) - 1; i++)
			if (p[i] != '/' && p[i])
				name[o++] = p[i];
		name[o] = '\0';
		p += len + 1;
		if (!o || !strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/var/log/containers/%s", root, name);
		close(open(path, O_WRONLY | O_CREAT, 0600));
		snprintf(path, sizeof(path), "%s/var/log/pods/%s", root, name);
		mkdir(path, 0700);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fa_cg_kind kinds[] = { FA_CG_DOCKER, FA_CG_PODMAN, FA_CG_CRI };
	struct fa_rtnames *r;

	if (!size)
		return 0;
	clear();
	switch (data[0] % 4) {
	case 0:
		put("/var/lib/docker/containers/" ID "/config.v2.json", data + 1, size - 1);
		break;
	case 1:
		put("/etc/docker/daemon.json", data + 1, size - 1);
		break;
	case 2:
		put("/var/lib/containers/storage/overlay-containers/containers.json", data + 1,
		    size - 1);
		break;
	default:
		put_names(data + 1, size - 1);
	}
	r = fa_rtnames_new(root);
	if (!r)
		return 0;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct fa_cg_name n = { .kind = kinds[k], .id = ID, .pod_uid = UID };
		char small[8], big[FA_RT_NAME_LEN];

		memset(big, 0x5a, sizeof(big));
		if (fa_rtnames_lookup(r, &n, big, sizeof(big)))
			check(memchr(big, 0, sizeof(big)) != NULL);
		if (fa_rtnames_lookup(r, &n, small, sizeof(small)))
			check(memchr(small, 0, sizeof(small)) != NULL);
	}
	fa_rtnames_free(r);
	return 0;
}
