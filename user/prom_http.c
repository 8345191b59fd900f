// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --prometheus [ADDR:]PORT: /metrics over HTTP, served by libmicrohttpd's own thread.
 * The collector renders the whole page each interval and swaps it in; a scrape only
 * takes a reference to the current page. Neither ever waits for the other beyond a
 * pointer swap under a mutex, so a slow or stuck client cannot delay an interval.
 *
 * --web-config adds TLS (libmicrohttpd's own, over GnuTLS), client certificates, basic
 * auth and a rate limit. A bcrypt check costs tens of milliseconds, so it never runs on
 * the server thread: the connection is suspended while a thread of its own checks, and
 * resumed with the verdict; a password that passed is remembered (as a keyed digest),
 * so only the first scrape of each user, and wrong passwords, cost a bcrypt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "log.h"
#include "output.h"

#ifdef FA_NO_HTTP

int fa_prom_web_check(const struct fa_webconfig *web, struct fa_err *err)
{
	(void)web;
	(void)err;
	return 0; /* there is no endpoint to configure: --prometheus says so */
}

int fa_prom_open(const char *listen, const struct fa_prom_opts *opts,
		 const struct fa_webconfig *web, struct fa_output **out, struct fa_err *err)
{
	(void)listen;
	(void)opts;
	(void)web;
	*out = NULL;
	return fa_err_set(err, -EOPNOTSUPP,
			  "this static build has no Prometheus endpoint "
			  "(libmicrohttpd is not linked); use the dynamically linked flowacct");
}

#else /* !FA_NO_HTTP */

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include "prom_render.h"
#include "util.h"
#include "webconfig.h"

#define PROM_CONTENT_TYPE	  "text/plain; version=0.0.4; charset=utf-8"
/* Scrapers are few; the limits only keep a misbehaving client from piling up sockets or
 * memory: one address holds at most half of them, and a request's line and headers must
 * fit in a connection's memory (beyond: 431) */
#define PROM_MAX_CONNECTIONS	  32U
#define PROM_MAX_PER_IP		  16U
#define PROM_MEMORY_LIMIT	  (16U * 1024)
#define PROM_CONNECTION_TIMEOUT_S 10U
#define PROM_REALM		  "flowacct"
/* the salt and hash of the check an unknown user name gets, behind the first user's
 * "$2y$NN$": as slow as a known name's, so response times do not tell names apart */
#define PROM_UNKNOWN_USER_TAIL	  "abcdefghijklmnopqrstuu..............................."

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

/* basic_auth_users, and what passed */
struct auth_user {
	char *name, *hash;
	bool known; /* digest holds the last password that passed */
	unsigned char digest[32]; /* HMAC-SHA256 of it, under prom_auth.key */
};

/* One request's bcrypt check, made by the auth thread while its connection is suspended */
struct auth_job {
	struct auth_job *next;
	struct MHD_Connection *conn;
	const char *hash;
	char *password; /* wiped when freed */
	int user; /* its index, -1: no such user */
	bool done, ok; /* written by the auth thread before it resumes the connection */
};

struct prom_auth {
	struct auth_user *users; /* the server thread's alone */
	size_t nusers;
	char unknown_hash[61];
	unsigned char key[32]; /* random, for the digests of passwords that passed */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards the queue and stop */
	pthread_cond_t wake;
	struct auth_job *head, **tail;
	bool stop; /* no more jobs: each queued one is resumed, refused */
};

/* rate_limit: a token bucket, on the server thread only */
struct prom_rate {
	double interval_s, tokens, last;
	unsigned burst;
};

struct prom_output {
	struct fa_output base;
	struct MHD_Daemon *mhd;
	struct prom_auth *auth; /* NULL: no basic auth */
	struct prom_rate rate;
	enum fa_client_auth client_auth;
	char *headers[FA_WEB_HEADER_MAX]; /* http_server_config.headers */
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

/* Queues resp with status (401 with the WWW-Authenticate challenge), and the configured
 * headers; resp is released. */
static enum MHD_Result respond(struct prom_output *p, struct MHD_Connection *conn,
			       unsigned int status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	for (int i = 0; i < FA_WEB_HEADER_MAX; i++)
		if (p->headers[i])
			MHD_add_response_header(resp, fa_web_header_names[i], p->headers[i]);
	if (status == MHD_HTTP_UNAUTHORIZED)
		ret = MHD_queue_basic_auth_fail_response(conn, PROM_REALM, resp);
	else
		ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result respond_text(struct prom_output *p, struct MHD_Connection *conn,
				    unsigned int status, const char *text)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE || status == MHD_HTTP_TOO_MANY_REQUESTS)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return respond(p, conn, status, resp);
}

static bool rate_allow(struct prom_rate *r)
{
	double now;

	if (r->interval_s <= 0)
		return true;
	now = fa_mono_now();
	r->tokens += (now - r->last) / r->interval_s;
	if (r->tokens > r->burst)
		r->tokens = r->burst;
	r->last = now;
	if (r->tokens < 1)
		return false;
	r->tokens -= 1;
	return true;
}

/* client_auth_type, checked per request on the connection's TLS session: libmicrohttpd
 * asks for a certificate (when it has CAs) but leaves judging it to the application */
static bool client_cert_ok(const struct prom_output *p, struct MHD_Connection *conn)
{
	gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
					  .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
	const union MHD_ConnectionInfo *ci;
	unsigned int n = 0, status = 0;

	if (p->client_auth < FA_CLIENT_AUTH_REQUIRE_ANY)
		return true;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	if (!gnutls_certificate_get_peers(ci->tls_session, &n) || !n)
		return p->client_auth == FA_CLIENT_AUTH_VERIFY_IF_GIVEN;
	if (p->client_auth == FA_CLIENT_AUTH_REQUIRE_ANY)
		return true;
	return !gnutls_certificate_verify_peers(ci->tls_session, &purpose, 1, &status) && !status;
}

static bool equal_ct(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return !d;
}

static bool digest(const struct prom_auth *a, const char *password, unsigned char out[32])
{
	return !gnutls_hmac_fast(GNUTLS_MAC_SHA256, a->key, sizeof(a->key), password,
				 strlen(password), out);
}

static void free_password(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void job_free(struct auth_job *job)
{
	if (job) {
		free_password(job->password);
		free(job);
	}
}

/* The auth thread: one bcrypt at a time, as the toolkit does, so wrong passwords cost
 * one core at most and the server thread none. */
static void *auth_main(void *arg)
{
	struct prom_auth *a = arg;
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	struct auth_job *job;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->head && !a->stop)
			pthread_cond_wait(&a->wake, &a->lock);
		if (!(job = a->head))
			break;
		a->head = job->next;
		if (!a->head)
			a->tail = &a->head;
		if (!a->stop && cd) {
			const char *h;

			pthread_mutex_unlock(&a->lock);
			h = crypt_rn(job->password, job->hash, cd, sizeof(*cd));
			job->ok = job->user >= 0 && h && strlen(h) == strlen(job->hash) &&
				  equal_ct(h, job->hash, strlen(h));
			explicit_bzero(cd, sizeof(*cd));
			pthread_mutex_lock(&a->lock);
		}
		job->done = true;
		/* the job is the server thread's again from here */
		MHD_resume_connection(job->conn);
	}
	pthread_mutex_unlock(&a->lock);
	free(cd);
	return NULL;
}

