#!/usr/bin/env bash
# timeout: 120
# Every way a run ends leaves nothing of flowacct in the kernel: the programs and links
# it had (found with bpftool while it runs) are gone after it exits, however it exits:
# its count reached, SIGINT in the middle of an interval, SIGTERM, `| head -1` (the
# reader goes away: a quiet exit 0, as `yes | head`), and the live view's terminal
# closed under it (SIGHUP).
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup exits bpftool tmux python3

# every BPF program id loaded now
prog_ids() { bpftool prog show -j | python3 -c 'import json, sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))'; }
# the programs a flowacct started after `before=$(prog_ids)` loaded (this bpftool
# cannot name a program's process): those new since, once it says it is attached
ids_of() { # errfile
	local i
	for i in $(seq 100); do grep -q "using backend" "$1" && break; sleep 0.1; done
	grep -q "using backend" "$1" || fail "flowacct did not start: $(cat "$1")"
	progs=$(python3 -c 'import sys; b = set(sys.argv[1].split()); print(" ".join(i for i in sys.argv[2].split() if i not in b))' "$before" "$(prog_ids)")
	[ -n "$progs" ] || fail "no new BPF program found with bpftool"
}
gone() { # what: every id of $progs is gone from the kernel, soon after the exit
	local left i
	for i in $(seq 50); do
		left=$(bpftool prog show -j | python3 -c '
import json, sys
ids = set(sys.argv[1].split())
print(" ".join(str(p["id"]) for p in json.load(sys.stdin) if str(p["id"]) in ids))' "$progs")
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || fail "$1: programs $left are still loaded after flowacct exited"
	bpftool link show -j | python3 -c '
import json, sys
ids = set(sys.argv[1].split())
left = [l["id"] for l in json.load(sys.stdin) if str(l.get("prog_id")) in ids]
sys.exit(1 if left else 0)' "$progs" || fail "$1: links of its programs are still there"
	echo "PASS $1: its $(wc -w <<<"$progs") programs and their links are gone"
}

### the count reached
before=$(prog_ids)
"$flowacct" -b 0.3 3 >"$tmp/out" 2>"$tmp/err" &
fa=$!
ids_of "$tmp/err"
wait $fa || fail "count reached: exit $?"
gone "count reached (exit 0)"

### SIGINT in the middle of an interval: a last, short interval, exit 0
before=$(prog_ids)
"$flowacct" -j 5 >"$tmp/int.json" 2>"$tmp/err" &
fa=$!
ids_of "$tmp/err"
sleep 0.7
kill -INT $fa
rc=0
wait $fa || rc=$?
[ $rc -eq 0 ] || fail "SIGINT: exit $rc"
python3 -c 'import json, sys; d = [json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if d and d[-1]["final"] and d[-1]["interval_s"] < 5 else 1)' "$tmp/int.json" ||
	fail "SIGINT: no last, shorter interval marked final"
gone "SIGINT mid-interval (exit 0, a final short interval)"

### SIGTERM
before=$(prog_ids)
"$flowacct" -b 5 >"$tmp/out" 2>"$tmp/err" &
fa=$!
ids_of "$tmp/err"
kill -TERM $fa
rc=0
wait $fa || rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc"
gone "SIGTERM (exit 0)"

### | head -1: the reader goes away
set +e
(
	"$flowacct" -b 0.2 2>"$tmp/head.err" &
	echo $! >"$tmp/head.pid"
	wait $!
	echo $? >"$tmp/head.rc"
) | head -1 >/dev/null
set -e
for i in $(seq 50); do [ -s "$tmp/head.rc" ] && break; sleep 0.1; done
[ "$(cat "$tmp/head.rc")" = 0 ] || fail "| head -1: exit $(cat "$tmp/head.rc")"
grep -q 'failed' "$tmp/head.err" && fail "| head -1: it complained: $(cat "$tmp/head.err")"
echo "PASS | head -1: exit 0, nothing said"

### the live view's terminal closed under it (SIGHUP)
sock=fa-exits-$$
before=$(prog_ids)
tmux -L "$sock" new-session -d -x 120 -y 30 "env TERM=screen $flowacct 1 2>$tmp/tui.err"
for i in $(seq 100); do
	fa=$(pgrep -f "^$flowacct 1" | head -1 || true)
	[ -n "$fa" ] && break
	sleep 0.1
done
[ -n "$fa" ] || fail "the live view did not start in tmux"
ids_of "$tmp/tui.err"
tmux -L "$sock" kill-server
for i in $(seq 50); do kill -0 "$fa" 2>/dev/null || break; sleep 0.1; done
kill -0 "$fa" 2>/dev/null && fail "the terminal closed, and flowacct still runs"
gone "terminal closed under the live view (SIGHUP)"
echo "PASS: every exit leaves nothing behind"
