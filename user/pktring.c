// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --packets: an AF_PACKET socket with a memory-mapped RX ring, walked by its own thread.
 *
 * The socket is SOCK_DGRAM, so every frame starts at its network header whatever the
 * device (Ethernet, loopback, tun, WireGuard, PPP...) and the EtherType comes in the
 * sockaddr_ll beside it; a classic BPF filter lets only IP (and still-tagged VLAN) frames
 * into the ring and copies only the first snaplen bytes of each. The thread parses each
 * frame outside any lock, then takes the table's mutex once per batch; the collector takes
 * it only to copy the table out, so neither ever waits long on the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "pktparse.h"
#include "log.h"
#include "pktring.h"
#include "util.h"

/* Frames parsed before the table's mutex is taken: short holds, few lock round trips. */
#define RING_BATCH 256
/* How often the thread wakes with nothing to do, to fold the kernel's 32-bit counters in. */
#define RING_IDLE_POLL_MS    1000
#define RING_TABLE_MIN_SLOTS 1024
/* Later fragments find their first fragment's ports here (direct-mapped, may forget). */
#define RING_FRAG_SLOTS 256

struct ring_frag {
	struct fa_tuple key; /* ports 0 */
	__u32 id;
	__u16 lport, rport;
	__u8 dir;
	__u8 used;
};

struct fa_pktring {
	int fd;
	int version; /* TPACKET_V2 or TPACKET_V3, as granted */
	__u8 *map;
	size_t map_len;
	__u32 block_size, block_count;
	__u32 frame_size, frame_count; /* V2 */
	int wake[2]; /* a pipe: stop writes, the thread's poll() returns */
	pthread_t thread;
	int thread_started;

	/* the thread's alone */
	struct ring_frag frags[RING_FRAG_SLOTS];
	struct fa_pkt_info batch[RING_BATCH];
	__u32 nbatch;
	__u64 batch_unparsed, batch_other;
	__u64 batch_frames;

	/* under lock */
	pthread_mutex_t lock;
	struct fa_pkt_entry *slots; /* open addressing; a zero family marks a free slot */
	size_t nslots, nused, max_entries;
	struct fa_pkt_stats stats;
};

static struct fa_pkt_entry *ring_slot(struct fa_pkt_entry *slots, size_t nslots,
				      const struct fa_tuple *key)
{
	size_t i = fa_hash(key, sizeof(*key)) & (nslots - 1);

	while (slots[i].key.family && memcmp(&slots[i].key, key, sizeof(*key)))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

/* Doubles the table; on failure the old one stays and keeps counting what it holds. */
static int ring_grow(struct fa_pktring *r)
{
	size_t nslots = r->nslots ? r->nslots * 2 : RING_TABLE_MIN_SLOTS;
	struct fa_pkt_entry *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < r->nslots; i++)
		if (r->slots[i].key.family)
			*ring_slot(slots, nslots, &r->slots[i].key) = r->slots[i];
	free(r->slots);
	r->slots = slots;
	r->nslots = nslots;
	return 0;
}

static void ring_count(struct fa_pktring *r, const struct fa_pkt_info *info)
{
	struct fa_pkt_entry *e;

	/*
	 * Keep the load under 3/4 so probes stay short; if memory runs out, the current
	 * table fills up to its last free slot, which ring_slot() needs to stop at.
	 */
	if ((r->nused + 1) * 4 > r->nslots * 3 && r->nused < r->max_entries)
		ring_grow(r);
	e = ring_slot(r->slots, r->nslots, &info->key);
	if (!e->key.family) {
		if (r->nused >= r->max_entries || r->nused + 2 > r->nslots) {
			r->stats.table_full++;
			return;
		}
		e->key = info->key;
		r->nused++;
	}
	if (info->dir == FA_DIR_TX) {
		e->tx_packets++;
		e->tx_wire_bytes += info->ip_len;
	} else {
		e->rx_packets++;
		e->rx_wire_bytes += info->ip_len;
	}
}

/* Folds the kernel's counters in; each read resets them, so they are added, never set. */
static void ring_read_kernel_stats(struct fa_pktring *r)
{
	struct tpacket_stats_v3 st = { 0 };
	socklen_t len = r->version == TPACKET_V3 ? sizeof(st) : sizeof(struct tpacket_stats);

	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return;
	r->stats.packets += st.tp_packets; /* includes the drops */
	r->stats.drops += st.tp_drops;
	if (r->version == TPACKET_V3)
		r->stats.freezes += st.tp_freeze_q_cnt;
}

