#!/usr/bin/env bash
# timeout: 120
# --packets across a veth pair between two network namespaces: on each side, per-flow
# packet counts equal that side's socket's tcpi_segs_out / tcpi_segs_in, IPv4 and IPv6,
# with the ring bound to the veth and to all interfaces; V2 and V3 agree.
#
# Segmentation and GRO are off on the veths: with them on, one GSO packet of 64 KiB
# passes the capture point as a single frame while TCP counts each of its MSS-sized
# segments, so the ring would see fewer packets than the kernel counts segments. That is
# what any capture at that point sees (tcpdump too); the test checks the exact case.
source "$(dirname "$0")/packets.bash"
pk_build
a=fa-pk-a-$$
b=fa-pk-b-$$
pk_netns "$a"
pk_netns "$b"
pk_veth "$a" 10.77.0.1 "$b" 10.77.0.2

pk_probe_start "$a" "$PK_TMP/a-v3" -V 3 -i pk-a
pk_probe_start "$a" "$PK_TMP/a-v2" -V 2 -i pk-a
pk_probe_start "$b" "$PK_TMP/b-v3" -V 3
pk_probe_start "$b" "$PK_TMP/b-v2" -V 2

i=0
for addr in 10.77.0.2 fd00::2; do
	for size in 1 2000000; do
		pk_tcp "$b" "$a" "$addr" $((5400 + i)) $size 300000 $i
		i=$((i + 1))
	done
done
pk_probe_stop_all

for v in v3 v2; do
	for j in $(seq 0 $((i - 1))); do
		pk_check_tcp "$PK_TMP/a-$v" "$(grep '^tcp' "$PK_TMP/cli$j")"
		pk_check_tcp "$PK_TMP/b-$v" "$(grep '^tcp' "$PK_TMP/srv$j")"
	done
	pk_check_stats "$PK_TMP/a-$v"
	pk_check_stats "$PK_TMP/b-$v"
done
pk_same_flows "$PK_TMP/a-v3" "$PK_TMP/a-v2"
pk_same_flows "$PK_TMP/b-v3" "$PK_TMP/b-v2"
echo PASS
