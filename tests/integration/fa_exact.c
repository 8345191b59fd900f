// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fa_exact: proves flowacct counts every byte exactly. It starts the real flowacct
 * (JSON output), runs traffic whose byte counts each process knows exactly (it counts
 * what its own send/recv calls returned), stops flowacct with SIGINT and compares, per
 * flow and direction: the sum of the interval values, the last total, and the name.
 *
 *   fa_exact --flowacct PATH [--backend NAME] [--interval S] [--summary FILE] [--only NAME]
 *
 * Prints PASS/FAIL per check and "fa_exact: N passed, M failed"; exits 0 only if all
 * passed. --summary writes the measured numbers without ports and pids, so that runs
 * with different backends can be compared line by line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXP 512
#define MAX_OBS 8192

/* What one socket of one process moved, as its own calls' return values say. */
struct expect {
	char scenario[32];
	char role[24];
	int pid;
	char proto[4];
	char laddr[64], raddr[64];
	int lport, rport;
	long long rx, tx;
	char comm[80]; /* as flowacct must print it (escaped) */
};

/* What flowacct reported for one flow. */
struct observed {
	int pid;
	char proto[4];
	char laddr[64], raddr[64];
	int lport, rport;
	long long rx_sum, tx_sum; /* sum of interval values */
	long long rx_total, tx_total; /* last totals */
	char comm[80];
};

struct proc_obs {
	int pid;
	long long rx_sum, tx_sum;
};

static struct {
	const char *flowacct;
	const char *backend;
	const char *summary;
	const char *only;
	double interval;
	char tmpdir[64];
	int report_fd; /* O_APPEND file every traffic process writes its records to */
	int passed, failed;
} g = { .backend = "auto", .interval = 0.25 };

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fa_exact: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	va_end(ap);
	exit(2);
}

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	ok ? g.passed++ : g.failed++;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- traffic side */

static void sockaddr_str(const struct sockaddr_storage *ss, char *addr, size_t len, int *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, addr, len);
		*port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, addr, len);
		*port = ntohs(s->sin6_port);
	}
}

/* A socket's two ends, taken while it is connected (a closed socket has no peer). */
struct ends {
	int type;
	struct sockaddr_storage l, r;
};

static struct ends ends_of(int fd)
{
	struct ends e;
	socklen_t ll = sizeof(e.l), rl = sizeof(e.r), tl = sizeof(e.type);

	if (getsockname(fd, (void *)&e.l, &ll) || getpeername(fd, (void *)&e.r, &rl) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &e.type, &tl))
		die("getsockname/getpeername");
	return e;
}

/* Appends this socket's record. One write() on an O_APPEND file: records never mix. */
static void report(const struct ends *s, const char *scenario, const char *role,
		   const char *comm_expected, long long rx, long long tx)
{
	struct expect e = {};

	snprintf(e.scenario, sizeof(e.scenario), "%s", scenario);
	snprintf(e.role, sizeof(e.role), "%s", role);
	e.pid = getpid();
	snprintf(e.proto, sizeof(e.proto), "%s", s->type == SOCK_STREAM ? "tcp" : "udp");
	sockaddr_str(&s->l, e.laddr, sizeof(e.laddr), &e.lport);
	sockaddr_str(&s->r, e.raddr, sizeof(e.raddr), &e.rport);
	e.rx = rx;
	e.tx = tx;
	snprintf(e.comm, sizeof(e.comm), "%s", comm_expected);
	if (write(g.report_fd, &e, sizeof(e)) != sizeof(e))
		die("write report");
}

static void set_name(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

static int family_of(bool v6)
{
	return v6 ? AF_INET6 : AF_INET;
}

static socklen_t loopback(bool v6, struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *s = (void *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_addr = in6addr_loopback;
		s->sin6_port = htons(port);
		return sizeof(*s);
	}
	struct sockaddr_in *s = (void *)ss;

	s->sin_family = AF_INET;
	s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->sin_port = htons(port);
	return sizeof(*s);
}

static int listener(bool v6, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(v6, &ss, 0);
	int fd = socket(family_of(v6), SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (void *)&ss, len) || listen(fd, 64))
		die("listen");
	len = sizeof(ss);
	getsockname(fd, (void *)&ss, &len);
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
			   ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int tcp_connect(bool v6, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(v6, &ss, port);
	int fd = socket(family_of(v6), SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (void *)&ss, len))
		die("connect");
	return fd;
}

static void fill(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(i * 31 + 7);
}

static long long send_all(int fd, const char *buf, long long n)
{
	long long done = 0;

	while (done < n) {
		ssize_t k = send(fd, buf + (done % 65536), n - done > 65536 ? 65536 : n - done, 0);

		if (k < 0)
			die("send");
		done += k;
	}
	return done;
}

