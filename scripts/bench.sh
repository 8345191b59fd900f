#!/usr/bin/env bash
# make bench: what counting costs the traffic it counts. A 64-byte TCP stream over
# loopback (sockperf, ~millions of send() calls per second) is measured with nothing
# attached, with flowacct attached, and with bpftrace doing a comparable per-process sum
# on the same tracepoints, interleaved over several rounds in one run (this machine is
# noisy: only ratios from one run compare). Prints each rate and its ratio to baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
secs=${SECS:-3}
port=${PORT:-11111}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (it loads BPF programs)" >&2; exit 1; }
for t in sockperf bpftrace; do
	command -v $t >/dev/null || { echo "bench: $t is missing: run scripts/install-deps.sh" >&2; exit 1; }
done
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

sockperf sr --tcp -i 127.0.0.1 -p "$port" >/dev/null 2>&1 &
server=$!
attached=
cleanup() {
	[ -n "$attached" ] && kill "$attached" 2>/dev/null && wait "$attached" 2>/dev/null
	kill $server 2>/dev/null
	wait $server 2>/dev/null || true
}
trap cleanup EXIT
sleep 1

rate() {
	sockperf tp --tcp -i 127.0.0.1 -p "$port" -m 64 -t "$secs" 2>&1 |
		sed -n 's/.*Message Rate is \([0-9]*\) \[msg\/sec\].*/\1/p' | tail -1
}

attach() { # name: starts the tracer, waits until it is attached
	case $1 in
	baseline) attached= ;;
	flowacct)
		./flowacct -j 1 >/dev/null 2>/tmp/bench-flowacct.err &
		attached=$!
		until grep -q 'using backend' /tmp/bench-flowacct.err 2>/dev/null; do sleep 0.1; done
		;;
	bpftrace)
		bpftrace -e 'tracepoint:sock:sock_send_length, tracepoint:sock:sock_recv_length
			/ args->ret > 0 / { @[pid, comm, args->sk] = sum(args->ret); }
			interval:s:1 { clear(@); }' >/tmp/bench-bpftrace.out 2>&1 &
		attached=$!
		until grep -q Attaching /tmp/bench-bpftrace.out 2>/dev/null; do sleep 0.1; done
		sleep 1
		;;
	esac
}

detach() {
	if [ -n "$attached" ]; then
		kill -INT "$attached"
		wait "$attached" 2>/dev/null || true
		attached=
	fi
}

declare -A sum
names=(baseline flowacct bpftrace)
for r in $(seq "$rounds"); do
	for n in "${names[@]}"; do
		attach "$n"
		v=$(rate)
		detach
		echo "round $r  $n: ${v:-0} msg/s"
		sum[$n]=$(( ${sum[$n]:-0} + ${v:-0} ))
	done
done
echo
echo "== 64-byte TCP sends over loopback, mean of $rounds rounds of ${secs}s =="
base=${sum[baseline]}
for n in "${names[@]}"; do
	awk -v n="$n" -v s="${sum[$n]}" -v b="$base" -v r="$rounds" \
		'BEGIN { printf "%-10s %12.0f msg/s   ratio to baseline %.3f   (cost %.1f%%)\n", n, s / r, s / b, (1 - s / b) * 100 }'
done
