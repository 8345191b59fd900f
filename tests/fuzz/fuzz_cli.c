// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the command line: an input is argv, its words separated by NUL
 * bytes (at most 64). fa_cli_parse must answer RUN, DONE or ERROR without a crash, a leak
 * or undefined behaviour; an ERROR carries a one-line reason; a RUN's configuration is in
 * range (an interval above zero, a count not negative).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "log.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *argv[66];
	struct fa_config cfg;
	struct fa_err why = { { 0 } };
	int argc = 1;
	FILE *out;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	argv[0] = "flowacct";
	for (char *p = text; p <= text + size && argc < 65; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	out = fopen("/dev/null", "w");
	if (!out) {
		free(text);
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	switch (fa_cli_parse(argc, argv, &cfg, out, &why)) {
	case FA_CLI_RUN:
		check(cfg.interval_s > 0 && cfg.count >= 0);
		break;
	case FA_CLI_ERROR:
		check(why.msg[0] && !strchr(why.msg, '\n'));
		break;
	case FA_CLI_DONE:
		break;
	default:
		check(0);
	}
	fclose(out);
	free(text);
	return 0;
}