enum auth_verdict { AUTH_OK, AUTH_REFUSED, AUTH_PENDING };

/* The request's credentials: known and remembered, refused (none, or the server is
 * stopping), or handed to the auth thread with the connection suspended. */
static enum auth_verdict auth_start(struct prom_auth *a, struct MHD_Connection *conn,
				    void **con_cls)
{
	char *password = NULL, *user = MHD_basic_auth_get_username_password(conn, &password);
	enum auth_verdict v = AUTH_REFUSED;
	struct auth_job *job = NULL;
	unsigned char d[32];
	int u = -1;

	if (!user || !password)
		goto out;
	for (size_t i = 0; i < a->nusers && u < 0; i++)
		if (!strcmp(a->users[i].name, user))
			u = i;
	if (u >= 0 && a->users[u].known && digest(a, password, d) &&
	    equal_ct(d, a->users[u].digest, sizeof(d))) {
		v = AUTH_OK;
		goto out;
	}
	job = calloc(1, sizeof(*job));
	if (!job)
		goto out;
	job->conn = conn;
	job->user = u;
	job->hash = u >= 0 ? a->users[u].hash : a->unknown_hash;
	job->password = password;
	password = NULL;
	pthread_mutex_lock(&a->lock);
	if (!a->stop) {
		*a->tail = job;
		a->tail = &job->next;
		/* before the auth thread can see the job, so its resume comes after */
		MHD_suspend_connection(conn);
		*con_cls = job;
		job = NULL;
		v = AUTH_PENDING;
		pthread_cond_signal(&a->wake);
	}
	pthread_mutex_unlock(&a->lock);
out:
	job_free(job);
	free_password(password);
	free(user);
	return v;
}

