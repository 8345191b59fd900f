/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one place that turns errors into messages and exit codes. */
#ifndef FA_LOG_H
#define FA_LOG_H

/* Exit codes, documented in docs/flowacct.8 */
enum fa_exit {
	FA_EXIT_OK = 0,
	FA_EXIT_FAILURE = 1, /* runtime: privileges, no usable backend, an output failed */
	FA_EXIT_USAGE = 2, /* bad options or arguments */
};

/* "flowacct: <message>\n" on stderr */
void fa_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v */
void fa_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int fa_verbose;

#endif /* FA_LOG_H */
