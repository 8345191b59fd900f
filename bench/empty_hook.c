// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * empty_hook BACKEND: attaches the empty programs of one backend (tracepoint, fentry or
 * kprobe: the hooks flowacct's backend of that name uses), prints "attached", and holds
 * them until SIGINT or SIGTERM. The reference floor of `make bench`.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "empty_hook.skel.h"

static const char *backend_of(const char *sec)
{
	if (!strncmp(sec, "tp_btf/", 7))
		return "tracepoint";
	if (!strncmp(sec, "fexit/", 6))
		return "fentry";
	return "kprobe";
}

int main(int argc, char **argv)
{
	struct empty_hook_bpf *skel;
	struct bpf_program *prog;
	sigset_t set;
	int sig, err;

	if (argc != 2 || (strcmp(argv[1], "tracepoint") && strcmp(argv[1], "fentry") &&
			  strcmp(argv[1], "kprobe"))) {
		fprintf(stderr, "usage: empty_hook tracepoint|fentry|kprobe\n");
		return 2;
	}
	skel = empty_hook_bpf__open();
	if (!skel) {
		perror("empty_hook: open");
		return 1;
	}
	bpf_object__for_each_program (prog, skel->obj)
		bpf_program__set_autoload(
			prog, !strcmp(backend_of(bpf_program__section_name(prog)), argv[1]));
	err = empty_hook_bpf__load(skel);
	if (!err)
		err = empty_hook_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "empty_hook: %s: %s\n", argv[1], strerror(-err));
		empty_hook_bpf__destroy(skel);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("attached\n");
	fflush(stdout);
	sigwait(&set, &sig);
	empty_hook_bpf__destroy(skel);
	return 0;
}
