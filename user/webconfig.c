// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The web config, walked from libyaml's document tree by tables of the keys each mapping
 * may hold. The walk only ever descends into keys it knows, at most three levels deep,
 * so an alias (even one that points at its own ancestor) costs nothing, and no input can
 * make it recurse further.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "format.h"
#include "log.h"
#include "util.h"
#include "webconfig.h"

/* the web config, and each certificate or key file: far more than any real one */
#define WEBCONFIG_MAX_BYTES (1U << 20)
#define WEBCONFIG_MAX_USERS 1024
#define WEBCONFIG_PATH_LEN  96

const char *const fa_web_header_names[FA_WEB_HEADER_MAX] = {
#define X(id, name) [FA_WEB_HEADER_##id] = name,
	FA_WEB_HEADERS(X)
#undef X
};

struct walk {
	yaml_document_t *doc;
	struct fa_webconfig *wc;
	struct fa_err *why;
	bool client_auth_given; /* client_auth_type turns TLS on, even NoClientCert */
	unsigned headers_seen; /* 1U << enum fa_web_header */
};

/* A key's value: 0, or -EINVAL with w->why */
typedef int walk_fn(struct walk *w, yaml_node_t *n, const char *path);

struct key {
	const char *name;
	walk_fn *fn;
};

static int bad(struct walk *w, yaml_node_t *n, const char *path, const char *what)
{
	return fa_err_set(w->why, -EINVAL, "line %zu: %s: %s", n->start_mark.line + 1, path, what);
}

/* `key:` with nothing, `~` or `null`: not given, as the toolkit's YAML decoder has it */
static bool is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcasecmp(v, "null"));
}

/* The text of a scalar, or NULL with why: the config's strings are C strings */
static const char *scalar(struct walk *w, yaml_node_t *n, const char *path)
{
	if (n->type != YAML_SCALAR_NODE) {
		bad(w, n, path, "expected a single value, not a list or mapping");
		return NULL;
	}
	if (memchr(n->data.scalar.value, '\0', n->data.scalar.length)) {
		bad(w, n, path, "holds a NUL byte");
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int get_string(struct walk *w, yaml_node_t *n, const char *path, char **dst)
{
	const char *v;

	if (is_null(n))
		return 0;
	v = scalar(w, n, path);
	if (!v)
		return -EINVAL;
	*dst = strdup(v);
	return *dst ? 0 : fa_err_set(w->why, -ENOMEM, "out of memory");
}

static int get_bool(struct walk *w, yaml_node_t *n, const char *path, bool *dst)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	const char *v = scalar(w, n, path);

	if (!v)
		return -EINVAL;
	for (size_t i = 0; n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && i < 3; i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*dst = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	return bad(w, n, path, "expected true or false");
}

/* One of names[0..count), its index into *dst; else what it may be */
static int get_name(struct walk *w, yaml_node_t *n, const char *path, const char *const *names,
		    int count, int *dst)
{
	const char *v = scalar(w, n, path), *sep = "";
	char msg[192];
	size_t o;
	int i;

	if (!v)
		return -EINVAL;
	if ((i = fa_name_lookup(names, count, v)) >= 0) {
		*dst = i;
		return 0;
	}
	o = snprintf(msg, sizeof(msg), "expected");
	for (i = 0; i < count && o < sizeof(msg); i++) {
		if (names[i]) {
			o += snprintf(msg + o, sizeof(msg) - o, "%s %s", sep, names[i]);
			sep = ",";
		}
	}
	return bad(w, n, path, msg);
}

/* Walks mapping n by keys[]: each key once, none unknown. */
static int walk_mapping(struct walk *w, yaml_node_t *n, const char *path, const struct key *keys,
			size_t nkeys)
{
	unsigned long long seen = 0;

	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return bad(w, n, path[0] ? path : "the file", "expected a mapping (key: value)");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		char sub[WEBCONFIG_PATH_LEN], esc[64];
		const char *name = scalar(w, k, path[0] ? path : "the file");
		size_t i;

		if (!name)
			return -EINVAL;
		for (i = 0; i < nkeys && strcmp(keys[i].name, name); i++)
			;
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "",
			 i < nkeys ? keys[i].name
				   : fa_escape(esc, sizeof(esc), name, strlen(name)));
		if (i == nkeys)
			return bad(w, k, sub,
				   "unknown key (the keys are the exporter toolkit's: see "
				   "docs/prometheus.md)");
		if (seen & (1ULL << i))
			return bad(w, k, sub, "given twice");
		seen |= 1ULL << i;
		if (keys[i].fn(w, v, sub))
			return -EINVAL;
	}
	return 0;
}

