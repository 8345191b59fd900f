# Shared by the 5x-packets-*.sh tests (sourced, not run: tests/run.sh runs *.sh only).
# Finds the ring driver and the traffic generator (make test-bins builds them), makes
# throw-away network namespaces, and reads the driver's "flow ..."/"stats ..." lines.
set -euo pipefail

FA_ROOT=${FA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PK_TMP=$(mktemp -d /tmp/fa-packets.XXXXXX)
PK_NETNS=()
PK_PIDS=()

pk_cleanup() {
	local p n
	for p in "${PK_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for n in "${PK_NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$PK_TMP"
}
trap pk_cleanup EXIT
# PK_KEEP=1: leave the namespaces and outputs (in $PK_TMP) behind, to look at a failure
[ -z "${PK_KEEP:-}" ] || trap - EXIT

pk_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Root (CAP_NET_RAW, CAP_SYS_ADMIN for namespaces) is a requirement, never a reason to skip.
[ "$(id -u)" -eq 0 ] || pk_fail "packet tests need root (CAP_NET_RAW, network namespaces)"

# pk_build: the ring driver (pktring_probe.c, linked with user/pktring.o and pktparse.o)
# and the traffic generator (pktgen.c), as make test-bins built them into $FA_TESTBIN.
pk_build() {
	local bin=${FA_TESTBIN:-$FA_ROOT/.output/tests}
	PROBE=$bin/pktring_probe
	GEN=$bin/pktgen
	[ -x "$PROBE" ] || pk_fail "no ring driver at $PROBE (run make test-bins)"
	[ -x "$GEN" ] || pk_fail "no traffic generator at $GEN (run make test-bins)"
}

# pk_netns NAME: a fresh namespace with loopback up and IPv6 duplicate address
# detection off (so addresses are usable at once and no stray probes appear).
pk_netns() {
	ip netns del "$1" 2>/dev/null || true
	ip netns add "$1"
	PK_NETNS+=("$1")
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$1" link set lo up
	# one segment per packet, as on the veth: with TSO a loopback packet can carry two
	# segments (payload just over the MSS), which tcpi_segs_in counts as two
	ip netns exec "$1" ethtool -K lo tso off gso off >/dev/null
}

# pk_veth NS_A ADDR_A NS_B ADDR_B: a veth pair between two namespaces, 10.x/24 + fd00::/64,
# with segmentation and receive offloads off (see docs/packets.md: why).
pk_veth() {
	local a=$1 b=$3
	ip link add pk-a netns "$a" type veth peer name pk-b netns "$b"
	ip -n "$a" addr add "$2/24" dev pk-a
	ip -n "$b" addr add "$4/24" dev pk-b
	ip -n "$a" addr add "fd00::${2##*.}/64" dev pk-a nodad
	ip -n "$b" addr add "fd00::${4##*.}/64" dev pk-b nodad
	ip netns exec "$a" ethtool -K pk-a tso off gso off gro off >/dev/null
	ip netns exec "$b" ethtool -K pk-b tso off gso off gro off >/dev/null
	ip -n "$a" link set pk-a up
	ip -n "$b" link set pk-b up
	# static neighbours: no resolution queue to overflow while the first packets wait
	local mac_a mac_b
	mac_a=$(ip -n "$a" -br link show pk-a | awk '{print $3}')
	mac_b=$(ip -n "$b" -br link show pk-b | awk '{print $3}')
	ip -n "$a" neigh replace "$4" lladdr "$mac_b" dev pk-a nud permanent
	ip -n "$a" neigh replace "fd00::${4##*.}" lladdr "$mac_b" dev pk-a nud permanent
	ip -n "$b" neigh replace "$2" lladdr "$mac_a" dev pk-b nud permanent
	ip -n "$b" neigh replace "fd00::${2##*.}" lladdr "$mac_a" dev pk-b nud permanent
}

# pk_probe_start NS OUT [probe args...]: runs the ring driver, returns once it is ready.
pk_probe_start() {
	local ns=$1 out=$2 i
	shift 2
	ip netns exec "$ns" "$PROBE" "$@" >"$out" 2>"$out.err" &
	PK_PIDS+=($!)
	for i in $(seq 100); do
		grep -q '^ready' "$out" 2>/dev/null && return 0
		kill -0 $! 2>/dev/null || { cat "$out.err" >&2; pk_fail "pktring_probe $* did not start"; }
		sleep 0.05
	done
	pk_fail "pktring_probe $* not ready after 5 s"
}

# pk_probe_stop_all: SIGTERM every driver, wait for their final lines.
pk_probe_stop_all() {
	local p
	for p in "${PK_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PK_PIDS[@]}"; do wait "$p" || pk_fail "pktring_probe exited with $?"; done
	PK_PIDS=()
}

# pk_tcp SERVER_NS CLIENT_NS ADDR PORT BYTES REPLY_BYTES TAG: one connection, the
# generators' lines in $PK_TMP/srvTAG and $PK_TMP/cliTAG.
pk_tcp() {
	ip netns exec "$1" "$GEN" tcp-server "$4" "$6" >"$PK_TMP/srv$7" &
	sleep 0.2
	ip netns exec "$2" "$GEN" tcp-client "$3" "$4" "$5" >"$PK_TMP/cli$7"
	wait $! || pk_fail "tcp-server $4 failed"
}

# pk_udp RECV_NS SEND_NS ADDR PORT COUNT SIZE PACE TAG: COUNT datagrams, all of which
# must arrive; lines in $PK_TMP/recvTAG and $PK_TMP/sendTAG.
pk_udp() {
	ip netns exec "$1" "$GEN" udp-recv "$4" "$5" 2000 >"$PK_TMP/recv$8" &
	sleep 0.2
	ip netns exec "$2" "$GEN" udp-send "$3" "$4" "$5" "$6" "$7" >"$PK_TMP/send$8"
	wait $! || pk_fail "udp-recv $4 failed"
	grep -q "received=$5" "$PK_TMP/recv$8" || pk_fail "receiver: $(cat "$PK_TMP/recv$8")"
}

# pk_field LINE NAME: the value of NAME=... in a line of key=value words.
pk_field() {
	tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1
}

# pk_flow OUT PROTO LOCAL REMOTE: the driver's line for that 5-tuple (empty if none).
pk_flow() {
	grep -F "flow proto=$2 local=$3 remote=$4 " "$1" || true
}

# pk_check_tcp OUT GEN_LINE: the driver's counts for the generator's socket equal the
# kernel's own segment counters for it, both ways. One known difference: an accepted
# socket's tcpi_segs_out starts at 0 although the SYN-ACK went out for it (the listener's
# request sock sent it, tcp_v4_send_synack), while its tcpi_segs_in starts at 1 for the
# SYN (tcp_create_openreq_child); so a passive end sent segs_out + 1 packets.
pk_check_tcp() {
	local out=$1 line=$2 l r flow segs_out segs_in tx rx
	l=$(pk_field "$line" local)
	r=$(pk_field "$line" remote)
	segs_out=$(($(pk_field "$line" segs_out) + $(pk_field "$line" passive || true) + 0))
	segs_in=$(pk_field "$line" segs_in)
	flow=$(pk_flow "$out" tcp "$l" "$r")
	[ -n "$flow" ] || pk_fail "$(basename "$out"): no flow for tcp $l -> $r"
	tx=$(pk_field "$flow" tx_packets)
	rx=$(pk_field "$flow" rx_packets)
	echo "$(basename "$out"): tcp $l -> $r: tx_packets=$tx segs_out=$segs_out," \
		"rx_packets=$rx segs_in=$segs_in"
	[ "$tx" = "$segs_out" ] || pk_fail "tx_packets $tx != tcpi_segs_out $segs_out"
	[ "$rx" = "$segs_in" ] || pk_fail "rx_packets $rx != tcpi_segs_in $segs_in"
}

# pk_same_flows OUT_A OUT_B: two drivers (V2 and V3) saw exactly the same flows.
pk_same_flows() {
	diff <(grep '^flow' "$1" | sort) <(grep '^flow' "$2" | sort) ||
		pk_fail "$(basename "$1") and $(basename "$2") disagree"
	echo "$(basename "$1") and $(basename "$2"): $(grep -c '^flow' "$1") identical flows"
}

# pk_check_stats OUT: nothing dropped or unparsed, and every frame read was counted.
pk_check_stats() {
	local s
	s=$(grep '^stats' "$1") || pk_fail "$(basename "$1"): no stats line"
	echo "$(basename "$1"): $s"
	[ "$(pk_field "$s" drops)" = 0 ] || pk_fail "ring dropped packets"
	[ "$(pk_field "$s" unparsed)" = 0 ] || pk_fail "unparsed frames"
	[ "$(pk_field "$s" packets)" = "$(pk_field "$s" frames)" ] ||
		pk_fail "packets != frames read"
}
