// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's TCP counters against what this process's own send() and recv() calls
 * returned, on loopback connections it makes itself (no root): both ends, over IPv4, IPv6
 * and v4-mapped IPv6, through each state where fa_tcp_diag_app_bytes() answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "sockdiag.h"

enum kind { V4, V6, MAPPED };

struct pair {
	enum kind kind;
	int cfd, sfd; /* the connecting (active) end, the accepted (passive) end */
	__u16 cport, sport;
};

/* What one end's own calls returned, and the state it must be in */
struct want {
	__u64 read, written;
	__u8 state;
};

static socklen_t sockaddr_of(enum kind k, struct sockaddr_storage *ss, __u16 port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (k == V4) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(
		inet_pton(AF_INET6, k == V6 ? "::1" : "::ffff:127.0.0.1", &sin6->sin6_addr), 1);
	return sizeof(*sin6);
}

static __u16 port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void set_int(int fd, int level, int opt, int val)
{
	assert_int_equal(setsockopt(fd, level, opt, &val, sizeof(val)), 0);
}

/*
 * A connection over loopback. A small receive buffer on one end (before the handshake,
 * so the window scale follows it) and a small send buffer on the other make a sender
 * that soon has data it cannot send.
 */
static void pair_open(struct pair *p, enum kind k, int c_rcvbuf, int s_rcvbuf, int sndbuf)
{
	int family = k == V4 ? AF_INET : AF_INET6;
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd;

	p->kind = k;
	lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	if (k == V6)
		set_int(lfd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (s_rcvbuf)
		set_int(lfd, SOL_SOCKET, SO_RCVBUF, s_rcvbuf);
	if (sndbuf)
		set_int(lfd, SOL_SOCKET, SO_SNDBUF, sndbuf);
	len = sockaddr_of(k, &ss, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(lfd, 1), 0);

	p->cfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->cfd >= 0);
	if (c_rcvbuf)
		set_int(p->cfd, SOL_SOCKET, SO_RCVBUF, c_rcvbuf);
	if (sndbuf)
		set_int(p->cfd, SOL_SOCKET, SO_SNDBUF, sndbuf);
	len = sockaddr_of(k, &ss, port_of(lfd));
	assert_int_equal(connect(p->cfd, (struct sockaddr *)&ss, len), 0);
	p->sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(p->sfd >= 0);
	close(lfd);
	p->cport = port_of(p->cfd);
	p->sport = port_of(p->sfd);
}

static void pair_close(struct pair *p)
{
	close(p->cfd);
	close(p->sfd);
}

static void send_all(int fd, size_t n)
{
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	while (n) {
		ssize_t got = send(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);

		assert_true(got > 0);
		n -= got;
	}
}

static void recv_exact(int fd, size_t n)
{
	char buf[4096];

	while (n) {
		ssize_t got = recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), MSG_WAITALL);

		assert_true(got > 0);
		n -= got;
	}
}

static void recv_eof(int fd)
{
	char c;

	assert_int_equal(recv(fd, &c, 1, 0), 0);
}

/* Nonblocking sends until the queue stays full: the sum of what send() returned */
static __u64 fill(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	char buf[4096];
	__u64 total = 0;

	memset(buf, 'y', sizeof(buf));
	for (;;) {
		ssize_t got = send(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (got > 0) {
			total += got;
			continue;
		}
		assert_true(got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		/* full for now; stuck only if it stays full while loopback delivers */
		if (poll(&pfd, 1, 200) == 0)
			return total;
	}
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* The socket from lport to rport in a dump, or NULL */
static const struct fa_tcp_diag *find(const struct fa_tcp_diag *v, size_t n, __u16 lport,
				      __u16 rport)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].tuple.lport == lport && v[i].tuple.rport == rport)
			return &v[i];
	return NULL;
}

/* A dump entry, kept by value; found is false when the socket is not in the dump */
struct seen {
	bool found;
	struct fa_tcp_diag d;
};

static bool same(const struct seen *a, const struct seen *b)
{
	const struct fa_tcp_diag *x = &a->d, *y = &b->d;

	return a->found == b->found && x->state == y->state && x->rqueue == y->rqueue &&
	       x->wqueue == y->wqueue && x->notsent == y->notsent &&
	       x->bytes_acked == y->bytes_acked && x->bytes_received == y->bytes_received &&
	       x->bytes_sent == y->bytes_sent && x->bytes_retrans == y->bytes_retrans;
}

/*
 * Both ends of p once the kernel is done with them: ACKs on loopback are quick but can be
 * delayed (40 ms at least), so the counters must hold still for longer than that.
 */
