// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The generator of 73-faults.sh's full tables: more processes than flowacct has room
 * for, each with one flow of its own and a byte count the test knows. It moves itself
 * into CGROUP (so a flowacct filtered by --cgroup sees these processes alone), then
 * forks N children one after another: child i sends one UDP datagram of 100 + i % 900
 * bytes to 127.0.0.1:PORT (which need not listen: an unconnected socket's send succeeds
 * anyway) and says so before the next one starts, so the flows arrive in a known order.
 * Each line of OUT_FILE is "PID BYTES". Then it prints "ready" and the children wait, alive
 * (an exited process's overflow row would leave flowacct's table), until stdin closes.
 *
 * usage: fa_flood CGROUP N PORT OUT_FILE
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[1000];

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void child(int i, int port, int hold, int ack)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t n = 100 + i % 900;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char c;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || sendto(fd, buf, n, 0, (struct sockaddr *)&sin, sizeof(sin)) != (ssize_t)n)
		die("sendto");
	if (write(ack, "s", 1) != 1)
		die("write");
	/* alive until the parent's end of the pipe closes */
	while (read(hold, &c, 1) > 0)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	int hold[2], ack[2], n, port;
	FILE *cg, *out;
	char c;

	if (argc != 5)
		return fprintf(stderr, "usage: fa_flood CGROUP N PORT OUT_FILE\n"), 2;
	n = atoi(argv[2]);
	port = atoi(argv[3]);
	snprintf(buf, sizeof(buf), "%s/cgroup.procs", argv[1]);
	cg = fopen(buf, "w");
	if (!cg || fprintf(cg, "0\n") < 0 || fclose(cg))
		die(buf);
	out = fopen(argv[4], "w");
	if (!out || pipe(hold) || pipe(ack))
		die("setup");
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (!pid) {
			close(hold[1]);
			child(i, port, hold[0], ack[1]);
		}
		/* a child that failed said why; the others would wait on it forever */
		if (poll(&(struct pollfd){ .fd = ack[0], .events = POLLIN }, 1, 5000) != 1 ||
		    read(ack[0], &c, 1) != 1) {
			fprintf(stderr, "fa_flood: child %d did not send\n", i);
			return 2;
		}
		fprintf(out, "%d %d\n", pid, 100 + i % 900);
	}
	if (fclose(out))
		die(argv[4]);
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	close(hold[1]);
	while (wait(NULL) > 0)
		;
	return 0;
}
