// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fa_churn: the workload of the churn soak (71-churn.sh, make soak). One long-lived server
 * on loopback (TCP and UDP, IPv4 and IPv6) and N short-lived children, at most P at a
 * time, R started a second (default: each as soon as a place is free). Each child names
 * itself (prctl PR_SET_NAME: a unique name, one in 16 made of hostile bytes), opens one
 * to three TCP connections and, one child in five, a connected UDP socket, moves a number
 * of bytes that differs from child to child each way, closes everything and exits: most
 * live a few milliseconds, far less than an interval.
 *
 * Every process writes what its own calls moved (their return values: the ground truth
 * flowacct must equal) to the manifest, one line per process and protocol, tab-separated:
 *
 *   ROLE PID NAME PROTO TX RX FLOWS
 *
 * ROLE is "child" or "server"; NAME as flowacct shows it (fa_escape); FLOWS the flows the
 * process makes for that protocol: a child's connections (TCP) or its one UDP socket, the
 * server's accepted connections (TCP) or the distinct peers it answered (UDP: the
 * children's ports, UDP_PORTS at most).
 *
 * On stdout, each with the wall clock (seconds since the epoch): "start", "half" when
 * half the children have exited, "progress" every 1000, "done" when all have. Then it
 * waits for SIGTERM, stops the server, which writes its lines, and exits: 0 if every
 * child and the server moved exactly what they meant to, 1 if not (each failure named on
 * stderr), 2 on bad usage.
 *
 * usage: fa_churn -n N [-P PARALLEL (4)] [-r R] -m MANIFEST
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "format.h"

#define SERVER_NAME "churn-srv"
/* One child in this many has a hostile name, one in UDP_EVERY a UDP socket. */
#define HOSTILE_EVERY 16
#define UDP_EVERY     5
/*
 * The children's UDP sockets take their local ports in turn from a block of UDP_PORTS
 * (outside the ephemeral range), as clients behind a NAT do. The server's one unconnected
 * socket has a flow per peer, and those stay while it is open (no close ends them: they
 * leave idle when the table is nearly full); with the block they are as many as its
 * ports, not as the children, and the soak can tell a table that grows with the churn.
 */
#define UDP_PORTS 64
/* Every BIG_EVERY-th connection sends BIG_BYTES: many segments and reads each way. */
#define BIG_EVERY 97
#define BIG_BYTES 300001
/* No call may block longer than this: a lost peer fails the child instead of hanging. */
#define IO_TIMEOUT_S 10

enum { FAM_V4, FAM_V6, FAM_MAX };
enum { PROTO_TCP, PROTO_UDP, PROTO_MAX };
static const char *const proto_names[PROTO_MAX] = { "tcp", "udp" };

static struct {
	int manifest; /* O_APPEND: each process writes its lines in one write() each */
	struct sockaddr_storage tcp[FAM_MAX], udp[FAM_MAX]; /* the server's addresses */
	socklen_t alen[FAM_MAX];
	unsigned udp_base; /* the children's block of UDP ports; 0: ephemeral ports */
} g;

static char buf[1 << 16];

/* Deterministic sizes that differ from child to child and connection to connection. */
static unsigned mix(unsigned a, unsigned b)
{
	unsigned x = a * 2654435761u ^ (b + 0x9e3779b9u) * 40503u;

	return x ^ x >> 15;
}

static long long tcp_request_bytes(unsigned child, unsigned conn)
{
	if ((child * 3 + conn) % BIG_EVERY == 0)
		return BIG_BYTES;
	return 1 + mix(child, conn) % 24000;
}

/* What the server answers a request of n bytes with (TCP) */
static long long tcp_reply_bytes(long long n)
{
	return 1 + (n * 7 + 13) % 40009;
}

static size_t udp_request_bytes(unsigned child, unsigned k)
{
	return 1 + mix(child, 100 + k) % 1400;
}

static size_t udp_reply_bytes(size_t n)
{
	return 1 + (n * 3) % 1201;
}

