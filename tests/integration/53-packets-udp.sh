#!/usr/bin/env bash
# timeout: 120
# --packets with UDP: N datagrams are exactly N packets per direction on loopback (which
# shows each twice), IPv4 and IPv6; across a veth, datagrams larger than the MTU are
# exactly 3 fragments each, all on the flow (later fragments carry no ports: they take
# their first fragment's), with wire bytes = IP headers + payload. V2 and V3 agree.
source "$(dirname "$0")/packets.bash"
pk_build
n=2000

# pk_check_udp OUT SEND_LINE PACKETS_PER_DATAGRAM [WIRE_BYTES_PER_DATAGRAM]
pk_check_udp() {
	local out=$1 line=$2 per=$3 wire=${4:-} l r sent fs fr
	l=$(pk_field "$line" local)
	r=$(pk_field "$line" remote)
	sent=$(pk_field "$line" sent)
	[ "$sent" = $n ] || pk_fail "sender sent $sent of $n"
	fs=$(pk_flow "$out" udp "$l" "$r")
	fr=$(pk_flow "$out" udp "$r" "$l")
	[ -n "$fs" ] || pk_fail "$(basename "$out"): no sender flow udp $l -> $r"
	echo "$(basename "$out"): sender   $fs"
	[ "$(pk_field "$fs" tx_packets)" = $((n * per)) ] || pk_fail "sender tx != $n * $per"
	[ "$(pk_field "$fs" rx_packets)" = 0 ] || pk_fail "sender rx != 0"
	if [ -n "$wire" ]; then
		[ "$(pk_field "$fs" tx_wire_bytes)" = $((n * wire)) ] ||
			pk_fail "sender tx_wire_bytes != $n * $wire"
	fi
	[ -z "${5:-}" ] && return 0
	[ -n "$fr" ] || pk_fail "$(basename "$5"): no receiver flow udp $r -> $l"
	echo "$(basename "$out"): receiver $fr"
	[ "$(pk_field "$fr" rx_packets)" = $((n * per)) ] || pk_fail "receiver rx != $n * $per"
	[ "$(pk_field "$fr" tx_packets)" = 0 ] || pk_fail "receiver tx != 0"
}

# loopback: sender and receiver in one namespace, one ring sees both
lo=fa-pk-udp-$$
pk_netns "$lo"
pk_probe_start "$lo" "$PK_TMP/lo-v3" -V 3
pk_probe_start "$lo" "$PK_TMP/lo-v2" -V 2
i=0
for addr in 127.0.0.1 ::1; do
	pk_udp "$lo" "$lo" "$addr" $((5500 + i)) $n 200 100 $i
	i=$((i + 1))
done
pk_probe_stop_all
for v in v3 v2; do
	for j in 0 1; do
		line=$(grep '^udp' "$PK_TMP/send$j")
		wire=$((j == 0 ? 20 + 8 + 200 : 40 + 8 + 200))
		pk_check_udp "$PK_TMP/lo-$v" "$line" 1 $wire "$PK_TMP/lo-$v"
	done
	pk_check_stats "$PK_TMP/lo-$v"
done
pk_same_flows "$PK_TMP/lo-v3" "$PK_TMP/lo-v2"

# veth, MTU 1500: a 3000-byte datagram leaves as 3 fragments
a=fa-pk-ua-$$
b=fa-pk-ub-$$
pk_netns "$a"
pk_netns "$b"
pk_veth "$a" 10.78.0.1 "$b" 10.78.0.2
pk_probe_start "$a" "$PK_TMP/a-v3" -V 3 -i pk-a
pk_probe_start "$b" "$PK_TMP/b-v2" -V 2 -i pk-b
i=0
for addr in 10.78.0.2 fd00::2; do
	pk_udp "$b" "$a" "$addr" $((5600 + i)) $n 3000 50 f$i
	i=$((i + 1))
done
pk_probe_stop_all
# IPv4: 3 headers of 20 + 3008 bytes of UDP; IPv6: 3 headers of 40 + 3 fragment headers of
# 8 + 3008 bytes of UDP
pk_check_udp "$PK_TMP/a-v3" "$(grep '^udp' "$PK_TMP/sendf0")" 3 $((3 * 20 + 3008))
pk_check_udp "$PK_TMP/a-v3" "$(grep '^udp' "$PK_TMP/sendf1")" 3 $((3 * 48 + 3008))
for j in 0 1; do
	line=$(grep '^udp' "$PK_TMP/sendf$j")
	l=$(pk_field "$line" local)
	r=$(pk_field "$line" remote)
	fr=$(pk_flow "$PK_TMP/b-v2" udp "$r" "$l")
	echo "b-v2: receiver $fr"
	[ "$(pk_field "$fr" rx_packets)" = $((3 * n)) ] || pk_fail "receiver rx != 3 * $n"
done
pk_check_stats "$PK_TMP/a-v3"
pk_check_stats "$PK_TMP/b-v2"
echo PASS
