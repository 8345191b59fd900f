// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --prometheus [ADDR:]PORT: /metrics over HTTP, served by libmicrohttpd's own thread.
 * The collector renders the whole page each interval and swaps it in; a scrape only
 * takes a reference to the current page. Neither ever waits for the other beyond a
 * pointer swap under a mutex, so a slow or stuck client cannot delay an interval.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "log.h"
#include "output.h"

#ifdef FA_NO_HTTP

int fa_prom_open(const char *listen, const struct fa_prom_opts *opts, struct fa_output **out,
		 struct fa_err *err)
{
	(void)listen;
	(void)opts;
	*out = NULL;
	return fa_err_set(err, -EOPNOTSUPP,
			  "this static build has no Prometheus endpoint "
			  "(libmicrohttpd is not linked); use the dynamically linked flowacct");
}

#else /* !FA_NO_HTTP */

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include "prom_render.h"
#include "util.h"

#define PROM_CONTENT_TYPE	  "text/plain; version=0.0.4; charset=utf-8"
/* Scrapers are few; the limits only keep a misbehaving client from piling up sockets. */
#define PROM_MAX_CONNECTIONS	  32U
#define PROM_CONNECTION_TIMEOUT_S 10U

/* One rendered page, shared by the responses still sending it. */
struct prom_page {
	atomic_uint refs;
	size_t len;
	char *text;
	/*
	 * Compressed on the first scrape that accepts gzip (Prometheus always does), by the
	 * server thread, the only one that touches these: a --prometheus-flows page is
	 * megabytes of repetitive text, and a page nobody scrapes costs nothing.
	 */
	bool gz_tried;
	size_t gz_len;
	unsigned char *gz; /* NULL: not compressed (yet, or it failed) */
};

struct prom_output {
	struct fa_output base;
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock; /* guards page and start_err; nothing slow happens under it */
	struct prom_page *page; /* NULL until the first interval */
	struct fa_prom_state *state; /* the collector's thread only */
	struct fa_prom_opts opts;
	/* where libmicrohttpd's messages go while starting; afterwards they are dropped */
	char *start_err;
	size_t start_errlen;
};

static void page_put(void *cls)
{
	struct prom_page *page = cls;

	if (page && atomic_fetch_sub(&page->refs, 1) == 1) {
		free(page->text);
		free(page->gz);
		free(page);
	}
}

static void page_gzip(struct prom_page *page)
{
	z_stream zs = {};
	uLong bound;

	page->gz_tried = true;
	/* 15 + 16: the gzip wrapper HTTP's Content-Encoding names; level 1: text compresses
	 * well at any level, and the server thread should not linger */
	if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return;
	bound = deflateBound(&zs, page->len);
	page->gz = malloc(bound);
	if (page->gz) {
		zs.next_in = (Bytef *)page->text;
		zs.avail_in = page->len;
		zs.next_out = page->gz;
		zs.avail_out = bound;
		if (deflate(&zs, Z_FINISH) == Z_STREAM_END) {
			page->gz_len = zs.total_out;
		} else {
			free(page->gz);
			page->gz = NULL;
		}
	}
	deflateEnd(&zs);
}

/* Does an Accept-Encoding value allow gzip? "gzip", "gzip;q=0.5", but not "gzip;q=0". */
static bool accepts_gzip(const char *ae)
{
	while (ae && *ae) {
		const char *end = ae + strcspn(ae, ","), *q;

		ae += strspn(ae, " \t");
		if (!strncasecmp(ae, "gzip", 4) && strchr(" \t;,", ae[4] ?: ',')) {
			q = memchr(ae, '=', end - ae);
			return !q || strtod(q + 1, NULL) > 0;
		}
		ae = *end ? end + 1 : NULL;
	}
	return false;
}

static struct prom_page *page_get(struct prom_output *p)
{
	struct prom_page *page;