static long long recv_until_eof(int fd, size_t chunk)
{
	static char buf[1 << 20];
	long long n = 0;
	ssize_t k;

	while ((k = recv(fd, buf, chunk, 0)) > 0)
		n += k;
	if (k < 0)
		die("recv");
	return n;
}

/* How a scenario's client talks to its server over one TCP connection. */
enum tcp_style {
	STYLE_SEND_RECV,
	STYLE_WRITE_READ,
	STYLE_SENDMSG_IOV,
	STYLE_PEEK,
	STYLE_WAITALL,
	STYLE_NONBLOCK,
	STYLE_SENDFILE,
	STYLE_EXIT_EARLY,
};

static char bigbuf[1 << 20];

/* Server side of a TCP scenario: receives per style, replies `reply` bytes, reports. */
static void tcp_server(const char *scen, int lfd, enum tcp_style style, long long reply,
		       const char *name)
{
	int fd = accept(lfd, NULL, NULL);
	long long rx = 0, tx = 0;
	ssize_t k;

	struct ends ends;

	set_name(name);
	if (fd < 0)
		die("accept");
	ends = ends_of(fd);
	switch (style) {
	case STYLE_WRITE_READ:
		while ((k = read(fd, bigbuf, 100000)) > 0)
			rx += k;
		break;
	case STYLE_SENDMSG_IOV: {
		char a[100], b[3000], c[70000];
		struct iovec iov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };

		while ((k = recvmsg(fd, &m, 0)) > 0)
			rx += k;
		break;
	}
	case STYLE_PEEK:
		/* peek at everything before reading it: a peek consumes nothing */
		for (;;) {
			k = recv(fd, bigbuf, 5000, MSG_PEEK);
			if (k <= 0)
				break;
			k = recv(fd, bigbuf, 3000, 0);
			if (k <= 0)
				break;
			rx += k;
		}
		break;
	case STYLE_WAITALL:
		k = recv(fd, bigbuf, 1 << 20, MSG_WAITALL);
		if (k < 0)
			die("recv waitall");
		rx += k;
		rx += recv_until_eof(fd, 65536);
		break;
	case STYLE_NONBLOCK:
		/* small reads: the sender's nonblocking sends come back short or EAGAIN */
		while ((k = recv(fd, bigbuf, 8192, 0)) > 0)
			rx += k;
		break;
	default:
		rx = recv_until_eof(fd, 65536);
		break;
	}
	if (reply)
		tx = send_all(fd, bigbuf, reply);
	shutdown(fd, SHUT_WR);
	report(&ends, scen, "server", name, rx, tx);
	close(fd);
}

static void tcp_client(const char *scen, bool v6, int port, enum tcp_style style, long long n,
		       const char *name, const char *comm_expected)
{
	int fd = tcp_connect(v6, port);
	struct ends ends = ends_of(fd);
	long long tx = 0, rx;
	ssize_t k;

	set_name(name);
	switch (style) {
	case STYLE_WRITE_READ:
		while (tx < n) {
			k = write(fd, bigbuf, n - tx > 40000 ? 40000 : n - tx);
			if (k < 0)
				die("write");
			tx += k;
		}
		break;
	case STYLE_SENDMSG_IOV:
		while (tx < n) {
			struct iovec iov[3] = { { bigbuf, 1000 }, { bigbuf + 5000, 20000 },
						{ bigbuf + 100000, 30000 } };
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };

			k = sendmsg(fd, &m, 0);
			if (k < 0)
				die("sendmsg");
			tx += k;
		}
		break;
	case STYLE_WAITALL:
		/* trickle 64 KiB pieces into the receiver's single MSG_WAITALL recv */
		for (int i = 0; i < 16; i++) {
			tx += send_all(fd, bigbuf, 65536);
			msleep(5);
		}
		break;
	case STYLE_NONBLOCK: {
		int small = 4096;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		fcntl(fd, F_SETFL, O_NONBLOCK);
		while (tx < n) {
			long long want = n - tx > 262144 ? 262144 : n - tx;

			k = send(fd, bigbuf + (tx % 4096), want, 0);
			if (k < 0 && errno == EAGAIN) {
				struct pollfd p = { fd, POLLOUT, 0 };

				poll(&p, 1, 1000);
				continue;
			}
			if (k < 0)
				die("send nonblocking");
			tx += k;
		}
		fcntl(fd, F_SETFL, 0);
		break;
	}
	case STYLE_SENDFILE: {
		char path[128];
		int f;

		snprintf(path, sizeof(path), "%s/sendfile.dat", g.tmpdir);
		f = open(path, O_RDONLY);
		if (f < 0)
			die("open %s", path);
		while (tx < n) {
			k = sendfile(fd, f, NULL, n - tx);
			if (k <= 0)
				die("sendfile");
			tx += k;
		}
		close(f);
		break;
	}
	default:
		tx = send_all(fd, bigbuf, n);
		break;
	}
	shutdown(fd, SHUT_WR);
	rx = recv_until_eof(fd, 65536);
	report(&ends, scen, "client", comm_expected ? comm_expected : name, rx, tx);
	close(fd);
}

