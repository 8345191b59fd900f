/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every difference between kernel versions that the BPF programs handle, in one place,
 * each with the kernel change it follows. User space finds out which case holds before
 * the load (from the kernel's BTF) and sets the read-only values below; the verifier
 * then sees constants, and the branches for other kernels are never loaded.
 *
 * Handled elsewhere, by what is attached rather than how it is read:
 *  - Linux 6.5, "splice, net: Use sendmsg(MSG_SPLICE_PAGES) rather than ->sendpage()":
 *    tcp_sendpage() is gone and sendfile() goes through tcp_sendmsg(); its program is
 *    only loaded where the function exists (hook_optional() in user/backend.c).
 *  - closing a socket zeroes skc_num while received data may still be queued, so the
 *    local port is read from inet_sport (flow_key() in flowacct.bpf.c).
 */
#ifndef FA_CORE_FIXES_BPF_H
#define FA_CORE_FIXES_BPF_H

#include "flowacct.h"

/*
 * The recvmsg functions' prototype (enum fa_recv_proto):
 *  - Linux 5.19, "net: remove noblock parameter from recvmsg() entities": before it,
 *    `int nonblock` came before `flags`, so flags was the 5th argument, not the 4th, and
 *    the return value followed 6 arguments.
 *  - a later kernel (this project's 6.18 machine has it) dropped `int *addr_len`: the
 *    return value follows 4 arguments.
 * Reading the wrong slot would count MSG_PEEK reads and take an argument for the
 * number of bytes, silently.
 */
const volatile __u8 recv_proto = FA_RECV_ADDR_LEN;

/*
 * fexit on a recvmsg function: its flags and return value, from the raw context. Each
 * case loads from fixed offsets, kept apart by barrier_var(): merged, the compiler would
 * load from a computed offset, which the verifier refuses for a context pointer, and
 * would read past the arguments of the kernels without the 6-argument prototype.
 */
static __always_inline void recv_fexit_args(const unsigned long long *ctx, int *flags, int *ret)
{
	unsigned long long f, r;

	if (recv_proto == FA_RECV_NONBLOCK) {
		f = ctx[4];
		r = ctx[6];
		barrier_var(f);
		barrier_var(r);
	} else if (recv_proto == FA_RECV_FLAGS) {
		f = ctx[3];
		r = ctx[4];
		barrier_var(f);
		barrier_var(r);
	} else {
		f = ctx[3];
		r = ctx[5];
		barrier_var(f);
		barrier_var(r);
	}
	*flags = f;
	*ret = r;
}

/* kprobe on a recvmsg function: its flags argument (both registers are read, from fixed
 * offsets, for the same reason) */
static __always_inline int recv_kprobe_flags(struct pt_regs *ctx)
{
	unsigned long p4 = PT_REGS_PARM4(ctx), p5 = PT_REGS_PARM5(ctx);

	barrier_var(p4);
	barrier_var(p5);
	return recv_proto == FA_RECV_NONBLOCK ? p5 : p4;
}

#endif /* FA_CORE_FIXES_BPF_H */