/* ---- tls_server_config ---- */

#define STRING_KEY(field)                                                                          \
	static int tls_##field(struct walk *w, yaml_node_t *n, const char *path)                   \
	{                                                                                          \
		return get_string(w, n, path, &w->wc->field);                                      \
	}
STRING_KEY(cert)
STRING_KEY(key)
STRING_KEY(client_ca)
STRING_KEY(cert_file)
STRING_KEY(key_file)
STRING_KEY(client_ca_file)

static const char *const client_auth_names[] = {
	[FA_CLIENT_AUTH_NONE] = "NoClientCert",
	[FA_CLIENT_AUTH_REQUEST] = "RequestClientCert",
	[FA_CLIENT_AUTH_REQUIRE_ANY] = "RequireAnyClientCert",
	[FA_CLIENT_AUTH_VERIFY_IF_GIVEN] = "VerifyClientCertIfGiven",
	[FA_CLIENT_AUTH_REQUIRE_AND_VERIFY] = "RequireAndVerifyClientCert",
};

static int tls_client_auth_type(struct walk *w, yaml_node_t *n, const char *path)
{
	int i;

	/* the toolkit's older name for RequireAnyClientCert */
	if (n->type == YAML_SCALAR_NODE &&
	    !strcmp((char *)n->data.scalar.value, "RequireClientCert"))
		i = FA_CLIENT_AUTH_REQUIRE_ANY;
	else if (get_name(w, n, path, client_auth_names, ARRAY_SIZE(client_auth_names), &i))
		return -EINVAL;
	w->wc->client_auth = i;
	w->client_auth_given = true;
	return 0;
}

static const char *const tls_version_names[] = {
	[FA_TLS10] = "TLS10",
	[FA_TLS11] = "TLS11",
	[FA_TLS12] = "TLS12",
	[FA_TLS13] = "TLS13",
};

static int tls_version(struct walk *w, yaml_node_t *n, const char *path, enum fa_tls_version *dst)
{
	int i;

	if (get_name(w, n, path, tls_version_names, ARRAY_SIZE(tls_version_names), &i))
		return -EINVAL;
	*dst = i;
	return 0;
}

static int tls_min_version(struct walk *w, yaml_node_t *n, const char *path)
{
	return tls_version(w, n, path, &w->wc->min_version);
}

static int tls_max_version(struct walk *w, yaml_node_t *n, const char *path)
{
	return tls_version(w, n, path, &w->wc->max_version);
}

static int tls_prefer_server(struct walk *w, yaml_node_t *n, const char *path)
{
	return get_bool(w, n, path, &w->wc->prefer_server_cipher_suites);
}

/* Keys of the format that flowacct cannot honour: refused, unless empty, rather than
 * silently serving something other than what the file asks for. */
static int unsupported(struct walk *w, yaml_node_t *n, const char *path)
{
	if (is_null(n) || (n->type == YAML_SEQUENCE_NODE &&
			   n->data.sequence.items.start == n->data.sequence.items.top))
		return 0;
	return bad(w, n, path,
		   "not supported by flowacct (GnuTLS picks the cipher suites and curves; no "
		   "client SAN check): remove it");
}

static const struct key tls_keys[] = {
	{ "cert", tls_cert },
	{ "key", tls_key },
	{ "client_ca", tls_client_ca },
	{ "cert_file", tls_cert_file },
	{ "key_file", tls_key_file },
	{ "client_ca_file", tls_client_ca_file },
	{ "client_auth_type", tls_client_auth_type },
	{ "min_version", tls_min_version },
	{ "max_version", tls_max_version },
	{ "prefer_server_cipher_suites", tls_prefer_server },
	{ "cipher_suites", unsupported },
	{ "curve_preferences", unsupported },
	{ "client_allowed_sans", unsupported },
};

