// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>
#include "log.h"
#include "sandbox.h"
#include "util.h"

/*
 * Calls that no phase after set-up makes, and that an attacker who found a bug in a
 * parser would want first: they stop the process (SIGSYS, caught below to say which call
 * it was) rather than fail, so a foothold cannot retry around an EPERM. io_uring is here
 * because its operations would bypass this filter.
 */
static const struct {
	int nr;
	const char *name;
} fatal_calls[] = {
#define FATAL(n)                                                                                   \
	{                                                                                          \
		SCMP_SYS(n), #n                                                                    \
	}
	FATAL(execve),
	FATAL(execveat),
	FATAL(ptrace),
	FATAL(process_vm_readv),
	FATAL(process_vm_writev),
	FATAL(init_module),
	FATAL(finit_module),
	FATAL(delete_module),
	FATAL(kexec_load),
	FATAL(kexec_file_load),
	FATAL(mount),
	FATAL(umount2),
	FATAL(pivot_root),
	FATAL(chroot),
	FATAL(setns),
	FATAL(unshare),
	FATAL(io_uring_setup),
	FATAL(io_uring_enter),
	FATAL(io_uring_register),
	FATAL(memfd_create),
	FATAL(userfaultfd),
	FATAL(perf_event_open),
	FATAL(keyctl),
	FATAL(add_key),
	FATAL(request_key),
	FATAL(setuid),
	FATAL(setgid),
	FATAL(setresuid),
	FATAL(setresgid),
	FATAL(capset),
#undef FATAL
};

/* Every phase: memory, time, signals, reading files and maps, writing what is open. */
static const int base_calls[] = {
	SCMP_SYS(read),
	SCMP_SYS(readv),
	SCMP_SYS(pread64),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(lseek),
	SCMP_SYS(close),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(statx),
	SCMP_SYS(getdents64),
	SCMP_SYS(readlink),
	SCMP_SYS(readlinkat),
	SCMP_SYS(access),
	SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
	SCMP_SYS(getcwd),
	SCMP_SYS(fcntl),
	SCMP_SYS(dup),
	SCMP_SYS(open_by_handle_at),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(madvise),
	SCMP_SYS(futex),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getrandom),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(pselect6),
	SCMP_SYS(select),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(uname),
	SCMP_SYS(sysinfo),
	SCMP_SYS(prlimit64),
	SCMP_SYS(getrusage),
	SCMP_SYS(times),
};

/* The map operations of an interval: no program loads, no attaching, no new maps. */
static const int bpf_cmds[] = {
	BPF_MAP_LOOKUP_ELEM,	BPF_MAP_UPDATE_ELEM,
	BPF_MAP_DELETE_ELEM,	BPF_MAP_GET_NEXT_KEY,
	BPF_OBJ_GET_INFO_BY_FD, BPF_MAP_LOOKUP_AND_DELETE_ELEM,
	BPF_MAP_LOOKUP_BATCH,	BPF_MAP_LOOKUP_AND_DELETE_BATCH,
	BPF_MAP_UPDATE_BATCH,	BPF_MAP_DELETE_BATCH,
};

/* isatty() (TCGETS) in every mode; the live view sets the terminal and asks its size;
 * libbpf disables a kprobe's perf event as it detaches it, at exit. */
static const unsigned long base_ioctls[] = { TCGETS, TIOCGWINSZ, FIONREAD, PERF_EVENT_IOC_DISABLE };
static const unsigned long tui_ioctls[] = { TCSETS, TCSETSW, TCSETSF };
/* the live view's thread waits on its keys, resizes and wakeups (epoll, eventfds) */
static const int tui_calls[] = { SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait) };