static pid_t spawn(void)
{
	pid_t p = fork();

	if (p < 0)
		die("fork");
	return p;
}

static void wait_all(int n)
{
	for (int i = 0; i < n; i++) {
		int st;

		if (wait(&st) < 0)
			die("wait");
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fprintf(stderr, "fa_exact: a traffic process failed (status %d)\n", st);
	}
}

/* One TCP connection between a server process and a client process. */
static void scenario_tcp(const char *scen, bool v6, enum tcp_style style, long long n,
			 long long reply, const char *cname, const char *comm_expected)
{
	int port, lfd = listener(v6, &port);

	if (!spawn()) {
		tcp_server(scen, lfd, style, reply, "fa-srv");
		_exit(0);
	}
	close(lfd);
	if (!spawn()) {
		tcp_client(scen, v6, port, style, n, cname, comm_expected);
		if (style == STYLE_EXIT_EARLY)
			_exit(0); /* gone long before flowacct stops */
		_exit(0);
	}
	wait_all(2);
}

/* UDP: two connected sockets; each side counts what its calls returned. */
static void udp_side(const char *scen, const char *role, int fd, int sends, int base,
		     bool peek, int threads);

struct udp_thread {
	int fd, n, base;
	long long tx;
};

static void *udp_sender(void *arg)
{
	struct udp_thread *t = arg;

	set_name("worker"); /* a thread's name: flowacct must show the process's */
	for (int i = 0; i < t->n; i++) {
		ssize_t k = send(t->fd, bigbuf, t->base + (i % 97), 0);

		if (k < 0 && errno != ENOBUFS && errno != ECONNREFUSED)
			die("udp send");
		if (k > 0)
			t->tx += k;
		if (i % 50 == 49)
			usleep(200);
	}
	return NULL;
}

static long long udp_drain(int fd, bool peek, int quiet_ms)
{
	long long rx = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, quiet_ms) <= 0)
			break;
		if (peek && recv(fd, bigbuf, 64, MSG_PEEK) < 0)
			die("udp peek");
		k = recv(fd, bigbuf, sizeof(bigbuf), 0);
		if (k < 0 && errno != ECONNREFUSED)
			die("udp recv");
		if (k > 0)
			rx += k;
	}
	return rx;
}

static void udp_side(const char *scen, const char *role, int fd, int sends, int base, bool peek,
		     int threads)
{
	struct udp_thread t[8] = {};
	pthread_t th[8];
	struct ends ends = ends_of(fd);
	long long tx = 0, rx;

	for (int i = 0; i < threads; i++) {
		t[i] = (struct udp_thread){ .fd = fd, .n = sends, .base = base };
		pthread_create(&th[i], NULL, udp_sender, &t[i]);
	}
	rx = udp_drain(fd, peek, 700);
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		tx += t[i].tx;
	}
	rx += udp_drain(fd, peek, 300);
	report(&ends, scen, role, role[0] == 'a' ? "fa-udp-a" : "fa-udp-b", rx, tx);
}