/* ---- http_server_config ---- */

static int http_http2(struct walk *w, yaml_node_t *n, const char *path)
{
	return get_bool(w, n, path, &w->wc->http2);
}

/* A mapping whose keys the file names (headers, users): fn gets each key's node, value,
 * text and path (escaped: "basic_auth_users.alice"). */
typedef int pair_fn(struct walk *w, yaml_node_t *k, yaml_node_t *v, const char *name,
		    const char *path);

static int walk_pairs(struct walk *w, yaml_node_t *n, const char *path, const char *what,
		      pair_fn *fn)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return bad(w, n, path, what);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const char *name = scalar(w, k, path);
		char sub[WEBCONFIG_PATH_LEN], esc[64];

		if (!name)
			return -EINVAL;
		snprintf(sub, sizeof(sub), "%s.%s", path,
			 fa_escape(esc, sizeof(esc), name, strlen(name)));
		if (fn(w, k, yaml_document_get_node(w->doc, p->value), name, sub))
			return -EINVAL;
	}
	return 0;
}

static int http_header(struct walk *w, yaml_node_t *k, yaml_node_t *v, const char *name,
		       const char *path)
{
	int h = fa_name_lookup(fa_web_header_names, FA_WEB_HEADER_MAX, name);
	const char *value;

	if (h < 0)
		return bad(w, k, path,
			   "this header cannot be set (Content-Security-Policy, X-Frame-Options, "
			   "X-Content-Type-Options, X-XSS-Protection, Strict-Transport-Security "
			   "can)");
	if (w->headers_seen & (1U << h))
		return bad(w, k, path, "given twice");
	w->headers_seen |= 1U << h;
	if (!(value = scalar(w, v, path)))
		return -EINVAL;
	/* the two the toolkit checks; every value must stay one header line */
	if (h == FA_WEB_HEADER_FRAME_OPTIONS && strcmp(value, "deny") &&
	    strcmp(value, "sameorigin"))
		return bad(w, v, path, "expected deny or sameorigin");
	if (h == FA_WEB_HEADER_CONTENT_TYPE_OPTIONS && strcmp(value, "nosniff"))
		return bad(w, v, path, "expected nosniff");
	for (const char *c = value; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return bad(w, v, path, "holds a control character");
	/* blank: unset, as in the toolkit */
	return *value ? get_string(w, v, path, &w->wc->headers[h]) : 0;
}

static int http_headers(struct walk *w, yaml_node_t *n, const char *path)
{
	return walk_pairs(w, n, path, "expected a mapping (header: value)", http_header);
}

static const struct key http_keys[] = {
	{ "http2", http_http2 },
	{ "headers", http_headers },
};

/* ---- basic_auth_users ---- */

/* bcrypt's modular crypt form: $2a$, $2b$ or $2y$, a cost of 04..31, 53 characters of
 * salt and hash in bcrypt's base64 */
static bool is_bcrypt(const char *h)
{
	static const char b64[] =
		"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	int cost;

	if (strlen(h) != 60 || strncmp(h, "$2", 2) || !strchr("aby", h[2]) || h[3] != '$' ||
	    !isdigit((unsigned char)h[4]) || !isdigit((unsigned char)h[5]) || h[6] != '$')
		return false;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	return cost >= 4 && cost <= 31 && strspn(h + 7, b64) == 53;
}

static int auth_user(struct walk *w, yaml_node_t *k, yaml_node_t *v, const char *name,
		     const char *path)
{
	struct fa_webconfig *wc = w->wc;
	struct fa_web_user *u = &wc->users[wc->nusers];
	const char *hash;

	/* HTTP basic auth splits user from password at the first colon */
	if (!*name || strchr(name, ':'))
		return bad(w, k, path, "a user name is not empty and has no ':'");
	for (size_t i = 0; i < wc->nusers; i++)
		if (!strcmp(wc->users[i].name, name))
			return bad(w, k, path, "given twice");
	if (!(hash = scalar(w, v, path)))
		return -EINVAL;
	if (!is_bcrypt(hash))
		return bad(w, v, path,
			   "not a bcrypt hash ($2y$, $2b$ or $2a$, 60 characters): make one with "
			   "htpasswd -nBC 10 \"\" or as docs/prometheus.md shows");
	u->name = strdup(name);
	u->hash = strdup(hash);
	if (!u->name || !u->hash) {
		free(u->name);
		free(u->hash);
		*u = (struct fa_web_user){};
		return fa_err_set(w->why, -ENOMEM, "out of memory");
	}
	wc->nusers++;
	return 0;
}

static int walk_users(struct walk *w, yaml_node_t *n, const char *path)
{
	size_t count;

	if (n->type == YAML_MAPPING_NODE) {
		count = n->data.mapping.pairs.top - n->data.mapping.pairs.start;
		if (count > WEBCONFIG_MAX_USERS)
			return bad(w, n, path, "more than 1024 users");
		w->wc->users = calloc(count ? count : 1, sizeof(*w->wc->users));
		if (!w->wc->users)
			return fa_err_set(w->why, -ENOMEM, "out of memory");
	}
	return walk_pairs(w, n, path, "expected a mapping (user: bcrypt hash)", auth_user);
}

/* ---- rate_limit ---- */

/* A Go duration ("1s", "1m30s", "250ms", "1.5h", "0"), in seconds; -EINVAL. */
static int parse_duration(const char *s, double *out)
{
	static const struct {
		const char *unit;
		double seconds;
	} units[] = {
		/* the two-letter units first: "ms" is not "m" followed by "s" */
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 }, { "ms", 1e-3 },
		{ "s", 1 },	{ "m", 60 },	{ "h", 3600 },
	};
	double total = 0;

	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		double v = 0, scale = 1;
		bool digits = false;
		size_t u;

		for (; isdigit((unsigned char)*s); s++, digits = true)
			v = v * 10 + (*s - '0');
		if (*s == '.')
			for (s++; isdigit((unsigned char)*s); s++, digits = true)
				v += (*s - '0') * (scale /= 10);
		if (!digits)
			return -EINVAL;
		for (u = 0;
		     u < ARRAY_SIZE(units) && strncmp(s, units[u].unit, strlen(units[u].unit)); u++)
			;
		if (u == ARRAY_SIZE(units))
			return -EINVAL;
		total += v * units[u].seconds;
		s += strlen(units[u].unit);
	}
	*out = total;
	return 0;
}

