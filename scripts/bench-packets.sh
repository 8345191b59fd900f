#!/usr/bin/env bash
# make bench-packets: the packet path (--packets) at the highest small-UDP rate this machine
# makes over loopback (sockperf tp, 64-byte datagrams, client and server on different
# CPUs), side by side with tcpdump -w /dev/null on the same traffic. Interleaved over
# ROUNDS rounds (default 3) of SECS seconds (default 5); medians.
#
# For each capture: the sender's message rate (and its loss against nothing attached), the
# capture's CPU (of one core, from /proc), and what it lost. flowacct's loss is its own
# report (ring_packets_dropped, ring_freezes), and its count is checked against ground
# truth: the packets sent to the server's port must equal the client's send calls (one
# datagram per send, counted by the BPF hook on the socket). tcpdump's loss is its
# "dropped by kernel" line.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
secs=${SECS:-5}
port=${PORT:-11131}
out=.output/bench
say() { echo "bench-packets: $*" >&2; }
. scripts/bench-lib.sh
bench_require "it loads BPF programs and opens AF_PACKET" sockperf tcpdump jq
[ -x ./flowacct ] || { say "build first: make bench-packets"; exit 1; }
mkdir -p "$out"
hz=$(getconf CLK_TCK)

taskset -c 0 sockperf sr -i 127.0.0.1 -p "$port" >/dev/null 2>&1 &
server=$!
tool=
cleanup() {
	[ -n "$tool" ] && kill -INT "$tool" 2>/dev/null && wait "$tool" 2>/dev/null
	kill $server 2>/dev/null
	wait $server 2>/dev/null || true
}
trap cleanup EXIT
sleep 1

# run CONFIG ROUND: one measurement; appends "round config rate cpu% lost extra" to results
run() {
	local c=$1 r=$2 rate t0=0 t1=0 w0 w1 lost=0 extra=- line cpu
	case $c in
	none) tool= ;;
	flowacct)
		rm -f "$out/pk-flowacct.json"
		# the JSON file has every row (-j lists only those that moved in an interval)
		./flowacct --packets -b -r 1 --json-file "$out/pk-flowacct.json" 1 >/dev/null \
			2>"$out/pk-flowacct.err" &
		tool=$!
		wait_for "$out/pk-flowacct.err" 'using backend' "$tool"
		sleep 1
		;;
	tcpdump)
		tcpdump -i any -s 128 -w /dev/null >"$out/pk-tcpdump.log" 2>&1 &
		tool=$!
		wait_for "$out/pk-tcpdump.log" 'listening on' "$tool"
		sleep 1
		;;
	esac
	[ -n "$tool" ] && t0=$(cpu_ticks "$tool")
	w0=$EPOCHREALTIME
	rate=$(taskset -c 1 sockperf tp -i 127.0.0.1 -p "$port" -m 64 -t "$secs" 2>&1 |
		sed -n 's/.*Message Rate is \([0-9]*\) \[msg\/sec\].*/\1/p' | tail -1)
	[ -n "$rate" ] || { say "round $r $c: no result from sockperf"; exit 1; }
	if [ -n "$tool" ]; then
		sleep 1 # the ring's last blocks are handed over (block timeout 100 ms)
		t1=$(cpu_ticks "$tool")
		w1=$EPOCHREALTIME
		kill -INT "$tool"
		wait "$tool" 2>/dev/null || true
		tool=
	fi
	case $c in
	flowacct)
		line=$(cat "$out/pk-flowacct.json")
		[ "$(jq -r .final <<<"$line")" = true ] || { say "flowacct wrote no final line"; exit 1; }
		lost=$(jq '.drops.ring_packets_dropped + .drops.ring_freezes' <<<"$line")
		# ground truth: one datagram per send, counted by the socket hook (tx_calls of
		# the client, the process's only UDP sender) against the packets of its 5-tuple.
		# sockperf sends unconnected, and an unconnected socket's peer is per datagram
		# (0.0.0.0:0 in its flow), so the packets are in the unmatched rows: both count.
		extra=$(jq -r --argjson p "$port" '
			([.flows[] | select(.proto == "udp" and .comm == "sockperf" and .lport != $p)
			  | .tx_calls_total] | add // 0) as $calls |
			([(.flows[], .unmatched_packets[]) | select(.proto == "udp" and .rport == $p)
			  | .tx_packets_total] | add // 0) as $pk |
			if $calls == 0 then "no-flow"
			elif $pk == $calls then "exact(\($pk))"
			else "MISCOUNT(tx_packets=\($pk),tx_calls=\($calls))" end' <<<"$line")
		;;
	tcpdump)
		lost=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$out/pk-tcpdump.log")
		extra="captured($(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$out/pk-tcpdump.log"))"
		;;
	esac
	cpu=$([ "$t1" -gt 0 ] && awk -v d=$((t1 - t0)) -v hz="$hz" -v a="$w0" -v b="$w1" \
		'BEGIN { printf "%.1f", d / hz / (b - a) * 100 }' || echo 0)
	echo "$r $c $rate $cpu ${lost:-0} $extra" >>"$results"
	echo "round $r  $c: $rate msg/s  CPU $cpu %  lost ${lost:-0}  $extra"
}

results=$out/packets.txt
: >"$results"
say "$rounds rounds of ${secs}s, 64-byte UDP over loopback, interleaved"
for r in $(seq "$rounds"); do
	for c in none flowacct tcpdump; do
		run "$c" "$r"
	done
done

echo
echo "== --packets vs tcpdump: medians of $rounds rounds, ${secs}s each, $(date -u +%FT%TZ), $(uname -r) =="
awk '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ n[$2]++; rate[$2, n[$2]] = $3; cpu[$2, n[$2]] = $4; lost[$2, n[$2]] = $5; maxlost[$2] = ($5 > maxlost[$2] ? $5 : maxlost[$2]); if ($6 ~ /MISCOUNT|no-flow/) bad[$2]++ }
END {
	for (i = 1; i <= n["none"]; i++) a[i] = rate["none", i]
	base = median(a, n["none"])
	printf "%-10s %12s %10s %12s %14s\n", "capture", "msg/s", "rate loss", "CPU (core)", "lost (worst)"
	split("none flowacct tcpdump", cs, " ")
	for (k = 1; k <= 3; k++) {
		c = cs[k]
		for (i = 1; i <= n[c]; i++) { a[i] = rate[c, i]; b[i] = cpu[c, i] }
		r = median(a, n[c]); u = median(b, n[c])
		printf "%-10s %12d %9.1f%% %11.1f%% %14d\n", c, r, (1 - r / base) * 100, u, maxlost[c]
	}
	if (bad["flowacct"]) printf "flowacct packet counts MISSED the ground truth in %d rounds\n", bad["flowacct"]
	else printf "flowacct packet counts: packets sent to the server = the client send calls, every round\n"
}' "$results"