static void ring_flush(struct fa_pktring *r)
{
	if (!r->nbatch && !r->batch_unparsed && !r->batch_other && !r->batch_frames)
		return;
	pthread_mutex_lock(&r->lock);
	for (__u32 i = 0; i < r->nbatch; i++)
		ring_count(r, &r->batch[i]);
	r->stats.unparsed += r->batch_unparsed;
	r->stats.other += r->batch_other;
	r->stats.frames += r->batch_frames;
	pthread_mutex_unlock(&r->lock);
	r->nbatch = 0;
	r->batch_unparsed = r->batch_other = r->batch_frames = 0;
}

/* Gives a later fragment the ports its first fragment carried, when that one was seen. */
static void ring_frag_ports(struct fa_pktring *r, struct fa_pkt_info *info)
{
	struct fa_tuple key = info->key;
	struct ring_frag *f;

	key.lport = key.rport = 0;
	f = &r->frags[(fa_hash(&key, sizeof(key)) ^ info->frag_id) & (RING_FRAG_SLOTS - 1)];
	if (info->frag == FA_FRAG_FIRST) {
		*f = (struct ring_frag){ .key = key,
					 .id = info->frag_id,
					 .lport = info->key.lport,
					 .rport = info->key.rport,
					 .dir = info->dir,
					 .used = 1 };
	} else if (f->used && f->id == info->frag_id && f->dir == info->dir &&
		   !memcmp(&f->key, &key, sizeof(key))) {
		info->key.lport = f->lport;
		info->key.rport = f->rport;
	}
}

/*
 * One frame out of the ring. frame and avail bound everything: the offsets in the frame's
 * header come from the kernel, but are checked anyway, as a bad one would read outside
 * the mapping.
 */
static void ring_frame(struct fa_pktring *r, const __u8 *frame, __u32 avail, __u32 hdr_len,
		       __u32 net_off, __u32 snaplen, __u32 len)
{
	const struct sockaddr_ll *sll = (const void *)(frame + TPACKET_ALIGN(hdr_len));
	struct fa_pkt_frame f;
	struct fa_pkt_info *info = &r->batch[r->nbatch];

	r->batch_frames++;
	if (TPACKET_ALIGN(hdr_len) + sizeof(*sll) > avail || net_off > avail ||
	    snaplen > avail - net_off) {
		r->batch_unparsed++;
		return;
	}
	f = (struct fa_pkt_frame){ .data = frame + net_off,
				   .caplen = snaplen,
				   .wirelen = len,
				   .ethertype = ntohs(sll->sll_protocol),
				   .link = FA_LINK_NETWORK,
				   .pkttype = sll->sll_pkttype };
	switch (fa_pktparse_frame(&f, info)) {
	case FA_PKT_FLOW:
		if (info->frag != FA_FRAG_NONE)
			ring_frag_ports(r, info);
		if (++r->nbatch == RING_BATCH)
			ring_flush(r);
		break;
	case FA_PKT_UNPARSED:
		r->batch_unparsed++;
		break;
	case FA_PKT_OTHER:
		r->batch_other++;
		break;
	}
}

static void ring_walk_block(struct fa_pktring *r, struct tpacket_block_desc *bd)
{
	__u32 n = bd->hdr.bh1.num_pkts, off = bd->hdr.bh1.offset_to_first_pkt;

	for (__u32 i = 0; i < n; i++) {
		const struct tpacket3_hdr *h = (const void *)((__u8 *)bd + off);

		if (off > r->block_size - sizeof(*h)) {
			r->batch_unparsed += n - i;
			break;
		}
		ring_frame(r, (const __u8 *)h, r->block_size - off, sizeof(*h), h->tp_net,
			   h->tp_snaplen, h->tp_len);
		if (!h->tp_next_offset)
			break;
		off += h->tp_next_offset;
	}
}

/* V3: the kernel fills whole blocks and hands each over when full or its timeout expires. */
static int ring_run_v3(struct fa_pktring *r, __u32 *cur)
{
	struct tpacket_block_desc *bd = (void *)(r->map + (size_t)*cur * r->block_size);

	if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return 0;
	ring_walk_block(r, bd);
	ring_flush(r);
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	*cur = (*cur + 1) % r->block_count;
	return 1;
}

