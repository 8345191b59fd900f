// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Drives the --packets ring on its own, for the packet tests: starts it, says "ready",
 * waits for SIGINT/SIGTERM, gives the last V3 block time to be handed over and read, then
 * prints every 5-tuple's counts and the ring's statistics, one line each:
 *
 *   flow proto=tcp local=127.0.0.1:40000 remote=127.0.0.1:5201 rx_packets=.. tx_packets=..
 *        rx_wire_bytes=.. tx_wire_bytes=..
 *   stats version=3 packets=.. drops=.. freezes=.. unparsed=.. other=.. table_full=.. frames=..
 *
 * usage: pktring_probe [-i IFACE] [-V 2|3] [-b BLOCK_SIZE] [-n BLOCKS] [-t TIMEOUT_MS]
 *                      [-s SNAPLEN]
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "pktring.h"

static void probe_print_entry(const struct fa_pkt_entry *e)
{
	int af = e->key.family == FA_FAMILY_IPV4 ? AF_INET : AF_INET6;
	char l[INET6_ADDRSTRLEN], rm[INET6_ADDRSTRLEN];

	inet_ntop(af, e->key.laddr, l, sizeof(l));
	inet_ntop(af, e->key.raddr, rm, sizeof(rm));
	printf("flow proto=%s local=%s%s%s:%u remote=%s%s%s:%u rx_packets=%llu tx_packets=%llu "
	       "rx_wire_bytes=%llu tx_wire_bytes=%llu\n",
	       e->key.proto == FA_PROTO_TCP ? "tcp" : "udp", af == AF_INET6 ? "[" : "", l,
	       af == AF_INET6 ? "]" : "", e->key.lport, af == AF_INET6 ? "[" : "", rm,
	       af == AF_INET6 ? "]" : "", e->key.rport, (unsigned long long)e->rx_packets,
	       (unsigned long long)e->tx_packets, (unsigned long long)e->rx_wire_bytes,
	       (unsigned long long)e->tx_wire_bytes);
}

int main(int argc, char **argv)
{
	struct fa_pktring_opts opts = FA_PKTRING_OPTS_DEFAULT;
	struct fa_pkt_entry *entries;
	struct fa_pkt_stats st;
	struct fa_pktring *ring;
	struct timespec settle;
	struct fa_err err = {};
	sigset_t set;
	size_t n;
	int opt, sig, version;

	while ((opt = getopt(argc, argv, "i:V:b:n:t:s:")) != -1) {
		switch (opt) {
		case 'i':
			opts.ifname = optarg;
			break;
		case 'V':
			opts.tpacket_version = atoi(optarg);
			break;
		case 'b':
			opts.block_size = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			opts.block_count = strtoul(optarg, NULL, 0);
			break;
		case 't':
			opts.block_timeout_ms = strtoul(optarg, NULL, 0);
			break;
		case 's':
			opts.snaplen = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-i IFACE] [-V 2|3] [-b BLOCK_SIZE] [-n BLOCKS] "
				"[-t TIMEOUT_MS] [-s SNAPLEN]\n",
				argv[0]);
			return 2;
		}
	}

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if (fa_pktring_start(&opts, &ring, &err)) {
		fprintf(stderr, "pktring_probe: %s\n", err.msg);
		return 1;
	}
	printf("ready version=%d\n", fa_pktring_version(ring));
	fflush(stdout);
	sigwait(&set, &sig);

	/*
	 * A V3 block is handed over when full or when its timeout expires, and the ring's
	 * thread then reads it. A frame that came in late (a stray IPv6 router solicitation,
	 * say) or a slow (emulated) machine can leave frames the kernel delivered unread at
	 * the first look: look again, up to 10 times, until every delivered frame (the
	 * kernel's packets less its drops) has been read. A real shortfall stays one.
	 */
	settle.tv_sec = (opts.block_timeout_ms + 300) / 1000;
	settle.tv_nsec = (opts.block_timeout_ms + 300) % 1000 * 1000000L;
	for (int look = 1;; look++) {
		nanosleep(&settle, NULL);
		if (fa_pktring_read(ring, &entries, &n, &st)) {
			fprintf(stderr, "pktring_probe: out of memory\n");
			fa_pktring_stop(ring);
			return 1;
		}
		if (st.packets - st.drops <= st.frames || look == 10)
			break;
		free(entries);
	}
	for (size_t i = 0; i < n; i++)
		probe_print_entry(&entries[i]);
	version = fa_pktring_version(ring);
	fa_pktring_stop(ring);
	printf("stats version=%d packets=%llu drops=%llu freezes=%llu unparsed=%llu other=%llu "
	       "table_full=%llu frames=%llu\n",
	       version, (unsigned long long)st.packets, (unsigned long long)st.drops,
	       (unsigned long long)st.freezes, (unsigned long long)st.unparsed,
	       (unsigned long long)st.other, (unsigned long long)st.table_full,
	       (unsigned long long)st.frames);
	free(entries);
	return 0;
}
