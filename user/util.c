// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "util.h"

int fa_with_signals_blocked(int (*fn)(void *arg), void *arg)
{
	/* but those a thread's own fault raises: blocked, the kernel would kill with the
	 * default action, past the handlers that restore the terminal or name the system
	 * call the seccomp filter stopped */
	static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS };
	sigset_t all, orig;
	int ret;

	sigfillset(&all);
	for (size_t i = 0; i < ARRAY_SIZE(faults); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_BLOCK, &all, &orig);
	ret = fn(arg);
	pthread_sigmask(SIG_SETMASK, &orig, NULL);
	return ret;
}

double fa_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

bool fa_cap_effective(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	return !syscall(SYS_capget, &h, d) && (d[cap / 32].effective & (1U << (cap % 32)));
}

int fa_caps_keep(unsigned long long keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	/* of what is asked, what is held: a capability never granted (CAP_NET_BIND_SERVICE
	 * for a port above 1024, CAP_BPF where CAP_SYS_ADMIN stands in for it) cannot be
	 * kept, and asking for it would fail the whole call */
	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (int i = 0; i < 2; i++) {
		d[i].permitted &= (__u32)(keep >> (32 * i));
		d[i].effective = d[i].permitted;
		d[i].inheritable = 0;
	}
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

struct thread_start {
	pthread_t *thread;
	void *(*fn)(void *);
	void *arg;
	sem_t dropped; /* posted once the new thread holds no capability */
	int err;
};

/* flowacct's threads (JSON file writer, packet ring reader) need no capability: they
 * give up whatever the thread that started them had (capabilities are per thread). */
static void *thread_main(void *p)
{
	struct thread_start *s = p;
	void *(*fn)(void *) = s->fn;
	void *arg = s->arg;
	int err = fa_caps_keep(0);

	s->err = err;
	sem_post(&s->dropped); /* s is gone from here on */
	return err ? NULL : fn(arg);
}

static int thread_create(void *p)
{
	struct thread_start *s = p;

	return -pthread_create(s->thread, NULL, thread_main, s);
}

/* Returns once the thread has dropped its capabilities: the seccomp filter installed
 * after set-up refuses capset(), and must not meet a thread still starting. */
int fa_thread_start(pthread_t *thread, const char *name, void *(*fn)(void *), void *arg)
{
	struct thread_start s = { .thread = thread, .fn = fn, .arg = arg };
	int err;

	if (sem_init(&s.dropped, 0, 0))
		return -errno;
	err = fa_with_signals_blocked(thread_create, &s);
	if (!err) {
		while (sem_wait(&s.dropped) && errno == EINTR)
			;
		err = s.err;
		if (err)
			pthread_join(*thread, NULL);
	}
	sem_destroy(&s.dropped);
	if (!err && name)
		pthread_setname_np(*thread, name);
	return err;
}

int fa_indexed_grow(struct fa_indexed *t, size_t elem, __u64 (*hash)(const void *array, size_t i))
{
	size_t cap = t->cap ? t->cap * 2 : 16;
	void *v = realloc(t->v, cap * elem);
	__u32 *index = calloc(cap * 2, sizeof(*index));

	if (v)
		t->v = v;
	if (!v || !index) {
		free(index);
		return -ENOMEM;
	}
	free(t->index);
	t->index = index;
	t->cap = cap;
	t->mask = cap * 2 - 1;
	for (size_t i = 0; i < t->n; i++) {
		size_t h = hash(v, i) & t->mask;

		while (index[h])
			h = (h + 1) & t->mask;
		index[h] = i + 1;
	}
	return 0;
}

int fa_name_lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return i;
	return -EINVAL;
}

int fa_cgroup2_mountpoint(FILE *mountinfo, char *buf, size_t len)
{
	char line[4096], path[4096];
	int err = -ENOENT;

	while (err && fgets(line, sizeof(line), mountinfo)) {
		/* "id parent maj:min root mountpoint options... - fstype source ..." */
		const char *dash = strstr(line, " - ");

		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", path) != 1)
			continue;
		err = snprintf(buf, len, "%s", path) < (int)len ? 0 : -ENAMETOOLONG;
	}
	return err;
}

int fa_cgroup2_path(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int err;

	if (!f)
		return -errno;
	err = fa_cgroup2_mountpoint(f, buf, len);
	fclose(f);
	return err;
}

int fa_cgroup2_open(void)
{
	char path[4096];

	if (fa_cgroup2_path(path, sizeof(path)))
		return -1;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int fa_status_tgid(FILE *status, __u32 *tgid)
{
	char line[256];
	unsigned int v;

	while (fgets(line, sizeof(line), status))
		if (sscanf(line, "Tgid: %u", &v) == 1) {
			*tgid = v;
			return 0;
		}
	return -EINVAL;
}

int fa_pid_tgid(__u32 id, __u32 *tgid)
{
	char path[32];
	FILE *f;
	int err;

	/* a thread's directory is there though /proc does not list it */
	snprintf(path, sizeof(path), "/proc/%u/status", id);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = fa_status_tgid(f, tgid);
	fclose(f);
	return err;
}

int fa_listen_parse(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[256] = "127.0.0.1";
	const char *port = listen, *colon;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai;
	unsigned long pnum;
	char *end;
	int rc;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof(host)) {
			snprintf(err, errlen, "expected [IPV6]:PORT");
			return -EINVAL;
		}
		memcpy(host, listen + 1, close - listen - 1);
		host[close - listen - 1] = '\0';
		port = close + 2;
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	} else if ((colon = strrchr(listen, ':'))) {
		if (memchr(listen, ':', colon - listen)) {
			snprintf(err, errlen, "write IPv6 addresses in brackets: [::1]:9100");
			return -EINVAL;
		}
		if (colon == listen || (size_t)(colon - listen) >= sizeof(host)) {
			snprintf(err, errlen,
				 "give an address before ':' ([::] or 0.0.0.0 for all interfaces)");
			return -EINVAL;
		}
		memcpy(host, listen, colon - listen);
		host[colon - listen] = '\0';
		port = colon + 1;
	}
	errno = 0;
	pnum = strtoul(port, &end, 10);
	if (errno || end == port || *end || pnum < 1 || pnum > 65535) {
		snprintf(err, errlen, "the port must be 1..65535");
		return -EINVAL;
	}
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(pnum);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(pnum);
	return 0;
}