static void scenario_udp(const char *scen, bool v6, bool peek, int threads)
{
	struct sockaddr_storage sa, sb;
	socklen_t la = loopback(v6, &sa, 0), lb = loopback(v6, &sb, 0);
	int a = socket(family_of(v6), SOCK_DGRAM, 0), b = socket(family_of(v6), SOCK_DGRAM, 0);
	int big = 8 << 20;

	if (a < 0 || b < 0 || bind(a, (void *)&sa, la) || bind(b, (void *)&sb, lb))
		die("udp bind");
	getsockname(a, (void *)&sa, &la);
	getsockname(b, (void *)&sb, &lb);
	if (connect(a, (void *)&sb, lb) || connect(b, (void *)&sa, la))
		die("udp connect");
	/* room for every datagram, so the two directions lose nothing and runs compare */
	setsockopt(a, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(b, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (!spawn()) {
		set_name("fa-udp-a");
		close(b);
		udp_side(scen, "a", a, 300, 100, peek, threads);
		_exit(0);
	}
	if (!spawn()) {
		set_name("fa-udp-b");
		close(a);
		udp_side(scen, "b", b, 200, 900, peek, 1);
		_exit(0);
	}
	close(a);
	close(b);
	wait_all(2);
}

/* Several processes, several flows each, all at once. */
struct conn_thread {
	bool v6;
	int port;
	long long n;
	long long rx, tx;
	int fd;
	struct ends ends;
};

static void *conn_client(void *arg)
{
	struct conn_thread *t = arg;

	t->fd = tcp_connect(t->v6, t->port);
	t->ends = ends_of(t->fd);
	t->tx = send_all(t->fd, bigbuf, t->n);
	shutdown(t->fd, SHUT_WR);
	t->rx = recv_until_eof(t->fd, 65536);
	return NULL;
}

static void *conn_server(void *arg)
{
	struct conn_thread *t = arg;

	t->ends = ends_of(t->fd);
	t->rx = recv_until_eof(t->fd, 32768);
	t->tx = send_all(t->fd, bigbuf, t->rx / 3 + 11);
	shutdown(t->fd, SHUT_WR);
	return NULL;
}

static void scenario_concurrent(const char *scen)
{
	enum { CLIENTS = 3, PER = 2 };
	int port4, port6, l4 = listener(false, &port4), l6 = listener(true, &port6);

	if (!spawn()) { /* one server, six connections, a thread each */
		struct conn_thread t[CLIENTS * PER] = {};
		pthread_t th[CLIENTS * PER];

		set_name("fa-multi-srv");
		for (int i = 0; i < CLIENTS * PER; i++) {
			struct pollfd p[2] = { { l4, POLLIN, 0 }, { l6, POLLIN, 0 } };

			poll(p, 2, -1);
			t[i].fd = accept(p[0].revents ? l4 : l6, NULL, NULL);
			pthread_create(&th[i], NULL, conn_server, &t[i]);
		}
		for (int i = 0; i < CLIENTS * PER; i++) {
			pthread_join(th[i], NULL);
			report(&t[i].ends, scen, "server", "fa-multi-srv", t[i].rx, t[i].tx);
		}
		_exit(0);
	}
	for (int c = 0; c < CLIENTS; c++) {
		if (spawn())
			continue;
		struct conn_thread t[PER] = {};
		pthread_t th[PER];
		char name[16];

		snprintf(name, sizeof(name), "fa-multi-%d", c);
		set_name(name);
		for (int i = 0; i < PER; i++) {
			t[i] = (struct conn_thread){ .v6 = i & 1, .port = i & 1 ? port6 : port4,
						     .n = 100000 * (c + 1) + 777 * i };
			pthread_create(&th[i], NULL, conn_client, &t[i]);
		}
		for (int i = 0; i < PER; i++) {
			pthread_join(th[i], NULL);
			report(&t[i].ends, scen, i & 1 ? "client6" : "client4", name, t[i].rx, t[i].tx);
		}
		_exit(0);
	}
	close(l4);
	close(l6);
	wait_all(CLIENTS + 1);
}

/* ---------------------------------------------------------------- flowacct side */

struct session {
	pid_t pid;
	FILE *out;
	pthread_t reader;
	pthread_mutex_t lock;
	struct observed obs[MAX_OBS];
	int nobs;
	struct proc_obs procs[MAX_OBS];
	int nprocs;
	json_t *last; /* the last JSON line */
	struct proc_obs overflow[16]; /* overflow rows: interval sums per pid */
	int noverflow;
	int lines, bad_lines;
	bool saw_final;
	char errpath[128];
};

static struct observed *obs_find(struct session *s, int pid, const char *proto,
				 const char *laddr, int lport, const char *raddr, int rport,
				 bool create)
{
	for (int i = 0; i < s->nobs; i++) {
		struct observed *o = &s->obs[i];

		if (o->pid == pid && o->lport == lport && o->rport == rport &&
		    !strcmp(o->proto, proto) && !strcmp(o->laddr, laddr) && !strcmp(o->raddr, raddr))
			return o;
	}
	if (!create || s->nobs == MAX_OBS)
		return NULL;
	struct observed *o = &s->obs[s->nobs++];

	memset(o, 0, sizeof(*o));
	o->pid = pid;
	snprintf(o->proto, sizeof(o->proto), "%s", proto);
	snprintf(o->laddr, sizeof(o->laddr), "%s", laddr);
	snprintf(o->raddr, sizeof(o->raddr), "%s", raddr);
	o->lport = lport;
	o->rport = rport;
	return o;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static long long jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void session_consume(struct session *s, json_t *root)
{
	json_t *flows = json_object_get(root, "flows"), *procs = json_object_get(root, "processes");
	json_t *f;
	size_t i;

	json_array_foreach(flows, i, f) {
		struct observed *o = obs_find(s, jint(f, "pid"), jstr(f, "proto"), jstr(f, "laddr"),
					      jint(f, "lport"), jstr(f, "raddr"), jint(f, "rport"),
					      true);
		if (!o)
			continue;
		o->rx_sum += jint(f, "rx_bytes");
		o->tx_sum += jint(f, "tx_bytes");
		o->rx_total = jint(f, "rx_bytes_total");
		o->tx_total = jint(f, "tx_bytes_total");
		snprintf(o->comm, sizeof(o->comm), "%s", jstr(f, "comm"));
	}
	json_array_foreach(procs, i, f) {
		int pid = jint(f, "pid"), k;

		for (k = 0; k < s->nprocs && s->procs[k].pid != pid; k++)
			;
		if (k == s->nprocs) {
			if (s->nprocs == MAX_OBS)
				continue;
			s->procs[s->nprocs++] = (struct proc_obs){ .pid = pid };
		}
		s->procs[k].rx_sum += jint(f, "rx_bytes");
		s->procs[k].tx_sum += jint(f, "tx_bytes");
	}
	json_array_foreach(json_object_get(root, "overflow"), i, f) {
		int pid = jint(f, "pid"), k;

		for (k = 0; k < s->noverflow && s->overflow[k].pid != pid; k++)
			;
		if (k == s->noverflow) {
			if (s->noverflow == 16)
				continue;
			s->overflow[s->noverflow++] = (struct proc_obs){ .pid = pid };
		}
		s->overflow[k].rx_sum += jint(f, "rx_bytes");
		s->overflow[k].tx_sum += jint(f, "tx_bytes");
	}
	if (json_is_true(json_object_get(root, "final")))
		s->saw_final = true;
}

static void *session_read(void *arg)
{
	struct session *s = arg;
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, s->out) > 0) {
		json_error_t jerr;
		json_t *root = json_loads(line, 0, &jerr);

		pthread_mutex_lock(&s->lock);
		s->lines++;
		if (!root) {
			s->bad_lines++;
		} else {
			session_consume(s, root);
			json_decref(s->last);
			s->last = root;
		}
		pthread_mutex_unlock(&s->lock);
	}
	free(line);
	return NULL;
}

/* Starts flowacct with extra arguments and waits until its backend is attached. */
static struct session *session_start(const char *const *extra)
{
	struct session *s = calloc(1, sizeof(*s));
	char iv[32];
	const char *argv[32];
	int n = 0, pfd[2];

	if (!s)
		die("calloc");
	pthread_mutex_init(&s->lock, NULL);
	snprintf(iv, sizeof(iv), "%g", g.interval);
	snprintf(s->errpath, sizeof(s->errpath), "%s/flowacct.err", g.tmpdir);
	argv[n++] = g.flowacct;
	argv[n++] = "-j";
	argv[n++] = "--backend";
	argv[n++] = g.backend;
	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n++] = iv;
	argv[n] = NULL;
	if (pipe(pfd))
		die("pipe");
	/* emptied here, not in the child: a previous session's "using backend" line must
	 * not pass for this one's */
	int e = open(s->errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (e < 0)
		die("open %s", s->errpath);
	s->pid = spawn();
	if (!s->pid) {
		dup2(pfd[1], 1);
		dup2(e, 2);
		close(pfd[0]);
		execv(g.flowacct, (char **)argv);
		_exit(127);
	}
	close(pfd[1]);
	close(e);
	s->out = fdopen(pfd[0], "r");
	pthread_create(&s->reader, NULL, session_read, s);

	for (int waited = 0;; waited += 50) {
		char buf[4096] = "";
		int fd = open(s->errpath, O_RDONLY);
		int st;

		if (fd >= 0) {
			ssize_t k = read(fd, buf, sizeof(buf) - 1);

			buf[k > 0 ? k : 0] = '\0';
			close(fd);
		}
		if (strstr(buf, "using backend")) {
			fprintf(stderr, "%s", buf);
			break;
		}
		if (waitpid(s->pid, &st, WNOHANG) == s->pid || waited > 120000) {
			fprintf(stderr, "fa_exact: flowacct did not start:\n%s\n", buf);
			exit(1);
		}
		msleep(50);
	}
	msleep((int)(g.interval * 1000) + 50);
	return s;
}

/* Lets flowacct run `intervals` more intervals, stops it with SIGINT, reads everything. */
static void session_stop(struct session *s, int intervals)
{
	int st;

	msleep((int)(intervals * g.interval * 1000));
	kill(s->pid, SIGINT);
	if (waitpid(s->pid, &st, 0) != s->pid)
		die("waitpid flowacct");
	pthread_join(s->reader, NULL);
	fclose(s->out);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "flowacct exits 0 on SIGINT (status %d)", st);
	check(s->lines > 0 && s->bad_lines == 0, "every output line is a JSON object (%d lines)",
	      s->lines);
	check(s->saw_final, "the last line is the final interval (\"final\": true)");
}