static void settle(const struct pair *p, struct seen *c, struct seen *s)
{
	__u64 start = now_ms(), still = start;
	struct seen pc = { 0 }, ps = { 0 };

	for (;;) {
		struct fa_tcp_diag *v;
		const struct fa_tcp_diag *d;
		struct fa_err err = { 0 };
		size_t n;

		if (fa_sockdiag_tcp_dump(&v, &n, &err))
			fail_msg("fa_sockdiag_tcp_dump: %s", err.msg);
		d = find(v, n, p->cport, p->sport);
		c->found = d;
		if (d)
			c->d = *d;
		d = find(v, n, p->sport, p->cport);
		s->found = d;
		if (d)
			s->d = *d;
		free(v);
		if (!same(c, &pc) || !same(s, &ps))
			still = now_ms();
		else if (now_ms() - still >= 150 || now_ms() - start > 5000)
			return;
		pc = *c;
		ps = *s;
		usleep(10 * 1000);
	}
}

static void check_tuple(const struct pair *p, const struct fa_tcp_diag *d)
{
	static const __u8 v4[FA_ADDR_LEN] = { 127, 0, 0, 1 };
	static const __u8 v6[FA_ADDR_LEN] = { [15] = 1 };
	const __u8 *addr = p->kind == V6 ? v6 : v4;

	/* v4-mapped sockets come out as IPv4, as flowacct shows them */
	assert_int_equal(d->tuple.family, p->kind == V6 ? FA_FAMILY_IPV6 : FA_FAMILY_IPV4);
	assert_int_equal(d->tuple.proto, FA_PROTO_TCP);
	assert_memory_equal(d->tuple.laddr, addr, FA_ADDR_LEN);
	assert_memory_equal(d->tuple.raddr, addr, FA_ADDR_LEN);
	assert_int_not_equal(d->inode, 0);
	assert_int_equal(d->uid, getuid());
	assert_int_not_equal(d->cookie, 0);
}

static void check_end(const struct pair *p, const struct seen *e, const struct want *w,
		      const char *end)
{
	const struct fa_tcp_diag *d = &e->d;
	__u64 rd = ~0ull, wr = ~0ull;
	bool ok;

	if (!e->found)
		fail_msg("%s socket not in the dump", end);
	check_tuple(p, d);
	ok = fa_tcp_diag_app_bytes(d, &rd, &wr);
	if (d->state != w->state || !ok || rd != w->read || wr != w->written)
		fail_msg("%s: state %u (want %u) app_bytes %d read %llu (want %llu) written %llu "
			 "(want %llu); kernel: rqueue %u wqueue %u notsent %u bytes_received %llu "
			 "bytes_acked %llu bytes_sent %llu bytes_retrans %llu",
			 end, d->state, w->state, ok, rd, (unsigned long long)w->read, wr,
			 (unsigned long long)w->written, d->rqueue, d->wqueue, d->notsent,
			 (unsigned long long)d->bytes_received, (unsigned long long)d->bytes_acked,
			 (unsigned long long)d->bytes_sent, (unsigned long long)d->bytes_retrans);
}

static void expect(const struct pair *p, struct want c, struct want s)
{
	struct seen sc, ss;

	settle(p, &sc, &ss);
	check_end(p, &sc, &c, "client");
	check_end(p, &ss, &s, "server");
}

static enum kind kind_of(void **state)
{
	return *(const enum kind *)*state;
}

static void test_zero_bytes(void **state)
{
	struct pair p;

	pair_open(&p, kind_of(state), 0, 0, 0);
	expect(&p, (struct want){ 0, 0, FA_TCP_ESTABLISHED },
	       (struct want){ 0, 0, FA_TCP_ESTABLISHED });
	pair_close(&p);
}

static void test_idle_all_read(void **state)
{
	struct pair p;

	pair_open(&p, kind_of(state), 0, 0, 0);
	send_all(p.cfd, 100000);
	recv_exact(p.sfd, 100000);
	send_all(p.sfd, 300);
	recv_exact(p.cfd, 300);
	expect(&p, (struct want){ 300, 100000, FA_TCP_ESTABLISHED },
	       (struct want){ 100000, 300, FA_TCP_ESTABLISHED });
	pair_close(&p);
}

static void test_unread(void **state)
{
	struct seen c, s;
	struct pair p;

	pair_open(&p, kind_of(state), 0, 0, 0);
	send_all(p.cfd, 5000);
	recv_exact(p.sfd, 1200);
	send_all(p.sfd, 777);
	expect(&p, (struct want){ 0, 5000, FA_TCP_ESTABLISHED },
	       (struct want){ 1200, 777, FA_TCP_ESTABLISHED });
	settle(&p, &c, &s);
	assert_int_equal(c.d.rqueue, 777);
	assert_int_equal(s.d.rqueue, 3800);
	pair_close(&p);
}

