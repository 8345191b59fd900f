// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --json-file PATH: each interval's JSON object (the --json schema) replaces PATH. It is
 * written to a temporary file beside PATH, synced, then renamed over PATH: rename() within
 * one directory is atomic, so a reader opens either the old snapshot or the new one, whole,
 * and after a crash PATH still holds a complete snapshot.
 *
 * Rendering a large snapshot and fsync() can take longer than an interval, so a writer
 * thread does both; the collector only leaves a copy of its snapshot (the rows' structs,
 * about 200 bytes a flow: the collector's own is freed once the outputs return). The
 * writer streams the JSON into the temporary file as it generates it, so the text is never
 * whole in memory. If the writer falls behind, the newest snapshot replaces the one still
 * waiting: the file skips versions, the intervals never wait for the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "output.h"
#include "util.h"

struct jsonfile_output {
	struct fa_output base;
	char *path;
	char *tmpl; /* "<dir>/.<name>.XXXXXX": hidden, so globs over the directory skip it */
	int dirfd; /* to make the rename itself durable */
	mode_t mode;
	pthread_t writer;
	bool writer_started;
	char iobuf[1 << 16]; /* the temporary file's stdio buffer; only the writer uses it */
	pthread_mutex_t lock; /* guards the fields below */
	pthread_cond_t wake;
	struct fa_snapshot pending; /* the newest snapshot not yet written */
	bool have_pending, stop;
	int write_err; /* the last failed write's -errno, until emit reports it */
};

/* The text of a snapshot, streamed into f: the object, its newline, flushed and synced.
 * stdio does not retry a write() that a signal interrupted, but this thread blocks them all
 * (fa_thread_start). */
static int jsonfile_fill(FILE *f, const struct fa_snapshot *snap)
{
	int err = fa_json_write(f, snap, false);

	if (!err && putc('\n', f) == EOF)
		err = -errno;
	if (!err && fflush(f))
		err = -errno;
	/* the data must be on disk before the name points at it, or a crash leaves it empty */
	if (!err && fsync(fileno(f)))
		err = -errno;
	return err;
}

static int jsonfile_write(struct jsonfile_output *j, const struct fa_snapshot *snap)
{
	char *tmp = strdup(j->tmpl);
	FILE *f = NULL;
	int fd, err;

	if (!tmp)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	/* mkstemp makes it 0600; readers are often other users (dashboards, exporters) */
	err = fchmod(fd, j->mode) ? -errno : 0;
	if (!err && !(f = fdopen(fd, "w")))
		err = -errno;
	if (f) {
		/* stdio's default buffer is one block (4 KiB): a write() per block of a file
		 * that has tens of MiB at 100k flows */
		setvbuf(f, j->iobuf, _IOFBF, sizeof(j->iobuf));
		err = jsonfile_fill(f, snap);
		if (fclose(f) && !err)
			err = -errno;
	} else {
		close(fd);
	}
	if (!err && rename(tmp, j->path))
		err = -errno;
	if (err) {
		unlink(tmp);
	} else {
		/* best effort: some file systems cannot sync a directory, and the data is safe
		 * anyway */
		fsync(j->dirfd);
	}
	free(tmp);
	return err;
}

static void *jsonfile_writer(void *arg)
{
	struct jsonfile_output *j = arg;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		struct fa_snapshot snap;
		int err;

		while (!j->have_pending && !j->stop)
			pthread_cond_wait(&j->wake, &j->lock);
		if (!j->have_pending)
			break; /* stopping, and the last snapshot is written */
		snap = j->pending;
		j->have_pending = false;
		pthread_mutex_unlock(&j->lock);

		err = jsonfile_write(j, &snap);
		fa_snapshot_free(&snap);

		pthread_mutex_lock(&j->lock);
		if (err)
			j->write_err = err;
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

static int jsonfile_emit(struct fa_output *out, const struct fa_snapshot *snap)
{
	struct jsonfile_output *j = (struct jsonfile_output *)out;
	struct fa_snapshot copy;
	int err;

	if (fa_snapshot_copy(&copy, snap))
		return -ENOMEM;
	pthread_mutex_lock(&j->lock);
	if (j->have_pending)
		fa_snapshot_free(&j->pending); /* never written: the writer is behind */
	j->pending = copy;
	j->have_pending = true;
	/* a write failure surfaces one interval late, but it surfaces */
	err = j->write_err;
	j->write_err = 0;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
	return err;
}

static void jsonfile_close(struct fa_output *out)
{
	struct jsonfile_output *j = (struct jsonfile_output *)out;

	if (!j)
		return;
	if (j->writer_started) {
		/* the writer finishes the last snapshot (the final one) before it stops */
		pthread_mutex_lock(&j->lock);
		j->stop = true;
		pthread_cond_signal(&j->wake);
		pthread_mutex_unlock(&j->lock);
		pthread_join(j->writer, NULL);
		if (j->write_err)
			fa_log("--json-file %s: %s", j->path, strerror(-j->write_err));
	}
	if (j->have_pending)
		fa_snapshot_free(&j->pending);
	pthread_cond_destroy(&j->wake);
	pthread_mutex_destroy(&j->lock);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->path);
	free(j->tmpl);
	free(j);
}

static struct fa_output *jsonfile_open(const char *path, char *err, size_t errlen)
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
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->wake, NULL);
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

	e = -fa_thread_start(&j->writer, "fa-jsonfile", jsonfile_writer, j);
	if (e) {
		snprintf(err, errlen, "cannot start the writer thread: %s", strerror(e));
		goto fail;
	}
	j->writer_started = true;
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

int fa_jsonfile_open(const char *path, struct fa_output **out, struct fa_err *err)
{
	*out = jsonfile_open(path, err->msg, sizeof(err->msg));
	return *out ? 0 : -errno;
}