/*
 * A unique name of at most 15 bytes: "chN", or one with bytes a terminal, a JSON parser
 * or a line-based reader would trip on: ESC sequences, BEL, quotes, a backslash, a
 * newline, DEL, 0xff and an overlong UTF-8 '/'.
 */
static void child_name(unsigned i, char name[16])
{
	static const char *const hostile[] = {
		"\x1b[31m%u", "q\"'%u", "nl\n%u", "\xff\xfe%u", "bs\\%u",
		"\abel%u",    " sp %u", "\x7f%u", "\xc0\xaf%u", "\x1b]0;t\a%u",
	};
	unsigned h = i / HOSTILE_EVERY % (sizeof(hostile) / sizeof(hostile[0]));

	if (i % HOSTILE_EVERY == HOSTILE_EVERY - 1)
		snprintf(name, 16, hostile[h], i);
	else
		snprintf(name, 16, "ch%u", i);
}

static void manifest_line(const char *role, const char *name, int proto, long long tx, long long rx,
			  unsigned flows)
{
	char esc[FA_ESCAPED_COMM_LEN], line[256];
	int n = snprintf(line, sizeof(line), "%s\t%d\t%s\t%s\t%lld\t%lld\t%u\n", role, getpid(),
			 fa_escape(esc, sizeof(esc), name, strlen(name)), proto_names[proto], tx,
			 rx, flows);

	if (write(g.manifest, line, n) != n) {
		perror("fa_churn: manifest");
		_exit(1);
	}
}

static void die(const char *name, const char *what)
{
	char esc[FA_ESCAPED_COMM_LEN];

	fprintf(stderr, "fa_churn: pid %d (%s): %s: %s\n", getpid(),
		fa_escape(esc, sizeof(esc), name, strlen(name)), what, strerror(errno));
	_exit(1);
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* One connection: send the request, shut the sending side, read the reply to its end. */
static void child_tcp(const char *name, int fam, long long request, long long *tx, long long *rx)
{
	long long want = tcp_reply_bytes(request), got = 0;
	int fd = socket(g.tcp[fam].ss_family, SOCK_STREAM, 0);
	ssize_t r;

	if (fd < 0)
		die(name, "socket");
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&g.tcp[fam], g.alen[fam]))
		die(name, "connect");
	for (long long left = request; left > 0; left -= r) {
		r = send(fd, buf, left < (long long)sizeof(buf) ? left : (long long)sizeof(buf), 0);
		if (r <= 0)
			die(name, "send");
		*tx += r;
	}
	if (shutdown(fd, SHUT_WR))
		die(name, "shutdown");
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		got += r;
	if (r < 0)
		die(name, "recv");
	*rx += got;
	close(fd);
	if (got != want) {
		errno = EPROTO;
		die(name, "short TCP reply");
	}
}

/* One connected UDP socket: a request and its reply, twice or three times. */
static void child_udp(const char *name, unsigned i, int fam, long long *tx, long long *rx)
{
	int fd = socket(g.udp[fam].ss_family, SOCK_DGRAM, 0);

	if (fd < 0)
		die(name, "socket");
	set_timeouts(fd);
	if (g.udp_base) {
		struct sockaddr_storage local = g.udp[fam];
		unsigned port = g.udp_base + i / UDP_EVERY % UDP_PORTS;

		((struct sockaddr_in *)&local)->sin_port = htons(port); /* sin6_port: the same */
		/* taken meanwhile by someone else: an ephemeral port, one more peer */
		if (bind(fd, (struct sockaddr *)&local, g.alen[fam]) && errno != EADDRINUSE)
			die(name, "bind UDP");
	}
	if (connect(fd, (struct sockaddr *)&g.udp[fam], g.alen[fam]))
		die(name, "connect UDP");
	for (unsigned k = 0; k < 2 + i % 2; k++) {
		size_t n = udp_request_bytes(i, k);
		ssize_t r = send(fd, buf, n, 0);

		if (r != (ssize_t)n)
			die(name, "send UDP");
		*tx += r;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0)
			die(name, "recv UDP (a lost datagram?)");
		*rx += r;
		if ((size_t)r != udp_reply_bytes(n)) {
			errno = EPROTO;
			die(name, "wrong UDP reply");
		}
	}
	close(fd);
}

