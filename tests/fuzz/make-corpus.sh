#!/usr/bin/env bash
# Rebuilds tests/fuzz/corpus/pktparse/ from real traffic (root: namespaces, tcpdump). Captures, in
# two throw-away namespaces joined by a veth: loopback frames (Ethernet form, all-zero
# MACs), and "any" frames in both cooked forms (LINUX_SLL2, LINUX_SLL) of TCP and UDP over
# IPv4 and IPv6, fragmented UDP, and IPv6 with hop-by-hop and destination options; then
# pcap2seeds.py turns each frame into seeds. Snap length 160, as the ring's is small too.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/pktparse
tmp=$(mktemp -d)
a=fa-fz-a-$$
b=fa-fz-b-$$
cleanup() {
	ip netns del "$a" 2>/dev/null || true
	ip netns del "$b" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

gen=${FA_TESTBIN:-$PWD/.output/tests}/pktgen
if [ ! -x "$gen" ]; then
	echo "make-corpus.sh: no traffic generator at $gen (run make test-bins)" >&2
	exit 1
fi
for ns in "$a" "$b"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add fz-a netns "$a" type veth peer name fz-b netns "$b"
ip -n "$a" addr add 10.80.0.1/24 dev fz-a
ip -n "$b" addr add 10.80.0.2/24 dev fz-b
ip -n "$a" addr add fd00::1/64 dev fz-a nodad
ip -n "$b" addr add fd00::2/64 dev fz-b nodad
ip -n "$a" link set fz-a up
ip -n "$b" link set fz-b up

# capture NAME IFACE [tcpdump args...] -- then traffic runs while it records
capture() {
	local name=$1 ifc=$2
	shift 2
	ip netns exec "$a" tcpdump -i "$ifc" -s 160 -U -n "$@" -w "$tmp/$name.pcap" 2>/dev/null &
	cap_pid=$!
	sleep 1
}
stop_capture() {
	sleep 0.5
	kill -INT "$cap_pid"
	wait "$cap_pid" || true
}
tcp() { # ns-server ns-client addr port
	ip netns exec "$1" "$gen" tcp-server "$4" 3000 >/dev/null &
	sleep 0.2
	ip netns exec "$2" "$gen" tcp-client "$3" "$4" 2000 >/dev/null
	wait $!
}
udp() { # addr port size
	ip netns exec "$a" "$gen" udp-send "$1" "$2" 2 "$3" >/dev/null
}
v6opts() {
	ip netns exec "$a" python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
pad = bytes([0, 0, 1, 4, 0, 0, 0, 0])  # PadN: an 8-byte options header
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, pad)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, pad)
s.sendto(b'x' * 64, ('fd00::2', 6000))
s.sendto(b'y' * 3000, ('fd00::2', 6001))
PY
}

capture lo lo
tcp "$a" "$a" 127.0.0.1 6100
tcp "$a" "$a" ::1 6101
udp 127.0.0.1 6102 100
stop_capture

capture any2 any
tcp "$b" "$a" 10.80.0.2 6200
tcp "$b" "$a" fd00::2 6201
udp 10.80.0.2 6202 3000
udp fd00::2 6203 3000
v6opts
stop_capture

capture any1 any -y LINUX_SLL
udp 10.80.0.2 6300 100
tcp "$b" "$a" 10.80.0.2 6301
stop_capture

rm -rf "$out"
mkdir -p "$out"
for p in "$tmp"/*.pcap; do
	tests/fuzz/pcap2seeds.py "$p" "$out" 60
done
echo "$(ls "$out" | wc -l) seeds, $(du -sh "$out" | cut -f1)"
