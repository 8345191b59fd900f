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
#include "util.h"

/* As flowacct's programs: the backend is the name's suffix */
static const char *backend_of(const char *name)
{
	static const char *const suffixes[][2] = {
		{ "_tp", "tracepoint" }, { "_cg", "tracepoint" }, { "_fentry", "fentry" },
		{ "_fexit", "fentry" },	 { "_kprobe", "kprobe" }, { "_kretprobe", "kprobe" },
	};
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i][0]);

		if (len > n && !strcmp(name + len - n, suffixes[i][0]))
			return suffixes[i][1];
	}
	return "";
}

int main(int argc, char **argv)
{
	struct empty_hook_bpf *skel;
	struct bpf_program *prog;
	struct bpf_link *links[8];
	int sig, err, cgroup_fd, nlinks = 0;
	sigset_t set;

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
		bpf_program__set_autoload(prog,
					  !strcmp(backend_of(bpf_program__name(prog)), argv[1]));
	err = empty_hook_bpf__load(skel);
	if (!err)
		err = empty_hook_bpf__attach(skel);
	/* the cgroup programs, as flowacct attaches them: to the cgroup v2 root, if any */
	cgroup_fd = err ? -1 : fa_cgroup2_open();
	bpf_object__for_each_program (prog, skel->obj) {
		if (err || cgroup_fd < 0 || !bpf_program__autoload(prog) ||
		    strncmp(bpf_program__section_name(prog), "cgroup/", 7))
			continue;
		if (nlinks < (int)(sizeof(links) / sizeof(links[0])) &&
		    !(links[nlinks] = bpf_program__attach_cgroup(prog, cgroup_fd)))
			err = -errno;
		else
			nlinks++;
	}
	if (err) {
		fprintf(stderr, "empty_hook: %s: %s\n", argv[1], strerror(-err));
		while (nlinks)
			bpf_link__destroy(links[--nlinks]);
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
	while (nlinks)
		bpf_link__destroy(links[--nlinks]);
	empty_hook_bpf__destroy(skel);
	return 0;
}