static void child_run(unsigned i)
{
	long long tx[PROTO_MAX] = {}, rx[PROTO_MAX] = {};
	unsigned conns = 1 + i % 3;
	char name[16];
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	child_name(i, name);
	/* before any socket: the kernel takes the name at a flow's first sight */
	if (prctl(PR_SET_NAME, name))
		die(name, "prctl(PR_SET_NAME)");
	for (unsigned c = 0; c < conns; c++)
		child_tcp(name, (i + c) % 4 == 3 ? FAM_V6 : FAM_V4, tcp_request_bytes(i, c),
			  &tx[PROTO_TCP], &rx[PROTO_TCP]);
	if (i % UDP_EVERY == 0)
		child_udp(name, i, (i / UDP_EVERY) % 2 ? FAM_V6 : FAM_V4, &tx[PROTO_UDP],
			  &rx[PROTO_UDP]);
	manifest_line("child", name, PROTO_TCP, tx[PROTO_TCP], rx[PROTO_TCP], conns);
	if (i % UDP_EVERY == 0)
		manifest_line("child", name, PROTO_UDP, tx[PROTO_UDP], rx[PROTO_UDP], 1);
	_exit(0);
}

/* ---- the server: one process, one epoll loop, every connection nonblocking ---- */

enum ev_kind { EV_LISTEN, EV_UDP, EV_CONN, EV_SIGNAL };

struct ev {
	enum ev_kind kind;
	int fd;
	long long rcvd, reply, sent; /* EV_CONN */
	bool replying;
};

struct server {
	int ep;
	long long tx[PROTO_MAX], rx[PROTO_MAX];
	unsigned conns;
	unsigned char peers[FAM_MAX][65536 / 8]; /* UDP peers answered, by family and port */
	unsigned npeers;
};

static void srv_die(const char *what)
{
	die(SERVER_NAME, what);
}

static void srv_watch(struct server *s, struct ev *e, unsigned events, int op)
{
	struct epoll_event ee = { .events = events, .data.ptr = e };

	if (epoll_ctl(s->ep, op, e->fd, &ee))
		srv_die("epoll_ctl");
}

static void srv_accept(struct server *s, int lfd)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		struct ev *e = calloc(1, sizeof(*e));

		if (!e)
			srv_die("calloc");
		e->kind = EV_CONN;
		e->fd = fd;
		s->conns++;
		srv_watch(s, e, EPOLLIN, EPOLL_CTL_ADD);
	}
	if (errno != EAGAIN)
		srv_die("accept");
}

/* Reads the request to its end, then writes the reply and closes. */
static void srv_conn(struct server *s, struct ev *e)
{
	ssize_t r;

	while (!e->replying) {
		r = recv(e->fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r < 0)
			srv_die("recv");
		if (r == 0) {
			e->replying = true;
			e->reply = tcp_reply_bytes(e->rcvd);
			srv_watch(s, e, EPOLLOUT, EPOLL_CTL_MOD);
			break;
		}
		e->rcvd += r;
		s->rx[PROTO_TCP] += r;
	}
	while (e->sent < e->reply) {
		long long left = e->reply - e->sent;

		r = send(e->fd, buf, left < (long long)sizeof(buf) ? left : (long long)sizeof(buf),
			 0);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0)
			srv_die("send");
		e->sent += r;
		s->tx[PROTO_TCP] += r;
	}
	close(e->fd);
	free(e);
}

