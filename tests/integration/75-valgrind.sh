#!/usr/bin/env bash
# timeout: 240
# The live binary under valgrind's memcheck, every output on at once (JSON on stdout,
# --json-file, Prometheus scraped, --audit, --packets) while traffic moves: no invalid
# read or write, no use of uninitialised memory, nothing definitely or indirectly lost at
# exit, and the bytes still exact. --no-seccomp: valgrind runs flowacct's code as its
# own translations, in memory the filter would forbid making executable.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup valgrind valgrind python3 curl
port=$(shuf -i 20000-40000 -n 1)

valgrind --quiet --suppressions="$root/tests/integration/valgrind.supp" --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --log-file="$tmp/vg.log" \
	"$flowacct" --no-seccomp -j --json-file "$tmp/latest.json" --prometheus "127.0.0.1:$port" \
	--audit --packets 1 >"$tmp/out.json" 2>"$tmp/err" &
fa=$!
pids+=("$fa")
for i in $(seq 600); do grep -q "using backend" "$tmp/err" && break; sleep 0.1; done
grep -q "using backend" "$tmp/err" || fail "flowacct under valgrind did not start: $(cat "$tmp/err" "$tmp/vg.log")"
sleep 2
lport=$(python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.sendall(b"v" * 77777); got = 0
while got < 77777: got += len(a.recv(65536))
a.sendall(b"w" * 3333); got = 0
while got < 3333: got += len(c.recv(65536))
print(c.getsockname()[1])
c.close(); a.close()')
# 503 until the first interval is published, which valgrind makes slow
served=0
for i in $(seq 60); do
	curl -sf -o "$tmp/page" "http://127.0.0.1:$port/metrics" && grep -q "^flowacct_build_info" "$tmp/page" &&
		served=$((served + 1))
	[ $served -eq 3 ] && break
	sleep 0.5
done
[ $served -eq 3 ] || fail "only $served metrics pages served in 30 s"
sleep 2
kill -INT $fa
rc=0
wait $fa || rc=$?
[ $rc -eq 0 ] || fail "exit $rc under valgrind: $(cat "$tmp/vg.log")"
# errors are "==PID== " lines; "--PID-- " lines are valgrind's own notes (it knows no
# BPF_LINK_CREATE, and says so)
! grep -q '^==[0-9]*== ' "$tmp/vg.log" || fail "valgrind reports: $(grep '^==' "$tmp/vg.log" | head -60)"
read -r tx rx < <(python3 -c '
import json, sys
rows = [f for l in open(sys.argv[1]) for f in json.loads(l)["flows"] if f["lport"] == int(sys.argv[2])]
print(sum(f["tx_bytes"] for f in rows), sum(f["rx_bytes"] for f in rows))' "$tmp/out.json" "$lport")
[ "$tx $rx" = "77777 3333" ] || fail "under valgrind: tx $tx rx $rx counted, 77777 and 3333 moved"
echo "PASS valgrind memcheck: no error, no leak, tx 77777 rx 3333 exact, 3 scrapes served"
