// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The collector against real BPF maps of the same shape as the kernel side's (needs
 * root, like everything BPF): interval deltas, totals, eviction of exited processes, of
 * closed TCP sockets and of released UDP sockets' flows without losing a byte,
 * unattributed bytes, v4-mapped addresses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "sockdiag.h"

struct fixture {
	struct fa_bpf bpf;
	struct fa_collector *c;
	int ncpus;
	int slots_fd;
	__u32 next_slot; /* the kernel's next_slot, here */
};

#define NSLOTS 64
/* --linger 3 at 1 s intervals: a closed flow leaves LINGER samples after the first that
 * saw it so, then the read after its retirement */
#define LINGER 3

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	LIBBPF_OPTS(bpf_map_create_opts, mmapable, .map_flags = BPF_F_MMAPABLE);

	f->slots_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "slots", sizeof(__u32),
				     sizeof(struct fa_slot), NSLOTS, &mmapable);
	f->bpf.index_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "flow_index",
					 sizeof(struct fa_flow_key), sizeof(__u32), NSLOTS, NULL);
	f->bpf.free_fd =
		bpf_map_create(BPF_MAP_TYPE_QUEUE, "free_slots", 0, sizeof(__u32), NSLOTS, NULL);
	f->bpf.overflow_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "overflow", sizeof(__u32),
					    sizeof(struct fa_flow_value), 64, NULL);
	f->bpf.stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "stats", sizeof(__u32),
					 sizeof(__u64), FA_STAT_MAX, NULL);
	f->bpf.released_fd = bpf_map_create(BPF_MAP_TYPE_QUEUE, "released", 0,
					    sizeof(struct fa_release), NSLOTS, NULL);
	f->bpf.backend = FA_BACKEND_TRACEPOINT;
	f->bpf.max_flows = NSLOTS;
	f->bpf.nslots = NSLOTS;
	f->bpf.next_slot = &f->next_slot;
	if (f->slots_fd < 0 || f->bpf.index_fd < 0 || f->bpf.free_fd < 0 ||
	    f->bpf.overflow_fd < 0 || f->bpf.stats_fd < 0 || f->bpf.released_fd < 0) {
		fprintf(stderr, "creating BPF maps failed (%s): these tests need root and BPF\n",
			strerror(errno));
		return -1;
	}
	f->bpf.slots = mmap(NULL, NSLOTS * sizeof(struct fa_slot), PROT_READ | PROT_WRITE,
			    MAP_SHARED, f->slots_fd, 0);
	if (f->bpf.slots == MAP_FAILED) {
		fprintf(stderr, "mapping the slots failed (%s)\n", strerror(errno));
		return -1;
	}
	f->ncpus = libbpf_num_possible_cpus();
	f->c = fa_collector_new(&f->bpf, NULL,
				&(struct fa_collector_opts){ .interval_s = 1, .linger_s = LINGER });
	*state = f;
	return f->c ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fa_collector_free(f->c);
	munmap(f->bpf.slots, NSLOTS * sizeof(struct fa_slot));
	close(f->slots_fd);
	close(f->bpf.index_fd);
	close(f->bpf.free_fd);
	close(f->bpf.overflow_fd);
	close(f->bpf.stats_fd);
	close(f->bpf.released_fd);
	free(f);
	return 0;
}

static struct fa_flow_key key_of(__u32 pid, __u16 lport)
{
	struct fa_flow_key k = { .pid = pid,
				 .lport = lport,
				 .rport = 443,
				 .proto = FA_PROTO_TCP,
				 .family = FA_FAMILY_IPV4 };

	k.laddr[0] = 10;
	k.raddr[0] = 192;
	return k;
}

/*
 * What the kernel side does for a flow's event: find the key's slot, or take one (from
 * the free queue, else a new one), fill in who it is, publish it (gen odd), index it;
 * then set its counters to rx, tx (cumulative).
 */
