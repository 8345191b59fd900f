/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The seccomp filter of the running phase. Once the programs are attached and every
 * output is open, flowacct only reads maps, /proc and cgroup files, and writes what it
 * was asked to: fa_sandbox_apply() allows those system calls, per output mode, and
 * nothing else. What would turn a parser bug into a foothold (running a program,
 * loading BPF, opening a network socket, making memory executable, tracing another
 * process) kills the process with a line naming the call; any other call not in the
 * list fails with EPERM.
 */
#ifndef FA_SANDBOX_H
#define FA_SANDBOX_H

#include <stdbool.h>

struct fa_err;

/* What the running phase does, beyond reading maps and /proc and writing stdout. */
struct fa_sandbox_needs {
	bool tui; /* the live view: terminal ioctls, SIGWINCH */
	bool prometheus; /* the metrics endpoint's thread: accept, send, epoll */
	bool json_file; /* --json-file: create, fsync and rename files */
	bool packets; /* --packets: the ring's socket */
	bool audit; /* --audit: a NETLINK_SOCK_DIAG socket per check */
	/* a call in no list stops the process with its name, as the listed fatal ones do,
	 * instead of failing with EPERM: for the tests (FLOWACCT_SECCOMP_STRICT=1), where
	 * every call the running phase makes must be in a list */
	bool strict;
};

/*
 * Installs the filter on every thread of the process (threads already started
 * included), after no_new_privs is set. 0, or -errno with why.
 */
int fa_sandbox_apply(const struct fa_sandbox_needs *needs, struct fa_err *why);

#endif /* FA_SANDBOX_H */
