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
 *
 * A write that fails (the directory removed, the disk full) leaves PATH as it was, the
 * last complete snapshot, and no temporary file behind; every interval tries again, by
 * name, so a directory made again is written to again. Each file lists every flow
 * flowacct tracks with its totals, so the first file after a failure lacks nothing.
 * The directory is not made again: what removed it may not want it back, and a root
 * process making directories at a path others can write to is a way in.
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
	char *dir;
	char *tmpl; /* "<dir>/.<name>.XXXXXX": hidden, so globs over the directory skip it */
	mode_t mode;
	pthread_t writer;
	bool writer_started;
	char iobuf[1 << 16]; /* the temporary file's stdio buffer; only the writer uses it */
	pthread_mutex_t lock; /* guards the fields below */
	pthread_cond_t wake;
	struct fa_snapshot pending; /* the newest snapshot not yet written */
	bool have_pending, stop;
	int write_err; /* the last finished write's result: 0 or -errno */
	char write_why[256]; /* what failed, when write_err */
	char why[256]; /* emit's copy of write_why, for base.why */
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

/* On failure, says in why (the writer's own buffer) which step failed. */
static int jsonfile_write(struct jsonfile_output *j, const struct fa_snapshot *snap, char *why,
			  size_t whylen)
{
	char *tmp = strdup(j->tmpl);
	FILE *f = NULL;
	int fd, dirfd, err;

	if (!tmp)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot create a file in %s: %s", j->dir, strerror(-err));
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
	if (err)
		snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(-err));
	if (!err && rename(tmp, j->path)) {
		err = -errno;
		snprintf(why, whylen, "cannot rename %s to %s: %s", tmp, j->path, strerror(-err));
	}
	if (err) {
		unlink(tmp);
	} else {
		/* the rename made durable; opened each time, as the directory may have been
		 * made again since the last write. Best effort: some file systems cannot sync
		 * a directory, and the data is safe anyway */
		dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd >= 0) {
			fsync(dirfd);
			close(dirfd);
		}
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
		char why[sizeof(j->write_why)];
		int err;

		while (!j->have_pending && !j->stop)
			pthread_cond_wait(&j->wake, &j->lock);
		if (!j->have_pending)
			break; /* stopping, and the last snapshot is written */
		snap = j->pending;
		j->have_pending = false;
		pthread_mutex_unlock(&j->lock);

		err = jsonfile_write(j, &snap, why, sizeof(why));
		fa_snapshot_free(&snap);

		pthread_mutex_lock(&j->lock);
		j->write_err = err;
		if (err)
			memcpy(j->write_why, why, sizeof(why));
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
	/* the last finished write's result, until another one finishes: a failure (and its
	 * end) surfaces an interval late, and stays while the writer is behind, so that a
	 * streak of failures is one streak */
	err = j->write_err;
	if (err)
		memcpy(j->why, j->write_why, sizeof(j->why));
	j->base.why = err ? j->why : NULL;
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
		if (j->write_err) /* the last interval's file, which no emit reports */
			fa_log("json-file output failed at exit: %s", j->write_why);
	}
	if (j->have_pending)
		fa_snapshot_free(&j->pending);
	pthread_cond_destroy(&j->wake);
	pthread_mutex_destroy(&j->lock);
	free(j->path);
	free(j->dir);
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
	j->dir = strdup(dir);
	if (!j->dir || asprintf(&j->tmpl, "%s/.%s.XXXXXX", dir, base) < 0) {
		j->tmpl = NULL;
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	errno = 0;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		e = errno ? errno : ENOTDIR;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		goto fail;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		e = EISDIR;
		snprintf(err, errlen, "is a directory");
		goto fail;
	}
	if (faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS)) {
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
