// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Traffic with known ground truth, for the packet tests. Each mode ends by printing one
 * line of what the kernel or the sender itself counted:
 *
 *   tcp-server PORT REPLY_BYTES         accept one connection, read to EOF, send a reply
 *   tcp-client ADDR PORT BYTES          connect, send, shut down, read the reply to EOF
 *       -> tcp local=IP:PORT remote=IP:PORT [passive=1] segs_out=N segs_in=N (TCP_INFO,
 *          after both ends have closed, so the last ACKs are in)
 *   udp-recv PORT COUNT TIMEOUT_MS      -> udp received=N
 *   udp-send ADDR PORT COUNT SIZE [PACE] (PACE: pause 1 ms every PACE datagrams)
 *       -> udp local=IP:PORT remote=IP:PORT sent=N
 *
 * ADDR is IPv4 or IPv6; servers listen on both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* glibc's tcp_info lacks the segment counters */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "pktgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

static socklen_t gen_addr(const char *addr, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		return sizeof(*in4);
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return sizeof(*in6);
	}
	fprintf(stderr, "pktgen: bad address %s\n", addr);
	exit(2);
}

static void gen_fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)ss;

		inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(in4->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		/* an IPv4-mapped peer of a dual-stack listener is an IPv4 flow on the wire */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof(ip));
		snprintf(buf, len, IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) ? "%s:%u" : "[%s]:%u", ip,
			 ntohs(in6->sin6_port));
	}
}

/* "local=IP:PORT remote=IP:PORT", taken while connected: a closed socket has no peer. */
static void gen_ends(int fd, char *buf, size_t len)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);
	char ls[64], rs[64];

	if (getsockname(fd, (struct sockaddr *)&l, &ll) || getpeername(fd, (struct sockaddr *)&r, &rl))
		die("getsockname/getpeername");
	gen_fmt(&l, ls, sizeof(ls));
	gen_fmt(&r, rs, sizeof(rs));
	snprintf(buf, len, "local=%s remote=%s", ls, rs);
}

static int gen_listen(int type, int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(AF_INET6, type, 0), zero = 0, one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		die("bind");
	if (type == SOCK_STREAM && listen(fd, 1))
		die("listen");
	return fd;
}

/* Reads to EOF, then waits until the peer's last ACK has surely come and gone. */
static void tcp_finish(int fd, const char *ends)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	char buf[65536];
	ssize_t got;

	while ((got = read(fd, buf, sizeof(buf))) > 0)
		;
	if (got < 0)
		die("read");
	sleep_ms(500);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		die("TCP_INFO");
	printf("tcp %s segs_out=%u segs_in=%u\n", ends, ti.tcpi_segs_out, ti.tcpi_segs_in);
}

static void gen_write_all(int fd, size_t bytes)
{
	static char buf[65536];

	while (bytes) {
		size_t n = bytes < sizeof(buf) ? bytes : sizeof(buf);
		ssize_t put = write(fd, buf, n);

		if (put < 0)
			die("write");
		bytes -= put;
	}
}

static int tcp_server(int port, size_t reply)
{
	int lfd = gen_listen(SOCK_STREAM, port), fd;
	char buf[65536], ends[160];
	ssize_t got;

	printf("listening\n");
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	gen_ends(fd, ends, sizeof(ends));
	/* tcpi_segs_out leaves out the SYN-ACK (the listener sent it): the test adds it back */
	strncat(ends, " passive=1", sizeof(ends) - strlen(ends) - 1);
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		;
	gen_write_all(fd, reply);
	shutdown(fd, SHUT_WR);
	tcp_finish(fd, ends);
	close(fd);
	close(lfd);
	return 0;
}

static int tcp_client(const char *addr, int port, size_t bytes)
{
	struct sockaddr_storage ss;
	socklen_t len = gen_addr(addr, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	char ends[160];

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len))
		die("connect");
	gen_ends(fd, ends, sizeof(ends));
	gen_write_all(fd, bytes);
	shutdown(fd, SHUT_WR);
	tcp_finish(fd, ends);
	close(fd);
	return 0;
}

static int udp_recv(int port, long count, int timeout_ms)
{
	int fd = gen_listen(SOCK_DGRAM, port), rcvbuf = 8 << 20;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[65536];
	long got = 0;

	/* FORCE (root): not capped at net.core.rmem_max, which is 4 MiB on some machines and
	 * Linux's default 208 KiB on others, too little for a burst of 3000-byte datagrams
	 * on a slow machine */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	printf("listening\n");
	fflush(stdout);
	while (got < count && poll(&pfd, 1, timeout_ms) == 1)
		if (recv(fd, buf, sizeof(buf), 0) >= 0)
			got++;
	printf("udp received=%ld\n", got);
	close(fd);
	return 0;
}

static int udp_send(const char *addr, int port, long count, size_t size, long pace)
{
	struct sockaddr_storage ss;
	socklen_t len = gen_addr(addr, port, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	static char buf[65536];
	char ends[160];
	long sent = 0;

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len))
		die("connect");
	gen_ends(fd, ends, sizeof(ends));
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (long i = 0; i < count; i++) {
		if (send(fd, buf, size, 0) == (ssize_t)size)
			sent++;
		if (pace && (i + 1) % pace == 0)
			sleep_ms(1);
	}
	printf("udp %s sent=%ld\n", ends, sent);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "tcp-server"))
		return tcp_server(atoi(argv[2]), strtoul(argv[3], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "tcp-client"))
		return tcp_client(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "udp-recv"))
		return udp_recv(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "udp-send"))
		return udp_send(argv[2], atoi(argv[3]), atol(argv[4]), strtoul(argv[5], NULL, 0),
				argc == 7 ? atol(argv[6]) : 0);
	fprintf(stderr, "usage: pktgen tcp-server PORT REPLY_BYTES | tcp-client ADDR PORT BYTES |\n"
			"       udp-recv PORT COUNT TIMEOUT_MS | udp-send ADDR PORT COUNT SIZE [PACE]\n");
	return 2;
}
