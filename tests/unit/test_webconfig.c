// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --web-config's parser: the exporter toolkit's example file and every key of the format
 * read as the toolkit reads them (defaults, booleans, durations, headers, users), and
 * every way a file can be wrong refused with a line that names the key; the loader's
 * relative file names and unreadable files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"
#include "util.h"
#include "webconfig.h"

#define HASH_Y "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"
#define HASH_B "$2b$12$OkmC2Gs3M7OF8trEp77kZOm2aOMdWu73rknt9Kt1TtQJyYBOyEYj."

static int parse(const char *text, struct fa_webconfig *wc, struct fa_err *why)
{
	memset(why, 0, sizeof(*why));
	return fa_webconfig_parse(text, strlen(text), wc, why);
}

/* docs/web-config.yml of the exporter toolkit, with our rate limit */
static void test_the_toolkits_example(void **state)
{
	struct fa_webconfig wc;
	struct fa_err why;

	(void)state;
	assert_int_equal(parse("# TLS and basic authentication configuration example.\n"
			       "tls_server_config:\n"
			       "  cert_file: server.crt\n"
			       "  key_file: server.key\n"
			       "basic_auth_users:\n"
			       "  alice: " HASH_Y "\n"
			       "  bob: '" HASH_B "'\n"
			       "rate_limit:\n"
			       "  interval: \"1s\"\n"
			       "  burst: 20\n",
			       &wc, &why),
			 0);
	assert_true(wc.tls);
	assert_string_equal(wc.cert_file, "server.crt"); /* pure: not resolved here */
	assert_string_equal(wc.key_file, "server.key");
	assert_null(wc.cert);
	assert_int_equal(wc.nusers, 2);
	assert_string_equal(wc.users[0].name, "alice");
	assert_string_equal(wc.users[0].hash, HASH_Y);
	assert_string_equal(wc.users[1].name, "bob");
	assert_string_equal(wc.users[1].hash, HASH_B);
	/* the toolkit's defaults */
	assert_int_equal(wc.min_version, FA_TLS12);
	assert_int_equal(wc.max_version, FA_TLS13);
	assert_true(wc.prefer_server_cipher_suites);
	assert_true(wc.http2);
	assert_int_equal(wc.client_auth, FA_CLIENT_AUTH_NONE);
	assert_true(wc.rate_interval_s == 1.0);
	assert_int_equal(wc.rate_burst, 20);
	fa_webconfig_free(&wc);
	assert_null(wc.users);
}

static void test_every_key(void **state)
{
	struct fa_webconfig wc;
	struct fa_err why;

	(void)state;
	assert_int_equal(parse("tls_server_config:\n"
			       "  cert: |\n"
			       "    -----BEGIN CERTIFICATE-----\n"
			       "    MIIB\n"
			       "    -----END CERTIFICATE-----\n"
			       "  key: \"-----BEGIN PRIVATE KEY-----\"\n"
			       "  client_ca_file: /etc/ca.pem\n"
			       "  client_auth_type: RequireAndVerifyClientCert\n"
			       "  min_version: TLS13\n"
			       "  max_version: TLS13\n"
			       "  prefer_server_cipher_suites: false\n"
			       "  cipher_suites: []\n"
			       "  curve_preferences:\n"
			       "  client_allowed_sans: ~\n"
			       "http_server_config:\n"
			       "  http2: no\n"
			       "  headers:\n"
			       "    X-Frame-Options: sameorigin\n"
			       "    X-Content-Type-Options: nosniff\n"
			       "    Strict-Transport-Security: max-age=31536000\n"
			       "    X-XSS-Protection: ''\n"
			       "basic_auth_users:\n"
			       "rate_limit:\n"
			       "  interval: 1m30.5s\n"
			       "  burst: 1\n",
			       &wc, &why),
			 0);
	assert_true(wc.tls);
	assert_string_equal(wc.cert, "-----BEGIN CERTIFICATE-----\nMIIB\n"
				     "-----END CERTIFICATE-----\n");
	assert_string_equal(wc.key, "-----BEGIN PRIVATE KEY-----");
	assert_string_equal(wc.client_ca_file, "/etc/ca.pem");
	assert_int_equal(wc.client_auth, FA_CLIENT_AUTH_REQUIRE_AND_VERIFY);
	assert_int_equal(wc.min_version, FA_TLS13);
	assert_false(wc.prefer_server_cipher_suites);
	assert_false(wc.http2);
	assert_string_equal(wc.headers[FA_WEB_HEADER_FRAME_OPTIONS], "sameorigin");
	assert_string_equal(wc.headers[FA_WEB_HEADER_CONTENT_TYPE_OPTIONS], "nosniff");
	assert_string_equal(wc.headers[FA_WEB_HEADER_HSTS], "max-age=31536000");
	assert_null(wc.headers[FA_WEB_HEADER_XSS_PROTECTION]); /* blank: unset */
	assert_null(wc.headers[FA_WEB_HEADER_CSP]);
	assert_int_equal(wc.nusers, 0);
	assert_true(wc.rate_interval_s == 90.5);
	fa_webconfig_free(&wc);
}

