#!/usr/bin/env bash
# timeout: 150
# The live view as a new user meets it, in a real terminal (tmux, UTF-8): one generator
# process (tuil_gen) whose byte counts the test knows talks to itself over two loopback
# connections, and flowacct watches only it (-p), so every number on screen is exact:
#   the meters (rates, 2 s / 10 s / 40 s averages, peak, totals, a graph), the tree (a
#   process opened into its flows, each flow's totals), the detail panel (every counter,
#   the command line, the history), End keeping to the last row, the sorted title, the
#   column chooser, bits per second, sorting by bytes since start and by a mouse click,
#   a closed connection dimmed and then gone while its bytes stay in the process's
#   totals, 80×24 and 60-column layouts that keep each flow's endpoints and never cut a
#   header field, SIGHUP restoring the terminal; and, outside tmux, a terminal that
#   stops reading (nobody reads the pty) slows neither counting nor the JSON file.
set -eEuo pipefail
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
source "$(dirname "$0")/common.bash"
sock=fa-tuil-$$
session=tuil
fa_setup tui-live tmux python3
source "$(dirname "$0")/tui.bash"

# tuil_gen: waits for $tmp/go, then opens two connections to itself (after flowacct has
# started: a connection older than flowacct is counted from its second read) and moves on
# A 100000 bytes client to server and 300000 back, on B 7777 and 5555; B closes (both
# ends) once $tmp/close appears. RX and TX of the process: 413332 each.
cat >"$tmp/gen.py" <<'EOF'
import ctypes, os, socket, sys, time
d = sys.argv[1]
ctypes.CDLL(None).prctl(15, b"tuil_gen", 0, 0, 0)
def wait(name):
    while not os.path.exists(os.path.join(d, name)):
        time.sleep(0.05)
def move(x, y, n):
    x.sendall(b"g" * n); got = 0
    while got < n:
        got += len(y.recv(65536))
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(4)
print("ready", flush=True)
wait("go")
conns = []
for _ in range(2):
    c = socket.create_connection(ls.getsockname()); a, _ = ls.accept(); conns.append((c, a))
for (c, a), up, down in zip(conns, (100000, 7777), (300000, 5555)):
    move(c, a, up); move(a, c, down)
open(os.path.join(d, "moved"), "w").close()
wait("close")
for s in conns[1]:
    s.close()
time.sleep(3600)
EOF
python3 "$tmp/gen.py" "$tmp" >"$tmp/gen.out" 2>&1 &
gen=$!
pids+=("$gen")
for _ in $(seq 50); do grep -q ready "$tmp/gen.out" && break; sleep 0.1; done
grep -q ready "$tmp/gen.out" || fail "the generator did not start"
linger=$("$flowacct" --help | grep -q -- '--linger' && echo '--linger 1' || true)

# a short terminal first: three table rows, so End has to scroll
tui_session 160 10 LANG=C.UTF-8
start_flowacct -p "$gen" $linger 0.5
wait_for 'rows 0-0 of 0' 5
# the settings line says what the kernel side counts
wait_for "  counting pid $gen  " 3

### End keeps the selection on the last row as rows arrive
tm send-keys -t "$session" End
touch "$tmp/go"
wait_for 'rows 2-4 of 4' 8
last=$(tm capture-pane -e -p -t "$session" | sed -n 9p)
grep -qF $'\e[7m' <<<"$last" || fail "after End, the last row is not the selected one: $last"
tm resize-window -t "$session" -x 160 -y 45
wait_for 'rows 1-4 of 4' 5

### the meters: exact totals (b), the averages, the peak, a graph
for _ in $(seq 50); do [ -e "$tmp/moved" ] && break; sleep 0.1; done
keys b
wait_for '^RX [0-9]+ B/s  2s [0-9]+ B/s  10s [0-9]+ B/s  40s [0-9]+ B/s  peak [0-9]+ B/s  total 413332 B' 5
wait_for '^TX .*  peak [1-9][0-9]* B/s  total 413332 B' 3
cap | sed -n 2p | grep -qE '[▁▂▃▄▅▆▇█]' || fail "the RX meter has no graph"