static __u32 put_flow(struct fixture *f, const struct fa_flow_key *key, __u64 rx, __u64 tx,
		      const char *comm)
{
	struct fa_slot *s;
	__u32 idx;

	if (bpf_map_lookup_elem(f->bpf.index_fd, key, &idx)) {
		if (bpf_map_lookup_and_delete_elem(f->bpf.free_fd, NULL, &idx))
			idx = f->next_slot++;
		assert_true(idx < NSLOTS);
		s = &f->bpf.slots[idx];
		memset(s->bytes, 0, sizeof(s->bytes));
		memset(s->calls, 0, sizeof(s->calls));
		s->key = *key;
		s->uid = 1000;
		snprintf(s->comm, sizeof(s->comm), "%s", comm);
		__atomic_fetch_add(&s->gen, 1, __ATOMIC_RELEASE);
		assert_int_equal(bpf_map_update_elem(f->bpf.index_fd, key, &idx, BPF_NOEXIST), 0);
	}
	s = &f->bpf.slots[idx];
	s->bytes[FA_DIR_RX] = rx;
	s->bytes[FA_DIR_TX] = tx;
	s->calls[FA_DIR_RX] = rx ? 1 : 0;
	s->calls[FA_DIR_TX] = tx ? 1 : 0;
	return idx;
}

