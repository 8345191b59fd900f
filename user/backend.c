// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Backends are probed before anything is attached, libbpf-tools style: every backend's
 * programs live in one object, and the ones not chosen are switched off with
 * bpf_program__set_autoload() before the load.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include "backend.h"
#include "privs.h"
#include "flowacct.skel.h"
#include "log.h"
#include "protos.h"
#include "util.h"

const char *const fa_backend_names[FA_BACKEND_MAX] = {
	[FA_BACKEND_AUTO] = "auto",
	[FA_BACKEND_FENTRY] = "fentry",
	[FA_BACKEND_KPROBE] = "kprobe",
	[FA_BACKEND_TRACEPOINT] = "tracepoint",
};

/* The length of a mapped array of n elements of `elem` bytes: whole pages. */
static size_t mapped_size(__u32 n, size_t elem)
{
	size_t page = sysconf(_SC_PAGESIZE);

	return ((size_t)n * elem + page - 1) / page * page;
}

#define slots_size(n)  mapped_size(n, sizeof(struct fa_slot))
#define health_size(n) mapped_size(n, sizeof(struct fa_health))

/* Hooks a kernel may lack without the backend losing bytes: sendfile() has gone
 * through tcp_sendmsg() since Linux 6.5, which removed tcp_sendpage(). */
static bool hook_optional(const char *func)
{
	return !strcmp(func, "tcp_sendpage");
}

/* A program's backend is its name's suffix (bpf/flowacct.bpf.c): a hook such as
 * inet_sock_set_state serves several backends, one program each. */
static enum fa_backend prog_backend(const struct bpf_program *prog)
{
	static const struct {
		const char *suffix;
		enum fa_backend backend;
	} suffixes[] = {
		{ "_tp", FA_BACKEND_TRACEPOINT }, { "_cg", FA_BACKEND_TRACEPOINT },
		{ "_fentry", FA_BACKEND_FENTRY }, { "_fexit", FA_BACKEND_FENTRY },
		{ "_kprobe", FA_BACKEND_KPROBE }, { "_kretprobe", FA_BACKEND_KPROBE },
	};
	const char *name = bpf_program__name(prog);
	size_t len = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t n = strlen(suffixes[i].suffix);

		if (len > n && !strcmp(name + len - n, suffixes[i].suffix))
			return suffixes[i].backend;
	}
	return FA_BACKEND_AUTO;
}

/* The cgroup sock_addr programs tell the tracepoint backend the peers of unconnected UDP
 * sockets; they are attached to the cgroup v2 root, not by the skeleton. */
static bool prog_is_cgroup(const struct bpf_program *prog)
{
	return !strncmp(bpf_program__section_name(prog), "cgroup/", 7);
}

static const char *prog_target(const struct bpf_program *prog)
{
	const char *slash = strchr(bpf_program__section_name(prog), '/');

	return slash ? slash + 1 : "";
}

static bool kallsyms_has(const char *func)
{
	char line[512], want[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	snprintf(want, sizeof(want), " %s", func);
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ' '); /* "addr type name [module]" */

		if (p && (p = strchr(p + 1, ' ')) && !strncmp(p, want, strlen(want)) &&
		    (p[strlen(want)] == '\n' || p[strlen(want)] == '\t' || p[strlen(want)] == ' '))
			found = true;
	}
	fclose(f);
	return found;
}

/* Does the kernel have the hook point of this program? */
static bool hook_exists(const struct bpf_program *prog, const struct btf *vmlinux)
{
	const char *sec = bpf_program__section_name(prog), *target = prog_target(prog);
	char name[128];

	if (!strncmp(sec, "tp_btf/", 7) || !strncmp(sec, "raw_tp/", 7)) {
		snprintf(name, sizeof(name), "btf_trace_%s", target);
		return vmlinux ? btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0
			       : !strncmp(sec, "raw_tp/", 7); /* by name, at attach */
	}
	if (!strncmp(sec, "fentry/", 7) || !strncmp(sec, "fexit/", 6))
		return vmlinux && btf__find_by_name_kind(vmlinux, target, BTF_KIND_FUNC) > 0;
	if (!strncmp(sec, "kprobe/", 7) || !strncmp(sec, "kretprobe/", 10))
		return kallsyms_has(target);
	return prog_is_cgroup(prog);
}