/* The metrics endpoint's thread and the packet ring: sockets opened during set-up. */
static const int socket_io_calls[] = {
	SCMP_SYS(accept),     SCMP_SYS(accept4),     SCMP_SYS(recvfrom),    SCMP_SYS(recvmsg),
	SCMP_SYS(sendto),     SCMP_SYS(sendmsg),     SCMP_SYS(shutdown),    SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl),  SCMP_SYS(epoll_wait),  SCMP_SYS(epoll_pwait), SCMP_SYS(pipe2),
	SCMP_SYS(eventfd2),   SCMP_SYS(sendfile),
};

/* --json-file: a temporary file, written, synced and renamed over the last one. */
static const int json_file_calls[] = {
	SCMP_SYS(rename),   SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(fsync),	SCMP_SYS(fdatasync), SCMP_SYS(ftruncate),
	SCMP_SYS(fchmod),   SCMP_SYS(statfs),	SCMP_SYS(fstatfs),   SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat),
};

static struct sigaction saved_sigsys;
/* strict: every call's name, for the line (resolved before, never in the handler) */
#define NAMED_CALLS 512
static const char *call_names[NAMED_CALLS];

/* Async-signal-safe: names the call, then lets the previous handler (the live view's,
 * which restores the terminal) or the default action (a core dump) end the process. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char pre[] = "flowacct: the seccomp filter stopped system call ";
	static const char post[] = ": flowacct never makes it after set-up; exiting\n";
	static const char post_strict[] = ": not in the running phase's list (strict, "
					  "FLOWACCT_SECCOMP_STRICT); exiting\n";
	const char *name = "(unknown)", *tail = post_strict;
	char num[16];
	int n = sizeof(num);
	unsigned int nr = si->si_syscall;

	(void)uc;
	for (size_t i = 0; i < ARRAY_SIZE(fatal_calls); i++)
		if (fatal_calls[i].nr == si->si_syscall) {
			name = fatal_calls[i].name;
			tail = post;
		}
	if (tail != post && nr < NAMED_CALLS && call_names[nr])
		name = call_names[nr];
	num[--n] = ')';
	do
		num[--n] = '0' + nr % 10;
	while ((nr /= 10) && n > 1);
	num[--n] = '(';
	if (write(STDERR_FILENO, pre, sizeof(pre) - 1) < 0 ||
	    write(STDERR_FILENO, name, strlen(name)) < 0 ||
	    write(STDERR_FILENO, num + n, sizeof(num) - n) < 0 ||
	    write(STDERR_FILENO, tail, strlen(tail)) < 0) {
		/* nothing else can be said */
	}
	if (saved_sigsys.sa_handler == SIG_IGN || saved_sigsys.sa_handler == SIG_DFL) {
		signal(sig, SIG_DFL);
	} else {
		sigaction(sig, &saved_sigsys, NULL);
	}
	raise(sig);
}

/* Rules are added in order; the first failure is kept and the rest are skipped. */
struct rules {
	scmp_filter_ctx ctx;
	int err;
};

static void add(struct rules *r, uint32_t action, int nr, unsigned int nargs,
		const struct scmp_arg_cmp *args)
{
	if (!r->err)
		r->err = seccomp_rule_add_array(r->ctx, action, nr, nargs, args);
}

static void allow(struct rules *r, int nr)
{
	add(r, SCMP_ACT_ALLOW, nr, 0, NULL);
}

/* nr, when its argument compares as cmp says */
static void allow_if(struct rules *r, int nr, struct scmp_arg_cmp cmp)
{
	add(r, SCMP_ACT_ALLOW, nr, 1, &cmp);
}

/* nr fails with EPERM when its argument compares as cmp says */
static void refuse_if(struct rules *r, int nr, struct scmp_arg_cmp cmp)
{
	add(r, SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
}

static void allow_all(struct rules *r, const int *nrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		allow(r, nrs[i]);
}

static void allow_ioctls(struct rules *r, const unsigned long *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		allow_if(r, SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_EQ, cmds[i]));
}

