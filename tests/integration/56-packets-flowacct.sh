#!/usr/bin/env bash
# timeout: 120
# flowacct --packets end to end: in a namespace of its own, the per-flow packet totals
# that flowacct writes (--json-file, rx_packets_total / tx_packets_total joined onto each
# process's flow) equal the kernel's segment counters of both ends of TCP connections
# over loopback, IPv4 and IPv6, and N UDP datagrams are N packets each way, with both
# TPACKET versions; the drop counters of the ring stay at 0.
source "$(dirname "$0")/packets.bash"
pk_build
FLOWACCT=${FLOWACCT:-$FA_ROOT/flowacct}
[ -x "$FLOWACCT" ] || pk_fail "no flowacct binary at $FLOWACCT (run make first)"
ns=fa-pk-fa-$$
pk_netns "$ns"

# fa_flow FILE LINE: the JSON row for the generator line's local/remote ends: the
# process's flow, or once an exited process's flow has been dropped, the row of packets
# that match no process's flow any more.
fa_flow() {
	local l r
	l=$(pk_field "$2" local)
	r=$(pk_field "$2" remote)
	jq -c --arg l "${l%:*}" --argjson lp "${l##*:}" --arg r "${r%:*}" --argjson rp "${r##*:}" \
		'[(.flows[], .unmatched_packets[]) |
			select(.laddr == ($l | ltrimstr("[") | rtrimstr("]")) and .lport == $lp
			and .raddr == ($r | ltrimstr("[") | rtrimstr("]")) and .rport == $rp)][0]' "$1"
}

for v in 3 2; do
	json=$PK_TMP/fa-v$v.json
	ip netns exec "$ns" "$FLOWACCT" --packets --tpacket-version $v --json-file "$json" 0.5 \
		>/dev/null 2>"$PK_TMP/fa-v$v.err" &
	fa=$!
	PK_PIDS+=($fa)
	for i in $(seq 100); do [ -s "$json" ] && break; sleep 0.1; done
	[ -s "$json" ] || { cat "$PK_TMP/fa-v$v.err" >&2; pk_fail "flowacct wrote no $json"; }

	i=0
	for addr in 127.0.0.1 ::1; do
		port=$((5800 + 10 * v + i))
		pk_tcp "$ns" "$ns" "$addr" $port 2000000 100000 $v$i
		pk_udp "$ns" "$ns" "$addr" $((port + 5)) 500 100 50 $v$i
		i=$((i + 1))
	done
	sleep 1 # past the V3 block timeout and one more interval
	kill -INT $fa
	wait $fa || pk_fail "flowacct --packets exited with $?"
	PK_PIDS=()

	for i in 0 1; do
		for line in "$(grep '^tcp' "$PK_TMP/cli$v$i")" "$(grep '^tcp' "$PK_TMP/srv$v$i")"; do
			row=$(fa_flow "$json" "$line")
			[ "$row" != null ] || pk_fail "V$v: no flow row for $line"
			tx=$(jq .tx_packets_total <<<"$row")
			rx=$(jq .rx_packets_total <<<"$row")
			want_tx=$(($(pk_field "$line" segs_out) + $(pk_field "$line" passive || true) + 0))
			want_rx=$(pk_field "$line" segs_in)
			echo "V$v: $line -> flowacct tx_packets_total=$tx rx_packets_total=$rx"
			[ "$tx" = "$want_tx" ] || pk_fail "V$v: tx_packets_total $tx != $want_tx"
			[ "$rx" = "$want_rx" ] || pk_fail "V$v: rx_packets_total $rx != $want_rx"
		done
		line=$(grep '^udp' "$PK_TMP/send$v$i")
		row=$(fa_flow "$json" "$line")
		[ "$row" != null ] || pk_fail "V$v: no flow row for $line"
		echo "V$v: $line -> flowacct tx_packets_total=$(jq .tx_packets_total <<<"$row")"
		[ "$(jq .tx_packets_total <<<"$row")" = 500 ] || pk_fail "V$v: udp tx_packets_total != 500"
	done
	jq -e '.drops.ring_packets_dropped == 0 and .drops.packets_unparsed == 0' "$json" \
		>/dev/null || pk_fail "V$v: ring drops or unparsed frames: $(jq -c .drops "$json")"
done
echo PASS
