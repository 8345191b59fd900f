/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The names container runtimes give their containers, read from the state they keep on
 * disk: no runtime API, socket or daemon is asked. Sources, under the host's root:
 *   Docker   <data-root>/containers/<id>/config.v2.json "Name" (data-root from
 *            /etc/docker/daemon.json, else /var/lib/docker)
 *   Podman   /var/lib/containers/storage/overlay-containers/containers.json "names"
 *            (CRI-O keeps its containers there too)
 *   kubelet  /var/log/containers/<pod>_<namespace>_<container>-<id>.log, and
 *            /var/log/pods/<namespace>_<pod>_<uid>/ for a pod's other containers
 * Everything read is untrusted text, cut to FA_RT_NAME_LEN and escaped by whoever prints.
 */
#ifndef FA_RTNAMES_H
#define FA_RTNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include "cgname.h"

#define FA_RT_NAME_LEN 256

struct fa_rtnames;

/* host_root: where the host's / is ("/" unless flowacct runs in a container with the
 * host mounted elsewhere). NULL on ENOMEM. */
struct fa_rtnames *fa_rtnames_new(const char *host_root);
void fa_rtnames_free(struct fa_rtnames *r);

/*
 * The runtime's name for the container n describes into buf: "web" (Docker, Podman),
 * "namespace/pod/container" (Kubernetes). false if no runtime state names it; a miss
 * looks again, at most once every FA_RT_RESCAN_S seconds per source, since a container
 * may be named a moment after its first packet.
 */
#define FA_RT_RESCAN_S 2.0
bool fa_rtnames_lookup(struct fa_rtnames *r, const struct fa_cg_name *n, char *buf, size_t len);

#endif /* FA_RTNAMES_H */
