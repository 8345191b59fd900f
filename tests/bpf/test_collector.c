// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The collector against real BPF maps of the same shape as the kernel side's (needs
 * root, like everything BPF): interval deltas, totals, eviction of exited processes
 * without losing a byte, unattributed bytes, v4-mapped addresses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"

struct fixture {
	struct fa_bpf bpf;
	struct fa_collector *c;
	int ncpus;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->bpf.flows_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "flows", sizeof(struct fa_flow_key),
					 sizeof(struct fa_flow_value), 64, NULL);
	f->bpf.overflow_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "overflow", sizeof(__u32),
					    sizeof(struct fa_flow_value), 64, NULL);
	f->bpf.stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "stats", sizeof(__u32),
					 sizeof(__u64), FA_STAT_MAX, NULL);
	f->bpf.backend = FA_BACKEND_TRACEPOINT;
	f->bpf.max_flows = 64;
	if (f->bpf.flows_fd < 0 || f->bpf.overflow_fd < 0 || f->bpf.stats_fd < 0) {
		fprintf(stderr, "creating BPF maps failed (%s): these tests need root\n",
			strerror(errno));
		return -1;
	}
	f->ncpus = libbpf_num_possible_cpus();
	f->c = fa_collector_new(&f->bpf, NULL);
	*state = f;
	return f->c ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fa_collector_free(f->c);
	close(f->bpf.flows_fd);
	close(f->bpf.overflow_fd);
	close(f->bpf.stats_fd);
	free(f);
	return 0;
}

static struct fa_flow_key key_of(__u32 pid, __u16 lport)
{
	struct fa_flow_key k = { .pid = pid, .lport = lport, .rport = 443,
				 .proto = FA_PROTO_TCP, .family = FA_FAMILY_IPV4 };

	k.laddr[0] = 10;
	k.raddr[0] = 192;
	return k;
}

static void put(int fd, const void *key, __u64 rx, __u64 tx, const char *comm)
{
	struct fa_flow_value v = { .bytes = { rx, tx }, .calls = { rx ? 1 : 0, tx ? 1 : 0 },
				   .uid = 1000 };

	snprintf(v.comm, sizeof(v.comm), "%s", comm);
	assert_int_equal(bpf_map_update_elem(fd, key, &v, BPF_ANY), 0);
}

static const struct fa_flow *find(const struct fa_snapshot *s, __u32 pid, __u16 lport)
{
	for (size_t i = 0; i < s->nflows; i++)
		if (s->flows[i].proc.pid == pid && s->flows[i].tuple.lport == lport)
			return &s->flows[i];
	return NULL;
}

static const struct fa_overflow *find_overflow(const struct fa_snapshot *s, __u32 pid)
{
	for (size_t i = 0; i < s->noverflow; i++)
		if (s->overflow[i].proc.pid == pid)
			return &s->overflow[i];
	return NULL;
}

static void test_interval_deltas_add_up_to_totals(void **state)
{
	struct fixture *f = *state;
	struct fa_flow_key a = key_of(getpid(), 1000);
	__u32 pid = getpid();
	struct fa_snapshot s;
	const struct fa_flow *r;
	const struct fa_overflow *o;

	put(f->bpf.flows_fd, &a, 100, 7, "curl");
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	r = find(&s, pid, 1000);
	assert_non_null(r);
	assert_int_equal(r->delta.rx_bytes, 100);
	assert_int_equal(r->total.rx_bytes, 100);
	assert_string_equal(r->proc.comm, "curl");
	assert_int_equal(r->proc.uid, 1000);
	assert_int_equal(s.nflows, 1);
	assert_int_equal(s.nprocs, 1);
	fa_snapshot_free(&s);

	put(f->bpf.flows_fd, &a, 250, 7, "renamed"); /* the name is kept from first sight */
	put(f->bpf.overflow_fd, &pid, 5, 6, "curl");
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	r = find(&s, pid, 1000);
	assert_int_equal(r->delta.rx_bytes, 150);
	assert_int_equal(r->delta.tx_bytes, 0);
	assert_int_equal(r->total.rx_bytes, 250);
	assert_string_equal(r->proc.comm, "curl");
	o = find_overflow(&s, pid);
	assert_non_null(o);
	assert_int_equal(o->delta.tx_bytes, 6);
	assert_int_equal(s.procs[0].delta.rx_bytes, 155); /* the process: flow and overflow */
	assert_int_equal(s.procs[0].nflows, 1);
	assert_int_equal(s.delta.rx_bytes, 155);
	assert_int_equal(s.total.rx_bytes, 255);
	assert_int_equal(s.total.tx_bytes, 13);
	assert_int_equal(s.nprocs, 1);
	fa_snapshot_free(&s);

	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	assert_int_equal(s.delta.rx_bytes, 0);
	assert_int_equal(s.total.rx_bytes, 255);
	fa_snapshot_free(&s);
}

