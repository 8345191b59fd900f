// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the cgroup path classifier: an input is a cgroup path, any bytes
 * (a container or unit can be named anything), cut at its first NUL as the kernel would.
 * What comes out must fit its fields and be NUL-terminated; fa_cg_short must fit any buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cgname.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fa_cg_name n;
	char *path = malloc(size + 1), small[5], big[300];

	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	memset(&n, 0x5a, sizeof(n));
	fa_cg_classify(path, &n);
	check(n.kind >= FA_CG_NONE && n.kind < FA_CG_KIND_MAX);
	check(memchr(n.id, 0, sizeof(n.id)) && memchr(n.unit, 0, sizeof(n.unit)) &&
	      memchr(n.pod_uid, 0, sizeof(n.pod_uid)));
	check(strlen(fa_cg_short(&n, small, sizeof(small))) < sizeof(small));
	check(strlen(fa_cg_short(&n, big, sizeof(big))) < sizeof(big));
	free(path);
	return 0;
}
