// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

int fa_verbose;
int fa_quiet;

static void vlog(const char *fmt, va_list ap)
{
	char buf[1024];

	/* one write per line, so concurrent threads' lines never interleave */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "flowacct: %s\n", buf);
}

void fa_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void fa_log_raw(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", buf);
}

int fa_log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's lines end in a newline of their own and come in pieces: passed as they are */
	if (level == LIBBPF_DEBUG || !fa_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void fa_info(const char *fmt, ...)
{
	va_list ap;

	if (fa_quiet)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void fa_debug(const char *fmt, ...)
{
	va_list ap;

	if (!fa_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

int fa_err_set(struct fa_err *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return err;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return err;
}
