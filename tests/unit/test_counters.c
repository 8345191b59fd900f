// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The counters are defined once (user/counters.h, bpf/flowacct.h): the JSON schema, the
 * README's loss-counter table and docs/prometheus.md must name exactly that set, no more,
 * no fewer. Run from the tree's top directory, or with FA_ROOT set to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "counters.h"
#include "util.h"

#define MAX_NAMES 128

struct names {
	char *v[MAX_NAMES];
	size_t n;
};

static void names_add(struct names *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && !strncmp(s->v[i], name, len))
			return;
	assert_true(s->n < MAX_NAMES);
	s->v[s->n++] = strndup(name, len);
}

static bool names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static bool is_drop(const char *name)
{
	for (int i = 0; i < FA_DROP_MAX; i++)
		if (!strcmp(fa_drop_descs[i].name, name))
			return true;
	return false;
}

static bool is_count(const char *name)
{
	for (size_t i = 0; i < FA_NCOUNTS; i++)
		if (!strcmp(fa_count_descs[i].name, name))
			return true;
	return false;
}

/* Both ways: every drop in `found`, and nothing in `found` that is not one. */
static void assert_same_drops(const struct names *found, const char *where)
{
	for (int i = 0; i < FA_DROP_MAX; i++)
		if (!names_has(found, fa_drop_descs[i].name))
			fail_msg("%s does not name the loss counter %s", where,
				 fa_drop_descs[i].name);
	for (size_t i = 0; i < found->n; i++)
		if (!is_drop(found->v[i]))
			fail_msg("%s names %s, which is no loss counter", where, found->v[i]);
}

static char *slurp(const char *rel)
{
	const char *root = getenv("FA_ROOT") ? getenv("FA_ROOT") : ".";
	char path[4096];
	FILE *f;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the top of the tree or set FA_ROOT)", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, len + 1);
	assert_int_equal(fread(buf, 1, len, f), (size_t)len);
	fclose(f);
	return buf;
}

static json_t *schema_def(json_t *schema, const char *path0, const char *path1)
{
	json_t *o = json_object_get(json_object_get(schema, path0), path1);

	assert_non_null(o);
	return o;
}

static void test_schema_names_every_counter(void **state)
{
	char *text = slurp("docs/flowacct.schema.json");
	json_error_t jerr;
	json_t *schema = json_loads(text, 0, &jerr), *req, *props, *v;
	struct names drops = {};
	const char *key;
	size_t i;

	(void)state;
	assert_non_null(schema);
	req = json_object_get(schema_def(schema, "properties", "drops"), "required");
	json_array_foreach (req, i, v)
		names_add(&drops, json_string_value(v), strlen(json_string_value(v)));
	assert_same_drops(&drops, "the schema's drops");
	names_free(&drops);

	/* every counter twice (interval and _total); those always valid required */
	props = json_object_get(schema_def(schema, "definitions", "counters"), "properties");
	req = json_object_get(schema_def(schema, "definitions", "counters"), "required");
	assert_int_equal(json_object_size(props), 2 * FA_NCOUNTS);
	for (size_t k = 0; k < FA_NCOUNTS; k++) {
		char total[64];

		snprintf(total, sizeof(total), "%s_total", fa_count_descs[k].name);
		if (!json_object_get(props, fa_count_descs[k].name) ||
		    !json_object_get(props, total))
			fail_msg("the schema's counters lack %s or %s", fa_count_descs[k].name,
				 total);
	}
	json_object_foreach (props, key, v) {
		char base[64];
		size_t len = strlen(key);

		snprintf(base, sizeof(base), "%s", key);
		if (len > 6 && !strcmp(key + len - 6, "_total"))
			base[len - 6] = '\0';
		if (!is_count(base))
			fail_msg("the schema names a counter %s that flowacct does not have", key);
	}
	for (size_t k = 0; k < FA_NCOUNTS; k++) {
		bool required = false;

		json_array_foreach (req, i, v)
			required |= !strcmp(json_string_value(v), fa_count_descs[k].name);
		assert_int_equal(required, fa_count_descs[k].kind == FA_CK_BASE);
	}
	json_decref(schema);
	free(text);
}

/* The README's loss-counter table: its rows' first cells, after the line introducing it. */
static void test_readme_table_names_every_loss_counter(void **state)
{
	char *text = slurp("README.md"), *p = strstr(text, "The loss counters, in");
	struct names found = {};

	(void)state;
	assert_non_null(p);
	p = strstr(p, "\n|");
	assert_non_null(p);
	while (p && p[0] == '\n' && p[1] == '|') {
		char *line = p + 1, *end = strchr(line, '\n'), *cell_end = strchr(line + 1, '|');

		for (char *q = line; q < cell_end; q++) {
			char *close;

			if (*q != '`' || !(close = strchr(q + 1, '`')) || close > cell_end)
				continue;
			names_add(&found, q + 1, close - q - 1);
			q = close;
		}
		p = end;
	}
	assert_same_drops(&found, "README.md's loss-counter table");
	names_free(&found);
	free(text);
}

/* docs/prometheus.md: every flowacct_*_total it names is a counter flowacct exports. */
static void test_prometheus_doc_names_exactly_the_metrics(void **state)
{
	static const char *const per[] = { "process_", "flow_", "unmatched_" };
	/* counters that are neither a row's counts nor a loss (prom_render.c) */
	static const char *const others[] = { "other_bytes" };
	char *text = slurp("docs/prometheus.md");
	struct names drops = {}, counts = {};

	(void)state;
	for (char *p = text; (p = strstr(p, "flowacct_"));) {
		char *s = p + strlen("flowacct_"), *e = s;
		char name[128];

		while (islower((unsigned char)*e) || *e == '_')
			e++;
		p = e;
		if (e - s < 7 || strncmp(e - 6, "_total", 6) || e - s - 6 >= (long)sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(e - s - 6), s);
		for (size_t i = 0; i < ARRAY_SIZE(others); i++)
			if (!strcmp(name, others[i]))
				goto next;
		for (size_t i = 0; i < ARRAY_SIZE(per); i++) {
			if (!strncmp(name, per[i], strlen(per[i])) &&
			    is_count(name + strlen(per[i]))) {
				names_add(&counts, name + strlen(per[i]),
					  strlen(name) - strlen(per[i]));
				goto next;
			}
		}
		if (is_count(name))
			names_add(&counts, name, strlen(name));
		else
			names_add(&drops, name, strlen(name));
	next:;
	}
	assert_same_drops(&drops, "docs/prometheus.md");
	for (size_t k = 0; k < FA_NCOUNTS; k++)
		if (!names_has(&counts, fa_count_descs[k].name))
			fail_msg("docs/prometheus.md names no flowacct_process_%s_total",
				 fa_count_descs[k].name);
	names_free(&drops);
	names_free(&counts);
	free(text);
}

static void test_every_counter_has_its_own_help(void **state)
{
	(void)state;
	for (int i = 0; i < FA_DROP_MAX; i++) {
		assert_non_null(fa_drop_descs[i].name);
		assert_true(strlen(fa_drop_descs[i].help) > 20);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(fa_drop_descs[i].help, fa_drop_descs[j].help);
	}
	for (size_t k = 0; k < FA_NCOUNTS; k++)
		assert_true(strlen(fa_count_descs[k].help) > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_names_every_counter),
		cmocka_unit_test(test_readme_table_names_every_loss_counter),
		cmocka_unit_test(test_prometheus_doc_names_exactly_the_metrics),
		cmocka_unit_test(test_every_counter_has_its_own_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