/* Loads (never attaches) an empty fentry program: refused with EPERM on some kernels. */
static int fentry_can_load(const struct btf *vmlinux)
{
	const struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
		{ .code = 0x95 }, /* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int fd, id = btf__find_by_name_kind(vmlinux, "tcp_sendmsg", BTF_KIND_FUNC);

	if (id <= 0)
		return -ENOENT;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "fa_probe", "GPL", insns, 2, &opts);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Side-effect-free check that backend b can work here; why says what is missing. */
static int backend_probe(enum fa_backend b, const struct btf *vmlinux,
			 const struct flowacct_bpf *skel, struct fa_err *why)
{
	struct bpf_program *prog;
	int err;

	if (!vmlinux && b != FA_BACKEND_KPROBE) {
		fa_err_set(why, 0, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return -ENOENT;
	}
	if (b == FA_BACKEND_KPROBE && access("/sys/bus/event_source/devices/kprobe/type", F_OK) &&
	    access("/sys/kernel/tracing/kprobe_events", F_OK) &&
	    access("/sys/kernel/debug/tracing/kprobe_events", F_OK)) {
		fa_err_set(why, 0, "the kernel is built without kprobes (CONFIG_KPROBES)");
		return -EOPNOTSUPP;
	}
	bpf_object__for_each_program (prog, skel->obj) {
		const char *target = prog_target(prog);

		if (prog_backend(prog) != b || hook_optional(target))
			continue;
		if (!hook_exists(prog, vmlinux)) {
			const char *sec = bpf_program__section_name(prog);

			fa_err_set(why, 0, "the kernel has no %s %s",
				   strstr(sec, "tp/") ? "tracepoint" : "function", target);
			return -ENOENT;
		}
	}
	if (b == FA_BACKEND_FENTRY || b == FA_BACKEND_KPROBE) {
		err = fa_protos_check(vmlinux, why);
		if (err)
			return err;
	}
	if (b == FA_BACKEND_FENTRY) {
		err = fentry_can_load(vmlinux);
		if (err) {
			fa_err_set(why, 0, "loading an fentry program was refused (%s)",
				   strerror(-err));
			return err;
		}
	}
	return 0;
}

static int attach_cgroup_progs(struct flowacct_bpf *skel, int cgroup_fd, struct fa_bpf *out,
			       struct fa_err *why)
{
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, skel->obj) {
		struct bpf_link *link;

		if (!prog_is_cgroup(prog) || !bpf_program__autoload(prog))
			continue;
		if (out->ncgroup_links == (int)ARRAY_SIZE(out->cgroup_links))
			return fa_err_set(why, -E2BIG, "too many cgroup programs");
		link = bpf_program__attach_cgroup(prog, cgroup_fd);
		if (!link)
			return fa_err_set(why, -errno,
					  "attaching %s to the cgroup v2 root failed (%s)",
					  bpf_program__name(prog), strerror(errno));
		out->cgroup_links[out->ncgroup_links++] = link;
	}
	return 0;
}

static int backend_load(const struct fa_backend_opts *opts, enum fa_backend b,
			const struct btf *vmlinux, struct fa_bpf *out, struct fa_err *why)
{
	struct flowacct_bpf *skel = flowacct_bpf__open();
	struct bpf_program *prog;
	__u8 one = 1;
	int err, cgroup_fd = -1;

	if (!skel)
		return fa_err_set(why, -errno, "opening the BPF object failed (%s)",
				  strerror(errno));
	skel->rodata->want = opts->want;
	skel->rodata->filter_pids = opts->npids > 0;
	skel->rodata->filter_cgroups = opts->ncgroup_fds;
	bpf_map__set_max_entries(skel->maps.cgroup_filter,
				 opts->ncgroup_fds > 0 ? opts->ncgroup_fds : 1);
	skel->rodata->max_slots = opts->max_flows;
	skel->rodata->audit = opts->audit;
	skel->rodata->filter_ifindex = opts->ifindex;
	skel->rodata->filter_netns = opts->ifindex_netns;
	bpf_map__set_max_entries(skel->maps.audit_socks, opts->audit ? 65536 : 1);
	bpf_map__set_max_entries(skel->maps.slots, opts->max_flows);
	bpf_map__set_max_entries(skel->maps.health, opts->max_flows);
	bpf_map__set_max_entries(skel->maps.flow_index, opts->max_flows);
	bpf_map__set_max_entries(skel->maps.free_slots, opts->max_flows);
	bpf_map__set_max_entries(skel->maps.dropped_flows,
				 opts->max_flows > 16384 ? opts->max_flows : 16384);
	bpf_map__set_max_entries(skel->maps.overflow,
				 opts->max_flows > 4096 ? opts->max_flows : 4096);
	bpf_map__set_max_entries(skel->maps.pid_filter, opts->npids > 0 ? opts->npids : 1);
	/* released sockets, read each interval: about as many as flows can leave in one */
	bpf_map__set_max_entries(skel->maps.released,
				 opts->max_flows > 16384 ? 2 * opts->max_flows : 32768);
	cgroup_fd = b == FA_BACKEND_TRACEPOINT ? fa_cgroup2_open() : -1;
	if (b == FA_BACKEND_TRACEPOINT && cgroup_fd < 0)
		fa_log("no cgroup v2 hierarchy is mounted: unconnected UDP sockets are shown per "
		       "socket, not per peer, and a closed UDP socket's flows stay until idle "
		       "(the tracepoint backend learns peers and closes from cgroup hooks)");
	bpf_object__for_each_program (prog, skel->obj) {
		bool on = prog_backend(prog) == b &&
			  (!hook_optional(prog_target(prog)) || hook_exists(prog, vmlinux)) &&
			  (!prog_is_cgroup(prog) || cgroup_fd >= 0);

		bpf_program__set_autoload(prog, on);
		if (on)
			fa_debug("%s: loading %s", fa_backend_names[b], bpf_program__name(prog));
	}

	err = flowacct_bpf__load(skel);
	if (err == -EPERM && cgroup_fd >= 0 && !fa_cap_effective(CAP_NET_ADMIN)) {
		fa_err_set(why, 0,
			   "loading the BPF programs failed: its cgroup programs need "
			   "CAP_NET_ADMIN");
		goto cleanup;
	}
	if (err) {
		fa_err_set(why, 0,
			   "loading the BPF programs failed (%s; -v shows the verifier log)",
			   strerror(-err));
		goto cleanup;
	}
	for (int i = 0; i < opts->ncgroup_fds; i++) {
		__u32 k = i;

		err = bpf_map_update_elem(bpf_map__fd(skel->maps.cgroup_filter), &k,
					  &opts->cgroup_fds[i], BPF_ANY);
		if (err) {
			err = -errno;
			fa_err_set(why, 0, "filling the cgroup filter failed (%s)", strerror(-err));
			goto cleanup;
		}
	}
	for (int i = 0; i < opts->npids; i++) {
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.pid_filter), &opts->pids[i], &one,
					  BPF_ANY);
		if (err) {
			err = -errno;
			fa_err_set(why, 0, "filling the PID filter failed (%s)", strerror(-err));
			goto cleanup;
		}
	}
	err = flowacct_bpf__attach(skel);
	if (err) {
		fa_err_set(why, 0, "attaching failed (%s)", strerror(-err));
		goto cleanup;
	}
	err = attach_cgroup_progs(skel, cgroup_fd, out, why);
	if (err)
		goto cleanup;
	/* the slots' counters are read in place each interval, without a system call */
	out->slots = mmap(NULL, slots_size(opts->max_flows), PROT_READ | PROT_WRITE, MAP_SHARED,
			  bpf_map__fd(skel->maps.slots), 0);
	if (out->slots == MAP_FAILED) {
		err = -errno;
		out->slots = NULL;
		fa_err_set(why, 0, "mapping the flow slots failed (%s)", strerror(-err));
		goto cleanup;
	}
	if (b != FA_BACKEND_KPROBE) {
		out->health = mmap(NULL, health_size(opts->max_flows), PROT_READ, MAP_SHARED,
				   bpf_map__fd(skel->maps.health), 0);
		if (out->health == MAP_FAILED) {
			err = -errno;
			out->health = NULL;
			fa_err_set(why, 0, "mapping the flows' TCP health failed (%s)",
				   strerror(-err));
			goto cleanup;
		}
	}
	out->skel = skel;
	out->backend = b;
	out->nslots = opts->max_flows;
	out->next_slot = &skel->bss->next_slot;
	out->index_fd = bpf_map__fd(skel->maps.flow_index);
	out->free_fd = bpf_map__fd(skel->maps.free_slots);
	out->overflow_fd = bpf_map__fd(skel->maps.overflow);
	out->stats_fd = bpf_map__fd(skel->maps.stats);
	out->other_fd = bpf_map__fd(skel->maps.other_traffic);
	/* without the tracepoint backend's cgroup hooks nothing fills it: not read */
	out->released_fd = b != FA_BACKEND_TRACEPOINT || cgroup_fd >= 0
				   ? bpf_map__fd(skel->maps.released)
				   : -1;
	out->audit_fd = opts->audit ? bpf_map__fd(skel->maps.audit_socks) : -1;
	out->max_flows = opts->max_flows;
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	return 0;

