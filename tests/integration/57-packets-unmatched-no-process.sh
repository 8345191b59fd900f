#!/usr/bin/env bash
# timeout: 90
# Packets that no process's flow matches (here: connections refused by a closed port,
# SYN out and RST back, no byte ever moved) are listed by 5-tuple and never as a process,
# the same in every output: `-b --by process` once printed them as a phantom pid-0 row
# ("0  *  (0 flows)"), JSON left them out of "processes". A process that did move bytes is
# shown with exactly what it moved.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup unmatched ip python3 jq curl
ns=fa-unmatched-$$
cleanup_extra() { ip netns del "$ns" 2>/dev/null || true; }
ip netns add "$ns"
ip -n "$ns" link set lo up
inns() { ip netns exec "$ns" "$@"; }

inns "$flowacct" -b --by process --packets --json-file "$tmp/snap.json" 0.5 8 \
	>"$tmp/text" 2>"$tmp/err" &
fa=$!
pids+=("$fa")
for _ in $(seq 50); do grep -q 'using backend' "$tmp/err" && break; sleep 0.1; done
grep -q 'using backend' "$tmp/err" || fail "flowacct did not start: $(cat "$tmp/err")"
sleep 0.5

# refused connections: packets, no flow
for _ in 1 2 3; do inns curl -s -m 1 http://127.0.0.1:9/ >/dev/null || true; done
# a process that moves 4242 bytes to itself over TCP, then stays (its rows stay too)
inns python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.sendall(b"x" * 4242); c.close()
n = 0
while True:
    d = a.recv(65536)
    if not d: break
    n += len(d)
open(sys.argv[1], "w").write(str(n))
time.sleep(60)
' "$tmp/moved" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/moved" ] && break; sleep 0.1; done
[ "$(cat "$tmp/moved" 2>/dev/null)" = 4242 ] || fail "the generator did not move its 4242 bytes"
wait "$fa" || fail "flowacct exited with $?: $(cat "$tmp/err")"

echo "--- -b --by process --packets"
cat "$tmp/text"
if grep -E '^0 |\(0 flows\)|no process' "$tmp/text"; then
	fail "unmatched packets are shown as a process in the per-process table"
fi
# PID COMM FLOWS ...: the generator's process, with its 2 flows
grep -qE '^[0-9]+ +python3 +2 ' "$tmp/text" ||
	fail "the generator's process row (FLOWS 2) is missing"

echo "--- --json-file (every row)"
jq -c '{processes: [.processes[] | {pid, comm, rx_bytes_total, tx_bytes_total}],
	unmatched: [.unmatched_packets[] | {lport, rport, rx_packets_total, tx_packets_total}]}' \
	"$tmp/snap.json"
[ "$(jq '[.processes[] | select(.pid == 0)] | length' "$tmp/snap.json")" = 0 ] ||
	fail "JSON lists a pid-0 process"
[ "$(jq '[.unmatched_packets[] | select(.rport == 9 or .lport == 9)] | length' \
	"$tmp/snap.json")" -ge 1 ] || fail "JSON does not list the refused connections' packets"
[ "$(jq '[.processes[] | select(.comm == "python3")][0] | .rx_bytes_total, .tx_bytes_total' \
	"$tmp/snap.json" | tr '\n' ' ')" = "4242 4242 " ] ||
	fail "the generator's process does not show exactly 4242 bytes each way"
echo PASS