static int read_expectations(struct expect *exp, int max)
{
	int n = 0;

	lseek(g.report_fd, 0, SEEK_SET);
	while (n < max && read(g.report_fd, &exp[n], sizeof(exp[n])) == sizeof(exp[n]))
		n++;
	return n;
}

static void reset_expectations(void)
{
	if (ftruncate(g.report_fd, 0))
		die("ftruncate");
}

static FILE *summary;

/* Every expected flow is reported exactly; nothing else is reported for those pids. */
static void compare_flows(struct session *s, struct expect *exp, int nexp)
{
	for (int i = 0; i < nexp; i++) {
		struct expect *e = &exp[i];
		struct observed *o = obs_find(s, e->pid, e->proto, e->laddr, e->lport, e->raddr,
					      e->rport, false);

		if (!o) {
			check(false, "%s/%s: flow %s %s:%d -> %s:%d (pid %d, rx %lld tx %lld) is missing",
			      e->scenario, e->role, e->proto, e->laddr, e->lport, e->raddr, e->rport,
			      e->pid, e->rx, e->tx);
			continue;
		}
		check(o->rx_sum == e->rx && o->tx_sum == e->tx && o->rx_total == e->rx &&
			      o->tx_total == e->tx && !strcmp(o->comm, e->comm),
		      "%s/%s %s %s: rx %lld tx %lld comm \"%s\" (flowacct: interval sums rx %lld tx "
		      "%lld, totals rx %lld tx %lld, comm \"%s\")",
		      e->scenario, e->role, e->proto, e->laddr, e->rx, e->tx, e->comm, o->rx_sum,
		      o->tx_sum, o->rx_total, o->tx_total, o->comm);
		if (summary)
			fprintf(summary, "%s %s %s %s rx=%lld tx=%lld\n", e->scenario, e->role,
				e->proto, strchr(e->laddr, ':') ? "ipv6" : "ipv4", o->rx_sum,
				o->tx_sum);
	}
	for (int i = 0; i < s->nobs; i++) {
		struct observed *o = &s->obs[i];
		bool ours = false, expected = false;

		for (int k = 0; k < nexp; k++) {
			ours |= exp[k].pid == o->pid;
			expected |= exp[k].pid == o->pid && exp[k].lport == o->lport &&
				    exp[k].rport == o->rport && !strcmp(exp[k].proto, o->proto);
		}
		if (ours && !expected)
			check(false, "unexpected flow for pid %d: %s %s:%d -> %s:%d rx %lld tx %lld",
			      o->pid, o->proto, o->laddr, o->lport, o->raddr, o->rport, o->rx_sum,
			      o->tx_sum);
	}
}

