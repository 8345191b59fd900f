/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a cgroup v2 path says about who runs in it, by the layouts real hosts use:
 * systemd units, Docker, containerd/CRI and Kubernetes (systemd and cgroupfs drivers),
 * Podman, LXC. Pure: no I/O; the path is untrusted text (a container can name itself
 * anything) and is only parsed here, never printed unescaped by anyone.
 */
#ifndef FA_CGNAME_H
#define FA_CGNAME_H

#include <stddef.h>

enum fa_cg_kind {
	FA_CG_NONE, /* the root, or a path of no known layout */
	FA_CG_SERVICE, /* a systemd service or scope that is not a container: "sshd.service" */
	FA_CG_DOCKER,
	FA_CG_PODMAN,
	FA_CG_CRI, /* containerd/CRI-O, with or without Kubernetes */
	FA_CG_LXC,
	FA_CG_KIND_MAX,
};

extern const char *const fa_cg_kind_names[FA_CG_KIND_MAX]; /* "none", "service", "docker", ... */

#define FA_CG_ID_LEN   65 /* a 64-hex-digit container id and its NUL */
#define FA_CG_UNIT_LEN 256

struct fa_cg_name {
	enum fa_cg_kind kind;
	char id[FA_CG_ID_LEN]; /* containers: the full id ("" for LXC, which names instead) */
	char unit[FA_CG_UNIT_LEN]; /* services: the unit; LXC: the container's name */
	char pod_uid[40]; /* Kubernetes: the pod's uid, with dashes ("" outside a pod) */
};

/*
 * Classifies a cgroup path relative to the v2 root ("/system.slice/docker-<id>.scope").
 * The innermost match wins: a service inside a container's cgroup is the container's.
 */
void fa_cg_classify(const char *path, struct fa_cg_name *out);

/* The short form people use: a container id's first 12 digits, or the unit or name. */
const char *fa_cg_short(const struct fa_cg_name *n, char *buf, size_t len);

#endif /* FA_CGNAME_H */
