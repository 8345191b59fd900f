/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command line → configuration. Pure: no I/O but --help/--version text. */
#ifndef FA_CLI_H
#define FA_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "backend.h"
#include "pktring.h"
#include "view.h"

#define FA_MAX_PIDS 1024

struct fa_config {
	double interval_s; /* > 0; the interval argument or -d */
	long count; /* intervals to run (the count argument or -n); 0: until interrupted */
	bool batch, json;
	struct fa_view_opts view;
	int rows; /* 0: all */
	struct fa_backend_opts kernel; /* kernel.pids points at pids[] */
	__u32 pids[FA_MAX_PIDS];
	const char *cgroups[FA_MAX_CGROUP_FILTERS]; /* --cgroup paths, opened by main.c */
	int ncgroups;
	int cgroup_fds[FA_MAX_CGROUP_FILTERS]; /* kernel.cgroup_fds points here */
	const char *host_root; /* --host-root: container runtimes' state is under it */
	const char *ifname; /* -i: main.c finds its index (kernel.ifindex) */
	double linger_s; /* --linger: seconds closed flows and exited processes' rows stay */
	const char *user; /* --user: run as this user after set-up */
	bool no_seccomp; /* --no-seccomp: no system call filter once running */
	bool probe_backends; /* --probe-backends: say which backends work here, then exit */
	const char *json_file;
	const char *prom_listen;
	bool prom_flows;
	bool prom_pids; /* --prometheus-pids: per-process series instead of by name */
	unsigned prom_max_names; /* --prometheus-max-names */
	const char *web_config; /* --web-config: TLS and auth of the endpoint, read by main.c */
	bool packets;
	struct fa_pktring_opts ring;
	bool verbose;
	bool quiet; /* -q: no start-up lines on stderr (warnings and errors stay) */
	bool no_stdout; /* --no-stdout: nothing on stdout; --prometheus or --json-file */
	bool bits; /* --bits: the table's rates in bits per second */
};

enum fa_cli_result {
	FA_CLI_RUN, /* cfg is ready */
	FA_CLI_DONE, /* --help or --version was printed: exit 0 */
	FA_CLI_ERROR, /* err holds a one-line reason: print it with the usage, exit 2 */
};

struct fa_err;

enum fa_cli_result fa_cli_parse(int argc, char **argv, struct fa_config *cfg, FILE *out,
				struct fa_err *err);
void fa_cli_usage(FILE *f);

#endif /* FA_CLI_H */
