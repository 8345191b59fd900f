#!/usr/bin/env bash
# make bench: what counting costs the traffic it counts. Over loopback, three workloads —
# a 64-byte TCP stream and a 64-byte UDP stream (sockperf tp, message rate) and TCP
# request/response (sockperf pp, latency p50 and p99) — each measured with nothing
# attached, with empty programs on the hooks of flowacct's backend (bench/empty_hook: the
# floor, what the hook itself costs), with flowacct, and with bpftrace keeping the
# equivalent per-process, per-socket sum. Interleaved over ROUNDS rounds in one run, medians
# reported: this machine is noisy, so only ratios from one run compare.
#
# Environment: ROUNDS (default 5), SECS per measurement (default 3), BACKEND (default: what
# flowacct --backend auto would choose), WORKLOADS (default "tcp udp pp"; a subset for a
# quicker look), PORT (default 11111; PORT+1 for UDP). Then, per tool, the run time per
# event inside its programs, from the kernel's own BPF statistics.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
secs=${SECS:-3}
port=${PORT:-11111}
empty=.output/bench/empty_hook
out=.output/bench
say() { echo "bench: $*" >&2; }
. scripts/bench-lib.sh
bench_require "it loads BPF programs" sockperf bpftrace
[ -x ./flowacct ] && [ -x "$empty" ] || { say "build first: make bench"; exit 1; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
backend=${BACKEND:-$(./flowacct --probe-backends 2>/dev/null | awk '$2 == "yes" { print $1; exit }')}
[ -n "$backend" ] || { say "no backend works here (flowacct --probe-backends)"; exit 1; }

# bpftrace's equivalent: bytes per process and socket, on the same kind of hook
if [ "$backend" = tracepoint ]; then
	bt_prog='tracepoint:sock:sock_send_length, tracepoint:sock:sock_recv_length
		/ args->ret > 0 / { @[pid, comm, args->sk] = sum(args->ret); }
		interval:s:1 { clear(@); }'
else
	bt_prog='kfunc:tcp_sendmsg, kfunc:udp_sendmsg, kfunc:udpv6_sendmsg,
		kfunc:tcp_recvmsg, kfunc:udp_recvmsg, kfunc:udpv6_recvmsg
		/ retval > 0 / { @[pid, comm, args->sk] = sum(retval); }
		interval:s:1 { clear(@); }'
	bt_prog=${bt_prog//kfunc:/kretfunc:}
fi

# Where the scheduler puts the two ends of a loopback exchange changes its rate by tens of
# percent, more than what is measured, so they are pinned: the TCP stream's ends on
# different CPUs, the UDP stream's and request/response's on the same one (a wakeup across
# CPUs would be most of the latency measured)
first_cpu=0
last_cpu=$(($(nproc) - 1))
taskset -c $first_cpu sockperf sr --tcp -i 127.0.0.1 -p "$port" >/dev/null 2>&1 &
tcp_server=$!
taskset -c $first_cpu sockperf sr -i 127.0.0.1 -p $((port + 1)) >/dev/null 2>&1 &
udp_server=$!
attached=
cleanup() {
	[ -n "$attached" ] && kill -INT "$attached" 2>/dev/null && wait "$attached" 2>/dev/null
	kill $tcp_server $udp_server 2>/dev/null
	wait $tcp_server $udp_server 2>/dev/null || true
}
trap cleanup EXIT
sleep 1

attach() { # config
	case $1 in
	baseline) attached= ;;
	empty)
		"$empty" "$backend" >"$out/empty.log" 2>&1 &
		attached=$!
		wait_for "$out/empty.log" attached "$attached"
		;;
	flowacct)
		./flowacct -j --backend "$backend" 1 >/dev/null 2>"$out/flowacct.err" &
		attached=$!
		wait_for "$out/flowacct.err" 'using backend' "$attached"
		;;
	bpftrace)
		bpftrace -e "$bt_prog" >"$out/bpftrace.log" 2>&1 &
		attached=$!
		wait_for "$out/bpftrace.log" Attaching "$attached"
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

measure() { # workload: prints one number (msg/s), or "p50 p99" (usec)
	case $1 in
	tcp) taskset -c $last_cpu sockperf tp --tcp -i 127.0.0.1 -p "$port" -m 64 -t "$secs" 2>&1 |
		sed -n 's/.*Message Rate is \([0-9]*\) \[msg\/sec\].*/\1/p' | tail -1 ;;
	udp) taskset -c $first_cpu sockperf tp -i 127.0.0.1 -p $((port + 1)) -m 64 -t "$secs" 2>&1 |
		sed -n 's/.*Message Rate is \([0-9]*\) \[msg\/sec\].*/\1/p' | tail -1 ;;
	pp) taskset -c $first_cpu sockperf pp --tcp -i 127.0.0.1 -p "$port" -m 64 -t "$secs" 2>&1 |
		awk '/percentile 50.000/ { p50 = $NF } /percentile 99.000/ { p99 = $NF }
			END { print p50, p99 }' ;;
	esac
}

configs=(baseline empty flowacct bpftrace)
read -ra workloads <<<"${WORKLOADS:-tcp udp pp}"
mkdir -p "$out"
results=$out/results.txt
: >"$results"
say "backend $backend, $rounds rounds of ${secs}s per measurement, interleaved"
for r in $(seq "$rounds"); do
	for c in "${configs[@]}"; do
		attach "$c"
		for w in "${workloads[@]}"; do
			v=$(measure "$w")
			[ -n "$v" ] || { say "round $r $c $w: no result from sockperf"; exit 1; }
			echo "$r $c $w $v" >>"$results"
			echo "round $r  $c  $w: $v"
		done
		detach
	done