/* The toolkit serves plain HTTP unless a TLS setting names a certificate, a key, a CA
 * or a client policy; an empty file or document is no setting at all. */
static void test_what_turns_tls_on(void **state)
{
	static const struct {
		const char *text;
		bool tls;
	} cases[] = {
		{ "", false },
		{ "# nothing\n", false },
		{ "---\n", false },
		{ "tls_server_config:\n", false },
		{ "tls_server_config:\n  min_version: TLS13\n", false },
		{ "basic_auth_users:\n  alice: " HASH_Y "\n", false },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n", true },
	};
	struct fa_webconfig wc;
	struct fa_err why;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (parse(cases[i].text, &wc, &why))
			fail_msg("%s: %s", cases[i].text, why.msg);
		assert_int_equal(wc.tls, cases[i].tls);
		fa_webconfig_free(&wc);
	}
}

static void test_every_way_to_be_wrong(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "tls_server_config: [\n", "line 2, column 1: " },
		{ "a: b: c\n", "not valid YAML" },
		{ "- a\n", "line 1: the file: expected a mapping" },
		{ "tls_server_config:\n  certfile: x\n",
		  "line 2: tls_server_config.certfile: unknown key" },
		{ "web_config:\n", "line 1: web_config: unknown key" },
		{ "tls_server_config:\n  cert_file: a\n  cert_file: b\n",
		  "line 3: tls_server_config.cert_file: given twice" },
		{ "tls_server_config:\n  cert_file: [a]\n",
		  "tls_server_config.cert_file: expected a single value" },
		{ "tls_server_config:\n  cert_file: \"a\\0b\"\n",
		  "tls_server_config.cert_file: holds a NUL byte" },
		{ "tls_server_config:\n  key_file: k\n",
		  "tls_server_config: no cert_file (or cert)" },
		{ "tls_server_config:\n  cert_file: c\n",
		  "tls_server_config: no key_file (or key)" },
		{ "tls_server_config:\n  cert: c\n  cert_file: c\n  key_file: k\n",
		  "cert and cert_file exclude each other" },
		{ "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n",
		  "a client CA without client_auth_type" },
		{ "tls_server_config:\n  cert_file: c\n  key_file: k\n"
		  "  client_auth_type: RequireAndVerifyClientCert\n",
		  "RequireAndVerifyClientCert needs client_ca_file" },
		{ "tls_server_config:\n  client_auth_type: Always\n",
		  "client_auth_type: expected NoClientCert, RequestClientCert" },
		{ "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n"
		  "  max_version: TLS12\n",
		  "min_version TLS13 is above max_version TLS12" },
		{ "tls_server_config:\n  min_version: TLS14\n",
		  "min_version: expected TLS10, TLS11, TLS12, TLS13" },
		{ "tls_server_config:\n  prefer_server_cipher_suites: maybe\n",
		  "prefer_server_cipher_suites: expected true or false" },
		{ "tls_server_config:\n  prefer_server_cipher_suites: 'true'\n",
		  "expected true or false" },
		{ "tls_server_config:\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
		  "tls_server_config.cipher_suites: not supported by flowacct" },
		{ "tls_server_config:\n  client_allowed_sans: [a]\n", "not supported by flowacct" },
		{ "http_server_config:\n  headers:\n    Server: x\n",
		  "http_server_config.headers.Server: this header cannot be set" },
		{ "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
		  "expected deny or sameorigin" },
		{ "http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
		  "expected nosniff" },
		{ "http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: "
		  "a\"\n",
		  "holds a control character" },
		{ "basic_auth_users:\n  alice: s3cret\n",
		  "line 2: basic_auth_users.alice: not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: $1$abc$0123456789012345678901\n",
		  "not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: $2x$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/"
		  "42V2pdJlUprsJPze\n",
		  "not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: $2y$03$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/"
		  "42V2pdJlUprsJPze\n",
		  "not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: " HASH_Y "x\n", "not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: " HASH_Y "\n  alice: " HASH_B "\n",
		  "line 3: basic_auth_users.alice: given twice" },
		{ "basic_auth_users:\n  'a:b': " HASH_Y "\n", "has no ':'" },
		{ "basic_auth_users:\n  \"\\e[2J\": x\n", "basic_auth_users.\\x1b[2J: " },
		{ "basic_auth_users: [alice]\n", "expected a mapping (user: bcrypt hash)" },
		{ "rate_limit:\n  interval: 1\n", "rate_limit.interval: expected a duration" },
		{ "rate_limit:\n  interval: 1x\n", "expected a duration" },
		{ "rate_limit:\n  interval: -1s\n", "expected a duration" },
		{ "rate_limit:\n  interval: 1s\n", "rate_limit: burst must be at least 1" },
		{ "rate_limit:\n  burst: -1\n", "rate_limit.burst: expected a whole number" },
		{ "rate_limit:\n  burst: 2x\n", "expected a whole number" },
		{ "tls_server_config: {}\n---\ntls_server_config: {}\n",
		  "line 3: a second YAML document" },
	};
	struct fa_webconfig wc;
	struct fa_err why;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = parse(bad[i].text, &wc, &why);

		if (rc != -EINVAL || !strstr(why.msg, bad[i].why))
			fail_msg("%s: rc %d, \"%s\" does not say \"%s\"", bad[i].text, rc, why.msg,
				 bad[i].why);
		assert_null(strchr(why.msg, '\n'));
		assert_null(wc.users); /* nothing left to free */
	}
}

