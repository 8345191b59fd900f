#!/usr/bin/env bash
# timeout: 120
# Nothing that reaches a hook is dropped: bytes on sockets of families and protocols
# without flows land in the "other" counters, by kind, in JSON, text and Prometheus.
# UDP-Lite goes through the UDP functions every backend hooks, so its bytes are exact
# on each; AF_UNIX reaches only the tracepoint backend's hooks (sock_sendmsg and
# sock_recvmsg), so there at least the workload's bytes show (other processes of the
# host use AF_UNIX too).
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup other python3 curl
fa_probe_backends
[ ${#probe_yes[@]} -gt 0 ] || fail "no backend is usable on this kernel"
port=$((19000 + RANDOM % 1000))
for backend in "${probe_yes[@]}"; do
	"$flowacct" --backend "$backend" -j --prometheus "$port" 0.3 >"$tmp/$backend.json" 2>"$tmp/err" &
	fa=$!
	pids+=("$fa")
	for i in $(seq 100); do grep -q "using backend" "$tmp/err" && break; sleep 0.1; done
	python3 - <<'PY'
import socket
# UDP-Lite (IPPROTO_UDPLITE 136), IPv4 and IPv6: 7 datagrams of 1000..1006 bytes each way
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    a = socket.socket(fam, socket.SOCK_DGRAM, 136); a.bind((host, 0))
    b = socket.socket(fam, socket.SOCK_DGRAM, 136); b.bind((host, 0))
    for i in range(7):
        a.sendto(b"l" * (1000 + i), b.getsockname()[:2])
        assert len(b.recv(4096)) == 1000 + i
# AF_UNIX stream pair: 123457 bytes one way
x, y = socket.socketpair()
x.sendall(b"u" * 123457)
n = 0
while n < 123457:
    n += len(y.recv(65536))
PY
	sleep 0.7
	metrics=$(curl -s "http://127.0.0.1:$port/metrics")
	kill -INT "$fa"
	wait "$fa"
	python3 - "$tmp/$backend.json" "$backend" <<'PY'
import json, sys
path, backend = sys.argv[1], sys.argv[2]
last = {}
for line in open(path):
    for o in json.loads(line)["other"]:
        last[o["kind"]] = o
want = sum(1000 + i for i in range(7))
for kind in ("ipv4/udplite", "ipv6/udplite"):
    o = last.get(kind)
    assert o, f"{backend}: no {kind} row in {sorted(last)}"
    assert (o["rx_bytes_total"], o["tx_bytes_total"]) == (want, want), f"{backend}: {kind}: {o}"
    assert (o["rx_calls_total"], o["tx_calls_total"]) == (7, 7), f"{backend}: {kind}: {o}"
if backend == "tracepoint":
    o = last.get("unix")
    assert o and o["rx_bytes_total"] >= 123457 and o["tx_bytes_total"] >= 123457, f"unix: {o}"
print(f"PASS {backend}: other traffic in JSON: " +
      ", ".join(f"{k} rx {v['rx_bytes_total']} tx {v['tx_bytes_total']}" for k, v in sorted(last.items())))
PY
	grep -q "^flowacct_other_bytes_total{kind=\"ipv4/udplite\",direction=\"tx\"} 7021$" <<<"$metrics" ||
		fail "$backend: Prometheus has no exact ipv4/udplite series: $(grep other_bytes <<<"$metrics")"
	echo "PASS $backend: Prometheus: $(grep -c '^flowacct_other_bytes_total' <<<"$metrics") other series"
done
# the text output names them too
"$flowacct" -b 0.3 >"$tmp/text" 2>"$tmp/err" &
fa=$!
pids+=("$fa")
for i in $(seq 100); do grep -q "using backend" "$tmp/err" && break; sleep 0.1; done
python3 -c 'import socket
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136); a.bind(("127.0.0.1", 0))
a.sendto(b"t" * 999, a.getsockname()); a.recv(999)'
sleep 0.7
kill -INT "$fa"
wait "$fa"
grep -q '^OTHER (not in the totals): .*ipv4/udplite rx=999 tx=999' "$tmp/text" ||
	fail "the text output has no OTHER line with the datagram: $(grep -m1 OTHER "$tmp/text")"
echo "PASS text: $(grep -m1 '^OTHER' "$tmp/text")"