static void put(int fd, const void *key, __u64 rx, __u64 tx, const char *comm)
{
	struct fa_flow_value v = { .bytes = { rx, tx },
				   .calls = { rx ? 1 : 0, tx ? 1 : 0 },
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

	put_flow(f, &a, 100, 7, "curl");
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

	put_flow(f, &a, 250, 7, "renamed"); /* the name is kept from first sight */
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

/*
 * An exited process's flows leave LINGER samples after the first that saw it gone: their
 * slots are retired (the index forgets the key, gen turns even), read once more a sample
 * later, which catches bytes added by events that found the slot just before its
 * retirement, and then handed back for reuse. Every byte is reported.
 */
static void test_exited_process_evicted_without_loss(void **state)
{
	struct fixture *f = *state;
	pid_t dead = fork();
	struct fa_flow_key k, k2;
	struct fa_snapshot s;
	__u32 slot, slot2, idx, handed[2];
	__u64 sum = 0;
	int i;

	if (!dead)
		_exit(0);
	waitpid(dead, NULL, 0);
	k = key_of(dead, 2000);
	k2 = key_of(dead, 2001); /* a second flow of the same process leaves with it */
	slot = put_flow(f, &k, 1000, 0, "gone");
	slot2 = put_flow(f, &k2, 1, 0, "gone");
	for (i = 0; i < LINGER + 3; i++) {
		const struct fa_flow *r;

		if (i == LINGER) /* bytes arrive right before the retirement */
			put_flow(f, &k, 1234, 0, "gone");
		if (i == LINGER + 1) { /* and from an event that found it just before */
			assert_true(f->bpf.slots[slot].gen % 2 == 0); /* retired */
			assert_int_not_equal(bpf_map_lookup_elem(f->bpf.index_fd, &k, &idx), 0);
			f->bpf.slots[slot].bytes[FA_DIR_RX] += 66;
		}
		assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
		r = find(&s, dead, 2000);
		if (i <= LINGER + 1) {
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
	assert_int_equal(sum, 1234 + 66); /* ...and every byte was reported */
	/* both slots went back to the free queue, once each */
	assert_int_equal(bpf_map_lookup_and_delete_elem(f->bpf.free_fd, NULL, &handed[0]), 0);
	assert_int_equal(bpf_map_lookup_and_delete_elem(f->bpf.free_fd, NULL, &handed[1]), 0);
	assert_int_not_equal(bpf_map_lookup_and_delete_elem(f->bpf.free_fd, NULL, &idx), 0);
	assert_true((handed[0] == slot && handed[1] == slot2) ||
		    (handed[0] == slot2 && handed[1] == slot));
}

/*
 * A live process's TCP flow whose socket has closed leaves like an exited process's flow,
 * LINGER samples after the first that saw it closed and idle, without losing a byte; its
 * open connection stays, and so does a closed one that moves again (its socket's owner
 * reading what it had received). Without health (kprobe) the state is unknown: only a
 * release (test_released_flows_leave) ends a flow.
 */
static void test_closed_tcp_flow_evicted_without_loss(void **state)
{
	struct fixture *f = *state;
	struct fa_flow_key open = key_of(getpid(), 5000), done = key_of(getpid(), 5001),
			   reread = key_of(getpid(), 5002);
	struct fa_health *h = calloc(NSLOTS, sizeof(*h));
	__u32 so, sd, sr, idx;
	struct fa_snapshot s;
	__u64 sum = 0;
	int i;

	f->bpf.health = h;
	so = put_flow(f, &open, 10, 10, "srv");
	sd = put_flow(f, &done, 100, 10, "srv");
	sr = put_flow(f, &reread, 1, 1, "srv");
	h[so].state = h[sd].state = h[sr].state = FA_TCP_ESTABLISHED;
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	sum += find(&s, getpid(), 5001)->delta.rx_bytes;
	fa_snapshot_free(&s);
	/* two sockets close, with a last read */
	put_flow(f, &done, 150, 10, "srv");
	put_flow(f, &reread, 2, 1, "srv");
	h[sd].state = h[sr].state = FA_TCP_CLOSE;
	h[sd].closes = h[sr].closes = 1;
	for (i = 0; i <= LINGER + 3; i++) {
		const struct fa_flow *r;

		/* the owner of one reads once more, in the last interval before it would leave */
		if (i == LINGER)
			put_flow(f, &reread, 3, 1, "srv");
		assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
		assert_non_null(find(&s, getpid(), 5000));
		assert_false(find(&s, getpid(), 5000)->closed);
		assert_non_null(find(&s, getpid(), 5002));
		r = find(&s, getpid(), 5001);
		/* moved at i = 0; idle and closed at 1 .. LINGER + 1, then retired; read once
		 * more after the retirement; gone */
		if (i <= LINGER + 2) {
			assert_non_null(r);
			assert_false(r->proc.exited);
			assert_true(r->closed);
			sum += r->delta.rx_bytes;
		} else {
			assert_null(r);
			/* its bytes stay in the process's total, as a closed row */
			assert_int_equal(s.nclosed, 1);
			assert_int_equal(s.closed[0].total.rx_bytes, 150);
			assert_int_equal(s.closed[0].part, FA_PART_TCP);
		}
		/* the process's total is cumulative, before and after the flow leaves */
		for (size_t p = 0; p < s.nprocs; p++)
			if (s.procs[p].proc.pid == (__u32)getpid())
				assert_int_equal(s.procs[p].total.rx_bytes,
						 10 + 150 + (i >= LINGER ? 3 : 2));
		fa_snapshot_free(&s);
	}
	assert_int_equal(sum, 150);
	assert_int_not_equal(bpf_map_lookup_elem(f->bpf.index_fd, &done, &idx), 0);
	assert_int_equal(bpf_map_lookup_elem(f->bpf.index_fd, &reread, &idx), 0);
	assert_int_equal(bpf_map_lookup_and_delete_elem(f->bpf.free_fd, NULL, &idx), 0);
	assert_int_equal(idx, sd);
	assert_int_not_equal(bpf_map_lookup_and_delete_elem(f->bpf.free_fd, NULL, &idx), 0);

	/* without health, the state tells nothing */
	f->bpf.health = NULL;
	for (i = 0; i <= LINGER + 3; i++) {
		assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
		assert_non_null(find(&s, getpid(), 5002));
		fa_snapshot_free(&s);
	}
	free(h);
}

/* The kernel's release hook: the socket at sock was released; seq, its release_seq. */
static void release(struct fixture *f, __u64 sock, __u32 seq)
{
	struct fa_release r = { .sock = sock, .seq = seq };

	assert_int_equal(bpf_map_update_elem(f->bpf.released_fd, NULL, &r, BPF_ANY), 0);
}

/* What the kernel's slow path writes: the slot's flow is the socket at sock's, since seq. */
static void set_sock(struct fixture *f, __u32 idx, __u64 sock, __u32 seq)
{
	f->bpf.slots[idx].sock_seq = seq;
	f->bpf.slots[idx].sock = sock;
}

/*
 * A released socket's flows (UDP, whose flows nothing else ends; TCP without health)
 * leave LINGER samples after the first that learnt it, every peer of an unconnected
 * socket at once, without losing a byte: their bytes stay in the process's totals. Not
 * another socket's flow; not a flow of a socket made later at the released one's address
 * (a newer sock_seq); not a flow whose bytes move after the release (another socket took
 * it over), which is open again.
 */
static void test_released_flows_leave(void **state)
{
	struct fixture *f = *state;
	struct fa_flow_key peer[3], other = key_of(getpid(), 6010), later = key_of(getpid(), 6011),
				    shared = key_of(getpid(), 6012);
	__u32 idx[3], io, il, is;
	struct fa_snapshot s;
	int i;

	for (int p = 0; p < 3; p++) { /* one unconnected socket, three peers */
		peer[p] = key_of(getpid(), 6000);
		peer[p].proto = FA_PROTO_UDP;
		peer[p].rport = 53 + p;
		idx[p] = put_flow(f, &peer[p], 0, 100 + p, "dns");
		set_sock(f, idx[p], 0xa000, 1);
	}
	other.proto = later.proto = shared.proto = FA_PROTO_UDP;
	io = put_flow(f, &other, 7, 0, "dns");
	set_sock(f, io, 0xb000, 1);
	il = put_flow(f, &later, 8, 0, "dns"); /* a new socket at 0xa000, after its release */
	set_sock(f, il, 0xa000, 5);
	is = put_flow(f, &shared, 9, 0, "dns");
	set_sock(f, is, 0xc000, 1);
	release(f, 0xa000, 4);
	release(f, 0xc000, 2);
	for (i = 0; i <= LINGER + 2; i++) {
		if (i == 1) /* a second socket moves bytes on the flow it shared with 0xc000 */
			put_flow(f, &shared, 10, 0, "dns");
		assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
		for (int p = 0; p < 3; p++) {
			const struct fa_flow *r = NULL;

			for (size_t k = 0; k < s.nflows; k++)
				if (s.flows[k].tuple.rport == 53 + p)
					r = &s.flows[k];
			/* learnt at i = 0; retired at LINGER; read once more; gone */
			if (i <= LINGER + 1) {
				assert_non_null(r);
				assert_true(r->closed);
			} else {
				assert_null(r);
			}
		}
		assert_false(find(&s, getpid(), 6010)->closed);
		assert_false(find(&s, getpid(), 6011)->closed);
		assert_int_equal(find(&s, getpid(), 6012)->closed, i == 0);
		for (size_t p = 0; p < s.nprocs; p++) /* the peers' 303 bytes, before and after */
			if (s.procs[p].proc.pid == (__u32)getpid())
				assert_int_equal(s.procs[p].total.tx_bytes, 303);
		if (i > LINGER + 1) { /* as a closed row */
			assert_int_equal(s.nclosed, 1);
			assert_int_equal(s.closed[0].part, FA_PART_UDP);
			assert_int_equal(s.closed[0].total.tx_bytes, 303);
		}
		fa_snapshot_free(&s);
	}
	for (int p = 0; p < 3; p++)
		assert_int_not_equal(bpf_map_lookup_elem(f->bpf.index_fd, &peer[p], &io), 0);
	assert_int_equal(bpf_map_lookup_elem(f->bpf.index_fd, &later, &io), 0);
	assert_int_equal(bpf_map_lookup_elem(f->bpf.index_fd, &shared, &io), 0);
}

/* A slot handed back and taken by a new flow is a new flow: its counters start at zero. */
static void test_reused_slot_is_a_new_flow(void **state)
{
	struct fixture *f = *state;
	struct fa_flow_key a = key_of(getpid(), 4000), b = key_of(getpid(), 4001);
	struct fa_snapshot s;
	const struct fa_flow *r;
	__u32 slot = put_flow(f, &a, 500, 0, "first");

	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	fa_snapshot_free(&s);
	/* the kernel retires it (as after a lost race for its key) and it is reused */
	__atomic_fetch_add(&f->bpf.slots[slot].gen, 1, __ATOMIC_RELEASE);
	bpf_map_delete_elem(f->bpf.index_fd, &a);
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0); /* noticed */
	fa_snapshot_free(&s);
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0); /* read once more, handed back */
	assert_non_null(find(&s, getpid(), 4000));
	fa_snapshot_free(&s);
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	assert_null(find(&s, getpid(), 4000));
	fa_snapshot_free(&s);
	assert_int_equal(put_flow(f, &b, 7, 0, "second"), slot);
	assert_int_equal(fa_collector_sample(f->c, false, &s), 0);
	r = find(&s, getpid(), 4001);
	assert_non_null(r);
	assert_string_equal(r->proc.comm, "second");
	assert_int_equal(r->delta.rx_bytes, 7);
	assert_int_equal(r->total.rx_bytes, 7);
	fa_snapshot_free(&s);
}

static void test_v4mapped_flow_reported_as_ipv4(void **state)
{
	struct fixture *f = *state;
	struct fa_flow_key k = { .pid = getpid(),
				 .lport = 3000,
				 .rport = 80,
				 .proto = FA_PROTO_TCP,
				 .family = FA_FAMILY_IPV6 };
	struct fa_snapshot s;
	const struct fa_flow *r;

	k.laddr[10] = k.laddr[11] = 0xff;
	k.laddr[12] = 127;
	k.laddr[15] = 1;
	k.raddr[10] = k.raddr[11] = 0xff;
	k.raddr[12] = 10;
	k.raddr[15] = 9;
	put_flow(f, &k, 1, 1, "py");
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
		cmocka_unit_test_setup_teardown(test_reused_slot_is_a_new_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_tcp_flow_evicted_without_loss, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_released_flows_leave, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
