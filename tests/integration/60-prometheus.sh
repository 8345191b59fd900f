#!/usr/bin/env bash
# timeout: 240
# A stock Prometheus (Debian's package) scrapes two flowacct --prometheus every second:
# one with --prometheus-pids --prometheus-flows (job flowacct), one with the default
# series by process name, container and unit (job names). A generator whose byte counts
# are exact (it counts what its own calls moved) talks to a sink over loopback TCP;
# Prometheus's HTTP API must then return exactly those bytes for the generator's process
# and flow, and for its name, and the top-talkers queries of docs/prometheus.md must
# list it.
# A process with a hostile name arrives in Prometheus escaped, as in the JSON output.
# Two short-lived processes of one name in one systemd unit's cgroup: the default series
# is their sum, exactly, and stays after both left. --prometheus-max-names 1 folds a
# second name into "(other)", its bytes exact there, and counts it.
# Also: /metrics passes promtool's lint, other paths are 404, the content type is 0.0.4,
# and stalled HTTP clients delay neither the intervals nor other scrapes.
set -euo pipefail
source "$(dirname "$0")/common.bash"
send_bytes=$((48 * 1024 * 1024 + 17)) # generator → sink, in steps across scrapes
recv_bytes=$((3 * 1024 * 1024 + 5)) # sink → generator, after the sink got everything

fa_setup prom prometheus promtool curl python3
source "$(dirname "$0")/prom.bash"
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cg_root" ] || fail "no cgroup v2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup"
cg_base=fa-prom-$$.slice
mkdir -p "$cg_root/$cg_base/fa-twin.service" "$cg_root/$cg_base/fa-fold.service"
cleanup_extra() {
	local d p
	for d in "$cg_root/$cg_base/fa-twin.service" "$cg_root/$cg_base/fa-fold.service" "$cg_root/$cg_base"; do
		[ -d "$d" ] || continue
		while read -r p; do echo "$p" >"$cg_root/cgroup.procs"; done <"$d/cgroup.procs"
		rmdir "$d" || true
	done
	return 0
}

fa_port=$(free_port)
names_port=$(free_port)
metrics=http://127.0.0.1:$fa_port/metrics
names_metrics=http://127.0.0.1:$names_port/metrics

"$flowacct" -b --prometheus "127.0.0.1:$fa_port" --prometheus-pids --prometheus-flows 1 \
	>"$tmp/flowacct.log" 2>&1 &
pids+=($!)
fa_pid=$!
"$flowacct" -b --prometheus "127.0.0.1:$names_port" 1 >"$tmp/flowacct-names.log" 2>&1 &
pids+=($!)
wait_endpoint "$metrics" $fa_pid "$tmp/flowacct.log"
wait_endpoint "$names_metrics" $! "$tmp/flowacct-names.log"

ctype=$(curl -s -o "$tmp/page.txt" -w '%{content_type}' "$metrics")
echo "content type: $ctype"
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "content type $ctype"
promtool check metrics <"$tmp/page.txt" || fail "promtool check metrics rejects the page"
grep -q '^flowacct_build_info{version=".*",backend=".*"} 1$' "$tmp/page.txt" ||
	fail "no flowacct_build_info"
for path in / /metricsx /metrics/ /favicon.ico; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fa_port$path")
	echo "GET $path: $code"
	[ "$code" = 404 ] || fail "GET $path answered $code, not 404"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$metrics")
[ "$code" = 405 ] || fail "POST /metrics answered $code, not 405"
curl -s -H 'Accept-Encoding: gzip' -D "$tmp/gz.headers" -o "$tmp/page.gz" "$metrics"
grep -qi '^Content-Encoding: gzip' "$tmp/gz.headers" || fail "no gzip for Accept-Encoding: gzip"
gunzip -c "$tmp/page.gz" | promtool check metrics || fail "the gzip page does not lint"
echo "gzip: $(stat -c %s "$tmp/page.gz") bytes for $(gunzip -c "$tmp/page.gz" | wc -c)"
echo "PASS: endpoint (200 with 0.0.4 content type, promtool lint, gzip, 404, 405)"

check_stalled "$metrics" "" $fa_pid

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: flowacct
    static_configs:
      - targets: ['127.0.0.1:$fa_port']
  - job_name: names
    static_configs:
      - targets: ['127.0.0.1:$names_port']
EOF
prom_start "$tmp/prometheus.yml"

# A second pair whose generator names itself with every byte a label must not carry
# raw: a quote, a backslash, a newline, a terminal escape, a byte that is not UTF-8.
hostile_name=$(printf 'q"b\\s\n\033[1m\377z')
hostile_bytes=100003
start_pair hostile $hostile_bytes 7 "$hostile_name"
hostile_pid=$gen_pid
start_pair main "$send_bytes" "$recv_bytes"
wait_pair main $gen_pid
wait_pair hostile $hostile_pid
echo "generator pid $gen_pid sent $send_bytes, received $recv_bytes; sink pid $sink_pid"

