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

/* 0 if every hooked function has the prototype the programs read it by; else -ENOENT or
 * -EOPNOTSUPP with the function and what it has in why. */
int fa_protos_check(const struct btf *btf, struct fa_err *why);

#endif /* FA_PROTOS_H */