static void srv_udp(struct server *s, int fd)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	ssize_t r;

	while ((r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen)) >= 0) {
		int fam = peer.ss_family == AF_INET6 ? FAM_V6 : FAM_V4;
		unsigned port = ntohs(((struct sockaddr_in *)&peer)->sin_port); /* same offset */
		size_t n = udp_reply_bytes(r);

		s->rx[PROTO_UDP] += r;
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&peer, plen) != (ssize_t)n)
			srv_die("sendto");
		s->tx[PROTO_UDP] += n;
		if (!(s->peers[fam][port / 8] & 1 << port % 8)) {
			s->peers[fam][port / 8] |= 1 << port % 8;
			s->npeers++;
		}
		plen = sizeof(peer);
	}
	if (errno != EAGAIN)
		srv_die("recvfrom");
}

/* Runs until SIGTERM (blocked, read from a signalfd), then writes its lines. */
static void server_run(const int *fds, int nfds)
{
	static struct server s;
	struct epoll_event evs[64];
	sigset_t term;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (prctl(PR_SET_NAME, SERVER_NAME))
		srv_die("prctl(PR_SET_NAME)");
	s.ep = epoll_create1(0);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	for (int i = 0; i <= nfds; i++) {
		struct ev *e = calloc(1, sizeof(*e));
		int type = 0;
		socklen_t len = sizeof(type);

		if (!e)
			srv_die("calloc");
		if (i == nfds) {
			e->kind = EV_SIGNAL;
			e->fd = signalfd(-1, &term, 0);
		} else {
			e->fd = fds[i];
			getsockopt(e->fd, SOL_SOCKET, SO_TYPE, &type, &len);
			e->kind = type == SOCK_DGRAM ? EV_UDP : EV_LISTEN;
		}
		if (e->fd < 0)
			srv_die("signalfd");
		srv_watch(&s, e, EPOLLIN, EPOLL_CTL_ADD);
	}
	for (;;) {
		int n = epoll_wait(s.ep, evs, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			srv_die("epoll_wait");
		for (int i = 0; i < n; i++) {
			struct ev *e = evs[i].data.ptr;

			switch (e->kind) {
			case EV_LISTEN:
				srv_accept(&s, e->fd);
				break;
			case EV_UDP:
				srv_udp(&s, e->fd);
				break;
			case EV_CONN:
				srv_conn(&s, e);
				break;
			case EV_SIGNAL:
				manifest_line("server", SERVER_NAME, PROTO_TCP, s.tx[PROTO_TCP],
					      s.rx[PROTO_TCP], s.conns);
				manifest_line("server", SERVER_NAME, PROTO_UDP, s.tx[PROTO_UDP],
					      s.rx[PROTO_UDP], s.npeers);
				_exit(0);
			}
		}
	}
}

/* A nonblocking socket bound to the loopback address of fam, its address in addr. */
static int server_socket(int fam, int type, struct sockaddr_storage *addr, socklen_t *alen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr;
	int fd = socket(fam == FAM_V6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK, 0);

	memset(addr, 0, sizeof(*addr));
	if (fam == FAM_V6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		*alen = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*alen = sizeof(*sin);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, *alen) ||
	    getsockname(fd, (struct sockaddr *)addr, alen) ||
	    (type == SOCK_STREAM && listen(fd, 1024))) {
		fprintf(stderr, "fa_churn: the server's %s %s socket: %s\n",
			fam == FAM_V6 ? "IPv6" : "IPv4", type == SOCK_STREAM ? "TCP" : "UDP",
			strerror(errno));
		exit(1);
	}
	return fd;
}

/* The first block of UDP_PORTS ports above the ephemeral range free in both families. */
static unsigned udp_block(void)
{
	unsigned lo, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			hi = 60999;
		fclose(f);
	}
	for (unsigned base = hi + 1; base + UDP_PORTS <= 65536; base += UDP_PORTS) {
		bool free = true;

		for (unsigned p = base; p < base + UDP_PORTS && free; p++)
			for (int fam = 0; fam < FAM_MAX && free; fam++) {
				struct sockaddr_storage a = g.udp[fam];
				int fd = socket(a.ss_family, SOCK_DGRAM, 0);

				((struct sockaddr_in *)&a)->sin_port = htons(p);
				free = fd >= 0 && !bind(fd, (struct sockaddr *)&a, g.alen[fam]);
				if (fd >= 0)
					close(fd);
			}
		if (free)
			return base;
	}
	return 0;
}