### the sorted title stands out of the title bar, and is not a hole in it (with
### colours: its own pair, not the bar's inverse over it)
bar=$(tm capture-pane -e -p -t "$session" | sed -n 6p)
grep -qE $'\e\\[[0-9;]*7m' <<<"$bar" || fail "the title bar is not drawn in inverse video"
grep -qE $'\e\\[[0-9;]*46m[^\e]*RX/s v' <<<"$bar" ||
	fail "the sorted title is not highlighted (cyan) in the bar: $(cat -v <<<"$bar")"

### by process, opened into its flows (Space), each flow's exact totals
keys g
wait_for 'by process' 3
expect_tail tuil_gen 1 2 "413332 413332" "the process's totals"
keys ' '
wait_for '├─ (tcp )?127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:[0-9]+ ' 3
wait_for '└─ (tcp )?127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:[0-9]+ ' 3
# each flow: what its socket received and sent
got=$(rows | grep -E '(├─|└─) ' | awk '{print $(NF-1), $NF}' | sort | tr '\n' ' ')
exp=$(printf '%s\n' "7777 5555" "5555 7777" "100000 300000" "300000 100000" | sort | tr '\n' ' ')
[ "$got" = "$exp" ] || fail "the flows under the process: '$got', expected '$exp'"

### Enter: the detail panel of the selected row (the process): every counter, exact
keys k
tm send-keys -t "$session" Home Enter
wait_for '^ Detail \(Enter or Esc closes\)' 3
wait_for '^ RX .* total 413332 bytes \(404 KiB\)  calls [1-9]' 3
wait_for '^ TX .* total 413332 bytes \(404 KiB\)  calls [1-9]' 3
wait_for "^ user root  command [^ ]*python3 $tmp/gen.py $tmp\$" 3
wait_for '^ history +[▁▂▃▄▅▆▇█ ]*[▁▂▃▄▅▆▇█]' 3
tm send-keys -t "$session" Escape
wait_gone '^ Detail ' 3

### the column chooser: turn on the 10 s average
keys C
wait_for '^Columns \(Space or Enter' 3
wait_for '^ \[ \] AVG10s' 3
for _ in 1 2 3 4 5 6; do keys j; done
keys ' '
wait_for '^ \[x\] AVG10s' 3
tm send-keys -t "$session" Escape
wait_gone '^Columns \(Space' 3
cap | sed -n 6p | grep -qE 'HISTORY +AVG10s +RX_TOTAL' || fail "AVG10s chosen but not in the titles"

### bits per second, then bytes again
keys B
wait_for 'bits/s' 3
wait_for '^RX [0-9.]+ [kMG]?b/s' 3
keys B
wait_gone 'bits/s' 3

### sorting by bytes since start (O), and by a click on a title
keys g
keys g
keys g
keys g
wait_for 'by flow' 3
keys O
wait_for 'sort total' 3
wait_for 'RX_TOTAL v' 3
set -- $(rows | head -1)
[ "${@: -2:1}" = 300000 ] || [ "${!#}" = 300000 ] ||
	fail "sorted by bytes since start, the first flow is not one that moved 400000: $*"
# xterm (X10) mouse reports, each ESC [ M and three bytes of 32 + a number: button 1
# pressed (0) and released (3) at column 5, line 6 (1-based): the PID title
tm send-keys -t "$session" -l $'\e[M'" %&"$'\e[M'"#%&"
wait_for 'PID \^' 3
wait_for 'sort pid' 3

