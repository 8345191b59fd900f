#!/usr/bin/env bash
# timeout: 120
# --packets on loopback: per-flow packet counts equal the kernel's own per-socket segment
# counters (tcpi_segs_out / tcpi_segs_in) for both ends of IPv4 and IPv6 connections,
# though loopback shows every packet twice; TPACKET_V2 and V3 rings agree exactly.
source "$(dirname "$0")/packets.bash"
pk_build
ns=fa-pk-lo-$$
pk_netns "$ns"

pk_probe_start "$ns" "$PK_TMP/v3" -V 3
pk_probe_start "$ns" "$PK_TMP/v2" -V 2

i=0
for addr in 127.0.0.1 ::1; do
	for size in 1 3000000; do
		pk_tcp "$ns" "$ns" "$addr" $((5300 + i)) $size 100000 $i
		i=$((i + 1))
	done
done
pk_probe_stop_all

for out in "$PK_TMP/v3" "$PK_TMP/v2"; do
	for j in $(seq 0 $((i - 1))); do
		pk_check_tcp "$out" "$(grep '^tcp' "$PK_TMP/cli$j")"
		pk_check_tcp "$out" "$(grep '^tcp' "$PK_TMP/srv$j")"
	done
	pk_check_stats "$out"
done
pk_same_flows "$PK_TMP/v3" "$PK_TMP/v2"
echo PASS