done

# A steadier figure of the cost per event than a message rate: the kernel's own run time of
# each program (kernel.bpf_stats_enabled), over one TCP stream per tool. Enabling the stats
# adds two clock reads per run to every program, so the empty one's figure is that floor.
progs_of_others=$out/prog-ids.json
stats_snap() { # sum of run time and runs of the programs not in $progs_of_others
	bpftool prog show -j | jq -r --slurpfile old "$progs_of_others" \
		'[.[] | select(.id as $i | $old[0] | index($i) | not)] |
		 "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}
per_event=$out/per-event.txt
: >"$per_event"
if command -v bpftool >/dev/null && command -v jq >/dev/null; then
	for c in empty flowacct bpftrace; do
		bpftool prog show -j | jq '[.[].id]' >"$progs_of_others"
		attach "$c"
		sysctl -qw kernel.bpf_stats_enabled=1
		read -r t0 n0 <<<"$(stats_snap)"
		measure tcp >/dev/null
		read -r t1 n1 <<<"$(stats_snap)"
		sysctl -qw kernel.bpf_stats_enabled=0
		detach
		echo "$c $((t1 - t0)) $((n1 - n0))" >>"$per_event"
	done
else
	say "bpftool or jq missing: no per-event figure (scripts/install-deps.sh)"
fi

echo
echo "== backend $backend: medians of $rounds rounds, ${secs}s each, $(date -u +%FT%TZ), $(uname -r) =="
awk -v rounds="$rounds" '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ k = $2 SUBSEP $3; n[k]++; v[k, n[k]] = $4; if (NF > 4) w[k, n[k]] = $5 }
END {
	split("baseline empty flowacct bpftrace", cs, " ")
	for (ci = 1; ci <= 4; ci++) for (wi = 1; wi <= 3; wi++) {
		wl = wi == 1 ? "tcp" : wi == 2 ? "udp" : "pp"; k = cs[ci] SUBSEP wl
		delete a; delete b
		for (i = 1; i <= n[k]; i++) { a[i] = v[k, i]; b[i] = w[k, i] }
		med[k] = median(a, n[k]); med99[k] = median(b, n[k])
	}
	for (wi = 1; wi <= 2; wi++) {
		wl = wi == 1 ? "tcp" : "udp"
		base = med["baseline" SUBSEP wl]
		if (!base) continue
		printf "\n64-byte %s stream (msg/s)          rate    overhead\n", toupper(wl)
		for (ci = 1; ci <= 4; ci++) {
			c = cs[ci]; m = med[c SUBSEP wl]; ov[c, wl] = 1 - m / base
			printf "  %-10s %18.0f    %6.1f%%\n", c, m, ov[c, wl] * 100
		}
		e = ov["empty", wl]; f = ov["flowacct", wl]; t = ov["bpftrace", wl]
		# an overhead under 1 % is within the noise of this machine: no ratio means anything then
		if (e < 0.01)
			printf "  flowacct / empty overhead: n/a (the floor, %.1f%%, is within the noise; flowacct %.1f%%)\n", e * 100, f * 100
		else
			printf "  flowacct / empty overhead: %.2f (target <= 1.3: %s)\n", f / e, f / e <= 1.3 ? "met" : "MISSED"
		if (t < 0.01)
			printf "  flowacct / bpftrace overhead: n/a (bpftrace %.1f%% is within the noise)\n", t * 100
		else
			printf "  flowacct / bpftrace overhead: %.2f (target <= 0.33: %s)\n", f / t, f / t <= 1 / 3 ? "met" : "MISSED"
	}
	base = med["baseline" SUBSEP "pp"]
	if (!base) exit
	printf "\nTCP request/response latency (usec)   p50      p99   added p50\n"
	for (ci = 1; ci <= 4; ci++) {
		c = cs[ci]; m = med[c SUBSEP "pp"]; add[c] = m - base
		printf "  %-10s %22.3f %8.3f   %+8.3f\n", c, m, med99[c SUBSEP "pp"], add[c]
	}
	# under 0.05 usec the floor is within the noise of this machine: no ratio means anything
	if (add["empty"] < 0.05)
		printf "  flowacct / empty added p50: n/a (the floor adds %+.3f usec, within the noise; flowacct %+.3f, bpftrace %+.3f)\n", add["empty"], add["flowacct"], add["bpftrace"]
	else
		printf "  flowacct / empty added p50: %.2f (target <= 1.3: %s)\n", add["flowacct"] / add["empty"], (add["flowacct"] / add["empty"] <= 1.3) ? "met" : "MISSED"
}' "$results"

if [ -s "$per_event" ]; then
	echo
	echo "Run time per event inside the programs (kernel.bpf_stats_enabled, one TCP stream each)"
	awk '{ ns[$1] = $3 ? $2 / $3 : 0; printf "  %-10s %8.1f ns   (%d events)\n", $1, ns[$1], $3 }
		END { f = ns["flowacct"] - ns["empty"]; t = ns["bpftrace"] - ns["empty"]
			if (ns["empty"] > 0) printf "  flowacct adds %.1f ns per event to the empty program, bpftrace %.1f ns: %.2f of bpftrace\n", f, t, (t > 0 ? f / t : 0) }' "$per_event"
fi
