/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one place that turns errors into messages and exit codes. */
#ifndef FA_LOG_H
#define FA_LOG_H

#include <stdarg.h>
#include <bpf/libbpf.h>

/* Exit codes, documented in docs/flowacct.8 */
enum fa_exit {
	FA_EXIT_OK = 0,
	FA_EXIT_FAILURE = 1, /* runtime: privileges, no usable backend, an output failed */
	FA_EXIT_USAGE = 2, /* bad options or arguments */
	FA_EXIT_AUDIT = 3, /* --audit found a socket whose bytes disagree with the kernel's */
};

/*
 * The error convention of every module: a function that can fail returns 0 or a negative
 * errno, and when it knows more than the errno says (which file, which option, what to
 * do), it writes one line into the struct fa_err its caller passes. Modules never print
 * their own failures; the caller decides, and prints through fa_log().
 */
struct fa_err {
	char msg[256];
};

/* Sets e's message (e may be NULL) and returns err, for `return fa_err_set(e, -EINVAL, ...)`. */
int fa_err_set(struct fa_err *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "flowacct: <message>\n" on stderr: every diagnostic of the program goes through here */
void fa_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line as it is, without the "flowacct: " prefix (the usage hint) */
void fa_log_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* libbpf's print callback: its warnings and info with -v, never its debug chatter */
int fa_log_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap);
/* Only with -v */
void fa_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int fa_verbose;
/* What flowacct says as it starts (which backend, which process a thread's id means), as
 * fa_log, but not with -q; warnings and errors go through fa_log, and always appear */
void fa_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int fa_quiet;

#endif /* FA_LOG_H */
