// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "sockdiag.h"

#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/* Above the 32 KiB the kernel sizes a dump message to at most, so none is truncated */
#define RECV_BUF (64 * 1024)

/* LISTEN says nothing about bytes; TCP_BOUND_INACTIVE (bit 13, 6.6+) is not a flow */
#define STATES (((1u << 13) - 1) & ~(1u << FA_TCP_LISTEN))

struct diag_vec {
	struct fa_tcp_diag *v;
	size_t n, cap;
};

static int vec_push(struct diag_vec *vec, const struct fa_tcp_diag *d)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 64;
		struct fa_tcp_diag *v = realloc(vec->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	vec->v[vec->n++] = *d;
	return 0;
}

static void parse_info(struct fa_tcp_diag *d, const void *data, size_t len)
{
	/* A kernel's tcp_info ends where that kernel's did: what it did not send stays 0 */
	struct tcp_info ti = { 0 };

	memcpy(&ti, data, len < sizeof(ti) ? len : sizeof(ti));
	d->have_bytes = len >= offsetofend(struct tcp_info, tcpi_bytes_received);
	d->have_bytes_sent = len >= offsetofend(struct tcp_info, tcpi_bytes_retrans);
	if (d->have_bytes) {
		d->bytes_acked = ti.tcpi_bytes_acked;
		d->bytes_received = ti.tcpi_bytes_received;
	}
	if (d->have_bytes_sent) {
		d->notsent = ti.tcpi_notsent_bytes;
		d->bytes_sent = ti.tcpi_bytes_sent;
		d->bytes_retrans = ti.tcpi_bytes_retrans;
	}
}

static int parse_msg(const struct nlmsghdr *h, struct fa_tcp_diag *d)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EPROTO;
	memset(d, 0, sizeof(*d));
	d->tuple.proto = FA_PROTO_TCP;
	d->tuple.family = m->idiag_family;
	memcpy(d->tuple.laddr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : FA_ADDR_LEN);
	memcpy(d->tuple.raddr, m->id.idiag_dst, m->idiag_family == AF_INET ? 4 : FA_ADDR_LEN);
	d->tuple.lport = ntohs(m->id.idiag_sport);
	d->tuple.rport = ntohs(m->id.idiag_dport);
	fa_tuple_normalize(&d->tuple);
	d->cookie = m->id.idiag_cookie[0] | (__u64)m->id.idiag_cookie[1] << 32;
	d->inode = m->idiag_inode;
	d->uid = m->idiag_uid;
	d->state = m->idiag_state;
	d->rqueue = m->idiag_rqueue;
	d->wqueue = m->idiag_wqueue;

	len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	for (a = (const void *)((const char *)m + NLMSG_ALIGN(sizeof(*m))); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		switch (a->rta_type & NLA_TYPE_MASK) {
		case INET_DIAG_INFO:
			parse_info(d, RTA_DATA(a), RTA_PAYLOAD(a));
			break;
		case INET_DIAG_ULP_INFO:
			d->ulp = true;
			break;
		}
	}
	return 0;
}

/* Reads the replies to request seq until NLMSG_DONE: 1 when done, 0 for more, or -errno */
static int recv_batch(int fd, __u32 seq, char *buf, struct diag_vec *vec)
{
	struct iovec iov = { .iov_base = buf, .iov_len = RECV_BUF };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	const struct nlmsghdr *h;
	struct fa_tcp_diag d;
	ssize_t len;
	int ret;

	do
		len = recvmsg(fd, &msg, 0);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	for (h = (const void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != seq)
			continue;
		switch (h->nlmsg_type) {
		case NLMSG_DONE:
			/* a dump that failed part way says so here */
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) && *(int *)NLMSG_DATA(h) < 0)
				return *(int *)NLMSG_DATA(h);
			return 1;
		case NLMSG_ERROR:
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EPROTO;
			ret = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (ret)
				return ret;
			break;
		case SOCK_DIAG_BY_FAMILY:
			ret = parse_msg(h, &d);
			if (!ret && d.state != FA_TCP_LISTEN)
				ret = vec_push(vec, &d);
			if (ret)
				return ret;
			break;
		}
	}
	return 0;
}

static int dump_family(int fd, __u8 family, char *buf, struct diag_vec *vec)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} rq = {
		.nlh = {
			.nlmsg_len = sizeof(rq),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = family, /* one dump per family on a fresh socket */
		},
		.req = {
			.sdiag_family = family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_ext = 1 << (INET_DIAG_INFO - 1),
			.idiag_states = STATES,
		},
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t sent;
	int ret;

	do
		sent = sendto(fd, &rq, sizeof(rq), 0, (struct sockaddr *)&kernel, sizeof(kernel));
	while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return -errno;
	do
		ret = recv_batch(fd, rq.nlh.nlmsg_seq, buf, vec);
	while (!ret);
	return ret < 0 ? ret : 0;
}

