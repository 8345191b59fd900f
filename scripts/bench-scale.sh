#!/usr/bin/env bash
# make bench-scale: flowacct's own cost in user space with many flows. For each size in
# FLOWS (default "10000 100000"), connected TCP pairs over loopback each move a byte a
# second in both directions (bench/scale_gen.py, spread over processes of at most
# 8,000 pairs: one process may hold 20,000 descriptors here); then each output runs at a
# 1 s interval for SECS seconds (default 10) after a 3 s warm-up, and its CPU time (of one
# core) and resident memory are read from /proc. The live view runs in tmux at 160x45.
set -euo pipefail
cd "$(dirname "$0")/.."
read -ra sizes <<<"${FLOWS:-10000 100000}"
secs=${SECS:-10}
out=.output/bench
mkdir -p "$out"
say() { echo "bench-scale: $*" >&2; }
. scripts/bench-lib.sh
bench_require "it loads BPF programs" python3 tmux curl
ulimit -n 20000
hz=$(getconf CLK_TCK)
gens=()
fa=
cleanup() {
	[ -n "$fa" ] && kill "$fa" 2>/dev/null
	tmux kill-session -t fa-scale 2>/dev/null || true
	for g in "${gens[@]}"; do kill "$g" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

max_rss_over() { # secs pid: the largest RSS sampled every 0.1 s (KiB)
	local max=0 rss i
	for i in $(seq $(($1 * 10))); do
		rss=$(rss_kib "$2")
		[ "$rss" -gt "$max" ] && max=$rss
		sleep 0.1
	done
	echo "$max"
}
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

# measure NAME PID: prints NAME, CPU (of one core), the largest RSS seen once a second and
# the peak RSS (VmHWM, start-up included) over secs seconds after a warm-up
measure() {
	local name=$1 pid=$2 t0 t1 rss max=0 i
	sleep 3
	t0=$(cpu_ticks "$pid")
	for i in $(seq "$secs"); do
		sleep 1
		rss=$(rss_kib "$pid")
		[ "$rss" -gt "$max" ] && max=$rss
	done
	t1=$(cpu_ticks "$pid")
	awk -v n="$name" -v d=$((t1 - t0)) -v hz="$hz" -v s="$secs" -v r="$max" -v h="$(hwm_kib "$pid")" \
		'BEGIN { printf "  %-30s %6.2f %% of a core   RSS %6.1f MiB   peak %6.1f MiB\n", n, d / hz / s * 100, r / 1024, h / 1024 }'
}

run_output() { # name args...: flowacct with these output options, measured
	local name=$1
	shift
	./flowacct --max-flows 131072 "$@" 1 >/dev/null 2>"$out/scale.err" &
	fa=$!
	measure "$name" "$fa"
	kill -INT "$fa"
	wait "$fa" 2>/dev/null || true
	fa=
}

for flows in "${sizes[@]}"; do
	pairs=$((flows / 2))
	per=8000
	left=$pairs
	gens=()
	while [ "$left" -gt 0 ]; do
		n=$((left < per ? left : per))
		python3 bench/scale_gen.py "$n" >"$out/gen.$left.log" 2>&1 &
		gens+=($!)
		left=$((left - n))
	done
	for g in "${gens[@]}"; do :; done
	deadline=$((SECONDS + 300))
	until [ "$(grep -l ready "$out"/gen.*.log 2>/dev/null | wc -l)" -ge "${#gens[@]}" ]; do
		[ $SECONDS -lt $deadline ] || { say "generators did not connect in 300 s"; exit 1; }
		sleep 1
	done
	echo "== $flows flows ($pairs loopback TCP pairs, a byte a second each way), interval 1 s, ${secs} s =="
	run_output "-b -r 10" -b -r 10
	run_output "-b (every active row)" -b
	run_output "-j" -j
	run_output "--json-file (with -b -r 1)" -b -r 1 --json-file "$out/scale.json"
	# scraped once a second, as the busiest Prometheus job would
	(while sleep 1; do curl -s -o /dev/null http://127.0.0.1:9645/metrics || true; done) &
	scraper=$!
	run_output "--prometheus (scraped every 1 s)" -b -r 1 --prometheus 127.0.0.1:9645
	kill "$scraper"
	wait "$scraper" 2>/dev/null || true
	tmux new-session -d -s fa-scale -x 160 -y 45 "./flowacct --max-flows 131072 1"
	sleep 1
	fa=$(pgrep -n -f '^./flowacct --max-flows 131072 1$')
	measure "live view (tmux 160x45)" "$fa"
	tmux kill-session -t fa-scale
	fa=
	# memory once the flows end: their processes exit, their rows linger a few
	# intervals and leave
	./flowacct --max-flows 131072 -b -r 10 1 >/dev/null 2>"$out/scale.err" &
	fa=$!
	sleep 3
	with=$(max_rss_over 5 "$fa")
	for g in "${gens[@]}"; do kill "$g" 2>/dev/null || true; done
	wait "${gens[@]}" 2>/dev/null || true
	gens=()
	sleep 7 # the rows of exited processes linger 3 intervals, their slots a 4th
	awk -v a="$with" -v b="$(max_rss_over 5 "$fa")" \
		'BEGIN { printf "  %-30s largest RSS over 5 s: %6.1f MiB with the flows, %6.1f MiB once they ended\n", "-b -r 10, flows ending", a / 1024, b / 1024 }'
	kill -INT "$fa"
	wait "$fa" 2>/dev/null || true
	fa=
	rm -f "$out"/gen.*.log
done
