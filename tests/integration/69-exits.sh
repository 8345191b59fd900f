#!/usr/bin/env bash
# timeout: 120
# Every way a run ends leaves nothing of flowacct in the kernel: the programs and links
# it had (read from its fds while it runs) are gone after it exits, however it exits:
# its count reached, SIGINT in the middle of an interval, SIGTERM, `| head -1` (the
# reader goes away: a quiet exit 0, as `yes | head`), and the live view's terminal
# closed under it (SIGHUP).
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup exits bpftool tmux python3

### the count reached
"$flowacct" -b 0.3 3 >"$tmp/out" 2>"$tmp/err" &
fa=$!
fa_progs_of "$tmp/err" "$fa"
wait $fa || fail "count reached: exit $?"
fa_progs_gone "count reached (exit 0)"

### SIGINT in the middle of an interval: a last, short interval, exit 0
"$flowacct" -j 5 >"$tmp/int.json" 2>"$tmp/err" &
fa=$!
fa_progs_of "$tmp/err" "$fa"
sleep 0.7
kill -INT $fa
rc=0
wait $fa || rc=$?
[ $rc -eq 0 ] || fail "SIGINT: exit $rc"
python3 -c 'import json, sys; d = [json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if d and d[-1]["final"] and d[-1]["interval_s"] < 5 else 1)' "$tmp/int.json" ||
	fail "SIGINT: no last, shorter interval marked final"
fa_progs_gone "SIGINT mid-interval (exit 0, a final short interval)"

### SIGTERM
"$flowacct" -b 5 >"$tmp/out" 2>"$tmp/err" &
fa=$!
fa_progs_of "$tmp/err" "$fa"
kill -TERM $fa
rc=0
wait $fa || rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc"
fa_progs_gone "SIGTERM (exit 0)"

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
# exec all the way down: the pane's process is flowacct itself (whatever $flowacct is)
tmux -L "$sock" new-session -d -x 120 -y 30 "exec env TERM=screen $flowacct 1 2>$tmp/tui.err"
fa=$(tmux -L "$sock" display-message -p '#{pane_pid}')
for i in $(seq 100); do
	grep -q "using backend" "$tmp/tui.err" 2>/dev/null && break
	sleep 0.1
done
[ -n "$fa" ] && kill -0 "$fa" || fail "the live view did not start in tmux: $(cat "$tmp/tui.err")"
fa_progs_of "$tmp/tui.err" "$fa"
tmux -L "$sock" kill-server
for i in $(seq 50); do kill -0 "$fa" 2>/dev/null || break; sleep 0.1; done
kill -0 "$fa" 2>/dev/null && fail "the terminal closed, and flowacct still runs"
fa_progs_gone "terminal closed under the live view (SIGHUP)"
echo "PASS: every exit leaves nothing behind"