static int build(scmp_filter_ctx ctx, const struct fa_sandbox_needs *n)
{
	const scmp_datum_t write_flags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
	struct rules r = { .ctx = ctx };

	/* (strict: stopping is every unlisted call's fate already) */
	for (size_t i = 0; i < ARRAY_SIZE(fatal_calls) && !n->strict; i++)
		add(&r, SCMP_ACT_TRAP, fatal_calls[i].nr, 0, NULL);
	/* glibc falls back to clone() when clone3() is missing; clone3's flags sit behind a
	 * pointer, where seccomp cannot look */
	add(&r, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
	/* threads, never processes */
	allow_if(&r, SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	allow_all(&r, base_calls, ARRAY_SIZE(base_calls));
	/* memory that is never executable: no code can be brought in */
	allow_if(&r, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	allow_if(&r, SCMP_SYS(mprotect), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* signals to itself (raise), and kill(pid, 0) to see whether a watched PID lives */
	allow_if(&r, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	allow_if(&r, SCMP_SYS(kill), SCMP_A1(SCMP_CMP_EQ, 0));
	/* glibc's NSS tries nscd's socket before /etc/passwd (the live view's user names):
	 * refused, it reads the files. Said here so that strict mode refuses it too */
	if (n->strict)
		refuse_if(&r, SCMP_SYS(socket), SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* a thread naming itself (libmicrohttpd's does, as it starts) */
	allow_if(&r, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	for (size_t i = 0; i < ARRAY_SIZE(bpf_cmds); i++)
		allow_if(&r, SCMP_SYS(bpf), SCMP_A0(SCMP_CMP_EQ, bpf_cmds[i]));
	/* files: read-only, but for --json-file's */
	if (n->json_file) {
		allow(&r, SCMP_SYS(openat));
		allow_all(&r, json_file_calls, ARRAY_SIZE(json_file_calls));
	} else {
		allow_if(&r, SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, write_flags, 0));
	}
	allow_ioctls(&r, base_ioctls, ARRAY_SIZE(base_ioctls));
	if (n->tui) {
		allow_ioctls(&r, tui_ioctls, ARRAY_SIZE(tui_ioctls));
		allow_all(&r, tui_calls, ARRAY_SIZE(tui_calls));
	}
	if (n->prometheus || n->packets || n->audit)
		allow_all(&r, socket_io_calls, ARRAY_SIZE(socket_io_calls));
	/* --audit opens one netlink socket per check; no other socket can be made */
	if (n->audit) {
		struct scmp_arg_cmp diag[] = { SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
					       SCMP_A2(SCMP_CMP_EQ, NETLINK_SOCK_DIAG) };

		add(&r, SCMP_ACT_ALLOW, SCMP_SYS(socket), ARRAY_SIZE(diag), diag);
		allow(&r, SCMP_SYS(bind));
	}
	return r.err;
}

int fa_sandbox_apply(const struct fa_sandbox_needs *needs, struct fa_err *why)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int err;

	/* strict (the tests): a call missing from the lists stops the process with its name,
	 * instead of failing quietly with EPERM */
	ctx = seccomp_init(needs->strict ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return fa_err_set(why, -ENOMEM, "seccomp: out of memory");
	err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	err = err ?: build(ctx, needs);
	if (err) {
		seccomp_release(ctx);
		return fa_err_set(why, err, "seccomp: building the filter failed (%s)",
				  strerror(-err));
	}
	for (int nr = 0; needs->strict && nr < NAMED_CALLS; nr++)
		if (!call_names[nr])
			call_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	sigaction(SIGSYS, NULL, &saved_sigsys);
	sigaction(SIGSYS, &sa, NULL);
	err = seccomp_load(ctx);
	seccomp_release(ctx);
	if (err) {
		sigaction(SIGSYS, &saved_sigsys, NULL);
		return fa_err_set(why, err,
				  "seccomp: the kernel refused the filter (%s); --no-seccomp runs "
				  "without it",
				  strerror(-err));
	}
	return 0;
}