	pthread_mutex_lock(&p->lock);
	page = p->page;
	if (page)
		atomic_fetch_add(&page->refs, 1);
	pthread_mutex_unlock(&p->lock);
	return page;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned int status,
				    const char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result prom_handle(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	struct prom_output *p = cls;
	struct MHD_Response *resp;
	struct prom_page *page;
	enum MHD_Result ret;
	bool gzip;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return respond_text(conn, MHD_HTTP_NOT_FOUND, "metrics are at /metrics\n");
	page = page_get(p);
	if (!page)
		return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "no interval has ended yet\n");
	gzip = accepts_gzip(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_ACCEPT_ENCODING));
	if (gzip && !page->gz_tried)
		page_gzip(page);
	gzip = gzip && page->gz;
	/* the response keeps the page alive while it is sent; no copy */
	resp = MHD_create_response_from_buffer_with_free_callback_cls(
		gzip ? page->gz_len : page->len, gzip ? (void *)page->gz : page->text, page_put,
		page);
	if (!resp) {
		page_put(page);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (gzip)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int prom_emit(struct fa_output *out, const struct fa_snapshot *snap)
{
	struct prom_output *p = (struct prom_output *)out;
	struct prom_page *page = calloc(1, sizeof(*page)), *old;

	if (!page)
		return -ENOMEM;
	page->text = fa_prom_render(p->state, snap, &p->opts, &page->len);
	if (!page->text) {
		free(page);
		return -ENOMEM;
	}
	atomic_init(&page->refs, 1);
	pthread_mutex_lock(&p->lock);
	old = p->page;
	p->page = page;
	pthread_mutex_unlock(&p->lock);
	page_put(old);
	return 0;
}

static void prom_close(struct fa_output *out)
{
	struct prom_output *p = (struct prom_output *)out;

	if (!p)
		return;
	/* stops the server thread; responses still queued release their pages first */
	if (p->mhd)
		MHD_stop_daemon(p->mhd);
	page_put(p->page);
	fa_prom_state_free(p->state);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void prom_log(void *cls, const char *fmt, va_list ap)
{
	struct prom_output *p = cls;
	size_t used;

	pthread_mutex_lock(&p->lock);
	/* after start, stderr may belong to the interactive view: say nothing */
	if (!p->start_err || !p->start_errlen)
		goto out;
	used = strlen(p->start_err);
	if (used + 3 >= p->start_errlen)
		goto out;
	if (used) {
		strcpy(p->start_err + used, "; ");
		used += 2;
	}
	vsnprintf(p->start_err + used, p->start_errlen - used, fmt, ap);
	/* libmicrohttpd ends its messages with a newline; a one-line error wants none */
	for (char *c = p->start_err + used; *c; c++)
		if (*c == '\n')
			*c = *(c + 1) ? ' ' : '\0';
out:
	pthread_mutex_unlock(&p->lock);
}

struct mhd_start {
	struct prom_output *p;
	unsigned int flags;
	__u16 port;
	struct sockaddr_storage *ss;
};

static int mhd_start(void *arg)
{
	struct mhd_start *m = arg;
	struct prom_output *p = m->p;

	/* the logger first: options before it would log their errors to stderr */
	/* clang-format off */
	p->mhd = MHD_start_daemon(m->flags, m->port, NULL, NULL, prom_handle, p,
				  MHD_OPTION_EXTERNAL_LOGGER, prom_log, p,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)m->ss,
				  MHD_OPTION_CONNECTION_LIMIT, PROM_MAX_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, PROM_CONNECTION_TIMEOUT_S,
				  MHD_OPTION_END);
	/* clang-format on */
	return p->mhd ? 0 : -EINVAL;
}

static struct fa_output *prom_open(const char *listen, const struct fa_prom_opts *opts, char *err,
				   size_t errlen)
{
	struct prom_output *p = calloc(1, sizeof(*p));
	struct sockaddr_storage ss;
	unsigned int mhd_flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	__u16 port;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->base.name = "prometheus";
	p->base.emit = prom_emit;
	p->base.close = prom_close;
	p->opts = *opts;
	pthread_mutex_init(&p->lock, NULL);
	p->state = fa_prom_state_new();
	if (!p->state) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (fa_listen_parse(listen, &ss, err, errlen))
		goto fail;
	if (ss.ss_family == AF_INET6) {
		mhd_flags |= MHD_USE_IPv6;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}

	if (errlen)
		err[0] = '\0';
	p->start_err = err;
	p->start_errlen = errlen;
	/* its thread never takes SIGINT or SIGTERM: those are the main loop's */
	fa_with_signals_blocked(
		mhd_start,
		&(struct mhd_start){ .p = p, .flags = mhd_flags, .port = port, .ss = &ss });
	pthread_mutex_lock(&p->lock);
	p->start_err = NULL;
	pthread_mutex_unlock(&p->lock);
	if (!p->mhd) {
		if (errlen && !err[0])
			snprintf(err, errlen, "could not start the HTTP server");
		goto fail;
	}
	return &p->base;
fail:
	prom_close(&p->base);
	return NULL;
}

int fa_prom_open(const char *listen, const struct fa_prom_opts *opts, struct fa_output **out,
		 struct fa_err *err)
{
	*out = prom_open(listen, opts, err->msg, sizeof(err->msg));
	return *out ? 0 : -EINVAL;
}

#endif /* FA_NO_HTTP */