cleanup:
	for (int i = 0; i < out->ncgroup_links; i++)
		bpf_link__destroy(out->cgroup_links[i]);
	out->ncgroup_links = 0;
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	flowacct_bpf__destroy(skel);
	return err;
}

/* The probe needs the object's program list and the kernel's BTF; both are freed after. */
struct probe_ctx {
	struct btf *vmlinux;
	struct flowacct_bpf *skel;
};

static int probe_ctx_open(struct probe_ctx *p, struct fa_err *err)
{
	p->vmlinux = btf__load_vmlinux_btf();
	p->skel = flowacct_bpf__open();
	if (!p->skel)
		return fa_err_set(err, -errno, "cannot open the embedded BPF object: %s",
				  strerror(errno));
	return 0;
}

static void probe_ctx_close(struct probe_ctx *p)
{
	flowacct_bpf__destroy(p->skel);
	btf__free(p->vmlinux);
}

int fa_backend_probe(enum fa_backend b, struct fa_err *why)
{
	struct probe_ctx p;
	int err = probe_ctx_open(&p, why);

	if (!err)
		err = backend_probe(b, p.vmlinux, p.skel, why);
	probe_ctx_close(&p);
	return err;
}

int fa_backend_open(const struct fa_backend_opts *opts, struct fa_bpf *out, struct fa_err *err)
{
	static const char *const hooks[FA_BACKEND_MAX] = {
		[FA_BACKEND_FENTRY] = "fentry/fexit on tcp_sendmsg, udp(v6)_sendmsg, "
				      "tcp_cleanup_rbuf, skb_consume_udp",
		[FA_BACKEND_KPROBE] = "kprobes on tcp_sendmsg, udp(v6)_sendmsg, tcp_cleanup_rbuf, "
				      "skb_consume_udp",
		[FA_BACKEND_TRACEPOINT] = "tracepoints sock:sock_send_length, "
					  "sock:sock_recv_length, tcp:tcp_rcv_space_adjust",
	};
	enum fa_backend first = opts->backend, last = opts->backend;
	struct probe_ctx p;
	struct fa_err why;
	/* with -q, why backends were skipped is said only if none works: then it is the
	 * reason flowacct stops */
	char skipped[FA_BACKEND_MAX][sizeof(why.msg) + 64];
	int nskipped = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = probe_ctx_open(&p, err);
	if (ret)
		goto out;
	if (opts->backend == FA_BACKEND_AUTO) {
		first = FA_BACKEND_FENTRY;
		last = FA_BACKEND_TRACEPOINT;
	}
	for (enum fa_backend b = first; b <= last; b++) {
		ret = backend_probe(b, p.vmlinux, p.skel, &why);
		if (!ret)
			ret = backend_load(opts, b, p.vmlinux, out, &why);
		if (!ret) {
			fa_info("using backend %s (%s)", fa_backend_names[b], hooks[b]);
			break;
		}
		if (opts->backend != FA_BACKEND_AUTO) {
			fa_err_set(err, ret, "backend %s is not usable: %s", fa_backend_names[b],
				   why.msg);
			break;
		}
		snprintf(skipped[nskipped], sizeof(skipped[0]), "backend %s skipped: %s",
			 fa_backend_names[b], why.msg);
		if (!fa_quiet)
			fa_log("%s", skipped[nskipped]);
		nskipped++;
		fa_err_set(err, ret,
			   "no backend works on this kernel (tried fentry, kprobe, tracepoint; "
			   "see above)");
	}
	for (int i = 0; ret && fa_quiet && i < nskipped; i++)
		fa_log("%s", skipped[i]);
out:
	probe_ctx_close(&p);
	return ret;
}

void fa_backend_close(struct fa_bpf *bpf)
{
	for (int i = 0; i < bpf->ncgroup_links; i++)
		bpf_link__destroy(bpf->cgroup_links[i]);
	bpf->ncgroup_links = 0;
	if (bpf->slots)
		munmap(bpf->slots, slots_size(bpf->nslots));
	bpf->slots = NULL;
	if (bpf->health)
		munmap(bpf->health, health_size(bpf->nslots));
	bpf->health = NULL;
	flowacct_bpf__destroy(bpf->skel);
	bpf->skel = NULL;
}