/* V2: one frame per slot, each handed back as soon as it is read. */
static int ring_run_v2(struct fa_pktring *r, __u32 *cur)
{
	__u32 per_block = r->block_size / r->frame_size;
	__u8 *frame = r->map + (size_t)(*cur / per_block) * r->block_size +
		      (size_t)(*cur % per_block) * r->frame_size;
	struct tpacket2_hdr *h = (void *)frame;

	if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return 0;
	ring_frame(r, frame, r->frame_size, sizeof(*h), h->tp_net, h->tp_snaplen, h->tp_len);
	__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	*cur = (*cur + 1) % r->frame_count;
	return 1;
}

static void *ring_thread(void *arg)
{
	struct fa_pktring *r = arg;
	struct pollfd pfd[2] = { { .fd = r->fd, .events = POLLIN | POLLERR },
				 { .fd = r->wake[0], .events = POLLIN } };
	__u32 cur = 0;

	for (;;) {
		int got = r->version == TPACKET_V3 ? ring_run_v3(r, &cur) : ring_run_v2(r, &cur);

		if (got)
			continue;
		ring_flush(r);
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, RING_IDLE_POLL_MS) == 0) {
			pthread_mutex_lock(&r->lock);
			ring_read_kernel_stats(r);
			pthread_mutex_unlock(&r->lock);
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLERR) {
			/* e.g. ENETDOWN when the interface goes down: clear it, keep waiting */
			int err;
			socklen_t len = sizeof(err);

			getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		}
	}
	/* what the kernel handed over before stop was asked for still counts */
	while (r->version == TPACKET_V3 ? ring_run_v3(r, &cur) : ring_run_v2(r, &cur))
		;
	ring_flush(r);
	return NULL;
}

/*
 * Only IP frames (and VLAN-tagged ones the kernel did not untag) reach the ring, each
 * cut to snaplen bytes: the filter's return value is how many bytes the kernel copies.
 */
static int ring_attach_filter(int fd, __u32 snaplen)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021Q, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021AD, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, snaplen),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static int ring_setup(struct fa_pktring *r, const struct fa_pktring_opts *o, struct fa_err *err)
{
	/* SOCK_DGRAM frames start at netoff = the aligned header + 16 bytes kept for a MAC */
	__u32 hdr = r->version == TPACKET_V3 ? TPACKET3_HDRLEN : TPACKET2_HDRLEN;
	union {
		struct tpacket_req req;
		struct tpacket_req3 req3;
	} u = { 0 };

	r->frame_size = TPACKET_ALIGN(TPACKET_ALIGN(hdr) + 16 + o->snaplen);
	if (o->block_size < r->frame_size) {
		fa_err_set(err, 0, "ring block size %u is below one frame (%u bytes)",
			   o->block_size, r->frame_size);
		return -EINVAL;
	}
	r->block_size = o->block_size;
	r->block_count = o->block_count;
	r->frame_count = (r->block_size / r->frame_size) * r->block_count;
	u.req3.tp_block_size = r->block_size;
	u.req3.tp_block_nr = r->block_count;
	u.req3.tp_frame_size = r->frame_size;
	u.req3.tp_frame_nr = r->frame_count;
	if (r->version == TPACKET_V3)
		u.req3.tp_retire_blk_tov = o->block_timeout_ms;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &u,
		       r->version == TPACKET_V3 ? sizeof(u.req3) : sizeof(u.req))) {
		fa_err_set(err, 0, "PACKET_RX_RING (%u blocks of %u bytes): %s", r->block_count,
			   r->block_size, strerror(errno));
		return -errno;
	}
	r->map_len = (size_t)r->block_size * r->block_count;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		fa_err_set(err, 0, "mmap of the %zu-byte ring: %s", r->map_len, strerror(errno));
		return -errno;
	}
	return 0;
}

static int ring_open(struct fa_pktring *r, const struct fa_pktring_opts *o, struct fa_err *err)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int version = o->tpacket_version == 2 ? TPACKET_V2 : TPACKET_V3;
	int ret;

	if (o->ifname) {
		sll.sll_ifindex = if_nametoindex(o->ifname);
		if (!sll.sll_ifindex) {
			fa_err_set(err, 0, "no interface %s", o->ifname);
			return -ENODEV;
		}
	}
	/* protocol 0: nothing arrives until bind(), after the filter and the ring are set */
	r->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		if (errno == EPERM || errno == EACCES) {
			fa_err_set(err, 0,
				   "packet capture needs CAP_NET_RAW (run as root, or "
				   "grant the binary cap_net_raw)");
			return -EPERM;
		}
		fa_err_set(err, 0, "AF_PACKET socket: %s", strerror(errno));
		return -errno;
	}
	ret = setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version));
	if (ret && version == TPACKET_V3) {
		/* kernels before 3.2 have no V3: V2 does the same job frame by frame */
		version = TPACKET_V2;
		ret = setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version));
	}
	if (ret) {
		fa_err_set(err, 0, "PACKET_VERSION: %s", strerror(errno));
		return -errno;
	}
	r->version = version;
	if (ring_attach_filter(r->fd, o->snaplen)) {
		fa_err_set(err, 0, "SO_ATTACH_FILTER: %s", strerror(errno));
		return -errno;
	}
	ret = ring_setup(r, o, err);
	if (ret)
		return ret;
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fa_err_set(err, 0, "bind to %s: %s", o->ifname ? o->ifname : "all interfaces",
			   strerror(errno));
		return -errno;
	}
	return 0;
}

