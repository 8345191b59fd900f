// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroup v2 paths of the layouts real hosts use, and what each says about who runs there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "cgname.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect(const char *path, enum fa_cg_kind kind, const char *id, const char *unit,
		   const char *pod, const char *shortname)
{
	struct fa_cg_name n;
	char buf[300];

	fa_cg_classify(path, &n);
	if (n.kind != kind)
		fail_msg("%s: kind %s, want %s", path, fa_cg_kind_names[n.kind],
			 fa_cg_kind_names[kind]);
	assert_string_equal(n.id, id);
	assert_string_equal(n.unit, unit);
	assert_string_equal(n.pod_uid, pod);
	assert_string_equal(fa_cg_short(&n, buf, sizeof(buf)), shortname);
}

static void test_systemd_units(void **state)
{
	(void)state;
	expect("/system.slice/sshd.service", FA_CG_SERVICE, "", "sshd.service", "", "sshd.service");
	expect("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", FA_CG_SERVICE,
	       "", "foo.service", "", "foo.service");
	expect("/user.slice/user-1000.slice/session-3.scope", FA_CG_SERVICE, "", "session-3.scope",
	       "", "session-3.scope");
	expect("/user.slice/user-1000.slice/user@1000.service/init.scope", FA_CG_SERVICE, "",
	       "init.scope", "", "init.scope");
	expect("/", FA_CG_NONE, "", "", "", "");
	expect("", FA_CG_NONE, "", "", "", "");
	expect("/system.slice", FA_CG_NONE, "", "", "", "");
	expect("/fa-test/plain", FA_CG_NONE, "", "", "", "");
}

static void test_docker_and_podman(void **state)
{
	(void)state;
	expect("/system.slice/docker-" ID ".scope", FA_CG_DOCKER, ID, "", "", "0123456789ab");
	expect("/docker/" ID, FA_CG_DOCKER, ID, "", "", "0123456789ab");
	/* systemd running inside the container: still the container */
	expect("/system.slice/docker-" ID ".scope/system.slice/nginx.service", FA_CG_DOCKER, ID, "",
	       "", "0123456789ab");
	expect("/machine.slice/libpod-" ID ".scope", FA_CG_PODMAN, ID, "", "", "0123456789ab");
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
	       ".scope/container",
	       FA_CG_PODMAN, ID, "", "", "0123456789ab");
	expect("/libpod_parent/libpod-" ID, FA_CG_PODMAN, ID, "", "", "0123456789ab");
	/* podman's monitor is not the container */
	expect("/machine.slice/libpod-conmon-" ID ".scope", FA_CG_SERVICE, "",
	       "libpod-conmon-" ID ".scope", "", "libpod-conmon-" ID ".scope");
	/* an id that is not 64 hex digits is no container */
	expect("/system.slice/docker-0123.scope", FA_CG_SERVICE, "", "docker-0123.scope", "",
	       "docker-0123.scope");
	expect("/system.slice/docker-" ID "Z.scope", FA_CG_SERVICE, "", "docker-" ID "Z.scope", "",
	       "docker-" ID "Z.scope");
	expect("/docker/" ID "/extra", FA_CG_DOCKER, ID, "", "", "0123456789ab");
}

static void test_kubernetes(void **state)
{
	(void)state;
	expect("/kubepods.slice/kubepods-burstable.slice/"
	       "kubepods-burstable-pod5f3c2a1e_8b7d_4c6e_9a0b_1234567890ab.slice/"
	       "cri-containerd-" ID ".scope",
	       FA_CG_CRI, ID, "", "5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab", "0123456789ab");
	expect("/kubepods.slice/kubepods-pod5f3c2a1e_8b7d_4c6e_9a0b_1234567890ab.slice/crio-" ID
	       ".scope",
	       FA_CG_CRI, ID, "", "5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab", "0123456789ab");
	expect("/kubepods/besteffort/pod5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab/" ID, FA_CG_CRI, ID,
	       "", "5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab", "0123456789ab");
	expect("/kubepods/pod5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab/" ID, FA_CG_CRI, ID, "",
	       "5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab", "0123456789ab");
	/* the pod's own cgroup (its pause process's parent) is no container */
	expect("/kubepods/pod5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab", FA_CG_NONE, "", "", "", "");
	/* a bare id outside kubepods and docker is nothing known */
	expect("/other/" ID, FA_CG_NONE, "", "", "", "");
}

static void test_lxc(void **state)
{
	(void)state;
	expect("/lxc.payload.web1", FA_CG_LXC, "", "web1", "", "web1");
	expect("/lxc.payload.web1/system.slice/sshd.service", FA_CG_LXC, "", "web1", "", "web1");
	expect("/lxc/db2", FA_CG_LXC, "", "db2", "", "db2");
	expect("/lxc.payload.", FA_CG_NONE, "", "", "", "");
}

/* Untrusted text: hostile names are parsed, bounded, never trusted as paths */
static void test_hostile(void **state)
{
	char big[2000];
	struct fa_cg_name n;

	(void)state;
	memset(big, 'a', sizeof(big) - 9);
	strcpy(big + sizeof(big) - 9, ".service");
	fa_cg_classify(big, &n);
	assert_int_equal(n.kind, FA_CG_SERVICE);
	assert_int_equal(strlen(n.unit), FA_CG_UNIT_LEN - 1);
	expect("/lxc.payload.\x1b[31mevil\n", FA_CG_LXC, "", "\x1b[31mevil\n", "",
	       "\x1b[31mevil\n");
	expect("//system.slice///a.service//", FA_CG_SERVICE, "", "a.service", "", "a.service");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemd_units), cmocka_unit_test(test_docker_and_podman),
		cmocka_unit_test(test_kubernetes),    cmocka_unit_test(test_lxc),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