/* The server does not read and has a small buffer: the client's queue fills and stays */
static void test_send_queue_stuck(void **state)
{
	struct seen c, s;
	struct pair p;
	__u64 sent;

	pair_open(&p, kind_of(state), 0, 4096, 16384);
	send_all(p.sfd, 10);
	sent = fill(p.cfd);
	recv_exact(p.sfd, 1000);
	recv_exact(p.cfd, 4);
	expect(&p, (struct want){ 4, sent, FA_TCP_ESTABLISHED },
	       (struct want){ 1000, 10, FA_TCP_ESTABLISHED });
	settle(&p, &c, &s);
	assert_true(c.d.wqueue > 0);
	assert_true(c.d.notsent > 0);
	pair_close(&p);
}

/*
 * The client's FIN: FIN_WAIT2 / CLOSE_WAIT, the FIN unread (it came after the data was
 * read, on its own), then read, then more data the other way.
 */
static void test_shut_wr(void **state)
{
	struct seen c, s;
	struct pair p;

	pair_open(&p, kind_of(state), 0, 0, 0);
	send_all(p.cfd, 1000);
	recv_exact(p.sfd, 1000);
	assert_int_equal(shutdown(p.cfd, SHUT_WR), 0);
	expect(&p, (struct want){ 0, 1000, FA_TCP_FIN_WAIT2 },
	       (struct want){ 1000, 0, FA_TCP_CLOSE_WAIT });
	settle(&p, &c, &s);
	assert_int_equal(s.d.rqueue, 1); /* the FIN */

	recv_eof(p.sfd);
	expect(&p, (struct want){ 0, 1000, FA_TCP_FIN_WAIT2 },
	       (struct want){ 1000, 0, FA_TCP_CLOSE_WAIT });
	settle(&p, &c, &s);
	assert_int_equal(s.d.rqueue, 0);

	send_all(p.sfd, 200);
	recv_exact(p.cfd, 200);
	expect(&p, (struct want){ 200, 1000, FA_TCP_FIN_WAIT2 },
	       (struct want){ 1000, 200, FA_TCP_CLOSE_WAIT });
	pair_close(&p);
}

/*
 * The FIN right behind the data, likely in the same segment: a recv() that empties that
 * segment also reads the FIN, though it returns data, not 0. Either way, 1000 read.
 */
static void test_fin_with_data(void **state)
{
	struct pair p;

	pair_open(&p, kind_of(state), 0, 0, 0);
	send_all(p.cfd, 1000);
	assert_int_equal(shutdown(p.cfd, SHUT_WR), 0);
	recv_exact(p.sfd, 1000);
	expect(&p, (struct want){ 0, 1000, FA_TCP_FIN_WAIT2 },
	       (struct want){ 1000, 0, FA_TCP_CLOSE_WAIT });
	recv_eof(p.sfd);
	expect(&p, (struct want){ 0, 1000, FA_TCP_FIN_WAIT2 },
	       (struct want){ 1000, 0, FA_TCP_CLOSE_WAIT });
	pair_close(&p);
}

/*
 * Both FINs sent and acknowledged, before close(): the first to close waits in TIME_WAIT
 * (a socket without counters), the other is CLOSE and gone from the tables. No answer.
 */
static void test_both_shut(void **state)
{
	struct seen c, s;
	struct pair p;
	__u64 rd, wr;

	pair_open(&p, kind_of(state), 0, 0, 0);
	send_all(p.cfd, 1000);
	recv_exact(p.sfd, 1000);
	assert_int_equal(shutdown(p.cfd, SHUT_WR), 0);
	recv_eof(p.sfd);
	assert_int_equal(shutdown(p.sfd, SHUT_WR), 0);
	recv_eof(p.cfd);
	settle(&p, &c, &s);
	assert_true(c.found);
	assert_int_equal(c.d.state, FA_TCP_TIME_WAIT);
	assert_false(c.d.have_bytes);
	assert_false(fa_tcp_diag_app_bytes(&c.d, &rd, &wr));
	assert_true(!s.found || !fa_tcp_diag_app_bytes(&s.d, &rd, &wr));
	pair_close(&p);
}

/*
 * Both ends shut down while the client still has data the server will not take: the
 * server's FIN is acknowledged (FIN_WAIT2), the client's waits behind its data (LAST_ACK).
 */