### a closed connection: dimmed while it lingers, then gone; its bytes stay
touch "$tmp/close"
wait_dimmed " 7777" "the closed connection's rows are"
wait_for 'rows 1-2 of 2' 10
rows | grep -qE ' (7777|5555)$' && fail "a closed flow is still listed"
keys g
wait_for 'by process' 3
expect_tail tuil_gen 1 2 "413332 413332" "the process's totals after its connection closed"
keys g
keys g
keys g
keys g

### 80×24: every flow row keeps both endpoints; nothing is wider than the terminal
tm resize-window -t "$session" -x 80 -y 24
wait_for '^ +PID \^ COMM +PROTO +LOCAL +REMOTE +RX/s +TX/s *$' 5
[ "$(rows | grep -cE '127\.0\.0\.1:[0-9]+ +~?[0-9.]*:[0-9]+ ')" -ge 2 ] ||
	[ "$(rows | grep -cE ':[0-9]+ +[^ ]*:[0-9]+ ')" -ge 2 ] ||
	fail "at 80 columns the flow rows lost an endpoint"
cap | awk 'length > 80 { exit 1 }' || fail "a line is wider than 80 columns"

### 60 columns: endpoints still there; header fields whole or not at all
tm resize-window -t "$session" -x 60 -y 24
wait_for '^COMM +LOCAL +REMOTE +RX/s +TX/s *$' 5
cap | awk 'length > 60 { exit 1 }' || fail "a line is wider than 60 columns"
head0=$(cap | sed -n 1p)
grep -qxE 'flowacct [0-9:]{8}(  interval [0-9.]+s)?(  backend [a-z]+)?(  flows [0-9]+)?(  processes [0-9]+)?' \
	<<<"$head0" || fail "the title line cut a field at 60 columns: '$head0'"
for l in 2 3; do
	grep -qxE '(RX|TX) [0-9]+ B/s(  total [0-9]+ B)?(  [0-9]+s [0-9]+ B/s)*(  peak [0-9]+ B/s)?( +[▁▂▃▄▅▆▇█ ]*)?' \
		<<<"$(cap | sed -n ${l}p)" || fail "meter line $l cut a field: '$(cap | sed -n ${l}p)'"
done
tm resize-window -t "$session" -x 160 -y 45

### SIGHUP ends the view like q: the terminal is restored, exit 0
kill -HUP "$fa_pid"
[ "$(exit_status)" = 0 ] || fail "flowacct exited with $(exit_status) after SIGHUP"
terminal_is_sane "after SIGHUP"

### a terminal that stops reading: the view's thread waits, counting does not
python3 - "$flowacct" "$tmp" <<'EOF' || fail "a stalled terminal slowed counting (see above)"
import json, os, pty, sys, time, fcntl, termios, struct
fa, tmp = sys.argv[1], sys.argv[2]
out = os.path.join(tmp, "stall.json")
pid, fd = pty.fork()
if pid == 0:
    os.environ.update(TERM="xterm", LANG="C.UTF-8")
    os.execv(fa, [fa, "--json-file", out, "0.1"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 100, 250, 0, 0))
deadline = time.time() + 5
while not os.path.exists(out) and time.time() < deadline:
    try:
        os.read(fd, 65536)
    except OSError:
        pass
# from now on nobody reads the terminal: its buffer fills within a few frames
seen, stamps, end = 0, set(), time.time() + 6
while time.time() < end:
    try:
        stamps.add(json.load(open(out))["ts"])
    except (OSError, ValueError):
        pass
    time.sleep(0.05)
os.kill(pid, 15)
drained = b""
t = time.time() + 5
while time.time() < t:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    drained += b
_, status = os.waitpid(pid, 0)
print(f"stalled terminal: {len(stamps)} JSON files in 6 s at 0.1 s, exit status {status >> 8}")
sys.exit(0 if len(stamps) >= 40 and os.WIFEXITED(status) and status >> 8 == 0 else 1)
EOF

echo "PASS: meters, tree, detail, End, title bar, columns, bits, sorting, mouse, closed rows, narrow layouts, SIGHUP, stalled terminal"
