// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include "output.h"

static void output_free(struct fa_output *out)
{
	free(out);
}

void *fa_output_new(size_t size, const char *name, fa_output_emit_fn *emit)
{
	struct fa_output *o = calloc(1, size);

	if (!o)
		return NULL;
	o->name = name;
	o->emit = emit;
	o->close = output_free;
	return o;
}