static int rate_interval(struct walk *w, yaml_node_t *n, const char *path)
{
	const char *v = scalar(w, n, path);

	if (!v)
		return -EINVAL;
	if (parse_duration(v, &w->wc->rate_interval_s) || w->wc->rate_interval_s > 86400 * 365.0)
		return bad(w, n, path, "expected a duration such as 1s, 500ms or 0 (off)");
	return 0;
}

static int rate_burst(struct walk *w, yaml_node_t *n, const char *path)
{
	const char *v = scalar(w, n, path);
	char *end;
	unsigned long b;

	if (!v)
		return -EINVAL;
	errno = 0;
	b = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || b > 1000000)
		return bad(w, n, path, "expected a whole number from 0 to 1000000");
	w->wc->rate_burst = b;
	return 0;
}

static const struct key rate_keys[] = {
	{ "interval", rate_interval },
	{ "burst", rate_burst },
};

/* ---- the file ---- */

#define MAPPING_KEY(fn, keys)                                                                      \
	static int fn(struct walk *w, yaml_node_t *n, const char *path)                            \
	{                                                                                          \
		return walk_mapping(w, n, path, keys, ARRAY_SIZE(keys));                           \
	}
MAPPING_KEY(walk_tls, tls_keys)
MAPPING_KEY(walk_http, http_keys)
MAPPING_KEY(walk_rate, rate_keys)

static const struct key top_keys[] = {
	{ "tls_server_config", walk_tls },
	{ "http_server_config", walk_http },
	{ "basic_auth_users", walk_users },
	{ "rate_limit", walk_rate },
};

