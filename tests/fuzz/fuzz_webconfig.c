// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for --web-config's parser (the exporter toolkit's YAML): an input is
 * the file's text. fa_webconfig_parse must accept or refuse it with a one-line reason,
 * never crash or leak; what it accepts is consistent (every user has a name and a hash,
 * TLS versions in range) and frees cleanly.
 */
#include <stdint.h>
#include <string.h>
#include "log.h"
#include "webconfig.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fa_webconfig wc;
	struct fa_err why = { { 0 } };

	if (fa_webconfig_parse((const char *)data, size, &wc, &why)) {
		check(why.msg[0] && !strchr(why.msg, '\n'));
		return 0;
	}
	check(wc.min_version >= FA_TLS10 && wc.max_version <= FA_TLS13);
	for (size_t i = 0; i < wc.nusers; i++)
		check(wc.users[i].name && wc.users[i].hash);
	fa_webconfig_free(&wc);
	return 0;
}
