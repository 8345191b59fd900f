/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --web-config FILE: TLS, basic auth and limits of the metrics endpoint, in the format
 * of the Prometheus exporter toolkit's web config (docs/prometheus.md), parsed as
 * strictly as the toolkit does: a key it does not know is an error naming the key.
 * fa_webconfig_parse() is pure (no I/O, any bytes); fa_webconfig_load() reads the file
 * and the certificate and key files it names, before privileges are dropped, so the
 * endpoint serves from memory and the key file may stay readable by root alone.
 */
#ifndef FA_WEBCONFIG_H
#define FA_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct fa_err;

/* tls_server_config.client_auth_type, in the order of what it asks of the client */
enum fa_client_auth {
	FA_CLIENT_AUTH_NONE, /* NoClientCert (default) */
	FA_CLIENT_AUTH_REQUEST, /* RequestClientCert: asked for, never checked */
	FA_CLIENT_AUTH_REQUIRE_ANY, /* RequireAnyClientCert: one must come, any */
	FA_CLIENT_AUTH_VERIFY_IF_GIVEN, /* VerifyClientCertIfGiven */
	FA_CLIENT_AUTH_REQUIRE_AND_VERIFY, /* RequireAndVerifyClientCert */
};

/* TLS versions as the toolkit names them: TLS10 .. TLS13 */
enum fa_tls_version {
	FA_TLS10 = 10,
	FA_TLS11,
	FA_TLS12,
	FA_TLS13,
};

/* http_server_config.headers: the toolkit's fixed list, added to every response */
#define FA_WEB_HEADERS(X)                                                                          \
	X(CSP, "Content-Security-Policy")                                                          \
	X(FRAME_OPTIONS, "X-Frame-Options")                                                        \
	X(CONTENT_TYPE_OPTIONS, "X-Content-Type-Options")                                          \
	X(XSS_PROTECTION, "X-XSS-Protection")                                                      \
	X(HSTS, "Strict-Transport-Security")

enum fa_web_header {
#define X(id, name) FA_WEB_HEADER_##id,
	FA_WEB_HEADERS(X)
#undef X
		FA_WEB_HEADER_MAX
};

extern const char *const fa_web_header_names[FA_WEB_HEADER_MAX];

struct fa_web_user {
	char *name;
	char *hash; /* bcrypt: $2a$, $2b$ or $2y$, checked by form */
};

/* Every string is malloc'd and NUL-terminated, or NULL when not given. */
struct fa_webconfig {
	/* TLS is on: a certificate, key, client CA or client_auth_type is set (min_version
	 * alone does not turn it on, as in the toolkit) */
	bool tls;
	/* tls_server_config; after fa_webconfig_load, cert, key and client_ca hold the
	 * PEM text whether it was given inline or read from the *_file */
	char *cert, *key, *client_ca;
	char *cert_file, *key_file, *client_ca_file;
	enum fa_client_auth client_auth;
	enum fa_tls_version min_version, max_version; /* TLS12, TLS13 by default */
	bool prefer_server_cipher_suites; /* true by default */
	/* http_server_config */
	bool http2; /* accepted for compatibility; the endpoint speaks HTTP/1.1 */
	char *headers[FA_WEB_HEADER_MAX];
	/* basic_auth_users */
	struct fa_web_user *users;
	size_t nusers;
	/* rate_limit: at most burst requests at once, one more every interval; 0: off */
	double rate_interval_s;
	unsigned rate_burst;
};

/*
 * Parses len bytes of YAML into out (zeroed first). Pure: file names are kept as they
 * are. 0, or -EINVAL with why ("tls_server_config.foo: unknown key ..."), and out
 * holds nothing to free.
 */
int fa_webconfig_parse(const char *buf, size_t len, struct fa_webconfig *out, struct fa_err *why);

/*
 * Reads path and parses it; file names relative to path's directory (as the toolkit
 * resolves them), then reads cert_file, key_file and client_ca_file into cert, key and
 * client_ca. 0, or -errno with why (without the file's name: the caller says it).
 */
int fa_webconfig_load(const char *path, struct fa_webconfig *out, struct fa_err *why);

/* Frees what out holds (the key's text is wiped first) and zeroes it. */
void fa_webconfig_free(struct fa_webconfig *wc);

#endif /* FA_WEBCONFIG_H */
