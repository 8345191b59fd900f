// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the /proc/self/mountinfo parser that finds the cgroup v2 mount
 * (mount points are chosen by whoever mounts, in any mount namespace flowacct may see):
 * an input is the file's text. Whatever it says, the answer fits the buffer, and a found
 * mount point is one of the input's fields.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "util.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char small[16], big[4096];
	FILE *f;
	int err;

	if (!size)
		return 0;
	for (int i = 0; i < 2; i++) {
		char *buf = i ? big : small;
		size_t len = i ? sizeof(big) : sizeof(small);

		f = fmemopen((void *)data, size, "r");
		if (!f)
			return 0;
		memset(buf, 0x5a, len);
		err = fa_cgroup2_mountpoint(f, buf, len);
		fclose(f);
		check(!err || err == -ENOENT || err == -ENAMETOOLONG);
		if (!err) {
			check(strlen(buf) < len && buf[0]);
			check(memmem(data, size, buf, strlen(buf)) != NULL);
		}
	}
	return 0;
}