static int ring_check_opts(const struct fa_pktring_opts *o, struct fa_err *err)
{
	long page = sysconf(_SC_PAGESIZE);

	if (o->tpacket_version != 2 && o->tpacket_version != 3) {
		fa_err_set(err, 0, "TPACKET version %d: only 2 and 3 exist", o->tpacket_version);
		return -EINVAL;
	}
	if (!o->block_size || o->block_size % page) {
		fa_err_set(err, 0, "ring block size %u is not a multiple of the page size (%ld)",
			   o->block_size, page);
		return -EINVAL;
	}
	if (!o->block_count || o->block_count > (1u << 20) / 4 ||
	    (__u64)o->block_size * o->block_count > 1ULL << 32) {
		fa_err_set(err, 0,
			   "ring of %u blocks of %u bytes: want 1 block or more, 4 GiB "
			   "at most",
			   o->block_count, o->block_size);
		return -EINVAL;
	}
	if (o->snaplen < 64 || o->snaplen > 65535) {
		fa_err_set(err, 0, "snap length %u: want 64 to 65535 bytes", o->snaplen);
		return -EINVAL;
	}
	return 0;
}

int fa_pktring_start(const struct fa_pktring_opts *opts, struct fa_pktring **out,
		     struct fa_err *err)
{
	struct fa_pktring *r;
	int ret;

	*out = NULL;
	ret = ring_check_opts(opts, err);
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r) {
		fa_err_set(err, 0, "out of memory");
		return -ENOMEM;
	}
	r->fd = r->wake[0] = r->wake[1] = -1;
	r->max_entries = opts->max_entries ? opts->max_entries : FA_PKTRING_MAX_ENTRIES;
	pthread_mutex_init(&r->lock, NULL);
	ret = ring_open(r, opts, err);
	if (ret)
		goto fail;
	ret = ring_grow(r);
	if (ret || pipe2(r->wake, O_CLOEXEC)) {
		fa_err_set(err, 0, "out of memory or file descriptors");
		ret = ret ? ret : -errno;
		goto fail;
	}
	ret = fa_thread_start(&r->thread, "fa-pktring", ring_thread, r);
	if (ret) {
		fa_err_set(err, 0, "packet ring thread: %s", strerror(-ret));
		goto fail;
	}
	r->thread_started = 1;
	*out = r;
	return 0;
fail:
	fa_pktring_stop(r);
	return ret;
}

int fa_pktring_read(struct fa_pktring *r, struct fa_pkt_entry **entries, size_t *n,
		    struct fa_pkt_stats *stats)
{
	struct fa_pkt_entry *out;
	size_t k = 0;

	pthread_mutex_lock(&r->lock);
	out = malloc((r->nused ? r->nused : 1) * sizeof(*out));
	if (!out) {
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->nslots && k < r->nused; i++)
		if (r->slots[i].key.family)
			out[k++] = r->slots[i];
	ring_read_kernel_stats(r);
	*stats = r->stats;
	pthread_mutex_unlock(&r->lock);
	*entries = out;
	*n = k;
	return 0;
}

int fa_pktring_version(const struct fa_pktring *r)
{
	return r->version == TPACKET_V3 ? 3 : 2;
}

void fa_pktring_stop(struct fa_pktring *r)
{
	if (!r)
		return;
	if (r->thread_started) {
		/* a write to a pipe with room cannot block; the thread wakes and drains */
		if (write(r->wake[1], "", 1) < 0)
			pthread_cancel(r->thread);
		pthread_join(r->thread, NULL);
	}
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	if (r->wake[0] >= 0)
		close(r->wake[0]);
	if (r->wake[1] >= 0)
		close(r->wake[1]);
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r);
}
