// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --json-file PATH: each interval's JSON object (the --json schema) replaces PATH. It is
 * written to a temporary file beside PATH, synced, then renamed over PATH: rename() within
 * one directory is atomic, so a reader opens either the old snapshot or the new one, whole,
 * and after a crash PATH still holds a complete snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"

struct jsonfile_output {
	struct fa_output base;
	char *path;
	char *tmpl; /* "<dir>/.<name>.XXXXXX": hidden, so globs over the directory skip it */
	int dirfd; /* to make the rename itself durable */
	mode_t mode;
};

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

static int jsonfile_emit(struct fa_output *out, const struct fa_snapshot *snap)
{
	struct jsonfile_output *j = (struct jsonfile_output *)out;
	char *text = fa_json_render(snap);
	char *tmp = NULL;
	int fd = -1, err;

	if (!text)
		return -ENOMEM;
	tmp = strdup(j->tmpl);
	if (!tmp) {
		err = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* mkstemp makes it 0600; readers are often other users (dashboards, exporters) */
	err = fchmod(fd, j->mode) ? -errno : 0;
	if (!err)
		err = write_all(fd, text, strlen(text));
	if (!err)
		err = write_all(fd, "\n", 1);
	/* the data must be on disk before the name points at it, or a crash leaves it empty */
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	fd = -1;
	if (!err && rename(tmp, j->path))
		err = -errno;
	if (err) {
		unlink(tmp);
		goto out;
	}
	/* best effort: some file systems cannot sync a directory, and the data is safe anyway */
	fsync(j->dirfd);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(text);
	return err;
}

static void jsonfile_close(struct fa_output *out)
{
	struct jsonfile_output *j = (struct jsonfile_output *)out;

	if (!j)
		return;
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->path);
	free(j->tmpl);
	free(j);
}

struct fa_output *fa_jsonfile_open(const char *path, char *err, size_t errlen)
{
	struct jsonfile_output *j = calloc(1, sizeof(*j));
	char *dcopy = NULL, *bcopy = NULL;
	const char *dir, *base;
	struct stat st;
	mode_t mask;
	int e;

	if (!j) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	j->dirfd = -1;
	j->base.name = "json-file";
	j->base.emit = jsonfile_emit;
	j->base.close = jsonfile_close;
	j->path = strdup(path);
	dcopy = strdup(path);
	bcopy = strdup(path);
	if (!j->path || !dcopy || !bcopy) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!*path || path[strlen(path) - 1] == '/') {
		e = EISDIR;
		snprintf(err, errlen, "needs a file name, not a directory");
		goto fail;
	}
	dir = dirname(dcopy);
	base = basename(bcopy);
	if (asprintf(&j->tmpl, "%s/.%s.XXXXXX", dir, base) < 0) {
		j->tmpl = NULL;
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		goto fail;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		e = EISDIR;
		snprintf(err, errlen, "is a directory");
		goto fail;
	}
	if (faccessat(j->dirfd, ".", W_OK, AT_EACCESS)) {
		e = errno;
		snprintf(err, errlen, "cannot create files in %s: %s", dir, strerror(e));
		goto fail;
	}
	/* keep the mode of a file we replace; a new one gets what open() would give it */
	mask = umask(0);
	umask(mask);
	j->mode = !stat(path, &st) ? st.st_mode & 07777 : 0666 & ~mask;
	free(dcopy);
	free(bcopy);
	return &j->base;
fail:
	free(dcopy);
	free(bcopy);
	jsonfile_close(j ? &j->base : NULL);
	errno = e;
	return NULL;
}