static void mark(const char *what, unsigned reaped)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%s %u %lld.%03ld\n", what, reaped, (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	fflush(stdout);
}

static struct {
	unsigned n, parallel, started, running, reaped, failed;
	double rate; /* children started per second; 0: as fast as they end */
	pid_t server;
	struct timespec t0;
} run = { .parallel = 4 };

/* One child (or the server) has ended. */
static void reap(pid_t pid, int status)
{
	if (pid == run.server) {
		fprintf(stderr, "fa_churn: the server exited early (status 0x%x)\n", status);
		exit(1);
	}
	run.running--;
	run.reaped++;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		run.failed++;
	if (run.reaped == run.n / 2)
		mark("half", run.reaped);
	else if (run.reaped % 1000 == 0 && run.reaped < run.n)
		mark("progress", run.reaped);
}

/* Waits for child k's start time: t0 + k / rate. */
static void pace(unsigned k)
{
	struct timespec due = run.t0;
	double at = k / run.rate;

	due.tv_sec += (time_t)at;
	due.tv_nsec += (long)((at - (time_t)at) * 1e9);
	if (due.tv_nsec >= 1000000000) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
		;
}

/* Runs every child: reaped as soon as they end (a zombie still counts as alive to
 * flowacct), at most run.parallel at once. */
static void churn(void)
{
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &run.t0);
	while (run.reaped < run.n) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			reap(pid, status);
		if (run.started < run.n && run.running < run.parallel) {
			if (run.rate > 0)
				pace(run.started);
			pid = fork();
			if (pid < 0) {
				perror("fa_churn: fork");
				exit(1);
			}
			if (pid == 0)
				child_run(run.started);
			run.started++;
			run.running++;
		} else if (run.running) {
			pid = wait(&status);
			if (pid < 0) {
				perror("fa_churn: wait");
				exit(1);
			}
			reap(pid, status);
		}
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: fa_churn -n N [-P PARALLEL (4)] [-r R] -m MANIFEST\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *manifest = NULL;
	int fds[2 * FAM_MAX], status, sig, opt;
	sigset_t term;

	while ((opt = getopt(argc, argv, "n:P:r:m:")) != -1) {
		if (opt == 'n')
			run.n = strtoul(optarg, NULL, 10);
		else if (opt == 'P')
			run.parallel = strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			run.rate = strtod(optarg, NULL);
		else if (opt == 'm')
			manifest = optarg;
		else
			return usage();
	}
	if (!run.n || !run.parallel || run.rate < 0 || !manifest || optind != argc)
		return usage();
	g.manifest = open(manifest, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (g.manifest < 0) {
		fprintf(stderr, "fa_churn: %s: %s\n", manifest, strerror(errno));
		return 1;
	}
	/* SIGTERM ends the run; blocked here, read by sigwait (us) and a signalfd (server) */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	for (int f = 0; f < FAM_MAX; f++) {
		fds[2 * f] = server_socket(f, SOCK_STREAM, &g.tcp[f], &g.alen[f]);
		fds[2 * f + 1] = server_socket(f, SOCK_DGRAM, &g.udp[f], &g.alen[f]);
	}
	g.udp_base = udp_block();
	run.server = fork();
	if (run.server < 0) {
		perror("fa_churn: fork");
		return 1;
	}
	if (run.server == 0)
		server_run(fds, 2 * FAM_MAX);
	for (int i = 0; i < 2 * FAM_MAX; i++)
		close(fds[i]);
	mark("start", 0);
	churn();
	mark("done", run.reaped);
	while (sigwait(&term, &sig))
		;
	kill(run.server, SIGTERM);
	if (waitpid(run.server, &status, 0) != run.server || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "fa_churn: the server failed (status 0x%x)\n", status);
		run.failed++;
	}
	if (run.failed)
		fprintf(stderr, "fa_churn: %u of %u processes failed\n", run.failed, run.n + 1);
	return run.failed ? 1 : 0;
}
