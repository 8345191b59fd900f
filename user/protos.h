/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The prototypes of the kernel functions the fentry and kprobe backends hook, checked in
 * the kernel's BTF before anything is loaded: a program that reads an argument from the
 * wrong place loads fine and counts wrong, so an unknown prototype refuses the backend.
 */
#ifndef FA_PROTOS_H
#define FA_PROTOS_H

#include <linux/types.h>
#include "flowacct.h"

struct btf;
struct fa_err;

/* The recvmsg prototype all of tcp_recvmsg, udp_recvmsg and udpv6_recvmsg have (enum
 * fa_recv_proto) into *recv, after checking the send functions too. 0, or -ENOENT /
 * -EOPNOTSUPP with the function and what it has in why. */
int fa_protos_check(const struct btf *btf, __u8 *recv, struct fa_err *why);

#endif /* FA_PROTOS_H */
