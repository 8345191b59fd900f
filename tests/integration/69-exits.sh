#!/usr/bin/env bash
# timeout: 120
# Every way a run ends leaves nothing of flowacct in the kernel: the programs and links
# it had (read from its fds while it runs) are gone after it exits, however it exits:
# its count reached, SIGINT in the middle of an interval, SIGTERM, `| head -1` (the
# reader goes away: a quiet exit 0, as `yes | head`), every -p process gone (a thread's id
# standing for its process), and the live view's terminal closed under it (SIGHUP).
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

### -p with a thread's id (what htop lists for threads): its process is watched, and once
### it has exited that is said; tables and JSON end with a final interval, exit 0
# a process whose second thread moves 4321 bytes over loopback once told to go, idles
# WAIT seconds, then the process exits; it prints its pid and that thread's id first
cat >"$tmp/threaded.py" <<'EOF'
import os, socket, sys, threading, time
ready = threading.Event()
def talk():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
    print(os.getpid(), threading.get_native_id(), flush=True)
    ready.wait()
    c = socket.create_connection(s.getsockname()); a, _ = s.accept()
    c.sendall(b"t" * 4321)
    got = 0
    while got < 4321:
        got += len(a.recv(65536))
    time.sleep(float(sys.argv[1]))
t = threading.Thread(target=talk); t.start()
sys.stdin.readline()  # go
ready.set(); t.join()
EOF
# thread_start NAME WAIT: such a process, told to go by thread_go. Sets pid and tid.
thread_start() {
	mkfifo "$tmp/go.$1"
	python3 "$tmp/threaded.py" "$2" <"$tmp/go.$1" >"$tmp/ids.$1" &
	exec {go}>"$tmp/go.$1"
	for i in $(seq 50); do [ -s "$tmp/ids.$1" ] && break; sleep 0.1; done
	read -r pid tid <"$tmp/ids.$1"
	[ -n "$tid" ] && [ "$pid" != "$tid" ] || fail "no thread id of its own: pid $pid, tid $tid"
}
thread_go() {
	echo >&$go
	exec {go}>&-
}
# threaded NAME ARGS...: flowacct ARGS -p TID against such a process (WAIT 0.5), started
# before it talks. Its stdout in $tmp/p.NAME, stderr in $tmp/p.err, exit status in rc.
threaded() {
	local name=$1
	shift
	thread_start "$name" 0.5
	# a -p that never ends the run fails here, rather than at the test's own timeout
	timeout 20 "$flowacct" "$@" -p "$tid" 0.3 >"$tmp/p.$name" 2>"$tmp/p.err" &
	fa=$!
	# -q says nothing when it has started: the first interval shows it has
	for i in $(seq 100); do [ -s "$tmp/p.$name" ] && break; sleep 0.1; done
	thread_go
	rc=0
	wait $fa || rc=$?
}
threaded batch -b
[ $rc -eq 0 ] || fail "-b -p TID: exit $rc: $(cat "$tmp/p.err")"
grep -qx "flowacct: -p $tid is a thread of process $pid: watching the process" "$tmp/p.err" ||
	fail "-p TID: not said that the thread's process is watched: $(cat "$tmp/p.err")"
grep -qx "flowacct: every watched process has exited" "$tmp/p.err" ||
	fail "-b: not said that the watched process exited: $(cat "$tmp/p.err")"
# the thread's flows (both ends: the connection was made once flowacct ran), under its
# process's pid
awk -v p="$pid" '$1 == p && $3 == "tcp" { n[$4] = 1 } END { exit length(n) != 2 }' "$tmp/p.batch" ||
	fail "-b -p TID: not the process's two flows: $(cat "$tmp/p.batch")"
echo "PASS -b -p TID: the process watched, its flows shown, its exit said, exit 0"
threaded json -j
[ $rc -eq 0 ] || fail "-j -p TID: exit $rc"
python3 - "$tmp/p.json" "$pid" <<'EOF' || fail "-j -p TID: not the process's 4321 bytes each way, ending final"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
flows = [f for x in d for f in x["flows"] if f["pid"] == int(sys.argv[2])]
sys.exit(0 if d[-1]["final"] and sum(f["tx_bytes"] for f in flows) == 4321 ==
         sum(f["rx_bytes"] for f in flows) else 1)
EOF
grep -qx "flowacct: every watched process has exited" "$tmp/p.err" || fail "-j: its end not said"
echo "PASS -j -p TID: 4321 bytes each way, the last interval final, exit 0"
threaded quiet -q -b
[ $rc -eq 0 ] || fail "-q -b -p TID: exit $rc"
[ "$(cat "$tmp/p.err")" = "flowacct: every watched process has exited" ] ||
	fail "-q: more than the end was said: $(cat "$tmp/p.err")"
echo "PASS -q -b -p TID: only the end is said"
# the live view stays on the last interval, as top -p does, until q; it says why at exit
sock=fa-exits-p-$$
thread_start tui 0.3
tmux -L "$sock" new-session -d -x 160 -y 30 \
	"env TERM=screen $flowacct -p $tid 0.3 2>$tmp/tui-p.err; echo \$? >$tmp/tui-p.rc"
fa_started "$tmp/tui-p.err"
thread_go
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the watched process did not exit"
sleep 1.5
[ -s "$tmp/tui-p.rc" ] && fail "the live view ended when the watched process exited: $(cat "$tmp/tui-p.err")"
tmux -L "$sock" capture-pane -p | grep -q "python3" ||
	fail "the live view does not show the process's last rows: $(tmux -L "$sock" capture-pane -p)"
tmux -L "$sock" send-keys q
for i in $(seq 50); do [ -s "$tmp/tui-p.rc" ] && break; sleep 0.1; done
tmux -L "$sock" kill-server 2>/dev/null || true
[ "$(cat "$tmp/tui-p.rc" 2>/dev/null)" = 0 ] ||
	fail "q after the watched process exited: exit $(cat "$tmp/tui-p.rc" 2>/dev/null)"
[ "$(tail -1 "$tmp/tui-p.err")" = "flowacct: every watched process has exited" ] ||
	fail "the live view did not say at exit that the watched process exited: $(cat "$tmp/tui-p.err")"
echo "PASS the live view, -p TID: stays on the last interval after the exit, says it after q, exit 0"

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