/* After the resume: the verdict, and a password that passed is remembered. */
static bool auth_finish(struct prom_auth *a, struct auth_job *job)
{
	struct auth_user *u = job->user >= 0 ? &a->users[job->user] : NULL;

	if (!job->done || !job->ok || !u)
		return false;
	u->known = digest(a, job->password, u->digest);
	return true;
}

static void prom_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	job_free(*con_cls);
	*con_cls = NULL;
}

static enum MHD_Result prom_handle(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	struct prom_output *p = cls;
	struct MHD_Response *resp;
	struct prom_page *page;
	bool gzip;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	/* the checks in the toolkit's order: rate, client certificate, password */
	if (*con_cls) {
		if (!auth_finish(p->auth, *con_cls))
			return respond_text(p, conn, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
	} else {
		if (!rate_allow(&p->rate))
			return respond_text(p, conn, MHD_HTTP_TOO_MANY_REQUESTS,
					    "too many requests\n");
		if (!client_cert_ok(p, conn))
			return respond_text(p, conn, MHD_HTTP_FORBIDDEN,
					    "a client certificate signed by client_ca is needed\n");
		switch (p->auth ? auth_start(p->auth, conn, con_cls) : AUTH_OK) {
		case AUTH_OK:
			break;
		case AUTH_PENDING:
			return MHD_YES;
		case AUTH_REFUSED:
			return respond_text(p, conn, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
		}
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(p, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return respond_text(p, conn, MHD_HTTP_NOT_FOUND, "metrics are at /metrics\n");
	page = page_get(p);
	if (!page)
		return respond_text(p, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
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
	return respond(p, conn, MHD_HTTP_OK, resp);
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

/* Ends the auth thread: the jobs still queued are resumed, refused. Before the server
 * stops: libmicrohttpd must not be stopped with a connection still suspended. */
static void auth_stop(struct prom_auth *a)
{
	if (!a || !a->started)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	a->started = false;
}

static void auth_free(struct prom_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nusers; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

static void prom_close(struct fa_output *out)
{
	struct prom_output *p = (struct prom_output *)out;

	if (!p)
		return;
	auth_stop(p->auth);
	/* stops the server thread; responses still queued release their pages first */
	if (p->mhd)
		MHD_stop_daemon(p->mhd);
	auth_free(p->auth);
	for (int i = 0; i < FA_WEB_HEADER_MAX; i++)
		free(p->headers[i]);
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
	int listen_fd;
	const struct MHD_OptionItem *tls; /* the TLS options, or just MHD_OPTION_END */
};

/* Runs in a thread of its own that holds no capability (fa_thread_start), so that the
 * server thread libmicrohttpd starts from it has none either, and all signals blocked:
 * SIGINT and SIGTERM are the main loop's. */
static void *mhd_start(void *arg)
{
	struct mhd_start *m = arg;
	struct prom_output *p = m->p;

	/* the logger first: options before it would log their errors to stderr */
	/* clang-format off */
	p->mhd = MHD_start_daemon(m->flags, 0, NULL, NULL, prom_handle, p,
				  MHD_OPTION_EXTERNAL_LOGGER, prom_log, p,
				  MHD_OPTION_LISTEN_SOCKET, m->listen_fd,
				  MHD_OPTION_CONNECTION_LIMIT, PROM_MAX_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, PROM_MAX_PER_IP,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PROM_MEMORY_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT, PROM_CONNECTION_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_COMPLETED, prom_completed, p,
				  MHD_OPTION_ARRAY, m->tls,
				  MHD_OPTION_END);
	/* clang-format on */
	return NULL;
}

/* The listening socket, bound here, by the calling thread: a port below 1024 needs its
 * CAP_NET_BIND_SERVICE, which the server's threads never get. -1 with err set. */
static int listen_on(const struct sockaddr_storage *ss, char *err, size_t errlen)
{
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)ss, len) || listen(fd, SOMAXCONN)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* GnuTLS's priority string for min_version..max_version */
static void tls_priorities(const struct fa_webconfig *web, char *buf, size_t len)
{
	size_t o = snprintf(buf, len, "NORMAL:-VERS-ALL");

	for (int v = web->min_version; v <= (int)web->max_version && o < len; v++)
		o += snprintf(buf + o, len - o, ":+VERS-TLS1.%d", v - FA_TLS10);
	if (web->prefer_server_cipher_suites && o < len)
		snprintf(buf + o, len - o, ":%%SERVER_PRECEDENCE");
}

int fa_prom_web_check(const struct fa_webconfig *web, struct fa_err *err)
{
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	const char *where = NULL;
	char pri[128];
	int rc;

	if (!web->tls)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return fa_err_set(err, -EOPNOTSUPP,
				  "this libmicrohttpd was built without TLS: install Debian's "
				  "libmicrohttpd12 (GnuTLS), or remove tls_server_config");
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return fa_err_set(err, -ENOMEM, "out of memory");
	/* the key must be the certificate's: GnuTLS checks the pair */
	rc = gnutls_certificate_set_x509_key_mem2(
		cred,
		&(gnutls_datum_t){ .data = (unsigned char *)web->cert, .size = strlen(web->cert) },
		&(gnutls_datum_t){ .data = (unsigned char *)web->key, .size = strlen(web->key) },
		GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		where = "the certificate and key";
	} else if (web->client_ca) {
		rc = gnutls_certificate_set_x509_trust_mem(
			cred,
			&(gnutls_datum_t){ .data = (unsigned char *)web->client_ca,
					   .size = strlen(web->client_ca) },
			GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			where = "the client CA";
			rc = rc ? rc : GNUTLS_E_NO_CERTIFICATE_FOUND;
		}
	}
	gnutls_certificate_free_credentials(cred);
	if (where)
		return fa_err_set(err, -EINVAL,
				  "tls_server_config: %s do not load (GnuTLS: %s): give PEM files "
				  "(an unencrypted key that matches the certificate)",
				  where, gnutls_strerror(rc));
	tls_priorities(web, pri, sizeof(pri));
	rc = gnutls_priority_init(&prio, pri, NULL);
	if (rc < 0)
		return fa_err_set(err, -EINVAL,
				  "tls_server_config: GnuTLS refuses the versions asked for (%s: "
				  "%s): change min_version or max_version",
				  pri, gnutls_strerror(rc));
	gnutls_priority_deinit(prio);
	return 0;
}

/* basic_auth_users: copied (the web config is freed once the server runs), and the
 * auth thread started. NULL on ENOMEM. */
static struct prom_auth *auth_new(const struct fa_webconfig *web)
{
	struct prom_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	a->tail = &a->head;
	a->users = calloc(web->nusers, sizeof(*a->users));
	if (!a->users || getrandom(a->key, sizeof(a->key), 0) != sizeof(a->key))
		goto fail;
	for (; a->nusers < web->nusers; a->nusers++) {
		struct auth_user *u = &a->users[a->nusers];

		u->name = strdup(web->users[a->nusers].name);
		u->hash = strdup(web->users[a->nusers].hash);
		if (!u->name || !u->hash) {
			free(u->name);
			free(u->hash);
			goto fail;
		}
	}
	snprintf(a->unknown_hash, sizeof(a->unknown_hash), "%.7s%s", a->users[0].hash,
		 PROM_UNKNOWN_USER_TAIL);
	if (fa_thread_start(&a->thread, "fa-prom-auth", auth_main, a))
		goto fail;
	a->started = true;
	return a;
fail:
	auth_free(a);
	return NULL;
}

/* What of the web config the server keeps: headers, limits, policies, users. */
static int prom_configure(struct prom_output *p, const struct fa_webconfig *web)
{
	for (int i = 0; i < FA_WEB_HEADER_MAX; i++)
		if (web->headers[i] && !(p->headers[i] = strdup(web->headers[i])))
			return -ENOMEM;
	p->client_auth = web->tls ? web->client_auth : FA_CLIENT_AUTH_NONE;
	p->rate = (struct prom_rate){ .interval_s = web->rate_interval_s,
				      .burst = web->rate_burst,
				      .tokens = web->rate_burst,
				      .last = fa_mono_now() };
	if (web->nusers && !(p->auth = auth_new(web)))
		return -ENOMEM;
	return 0;
}

static struct fa_output *prom_open(const char *listen, const struct fa_prom_opts *opts,
				   const struct fa_webconfig *web, char *err, size_t errlen)
{
	struct prom_output *p = calloc(1, sizeof(*p));
	struct sockaddr_storage ss;
	/* poll(), not epoll: libmicrohttpd 0.9.75's epoll loop keeps a TLS connection whose
	 * handshake waits for bytes marked ready, and spins on it (a client that stops
	 * halfway through its hello costs a core until it times out); for 32 connections
	 * poll() costs nothing more */
	unsigned int mhd_flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[5] = {};
	pthread_t starter;
	char pri[128];
	int n = 0, fd;

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
	if (!p->state || (web && prom_configure(p, web))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (fa_listen_parse(listen, &ss, err, errlen))
		goto fail;
	if (ss.ss_family == AF_INET6)
		mhd_flags |= MHD_USE_IPv6;
	fd = listen_on(&ss, err, errlen);
	if (fd < 0)
		goto fail;
	if (p->auth)
		mhd_flags |= MHD_ALLOW_SUSPEND_RESUME;
	if (web && web->tls) {
		/* from memory: the files were read before privileges were dropped */
		mhd_flags |= MHD_USE_TLS;
		tls_priorities(web, pri, sizeof(pri));
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, web->cert };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, web->key };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, pri };
		if (web->client_ca)
			tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0,
							    web->client_ca };
	}
	tls[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	if (errlen)
		err[0] = '\0';
	p->start_err = err;
	p->start_errlen = errlen;
	if (!fa_thread_start(
		    &starter, NULL, mhd_start,
		    &(struct mhd_start){ .p = p, .flags = mhd_flags, .listen_fd = fd, .tls = tls }))
		pthread_join(starter, NULL);
	if (!p->mhd)
		close(fd); /* the daemon owns it once started, and closes it when stopped */
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

int fa_prom_open(const char *listen, const struct fa_prom_opts *opts,
		 const struct fa_webconfig *web, struct fa_output **out, struct fa_err *err)
{
	*out = prom_open(listen, opts, web, err->msg, sizeof(err->msg));
	return *out ? 0 : -EINVAL;
}

#endif /* FA_NO_HTTP */
