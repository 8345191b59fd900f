// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Container names from runtimes' state on disk, under a host root built here: Docker's
 * config.v2.json (with daemon.json moving its data-root), containers/storage's
 * containers.json, the kubelet's log directories; a miss that is named later.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "rtnames.h"

#define ID_D "d0c0000000000000000000000000000000000000000000000000000000000001"
#define ID_P "b0d0000000000000000000000000000000000000000000000000000000000002"
#define ID_K "c210000000000000000000000000000000000000000000000000000000000003"
#define ID_S "5a40000000000000000000000000000000000000000000000000000000000004"
#define UID  "5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab"

static char root[256];

static void put_file(const char *rel, const char *text)
{
	char path[1024], cmd[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/fa-rtnames-XXXXXX");
	assert_non_null(mkdtemp(root));
	put_file("etc/docker/daemon.json", "{\"data-root\": \"/srv/docker\"}");
	put_file("srv/docker/containers/" ID_D "/config.v2.json",
		 "{\"ID\":\"" ID_D "\",\"Name\":\"/web\",\"Config\":{\"Hostname\":\"x\"}}");
	put_file("var/lib/containers/storage/overlay-containers/containers.json",
		 "[{\"id\":\"" ID_P "\",\"names\":[\"db\",\"alias\"]},"
		 "{\"id\":\"" ID_S "\",\"names\":[\"evil\\\"\\n\\u001b[2J\"]}]");
	put_file("var/log/containers/api-7d9f_shop_server-" ID_K ".log", "");
	put_file("var/log/pods/shop_api-7d9f_" UID "/server/0.log", "");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static const char *lookup(struct fa_rtnames *r, enum fa_cg_kind kind, const char *id,
			  const char *pod)
{
	static char buf[FA_RT_NAME_LEN];
	struct fa_cg_name n = { .kind = kind };

	snprintf(n.id, sizeof(n.id), "%s", id);
	snprintf(n.pod_uid, sizeof(n.pod_uid), "%s", pod);
	return fa_rtnames_lookup(r, &n, buf, sizeof(buf)) ? buf : NULL;
}

static void test_names_from_each_runtime(void **state)
{
	struct fa_rtnames *r = fa_rtnames_new(root);
	const char *s;

	(void)state;
	assert_non_null(r);
	assert_string_equal(lookup(r, FA_CG_DOCKER, ID_D, ""), "web");
	assert_string_equal(lookup(r, FA_CG_PODMAN, ID_P, ""), "db");
	assert_string_equal(lookup(r, FA_CG_CRI, ID_K, UID), "shop/api-7d9f/server");
	/* a pod's container without a log (its sandbox): the pod, and which container */
	assert_string_equal(lookup(r, FA_CG_CRI, ID_S, UID), "shop/api-7d9f/5a4000000000");
	/* the raw name, for the outputs to escape: nothing is trusted or cleaned here */
	s = lookup(r, FA_CG_PODMAN, ID_S, "");
	assert_non_null(s);
	assert_string_equal(s, "evil\"\n\x1b[2J");
	assert_null(lookup(r, FA_CG_DOCKER, ID_P, ""));
	assert_null(lookup(r, FA_CG_SERVICE, "", ""));
	fa_rtnames_free(r);
}

/* A container named after its first packet: the miss is asked again after the rescan
 * pause, not before and not never. */
static void test_a_miss_is_looked_up_again(void **state)
{
	struct fa_rtnames *r = fa_rtnames_new(root);

	(void)state;
	assert_null(lookup(r, FA_CG_DOCKER, ID_K, ""));
	assert_null(lookup(r, FA_CG_PODMAN, ID_K, ""));
	put_file("srv/docker/containers/" ID_K "/config.v2.json", "{\"Name\":\"/late\"}");
	put_file("var/lib/containers/storage/overlay-containers/containers.json",
		 "[{\"id\":\"" ID_K "\",\"names\":[\"later\"]}]");
	assert_null(lookup(r, FA_CG_DOCKER, ID_K, "")); /* not before the pause */
	usleep((useconds_t)(FA_RT_RESCAN_S * 1e6) + 100000);
	assert_string_equal(lookup(r, FA_CG_DOCKER, ID_K, ""), "late");
	assert_string_equal(lookup(r, FA_CG_PODMAN, ID_K, ""), "later");
	fa_rtnames_free(r);
}

/* Broken state files name nothing and break nothing. */
static void test_broken_state_is_no_name(void **state)
{
	struct fa_rtnames *r;

	(void)state;
	put_file("srv/docker/containers/" ID_P "/config.v2.json", "{\"Name\": ");
	put_file("var/lib/containers/storage/overlay-containers/containers.json",
		 "{\"not\": \"a list\"}");
	r = fa_rtnames_new(root);
	assert_null(lookup(r, FA_CG_DOCKER, ID_P, ""));
	assert_null(lookup(r, FA_CG_PODMAN, ID_P, ""));
	fa_rtnames_free(r);
	r = fa_rtnames_new("/nonexistent-host-root");
	assert_null(lookup(r, FA_CG_DOCKER, ID_D, ""));
	fa_rtnames_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_from_each_runtime),
		cmocka_unit_test(test_a_miss_is_looked_up_again),
		cmocka_unit_test(test_broken_state_is_no_name),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