/* What the keys say together, as the toolkit checks it */
static int check_whole(struct walk *w)
{
	struct fa_webconfig *wc = w->wc;
	bool ca = wc->client_ca || wc->client_ca_file;

	wc->tls =
		wc->cert || wc->key || wc->cert_file || wc->key_file || ca || w->client_auth_given;
	if (!wc->tls)
		goto rate;
	if (wc->cert && wc->cert_file)
		return fa_err_set(w->why, -EINVAL,
				  "tls_server_config: cert and cert_file exclude each other: give "
				  "one");
	if (wc->key && wc->key_file)
		return fa_err_set(
			w->why, -EINVAL,
			"tls_server_config: key and key_file exclude each other: give one");
	if (wc->client_ca && wc->client_ca_file)
		return fa_err_set(w->why, -EINVAL,
				  "tls_server_config: client_ca and client_ca_file exclude each "
				  "other: give one");
	if (!wc->cert && !wc->cert_file)
		return fa_err_set(w->why, -EINVAL,
				  "tls_server_config: no cert_file (or cert): give the server's "
				  "certificate with its key");
	if (!wc->key && !wc->key_file)
		return fa_err_set(w->why, -EINVAL,
				  "tls_server_config: no key_file (or key): give the private key "
				  "of cert_file");
	if (ca && wc->client_auth == FA_CLIENT_AUTH_NONE)
		return fa_err_set(w->why, -EINVAL,
				  "tls_server_config: a client CA without client_auth_type: set "
				  "client_auth_type: RequireAndVerifyClientCert");
	/* libmicrohttpd asks a client for its certificate only when it has CAs to name */
	if (!ca && wc->client_auth >= FA_CLIENT_AUTH_REQUIRE_ANY)
		return fa_err_set(
			w->why, -EINVAL,
			"tls_server_config: client_auth_type %s needs client_ca_file "
			"(or client_ca): give the CA that signs the clients' certificates",
			client_auth_names[wc->client_auth]);
	if (wc->min_version > wc->max_version)
		return fa_err_set(w->why, -EINVAL,
				  "tls_server_config: min_version %s is above max_version %s",
				  tls_version_names[wc->min_version],
				  tls_version_names[wc->max_version]);
rate:
	/* the toolkit's limiter with no burst refuses every request */
	if (wc->rate_interval_s > 0 && !wc->rate_burst)
		return fa_err_set(w->why, -EINVAL,
				  "rate_limit: burst must be at least 1 when interval is set");
	return 0;
}

static int parse_error(yaml_parser_t *p, struct fa_err *why)
{
	return fa_err_set(why, -EINVAL, "line %zu, column %zu: %s%s%s: not valid YAML",
			  p->problem_mark.line + 1, p->problem_mark.column + 1,
			  p->problem ? p->problem : "error", p->context ? " " : "",
			  p->context ? p->context : "");
}