gen="pid=\"$gen_pid\",comm=\"fa_promgen\",proto=\"tcp\""
sink="pid=\"$sink_pid\",proto=\"tcp\""
wait_value "flowacct_process_tx_bytes_total{$gen}" "$send_bytes"
wait_value "flowacct_process_rx_bytes_total{$gen}" "$recv_bytes"
wait_value "flowacct_process_rx_bytes_total{$sink}" "$send_bytes"
wait_value "flowacct_process_tx_bytes_total{$sink}" "$recv_bytes"
wait_value "up{job=\"flowacct\"}" 1
wait_value "up{job=\"names\"}" 1
# The default series: by name (the hostile generator has another), no pid, no uid.
names="job=\"names\",comm=\"fa_promgen\",proto=\"tcp\""
wait_value "sum(flowacct_process_tx_bytes_total{$names})" "$send_bytes"
wait_value "sum(flowacct_process_rx_bytes_total{$names})" "$recv_bytes"
[ -z "$(query 'flowacct_process_tx_bytes_total{job="names",pid!=""}')" ] ||
	fail "the default series carry a pid label"
[ -z "$(query 'flowacct_process_tx_bytes_total{job="names",uid!=""}')" ] ||
	fail "the default series carry a uid label"
wait_value "count(flowacct_prometheus_folded_label_values{job=\"names\"})" 3
query 'sum by (container) (rate(flowacct_process_tx_bytes_total{job="names"}[1m]))' |
	grep -q . || fail "sum by (container) (rate(...)) of docs/prometheus.md returned nothing"
# --prometheus-flows: the generator's one flow, with its endpoints as labels
main_port=$(cat "$tmp/main.port")
wait_value "flowacct_flow_tx_bytes_total{$gen,raddr=\"127.0.0.1\",rport=\"$main_port\"}" \
	"$send_bytes"
wait_value "count(flowacct_flow_rx_bytes_total{pid=\"$gen_pid\"})" 1

# The hostile name arrives in Prometheus as flowacct's escaped form of it, the same
# string the JSON output carries; its bytes are exact too.
query "flowacct_process_tx_bytes_total{pid=\"$hostile_pid\"}" >"$tmp/hostile.txt"
cat "$tmp/hostile.txt"
python3 - "$tmp/hostile.txt" "$hostile_bytes" <<'EOF' || fail "hostile process name"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
labels, value = lines[0].rsplit(" ", 1)
comm = json.loads(labels)["comm"]
want = r'q"b\\s\x0a\x1b[1m\xffz'
assert comm == want, "comm label %r, want %r" % (comm, want)
assert value == sys.argv[2], "value %s, want %s" % (value, sys.argv[2])
print("PASS: hostile name as comm=%r, %s bytes" % (comm, value))
EOF

# Top talkers since start: the generator with exactly what it moved.
top=$(query 'topk(10, sum by (pid, comm) (flowacct_process_tx_bytes_total + flowacct_process_rx_bytes_total))')
echo "top talkers by bytes since start:"
echo "$top"
grep -qx "{\"comm\": \"fa_promgen\", \"pid\": \"$gen_pid\"} $((send_bytes + recv_bytes))" <<<"$top" ||
	fail "the generator is not among the top talkers with $((send_bytes + recv_bytes)) bytes"

# The rate query of docs/prometheus.md: the generator moved its bytes within the minute.
# rate() needs two scrapes of a series: the generator's may so far be in one (it ran for
# less than a scrape interval), so the query is asked again for a few intervals.
for _ in $(seq 20); do
	top=$(query 'topk(10, sum by (pid, comm) (rate(flowacct_process_tx_bytes_total[1m]) + rate(flowacct_process_rx_bytes_total[1m])))')
	grep -q "^{\"comm\": \"fa_promgen\", \"pid\": \"$gen_pid\"} [1-9]" <<<"$top" && break
	sleep 0.5
done
echo "top talkers by rate over the last minute:"
echo "$top"
grep -q "^{\"comm\": \"fa_promgen\", \"pid\": \"$gen_pid\"} [1-9]" <<<"$top" ||
	fail "the generator is not among the top talkers by rate"
echo "PASS: Prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3) found the generator's exact bytes"

# A process that exits leaves the page a few intervals later (its series goes stale).
kill "$gen_pid"
for i in $(seq 30); do
	curl -sf "$metrics" >"$tmp/after.txt" || fail "scrape after the generator exited"
	grep -q "pid=\"$gen_pid\"" "$tmp/after.txt" || break
	sleep 0.5
done
grep -q "pid=\"$gen_pid\"" "$tmp/after.txt" && fail "the exited generator's series stay on the page"
echo "PASS: the exited generator's series left the page after about $((i / 2)) s"

# talk CGROUP NAME BYTES: a process in CGROUP (under $cg_base) named NAME sends BYTES to
# itself over loopback TCP (so it receives them too), then exits; prints its pid.
cat >"$tmp/talk.py" <<'EOF'
import os, socket, sys
cgdir, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
pid = os.fork()
if pid == 0:
    with open(os.path.join(cgdir, "cgroup.procs"), "w") as f:
        f.write("0")
    with open("/proc/self/comm", "w") as f:
        f.write(name)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    c = socket.create_connection(s.getsockname())
    a, _ = s.accept()
    c.sendall(b"x" * n)
    c.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        b = a.recv(1 << 16)
        if not b:
            break
        got += len(b)
    os._exit(0 if got == n else 3)