/* An alias that names its own ancestor is a cycle in libyaml's tree; the walk never
 * follows it further than the format's depth. */
static void test_aliases_cannot_loop(void **state)
{
	struct fa_webconfig wc;
	struct fa_err why;

	(void)state;
	assert_int_equal(parse("&a [*a]\n", &wc, &why), -EINVAL);
	assert_int_equal(parse("x: &a {y: *a}\n", &wc, &why), -EINVAL);
	assert_int_equal(parse("tls_server_config: &t\n  cert_file: a\n  key_file: b\n"
			       "http_server_config: *t\n",
			       &wc, &why),
			 -EINVAL);
	assert_non_null(strstr(why.msg, "http_server_config.cert_file: unknown key"));
	assert_int_equal(parse("u: &h " HASH_Y "\nbasic_auth_users:\n  alice: *h\n", &wc, &why),
			 -EINVAL); /* u is unknown; the alias itself is fine */
	assert_int_equal(parse("basic_auth_users:\n  alice: &h " HASH_Y "\n  bob: *h\n", &wc, &why),
			 0);
	assert_int_equal(wc.nusers, 2);
	assert_string_equal(wc.users[1].hash, HASH_Y);
	fa_webconfig_free(&wc);
}

static char dir[64];

static void put(const char *name, const char *text, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* Relative names start at the web config's directory, as in the toolkit, and the PEM
 * files are read into memory. */
static void test_load_reads_the_files(void **state)
{
	struct fa_webconfig wc;
	struct fa_err why = {};
	char path[128], want[256];

	(void)state;
	put("cert.pem", "CERT", 0644);
	put("key.pem", "KEY", 0600);
	snprintf(want, sizeof(want),
		 "tls_server_config:\n  cert_file: cert.pem\n  key_file: %s/key.pem\n"
		 "  client_ca: CA\n  client_auth_type: VerifyClientCertIfGiven\n",
		 dir);
	put("web.yml", want, 0644);
	snprintf(path, sizeof(path), "%s/web.yml", dir);
	assert_int_equal(fa_webconfig_load(path, &wc, &why), 0);
	snprintf(want, sizeof(want), "%s/cert.pem", dir);
	assert_string_equal(wc.cert_file, want);
	assert_string_equal(wc.cert, "CERT");
	assert_string_equal(wc.key, "KEY");
	assert_string_equal(wc.client_ca, "CA");
	assert_int_equal(wc.client_auth, FA_CLIENT_AUTH_VERIFY_IF_GIVEN);
	fa_webconfig_free(&wc);

	put("web.yml", "tls_server_config:\n  cert_file: nope.pem\n  key_file: key.pem\n", 0644);
	assert_int_equal(fa_webconfig_load(path, &wc, &why), -ENOENT);
	snprintf(want, sizeof(want), "tls_server_config.cert_file %s/nope.pem: No such file", dir);
	if (!strstr(why.msg, want))
		fail_msg("\"%s\" does not say \"%s\"", why.msg, want);

	snprintf(path, sizeof(path), "%s/none.yml", dir);
	assert_int_equal(fa_webconfig_load(path, &wc, &why), -ENOENT);
	assert_non_null(strstr(why.msg, "give the path of a web config file"));
	assert_int_equal(fa_webconfig_load(dir, &wc, &why), -EINVAL);
	assert_non_null(strstr(why.msg, "give a regular file"));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fa-webconfig-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_toolkits_example),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_what_turns_tls_on),
		cmocka_unit_test(test_every_way_to_be_wrong),
		cmocka_unit_test(test_aliases_cannot_loop),
		cmocka_unit_test(test_load_reads_the_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
