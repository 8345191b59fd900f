// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <string.h>
#include "util.h"

int fa_with_signals_blocked(int (*fn)(void *arg), void *arg)
{
	sigset_t all, orig;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &orig);
	ret = fn(arg);
	pthread_sigmask(SIG_SETMASK, &orig, NULL);
	return ret;
}

struct thread_start {
	pthread_t *thread;
	void *(*fn)(void *);
	void *arg;
};

static int thread_create(void *p)
{
	struct thread_start *s = p;

	return -pthread_create(s->thread, NULL, s->fn, s->arg);
}

int fa_thread_start(pthread_t *thread, const char *name, void *(*fn)(void *), void *arg)
{
	struct thread_start s = { .thread = thread, .fn = fn, .arg = arg };
	int err = fa_with_signals_blocked(thread_create, &s);

	if (!err && name)
		pthread_setname_np(*thread, name);
	return err;
}

int fa_name_lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return i;
	return -EINVAL;
}
