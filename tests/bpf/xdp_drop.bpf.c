// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loss on demand, for the TCP health test (tests/integration/67-tcp-health.sh): this
 * kernel has no netem and no tc actions. Attached in generic mode to the receiving end
 * of a veth pair, it drops the first transmission of every DROP_EVERY-th new data
 * segment to DROP_PORT, DROP_MAX of them, so the sender retransmits each once. The
 * test compares flowacct's count with the sender's own TCP_INFO, not with DROP_MAX.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define DROP_PORT  47123
#define DROP_EVERY 7
#define DROP_MAX   12
#define ETH_P_IP   0x0800

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* a data segment's sequence number */
	__type(value, __u8);
} seen SEC(".maps");

__u32 segments, dropped;

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th;
	__u32 seq, len, n;
	__u8 one = 1;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP || ip->ihl != 5)
		return XDP_PASS;
	th = (void *)(ip + 1);
	if ((void *)(th + 1) > end || th->dest != bpf_htons(DROP_PORT))
		return XDP_PASS;
	len = bpf_ntohs(ip->tot_len) - sizeof(*ip) - th->doff * 4;
	if (!len || len > 65535)
		return XDP_PASS; /* no data: SYN, ACK, FIN */
	seq = bpf_ntohl(th->seq);
	if (bpf_map_lookup_elem(&seen, &seq))
		return XDP_PASS; /* a retransmission, or a segment already let through */
	bpf_map_update_elem(&seen, &seq, &one, BPF_ANY);
	n = __sync_fetch_and_add(&segments, 1);
	if (n % DROP_EVERY != DROP_EVERY - 1 || dropped >= DROP_MAX)
		return XDP_PASS;
	__sync_fetch_and_add(&dropped, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
