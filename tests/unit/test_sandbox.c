// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The running phase's seccomp filter, applied in a child per case: what an attacker
 * would try first is refused (a program run, a network socket, executable memory, a BPF
 * program load, a file written, a process forked), and what flowacct does each interval
 * still works. Each case says how the child ended: its exit code is the case's verdict.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"
#include "sandbox.h"

static const struct fa_sandbox_needs plain = { 0 };
static pid_t parent; /* the test's pid: another process, to the children */

/* Runs fn in a child under the filter of needs; returns its wait status. The child's
 * stderr goes to errfile, for the SIGSYS line. */
static int run_sandboxed(const struct fa_sandbox_needs *needs, int (*fn)(void), const char *errfile)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		struct fa_err why;
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(90);
		/* as in flowacct, where no one else catches SIGSYS (cmocka does) */
		signal(SIGSYS, SIG_DFL);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			_exit(91);
		if (fa_sandbox_apply(needs, &why)) {
			dprintf(STDERR_FILENO, "%s\n", why.msg);
			_exit(92);
		}
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* 0 if the call failed with EPERM, else a distinct code */
#define REFUSED(call) ((call) == -1 && errno == EPERM ? 0 : 1)

static int do_execve(void)
{
	char *argv[] = { "true", NULL };

	execve("/bin/true", argv, NULL);
	return 1; /* never reached: the filter stops the process */
}

static int do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 1;
}

static int do_network_socket(void)
{
	return REFUSED(socket(AF_INET, SOCK_STREAM, 0)) |
	       REFUSED(socket(AF_INET6, SOCK_DGRAM, 0)) << 1 |
	       REFUSED(socket(AF_UNIX, SOCK_STREAM, 0)) << 2;
}

static int do_sock_diag(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	return fd >= 0 ? 0 : 1;
}

static int do_exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 4; /* plain memory must work */
	return REFUSED(mprotect(p, 4096, PROT_READ | PROT_EXEC)) |
	       (mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
					MAP_FAILED &&
				errno == EPERM
			? 0
			: 2);
}

static int do_bpf_load(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	return REFUSED(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr))) |
	       REFUSED(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr))) << 1 |
	       REFUSED(syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr))) << 2;
}

static int do_bpf_map_read(void)
{
	union bpf_attr attr;

	/* allowed through the filter: the kernel answers EBADF for fd -1 */
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = -1;
	return syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) == -1 && errno == EBADF
		       ? 0
		       : 1;
}

static int do_write_file(void)
{
	return REFUSED(open("/tmp/fa-sandbox-should-not-exist", O_WRONLY | O_CREAT, 0600)) |
	       REFUSED(open("/etc/hostname", O_RDWR)) << 1;
}

static int do_json_file(void)
{
	const char *tmp = "/tmp/fa-sandbox-json.tmp", *dst = "/tmp/fa-sandbox-json";
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, "{}\n", 3) != 3 || fsync(fd) || close(fd) || rename(tmp, dst))
		return 1;
	return unlink(dst) ? 2 : 0;
}

static int do_fork(void)
{
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	return pid == -1 && errno == EPERM ? 0 : 1;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int do_thread(void)
{
	pthread_t t;
	void *ret = NULL;

	/* clone3 answers ENOSYS, so glibc makes the thread with clone(CLONE_THREAD) */
	if (pthread_create(&t, NULL, thread_fn, (void *)7) || pthread_join(t, &ret))
		return 1;
	return ret == (void *)7 ? 0 : 2;
}

static int do_interval_work(void)
{
	char buf[64];
	struct timespec ts;
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0 || close(fd))
		return 1;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) || write(STDOUT_FILENO, "", 0) < 0)
		return 2;
	return kill(parent, 0) ? 3 : 0; /* is a watched PID alive */
}

/* but no signal to others */
static int do_signal_other(void)
{
	return REFUSED(kill(parent, SIGTERM));
}

static int do_terminal_set(void)
{
	struct termios t;

	memset(&t, 0, sizeof(t));
	/* on /dev/null: ENOTTY through the filter, EPERM from it */
	return ioctl(STDIN_FILENO, TCSETS, &t) == -1 && errno == EPERM ? 0 : 1;
}

static const char errfile[] = "/tmp/fa-test-sandbox.err";

static void expect_exit(const struct fa_sandbox_needs *needs, int (*fn)(void), int code)
{
	int st = run_sandboxed(needs, fn, errfile);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != code) {
		char err[512];

		read_file(errfile, err, sizeof(err));
		fail_msg("child ended with status %#x, expected exit %d; stderr: %s", st, code,
			 err);
	}
}

static void expect_stopped_by(const struct fa_sandbox_needs *needs, int (*fn)(void),
			      const char *name)
{
	int st = run_sandboxed(needs, fn, errfile);
	char err[512], want[64];

	read_file(errfile, err, sizeof(err));
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("%s: the child ended with status %#x, not by SIGSYS; stderr: %s", name, st,
			 err);
	snprintf(want, sizeof(want), "stopped system call %s(", name);
	if (!strstr(err, want))
		fail_msg("stderr does not name %s: %s", name, err);
}

static void expect_stopped(int (*fn)(void), const char *name)
{
	expect_stopped_by(&plain, fn, name);
}

static int do_unlisted(void)
{
	return syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 1;
}

/* strict, as the tests run flowacct: a call in no list stops it, named */
static void test_strict_names_any_unlisted_call(void **state)
{
	(void)state;
	expect_exit(&plain, do_unlisted, 0);
	expect_stopped_by(&(struct fa_sandbox_needs){ .strict = true }, do_unlisted, "getppid");
	expect_exit(&(struct fa_sandbox_needs){ .strict = true }, do_interval_work, 0);
}

static void test_program_runs_and_tracing_stop_the_process(void **state)
{
	(void)state;
	expect_stopped(do_execve, "execve");
	expect_stopped(do_ptrace, "ptrace");
}

static void test_attack_primitives_are_refused(void **state)
{
	(void)state;
	expect_exit(&plain, do_network_socket, 0);
	expect_exit(&plain, do_exec_memory, 0);
	expect_exit(&plain, do_bpf_load, 0);
	expect_exit(&plain, do_write_file, 0);
	expect_exit(&plain, do_fork, 0);
	expect_exit(&plain, do_signal_other, 0);
	expect_exit(&plain, do_terminal_set, 0);
	/* only --audit may open its netlink socket */
	expect_exit(&plain, do_sock_diag, 1);
	expect_exit(&(struct fa_sandbox_needs){ .audit = true }, do_sock_diag, 0);
	expect_exit(&(struct fa_sandbox_needs){ .audit = true }, do_network_socket, 0);
}

static void test_running_phase_still_works(void **state)
{
	(void)state;
	expect_exit(&plain, do_interval_work, 0);
	expect_exit(&plain, do_bpf_map_read, 0);
	expect_exit(&plain, do_thread, 0);
	expect_exit(&(struct fa_sandbox_needs){ .json_file = true }, do_json_file, 0);
	/* and --json-file's calls are not allowed without it */
	expect_exit(&plain, do_json_file, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_program_runs_and_tracing_stop_the_process),
		cmocka_unit_test(test_attack_primitives_are_refused),
		cmocka_unit_test(test_running_phase_still_works),
		cmocka_unit_test(test_strict_names_any_unlisted_call),
	};
	int rc;

	parent = getpid();
	rc = cmocka_run_group_tests(tests, NULL, NULL);

	unlink(errfile);
	return rc;
}