print(pid)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
EOF
talk() {
	python3 "$tmp/talk.py" "$cg_root/$cg_base/$1" "$2" "$3" || fail "the $2 talker failed"
}

# wait_sample URL SAMPLE WANT: the page at URL has the line "SAMPLE WANT"
wait_sample() {
	for _ in $(seq 60); do
		curl -sf "$1" >"$tmp/sample.txt" || true
		grep -qxF "$2 $3" "$tmp/sample.txt" && { echo "PASS: $2 $3"; return 0; }
		sleep 0.5
	done
	grep -F "${2%%\{*}" "$tmp/sample.txt" >&2 || true
	fail "no '$2 $3' on $1"
}

# Two short-lived processes of one name in one unit: one series, their sum, exactly,
# before and after both left flowacct's table.
twin1=123457
twin2=654321
twin_a=$(talk fa-twin.service fa_twin $twin1)
twin_b=$(talk fa-twin.service fa_twin $twin2)
echo "fa_twin talkers $twin_a and $twin_b sent $twin1 and $twin2 bytes"
twin='comm="fa_twin",container="",service="fa-twin.service",proto="tcp"'
wait_sample "$names_metrics" "flowacct_process_tx_bytes_total{$twin}" $((twin1 + twin2))
wait_sample "$names_metrics" "flowacct_process_rx_bytes_total{$twin}" $((twin1 + twin2))
for i in $(seq 30); do
	curl -sf "$metrics" >"$tmp/after.txt" || fail "scrape after the talkers exited"
	grep -q 'comm="fa_twin"' "$tmp/after.txt" || break
	sleep 0.5
done
grep -q 'comm="fa_twin"' "$tmp/after.txt" && fail "the exited talkers' pid series stay on the page"
echo "both talkers left the --prometheus-pids page after about $((i / 2)) s"
curl -sf "$names_metrics" >"$tmp/names-after.txt"
grep -qxF "flowacct_process_tx_bytes_total{$twin} $((twin1 + twin2))" "$tmp/names-after.txt" ||
	fail "after both talkers left, the fa_twin series is not $((twin1 + twin2)): $(grep fa_twin "$tmp/names-after.txt")"
wait_value "flowacct_process_tx_bytes_total{job=\"names\",comm=\"fa_twin\"}" $((twin1 + twin2))
echo "PASS: two fa_twin processes are one series of their exact sum, kept after they left"

# --prometheus-max-names 1, counting only the talkers' cgroup so that the first name is
# known: fa_fold_a's is admitted, fa_fold_b's bytes land in comm="(other)", counted once.
fold_port=$(free_port)
fold_metrics=http://127.0.0.1:$fold_port/metrics
"$flowacct" -b --prometheus "127.0.0.1:$fold_port" --prometheus-max-names 1 \
	--cgroup "/$cg_base/fa-fold.service" 1 >"$tmp/flowacct-fold.log" 2>&1 &
pids+=($!)
wait_endpoint "$fold_metrics" $! "$tmp/flowacct-fold.log"
fold_a=111111
fold_b=222223
fold='container="",service="fa-fold.service",proto="tcp"'
talk fa-fold.service fa_fold_a $fold_a >/dev/null
wait_sample "$fold_metrics" "flowacct_process_tx_bytes_total{comm=\"fa_fold_a\",$fold}" $fold_a
talk fa-fold.service fa_fold_b $fold_b >/dev/null
wait_sample "$fold_metrics" "flowacct_process_tx_bytes_total{comm=\"(other)\",$fold}" $fold_b
curl -sf "$fold_metrics" >"$tmp/fold.txt"
grep -F 'flowacct_process_tx_bytes_total{' "$tmp/fold.txt"
grep -F flowacct_prometheus_folded_label_values "$tmp/fold.txt"
grep -q 'comm="fa_fold_b"' "$tmp/fold.txt" && fail "fa_fold_b has a series beyond --prometheus-max-names 1"
grep -qxF "flowacct_process_tx_bytes_total{comm=\"fa_fold_a\",$fold} $fold_a" "$tmp/fold.txt" ||
	fail "fa_fold_a's series changed after the fold"
folded=$(sed -n 's/^flowacct_prometheus_folded_label_values{label="comm"} //p' "$tmp/fold.txt")
[ "${folded:-0}" -ge 1 ] || fail "flowacct_prometheus_folded_label_values{label=\"comm\"} is '$folded', want >= 1"
total=$(awk '/^flowacct_process_tx_bytes_total\{/ { s += $NF } END { print s + 0 }' "$tmp/fold.txt")
[ "$total" = $((fold_a + fold_b)) ] || fail "the fold page's tx bytes add up to $total, want $((fold_a + fold_b))"
echo "PASS: --prometheus-max-names 1 folded fa_fold_b into (other) ($folded folded), $total bytes exact"