int fa_sockdiag_tcp_dump(struct fa_tcp_diag **out, size_t *n, struct fa_err *err)
{
	static const __u8 families[] = { AF_INET, AF_INET6 };
	struct diag_vec vec = { 0 };
	int fd, ret = 0;
	char *buf;
	size_t i;

	*out = NULL;
	*n = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		ret = -errno;
		return fa_err_set(err, ret, "NETLINK_SOCK_DIAG socket: %s", strerror(-ret));
	}
	buf = malloc(RECV_BUF);
	if (!buf) {
		close(fd);
		return fa_err_set(err, -ENOMEM, "sock_diag: out of memory");
	}
	for (i = 0; i < sizeof(families); i++) {
		ret = dump_family(fd, families[i], buf, &vec);
		/* a kernel built without IPv6 has no sock_diag handler for it, nor IPv6 sockets */
		if (ret == -ENOENT && families[i] == AF_INET6)
			ret = 0;
		if (ret) {
			fa_err_set(err, ret, "sock_diag dump of %s TCP sockets: %s",
				   families[i] == AF_INET ? "IPv4" : "IPv6", strerror(-ret));
			break;
		}
	}
	free(buf);
	close(fd);
	if (ret) {
		free(vec.v);
		return ret;
	}
	*out = vec.v;
	*n = vec.n;
	return 0;
}

/*
 * The kernel counts sequence space, the application counts bytes; between them stand the
 * SYN and the FIN, each one sequence number (net/ipv4/tcp_input.c, tcp_output.c):
 *
 * Received: tcpi_bytes_received grows with rcv_nxt (tcp_rcv_nxt_update), so it leaves out
 * the peer's SYN (rcv_nxt starts past it) and takes in the peer's FIN. rqueue is
 * rcv_nxt - copied_seq, and recv() moves copied_seq past the FIN only when it reaches it
 * (tcp_recvmsg, found_fin_ok): while the FIN is unread rqueue counts it too, and once read,
 * rqueue is 0. The FIN is last in sequence, so a received FIN is unread iff rqueue > 0:
 *	read = bytes_received - max(rqueue, FIN received)
 *
 * Written: tcpi_bytes_acked grows with snd_una (tcp_snd_una_update), wqueue is
 * write_seq - snd_una, so their sum is write_seq less where snd_una started. An actively
 * opened socket starts at its ISN and counts its SYN when the SYN-ACK acknowledges it; an
 * accepted one starts past its SYN-ACK (tcp_create_openreq_child). tcp_send_fin() puts
 * the FIN in write_seq, and bytes_acked takes it in once acknowledged:
 *	written = bytes_acked + wqueue - SYN counted - FIN queued
 * sock_diag does not say how a socket was opened, so the second account settles it: every
 * byte ever sent is in bytes_sent once more per retransmission (bytes_retrans), and what is
 * queued but not sent is notsent (write_seq - snd_nxt, the FIN included while unsent):
 *	written = bytes_sent - bytes_retrans + notsent - FIN queued and unsent
 * The two must differ by the SYN alone, 0 or 1; anything else (a transmission the qdisc
 * dropped counts twice in bytes_sent, or an ACK landed between the kernel's unlocked read
 * of wqueue and its locked read of tcp_info) is a socket we cannot vouch for.
 */
bool fa_tcp_diag_app_bytes(const struct fa_tcp_diag *d, __u64 *read, __u64 *written)
{
	bool fin_in, fin_out;
	__u64 by_ack, by_send, syn;
	__u32 unread;

	if (!d->have_bytes || !d->have_bytes_sent || d->ulp)
		return false;
	switch (d->state) {
	case FA_TCP_ESTABLISHED:
		fin_in = fin_out = false;
		break;
	case FA_TCP_FIN_WAIT1:
	case FA_TCP_FIN_WAIT2:
		fin_in = false;
		fin_out = true;
		break;
	case FA_TCP_CLOSE_WAIT:
		fin_in = true;
		fin_out = false;
		break;
	case FA_TCP_CLOSING:
	case FA_TCP_LAST_ACK:
		fin_in = fin_out = true;
		break;
	default:
		/* the handshake is not over, or CLOSE: reset, or both FINs are done and the
		 * socket is out of the tables (time-wait sockets carry no counters) */
		return false;
	}

	unread = d->rqueue ? d->rqueue : fin_in;
	by_ack = d->bytes_acked + d->wqueue;
	if (d->bytes_received < unread || by_ack < fin_out || d->bytes_sent < d->bytes_retrans)
		return false;
	by_ack -= fin_out;
	by_send = d->bytes_sent - d->bytes_retrans + d->notsent - (fin_out && d->notsent);
	if (by_send > by_ack)
		return false;
	syn = by_ack - by_send;
	if (syn > 1)
		return false;
	*read = d->bytes_received - unread;
	*written = by_ack - syn;
	return true;
}
