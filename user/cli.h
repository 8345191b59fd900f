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
	double interval_s; /* > 0 */
	long count; /* intervals to run; 0: until interrupted */
	bool batch, json;
	struct fa_view_opts view;
	int rows; /* 0: all */
	__u32 pids[FA_MAX_PIDS];
	int npids;
	__u8 want; /* enum fa_want bits */
	enum fa_backend backend;
	__u32 max_flows;
	const char *json_file;
	const char *prom_listen;
	bool prom_flows;
	bool packets;
	struct fa_pktring_opts ring;
	bool verbose;
};

enum fa_cli_result {
	FA_CLI_RUN, /* cfg is ready */
	FA_CLI_DONE, /* --help or --version was printed: exit 0 */
	FA_CLI_ERROR, /* err holds a one-line reason: print it with the usage, exit 2 */
};

enum fa_cli_result fa_cli_parse(int argc, char **argv, struct fa_config *cfg, FILE *out, char *err,
				size_t errlen);
void fa_cli_usage(FILE *f);

#endif /* FA_CLI_H */