static void test_unattributed_bytes_count_in_totals(void **state)
{
	struct fixture *f = *state;
	__u64 *vals = calloc(f->ncpus, sizeof(__u64));
	__u32 idx = FA_STAT_UNATTRIBUTED_TX_BYTES;
	struct fa_snapshot s;

	vals[0] = 40;
	vals[f->ncpus - 1] += 2;
	assert_int_equal(bpf_map_update_elem(f->bpf.stats_fd, &idx, vals, BPF_ANY), 0);
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	assert_int_equal(s.drops[FA_DROP_UNATTRIBUTED_TX_BYTES], 42);
	assert_int_equal(s.delta.tx_bytes, 42);
	assert_int_equal(s.total.tx_bytes, 42);
	fa_snapshot_free(&s);
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	assert_int_equal(s.delta.tx_bytes, 0);
	assert_int_equal(s.total.tx_bytes, 42);
	fa_snapshot_free(&s);
	free(vals);
}

static void test_exited_process_evicted_without_loss(void **state)
{
	struct fixture *f = *state;
	pid_t dead = fork();
	struct fa_flow_key k, k2;
	struct fa_flow_value v;
	struct fa_snapshot s;
	__u64 sum = 0;
	int i;

	if (!dead)
		_exit(0);
	waitpid(dead, NULL, 0);
	k = key_of(dead, 2000);
	k2 = key_of(dead, 2001); /* a second flow of the same process leaves with it */
	put(f->bpf.flows_fd, &k, 1000, 0, "gone");
	put(f->bpf.flows_fd, &k2, 1, 0, "gone");
	for (i = 0; i < FA_EXITED_LINGER + 3; i++) {
		const struct fa_flow *r;

		if (i == FA_EXITED_LINGER) /* bytes arrive right before the eviction */
			put(f->bpf.flows_fd, &k, 1234, 0, "gone");
		assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
		r = find(&s, dead, 2000);
		if (i <= FA_EXITED_LINGER) {
			assert_non_null(r);
			assert_true(r->proc.exited);
			assert_string_equal(r->proc.comm, "gone");
			sum += r->delta.rx_bytes;
			assert_non_null(find(&s, dead, 2001));
			assert_int_equal(s.nprocs, 1);
			assert_true(s.procs[0].proc.exited);
		} else {
			assert_null(r); /* gone from the table... */
			assert_null(find(&s, dead, 2001));
			assert_int_equal(s.nprocs, 0);
		}
		fa_snapshot_free(&s);
	}
	assert_int_equal(sum, 1234); /* ...and every byte was reported */
	assert_int_not_equal(bpf_map_lookup_elem(f->bpf.flows_fd, &k, &v), 0);
	assert_int_not_equal(bpf_map_lookup_elem(f->bpf.flows_fd, &k2, &v), 0);
}

static void test_v4mapped_flow_reported_as_ipv4(void **state)
{
	struct fixture *f = *state;
	struct fa_flow_key k = { .pid = getpid(), .lport = 3000, .rport = 80,
				 .proto = FA_PROTO_TCP, .family = FA_FAMILY_IPV6 };
	struct fa_snapshot s;
	const struct fa_flow *r;

	k.laddr[10] = k.laddr[11] = 0xff;
	k.laddr[12] = 127;
	k.laddr[15] = 1;
	k.raddr[10] = k.raddr[11] = 0xff;
	k.raddr[12] = 10;
	k.raddr[15] = 9;
	put(f->bpf.flows_fd, &k, 1, 1, "py");
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	r = find(&s, getpid(), 3000);
	assert_non_null(r);
	assert_int_equal(r->tuple.family, FA_FAMILY_IPV4);
	assert_int_equal(r->tuple.laddr[0], 127);
	assert_int_equal(r->tuple.laddr[3], 1);
	assert_int_equal(r->tuple.raddr[0], 10);
	assert_int_equal(r->tuple.raddr[3], 9);
	assert_int_equal(r->tuple.laddr[12], 0);
	fa_snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_interval_deltas_add_up_to_totals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unattributed_bytes_count_in_totals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exited_process_evicted_without_loss, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_v4mapped_flow_reported_as_ipv4, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