/* The per-process rows add up each process's flows exactly. */
static void compare_processes(struct session *s, struct expect *exp, int nexp)
{
	for (int i = 0; i < nexp; i++) {
		long long rx = 0, tx = 0;
		bool first = true;

		for (int k = 0; k < nexp; k++) {
			if (exp[k].pid != exp[i].pid)
				continue;
			first &= k >= i;
			rx += exp[k].rx;
			tx += exp[k].tx;
		}
		if (!first)
			continue;
		struct proc_obs *p = NULL;

		for (int k = 0; k < s->nprocs; k++)
			if (s->procs[k].pid == exp[i].pid)
				p = &s->procs[k];
		check(p && p->rx_sum == rx && p->tx_sum == tx,
		      "process %d (%s): rx %lld tx %lld (flowacct: rx %lld tx %lld)", exp[i].pid,
		      exp[i].comm, rx, tx, p ? p->rx_sum : -1, p ? p->tx_sum : -1);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool want(const char *name)
{
	static double last;
	double t = now_s();

	if (last)
		fprintf(stderr, "fa_exact: (previous scenario took %.2fs) %s\n", t - last, name);
	last = t;
	return !g.only || !strcmp(g.only, name);
}

static void run_main_session(void)
{
	static struct expect exp[MAX_EXP];
	struct session *s;
	int n;

	reset_expectations();
	s = session_start(NULL);
	if (want("tcp4-send-recv"))
		scenario_tcp("tcp4-send-recv", false, STYLE_SEND_RECV, 1234567, 54321, "fa-tcp4", NULL);
	if (want("tcp6-write-read"))
		scenario_tcp("tcp6-write-read", true, STYLE_WRITE_READ, 2000003, 999, "fa-tcp6", NULL);
	if (want("tcp4-sendmsg-iov"))
		scenario_tcp("tcp4-sendmsg-iov", false, STYLE_SENDMSG_IOV, 51000 * 20, 12345,
			     "fa-iov", NULL);
	if (want("tcp6-peek"))
		scenario_tcp("tcp6-peek", true, STYLE_PEEK, 300001, 7, "fa-peek", NULL);
	if (want("tcp4-waitall"))
		scenario_tcp("tcp4-waitall", false, STYLE_WAITALL, 0, 100, "fa-waitall", NULL);
	if (want("tcp4-nonblock"))
		scenario_tcp("tcp4-nonblock", false, STYLE_NONBLOCK, 4 << 20, 0, "fa-nonblock", NULL);
	if (want("tcp6-sendfile"))
		scenario_tcp("tcp6-sendfile", true, STYLE_SENDFILE, 3000017, 1, "fa-sendfile", NULL);
	if (want("tcp4-exits"))
		scenario_tcp("tcp4-exits", false, STYLE_EXIT_EARLY, 777777, 0, "fa-exits", NULL);
	if (want("tcp4-hostile-name"))
		scenario_tcp("tcp4-hostile-name", false, STYLE_SEND_RECV, 4242, 24,
			     "fa\x1b[31m\"\\\n", "fa\\x1b[31m\"\\\\\\x0a");
	if (want("udp4"))
		scenario_udp("udp4", false, false, 1);
	if (want("udp6-peek"))
		scenario_udp("udp6-peek", true, true, 1);
	if (want("udp4-threads"))
		scenario_udp("udp4-threads", false, false, 4);
	if (want("concurrent"))
		scenario_concurrent("concurrent");
	/* long enough for exited processes' rows to be evicted from the kernel map */
	session_stop(s, 7);
	n = read_expectations(exp, MAX_EXP);
	check(n > 0, "traffic processes reported %d flows", n);
	compare_flows(s, exp, n);
	compare_processes(s, exp, n);
	free(s);
}

/*
 * A watched client process, created before flowacct starts so that its PID can be passed
 * with -p, makes `conns` TCP connections to a server process flowacct must ignore.
 * Returns the stopped session, with the expectations of the whole run in exp and n.
 */
static struct session *watched_session(const char *scen, int conns, long long size,
				       long long step, const char *max_flows, pid_t *watched,
				       struct expect *exp, int *n)
{
	const char *extra[6] = { "-p" };
	char pidarg[16];
	int go[2], port, lfd = listener(false, &port), k = 2;
	struct session *s;
	pid_t a;

	reset_expectations();
	if (pipe(go))
		die("pipe");
	a = spawn();
	if (!a) { /* waits until flowacct runs, then is a client */
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		for (int i = 0; i < conns; i++)
			tcp_client(scen, false, port, STYLE_SEND_RECV, size + i * step, "fa-watched",
				   NULL);
		_exit(0);
	}
	close(go[0]);
	snprintf(pidarg, sizeof(pidarg), "%d", a);
	extra[1] = pidarg;
	if (max_flows) {
		extra[k++] = "--max-flows";
		extra[k++] = max_flows;
	}
	extra[k] = NULL;
	s = session_start(extra);
	if (!spawn()) {
		for (int i = 0; i < conns; i++)
			tcp_server(scen, lfd, STYLE_SEND_RECV, 4444 + i, "fa-ignored");
		_exit(0);
	}
	close(lfd);
	if (write(go[1], "x", 1) != 1)
		die("write");
	close(go[1]);
	wait_all(2);
	session_stop(s, 2);
	*n = read_expectations(exp, MAX_EXP);
	*watched = a;
	return s;
}

/* --pid: a second process's traffic is excluded in the kernel; totals are only ours. */
static void run_pid_session(void)
{
	static struct expect exp[MAX_EXP];
	struct expect watched[1];
	int n, nw = 0;
	pid_t a;
	struct session *s = watched_session("pid-filter", 1, 333333, 0, NULL, &a, exp, &n);

	for (int i = 0; i < n; i++)
		if (exp[i].pid == a && nw < 1)
			watched[nw++] = exp[i];
	compare_flows(s, watched, nw);
	check(s->nobs == 1, "--pid %d: only the watched process's flow is reported (%d flows)", a,
	      s->nobs);
	long long rx = jint(json_object_get(s->last, "totals"), "rx_bytes_total");
	long long tx = jint(json_object_get(s->last, "totals"), "tx_bytes_total");

	check(nw == 1 && rx == watched[0].rx && tx == watched[0].tx,
	      "--pid: totals are the watched process's bytes only (rx %lld tx %lld)", rx, tx);
	json_decref(s->last);
	free(s);
}

/* --max-flows: flows that do not fit still count, in the process's overflow row. */
static void run_overflow_session(void)
{
	static struct expect exp[MAX_EXP];
	enum { CONNS = 10, FIT = 4 };
	long long rx = 0, tx = 0;
	int n;
	pid_t a;
	struct session *s = watched_session("overflow", CONNS, 10000, 1111, "4", &a, exp, &n);

	for (int i = 0; i < n; i++) {
		if (exp[i].pid != a)
			continue;
		rx += exp[i].rx;
		tx += exp[i].tx;
	}
	json_t *totals = json_object_get(s->last, "totals");
	json_t *drops = json_object_get(s->last, "drops");
	long long frx = 0, ftx = 0;

	check(jint(totals, "rx_bytes_total") == rx && jint(totals, "tx_bytes_total") == tx,
	      "--max-flows 4: totals stay exact (rx %lld tx %lld; flowacct rx %lld tx %lld)", rx,
	      tx, jint(totals, "rx_bytes_total"), jint(totals, "tx_bytes_total"));
	check(jint(drops, "flows_dropped") == CONNS - FIT,
	      "--max-flows 4: flows_dropped is %d (flowacct: %lld)", CONNS - FIT,
	      jint(drops, "flows_dropped"));
	check(s->noverflow == 1 && s->overflow[0].pid == a,
	      "--max-flows 4: one overflow row, for pid %d (flowacct: %d rows)", a, s->noverflow);
	for (int i = 0; i < s->nobs; i++) {
		frx += s->obs[i].rx_sum;
		ftx += s->obs[i].tx_sum;
	}
	check(s->nobs == FIT, "--max-flows 4: %d flows in the table (flowacct: %d)", FIT, s->nobs);
	check(frx + s->overflow[0].rx_sum == rx && ftx + s->overflow[0].tx_sum == tx,
	      "--max-flows 4: flows + overflow row = the process's bytes (rx %lld + %lld, tx %lld + "
	      "%lld)",
	      frx, s->overflow[0].rx_sum, ftx, s->overflow[0].tx_sum);
	json_decref(s->last);
	free(s);
}

/* -6 --udp: family and protocol filters apply in the kernel. */
static void run_filter_session(void)
{
	static struct expect exp[MAX_EXP];
	const char *extra[] = { "-6", "--udp", NULL };
	struct session *s;
	int n, ok = 0, bad = 0;

	reset_expectations();
	s = session_start(extra);
	scenario_tcp("filter", true, STYLE_SEND_RECV, 5000, 5, "fa-f-tcp6", NULL);
	scenario_udp("filter-udp4", false, false, 1);
	scenario_udp("filter-udp6", true, false, 1);
	session_stop(s, 2);
	n = read_expectations(exp, MAX_EXP);
	for (int i = 0; i < n; i++) {
		bool shown = obs_find(s, exp[i].pid, exp[i].proto, exp[i].laddr, exp[i].lport,
				      exp[i].raddr, exp[i].rport, false) != NULL;
		bool wanted = !strcmp(exp[i].proto, "udp") && strchr(exp[i].laddr, ':');

		if (shown != wanted)
			printf("  %s %s %s:%d -> %s:%d: %s but %s\n", exp[i].scenario, exp[i].proto,
			       exp[i].laddr, exp[i].lport, exp[i].raddr, exp[i].rport,
			       wanted ? "wanted" : "filtered out", shown ? "shown" : "not shown");
		shown == wanted ? ok++ : bad++;
	}
	check(n > 0 && bad == 0, "-6 --udp: only IPv6 UDP flows are reported (%d right, %d wrong)",
	      ok, bad);
	json_decref(s->last);
	free(s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flowacct", required_argument, NULL, 'f' },
		{ "backend", required_argument, NULL, 'b' },
		{ "interval", required_argument, NULL, 'i' },
		{ "summary", required_argument, NULL, 's' },
		{ "only", required_argument, NULL, 'o' },
		{},
	};
	char path[128];
	int c, f;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			g.flowacct = optarg;
			break;
		case 'b':
			g.backend = optarg;
			break;
		case 'i':
			g.interval = atof(optarg);
			break;
		case 's':
			g.summary = optarg;
			break;
		case 'o':
			g.only = optarg;
			break;
		default:
			fprintf(stderr, "usage: fa_exact --flowacct PATH [--backend NAME] "
					"[--interval S] [--summary FILE] [--only SCENARIO]\n");
			return 2;
		}
	}
	if (!g.flowacct || g.interval <= 0) {
		fprintf(stderr, "fa_exact: --flowacct PATH is required\n");
		return 2;
	}
	snprintf(g.tmpdir, sizeof(g.tmpdir), "/tmp/fa_exact.XXXXXX");
	if (!mkdtemp(g.tmpdir))
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/report", g.tmpdir);
	g.report_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_TRUNC, 0600);
	snprintf(path, sizeof(path), "%s/sendfile.dat", g.tmpdir);
	f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (g.report_fd < 0 || f < 0)
		die("temp files");
	fill(bigbuf, sizeof(bigbuf));
	for (int i = 0; i < 4; i++)
		if (write(f, bigbuf, sizeof(bigbuf)) != sizeof(bigbuf))
			die("write");
	close(f);
	signal(SIGPIPE, SIG_IGN);
	if (g.summary && !(summary = fopen(g.summary, "w")))
		die("open %s", g.summary);

	run_main_session();
	if (!g.only) {
		run_pid_session();
		run_overflow_session();
		run_filter_session();
	}
	if (summary)
		fclose(summary);
	printf("fa_exact: %d passed, %d failed (backend %s)\n", g.passed, g.failed, g.backend);
	return g.failed ? 1 : 0;
}