static void test_last_ack(void **state)
{
	struct pair p;
	__u64 sent;

	pair_open(&p, kind_of(state), 0, 4096, 16384);
	send_all(p.sfd, 600);
	sent = fill(p.cfd);
	recv_exact(p.sfd, 1000);
	assert_int_equal(shutdown(p.sfd, SHUT_WR), 0);
	recv_exact(p.cfd, 600);
	recv_eof(p.cfd);
	assert_int_equal(shutdown(p.cfd, SHUT_WR), 0);
	expect(&p, (struct want){ 600, sent, FA_TCP_LAST_ACK },
	       (struct want){ 1000, 600, FA_TCP_FIN_WAIT2 });
	pair_close(&p);
}

/*
 * The accepted end is the stuck sender and shuts down first, its FIN queued unsent; the
 * client's FIN then meets it in FIN_WAIT1: CLOSING, with that FIN unread.
 */
static void test_closing(void **state)
{
	struct seen c, s;
	struct pair p;
	__u64 sent;

	pair_open(&p, kind_of(state), 4096, 0, 16384);
	sent = fill(p.sfd);
	assert_int_equal(shutdown(p.sfd, SHUT_WR), 0);
	send_all(p.cfd, 500);
	recv_exact(p.sfd, 500);
	assert_int_equal(shutdown(p.cfd, SHUT_WR), 0);
	recv_exact(p.cfd, 1000);
	expect(&p, (struct want){ 1000, 500, FA_TCP_FIN_WAIT2 },
	       (struct want){ 500, sent, FA_TCP_CLOSING });
	settle(&p, &c, &s);
	assert_int_equal(s.d.rqueue, 1); /* the client's FIN */
	assert_true(s.d.notsent > 0); /* the server's own FIN among it */
	pair_close(&p);
}

/* Where the counters are missing, short, or cannot be trusted: no answer */
static void test_no_answer(void **state)
{
	static const __u8 states[] = { FA_TCP_SYN_SENT, FA_TCP_SYN_RECV, FA_TCP_TIME_WAIT,
				       FA_TCP_CLOSE, FA_TCP_LISTEN };
	const struct fa_tcp_diag ok = {
		.state = FA_TCP_ESTABLISHED,
		.have_bytes = true,
		.have_bytes_sent = true,
		.bytes_acked = 101,
		.bytes_sent = 100,
		.bytes_received = 50,
	};
	struct fa_tcp_diag d;
	__u64 rd, wr;

	(void)state;
	assert_true(fa_tcp_diag_app_bytes(&ok, &rd, &wr));
	assert_int_equal(rd, 50);
	assert_int_equal(wr, 100);
	for (size_t i = 0; i < sizeof(states); i++) {
		d = ok;
		d.state = states[i];
		assert_false(fa_tcp_diag_app_bytes(&d, &rd, &wr));
	}
	d = ok;
	d.have_bytes = false; /* a tcp_info too short for bytes_received */
	assert_false(fa_tcp_diag_app_bytes(&d, &rd, &wr));
	d = ok;
	d.have_bytes_sent = false; /* before 4.19: nothing says whether the SYN counts */
	assert_false(fa_tcp_diag_app_bytes(&d, &rd, &wr));
	d = ok;
	d.ulp = true;
	assert_false(fa_tcp_diag_app_bytes(&d, &rd, &wr));
	d = ok;
	d.bytes_acked = 102; /* the two send-side accounts differ by more than the SYN */
	assert_false(fa_tcp_diag_app_bytes(&d, &rd, &wr));
	d = ok;
	d.bytes_acked = 99;
	assert_false(fa_tcp_diag_app_bytes(&d, &rd, &wr));
	d = ok;
	d.rqueue = 51;
	assert_false(fa_tcp_diag_app_bytes(&d, &rd, &wr));
}

static const enum kind kinds[] = { V4, V6, MAPPED };

/* Each case over the three kinds of connection, one line per case */
/* clang-format off */
#define EACH_KIND(f)                                                                       \
	{ #f " v4", f, NULL, NULL, (void *)&kinds[V4] },                                   \
	{ #f " v6", f, NULL, NULL, (void *)&kinds[V6] },                                   \
	{ #f " v4-mapped", f, NULL, NULL, (void *)&kinds[MAPPED] }

int main(void)
{
	const struct CMUnitTest tests[] = {
		EACH_KIND(test_zero_bytes),
		EACH_KIND(test_idle_all_read),
		EACH_KIND(test_unread),
		EACH_KIND(test_send_queue_stuck),
		EACH_KIND(test_shut_wr),
		EACH_KIND(test_fin_with_data),
		EACH_KIND(test_both_shut),
		EACH_KIND(test_last_ack),
		EACH_KIND(test_closing),
		cmocka_unit_test(test_no_answer),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