int fa_webconfig_parse(const char *buf, size_t len, struct fa_webconfig *out, struct fa_err *why)
{
	yaml_parser_t parser;
	yaml_document_t doc, more;
	yaml_node_t *root;
	struct walk w = { .doc = &doc, .wc = out, .why = why };
	int err;

	memset(out, 0, sizeof(*out));
	out->min_version = FA_TLS12;
	out->max_version = FA_TLS13;
	out->prefer_server_cipher_suites = true;
	out->http2 = true;
	if (len > WEBCONFIG_MAX_BYTES)
		return fa_err_set(why, -EFBIG, "larger than 1 MiB: not a web config");
	if (!yaml_parser_initialize(&parser))
		return fa_err_set(why, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = parse_error(&parser, why);
		yaml_parser_delete(&parser);
		return err;
	}
	root = yaml_document_get_root_node(&doc);
	err = root ? walk_mapping(&w, root, "", top_keys, ARRAY_SIZE(top_keys)) : 0;
	if (!err)
		err = check_whole(&w);
	if (!err && root) {
		/* the toolkit reads one document; a second one would be ignored there */
		if (!yaml_parser_load(&parser, &more)) {
			err = parse_error(&parser, why);
		} else {
			if (yaml_document_get_root_node(&more))
				err = fa_err_set(
					why, -EINVAL, "line %zu: a second YAML document: give one",
					yaml_document_get_root_node(&more)->start_mark.line + 1);
			yaml_document_delete(&more);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (err)
		fa_webconfig_free(out);
	return err;
}

/* ---- files ---- */

/* The whole file, NUL-terminated, at most WEBCONFIG_MAX_BYTES; -errno. A symbolic link is
 * followed: certificates are often links into a renewal tool's directory. */
static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if ((size_t)st.st_size > WEBCONFIG_MAX_BYTES)
		err = -EFBIG;
	else if (!(buf = malloc(WEBCONFIG_MAX_BYTES + 1)))
		err = -ENOMEM;
	/* to the end, not st_size: a file may grow while it is read */
	while (!err && (r = read(fd, buf + n, WEBCONFIG_MAX_BYTES + 1 - n)) != 0) {
		if (r < 0 && errno != EINTR)
			err = -errno;
		else if (r > 0 && (n += r) > WEBCONFIG_MAX_BYTES)
			err = -EFBIG;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* What to do about a file that could not be read */
static const char *read_advice(int err)
{
	switch (err) {
	case -EACCES:
		return "make it readable by the user flowacct starts as (it is read before "
		       "privileges are dropped)";
	case -ENOENT:
	case -ENOTDIR:
		return "give the path of an existing file (relative paths start at the web "
		       "config's directory)";
	case -EINVAL:
		return "give a regular file";
	case -EFBIG:
		return "larger than 1 MiB: give a PEM file";
	default:
		return "give a readable file";
	}
}

/* dir/name for a relative name, as the toolkit joins them; name itself if absolute */
static int resolve(const char *dir, char **name)
{
	char *joined;

	if (!*name || (*name)[0] == '/')
		return 0;
	if (asprintf(&joined, "%s/%s", dir, *name) < 0)
		return -ENOMEM;
	free(*name);
	*name = joined;
	return 0;
}

/* Reads a *_file into *text; why names the key and the file. */
static int load_pem(const char *key, const char *file, char **text, struct fa_err *why)
{
	char esc[160];
	size_t len;
	int err;

	if (!file)
		return 0;
	err = read_file(file, text, &len);
	fa_escape(esc, sizeof(esc), file, strlen(file));
	if (err)
		return fa_err_set(why, err, "tls_server_config.%s %s: %s: %s", key, esc,
				  strerror(-err), read_advice(err));
	if (memchr(*text, '\0', len))
		return fa_err_set(why, -EINVAL,
				  "tls_server_config.%s %s: holds a NUL byte: give a PEM file", key,
				  esc);
	return 0;
}

int fa_webconfig_load(const char *path, struct fa_webconfig *out, struct fa_err *why)
{
	const char *slash = strrchr(path, '/');
	char *text, *dir;
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	err = read_file(path, &text, &len);
	if (err)
		return fa_err_set(why, err, "%s: %s", strerror(-err),
				  err == -ENOENT ? "give the path of a web config file (see "
						   "docs/prometheus.md)"
						 : read_advice(err));
	err = fa_webconfig_parse(text, len, out, why);
	free(text);
	if (err)
		return err;
	dir = slash ? strndup(path, slash == path ? 1 : slash - path) : strdup(".");
	if (!dir || resolve(dir, &out->cert_file) || resolve(dir, &out->key_file) ||
	    resolve(dir, &out->client_ca_file)) {
		free(dir);
		fa_webconfig_free(out);
		return fa_err_set(why, -ENOMEM, "out of memory");
	}
	free(dir);
	err = load_pem("cert_file", out->cert_file, &out->cert, why);
	if (!err)
		err = load_pem("key_file", out->key_file, &out->key, why);
	if (!err)
		err = load_pem("client_ca_file", out->client_ca_file, &out->client_ca, why);
	if (err)
		fa_webconfig_free(out);
	return err;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void fa_webconfig_free(struct fa_webconfig *wc)
{
	free(wc->cert);
	free_secret(wc->key);
	free(wc->client_ca);
	free(wc->cert_file);
	free(wc->key_file);
	free(wc->client_ca_file);
	for (int i = 0; i < FA_WEB_HEADER_MAX; i++)
		free(wc->headers[i]);
	for (size_t i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	free(wc->users);
	memset(wc, 0, sizeof(*wc));
}
