#!/usr/bin/env bash
# timeout: 120
# The interactive view, driven like a person would: the real binary in a tmux pane, keys
# sent with send-keys, the screen read back with capture-pane. Generators whose byte
# counts the test knows talk over loopback TCP under distinctive process names (tuig_*):
#   tuig_up      → tuig_upsrv    a steady ~400 KB/s stream, one way
#   tuig_downsrv → tuig_down     a steady ~100 KB/s stream, one way
#   tuig_xcli ⇄ tuig_xsrv         two connections; on each, the client sends exactly
#                                  123456 bytes and the server exactly 654321, then idle
#   ESC[31mtuig_evil BEL          a hostile name; talks to itself: 5000 bytes each way
# Asserted: command-line options set the initial state; the rows appear with the right
# names and exact totals (`b`) and human units; every sort key reorders rows; `/` filters
# by name and port (Esc cancels, empty clears); `a` hides idle rows; `g` groups per
# process and adds up; `p` freezes the view while counting goes on; `+`/`-` change the
# interval; scrolling; help; a narrow terminal drops columns and nothing wraps; the
# hostile name shows escaped; an exited process is dimmed; losses show in red; --packets
# adds packet rates; and `q`, SIGTERM and SIGSEGV all leave a usable terminal (main
# screen, cursor shown, echo and canonical input on).
set -eEuo pipefail
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
source "$(dirname "$0")/common.bash"
sock=fa-tui-$$
session=tui
tm() { tmux -L "$sock" "$@"; }

# the screen as it was, with every failure
fail() {
	echo "FAIL: $*" >&2
	if tm has-session -t "$session" 2>/dev/null; then
		echo "--- screen:" >&2
		tm capture-pane -p -t "$session" >&2 || true
	fi
	exit 1
}
cleanup_extra() { tm kill-server 2>/dev/null || true; }
fa_setup tui tmux python3

# peer NAME MODE PORT SEND RATE CONNS: names itself NAME (prctl, before any socket), then
# per connection sends SEND bytes (-1: forever) at RATE bytes/s (0: at once) while reading
# all it receives; then idles with its sockets open so its flows stay put.
# MODE: listen (on PORT), connect (to PORT), or pair (one connection to itself).
cat >"$tmp/peer.py" <<'EOF'
import ctypes, os, socket, sys, threading, time

name, mode, port, total, rate, conns = sys.argv[1:7]
port, total, rate, conns = int(port), int(total), int(rate), int(conns)
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(os.fsencode(name)), 0, 0, 0)  # PR_SET_NAME

def send(s):
    chunk, sent, tick = b"x" * 65536, 0, 0.05
    due = time.monotonic()
    while total < 0 or sent < total:
        n = int(rate * tick) if rate else len(chunk)
        if total >= 0:
            n = min(n, total - sent)
        s.sendall(chunk[:n])
        sent += n
        if rate:
            due += tick
            time.sleep(max(0, due - time.monotonic()))

def drain(s):
    while s.recv(65536):
        pass

def serve(s):
    threading.Thread(target=drain, args=(s,), daemon=True).start()
    t = threading.Thread(target=send, args=(s,))
    t.start()
    return t

socks = []
if mode in ("listen", "pair"):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    print("ready", flush=True)
if mode == "pair":
    c = socket.create_connection(ls.getsockname())
    socks = [c, ls.accept()[0]]
elif mode == "listen":
    socks = [ls.accept()[0] for _ in range(conns)]
else:
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
for t in [serve(s) for s in socks]:
    t.join()
while True:
    time.sleep(3600)
EOF

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# starts a peer in the background (its pid in last_pid); waits until a listener listens
peer() {
	python3 "$tmp/peer.py" "$@" >"$tmp/$1.out" 2>&1 &
	pids+=($!)
	last_pid=$!
	if [ "$2" = listen ]; then
		for _ in $(seq 50); do
			grep -q ready "$tmp/$1.out" 2>/dev/null && return 0
			sleep 0.1
		done
		fail "peer $1 did not start listening"
	fi
}

cap() { tm capture-pane -p -t "$session"; }
# the table: the lines under the column titles (line 5), blank lines left out
rows() { cap | awk 'NR > 5 && NF'; }
# names of the rows, in order; empty (not a failure) while there are none yet
names() { rows | { grep -o 'tuig_[a-z]*' || true; } | tr '\n' ' ' | sed 's/ $//'; }
row_of() { rows | { grep -- "$1" || true; } | sed -n "${2:-1}p"; } # text [nth]

wait_for() { # ERE [seconds]: until the screen matches
	local deadline=$((SECONDS + ${2:-10}))
	while [ $SECONDS -lt $deadline ]; do
		cap | grep -qE -- "$1" && return 0
		sleep 0.2
	done
	fail "timed out waiting for /$1/ on the screen"
}

wait_gone() { # ERE [seconds]
	local deadline=$((SECONDS + ${2:-10}))
	while [ $SECONDS -lt $deadline ]; do
		cap | grep -qE -- "$1" || return 0
		sleep 0.2
	done
	fail "timed out waiting for /$1/ to leave the screen"
}

keys() { tm send-keys -t "$session" -l -- "$1"; }

# The row order must settle: two consecutive intervals agree (rates wobble a little).
expect_names() { # expected-names-list what
	local deadline=$((SECONDS + 8)) got=
	while [ $SECONDS -lt $deadline ]; do
		got=$(names)
		[ "$got" = "$1" ] && return 0
		sleep 0.3
	done
	fail "$2: rows are '$got', expected '$1'"
}

expect_first() { # "name1 name2 ..." (prefix of the row names, in order) what
	local deadline=$((SECONDS + 8)) got=
	while [ $SECONDS -lt $deadline ]; do
		got=$(names)
		case "$got" in "$1" | "$1 "*) return 0 ;; esac
		sleep 0.3
	done
	fail "$2: rows are '$got', expected them to begin with '$1'"
}

expect_tail() { # row-text nth nfields expected what: the row's last nfields, once settled
	local deadline=$((SECONDS + 6)) got= f
	while :; do
		f=($(row_of "$1" "$2"))
		got="${f[*]: -$3}"
		[ "$got" = "$4" ] && return 0
		[ $SECONDS -lt $deadline ] || fail "$5: '$got', expected '$4'"
		sleep 0.3
	done
}

# the shell in the pane is how a person would see the terminal after flowacct leaves
tm new-session -d -s "$session" -x 190 -y 40 \
	"env -i PATH=$PATH TERM=screen HOME=/root bash --norc --noprofile"
tm send-keys -t "$session" "PS1='sh\$ '; ulimit -c 0; cd $tmp" Enter
wait_for '^sh\$'

# flowacct runs under a non-interactive bash, which (unlike the pane's interactive shell)
# does not put the terminal back after a child killed by a signal: what flowacct leaves is
# what the checks see. fa.rc gets its exit status.
start_flowacct() { # extra args
	local pane wrapper
	rm -f "$tmp/fa.rc"
	tm send-keys -t "$session" \
		"clear; bash -c '\"\$0\" \"\$@\"; echo \$? >fa.rc' $flowacct $*" Enter
	wait_for '^flowacct [0-9:]{8}  interval' 20
	pane=$(tm display -p -t "$session" '#{pane_pid}')
	wrapper=$(pgrep -n -P "$pane") || fail "no wrapper shell under the pane"
	fa_pid=$(pgrep -x -P "$wrapper" flowacct) || fail "flowacct is not running"
}

exit_status() {
	for _ in $(seq 50); do
		[ -s "$tmp/fa.rc" ] && break
		sleep 0.2
	done
	cat "$tmp/fa.rc" 2>/dev/null || echo none
}

terminal_is_sane() { # what
	local tag=check$RANDOM
	wait_for '^sh\$' 10
	[ "$(tm display -p -t "$session" '#{alternate_on}')" = 0 ] ||
		fail "$1: the terminal is still in the alternate screen"
	[ "$(tm display -p -t "$session" '#{cursor_flag}')" = 1 ] ||
		fail "$1: the cursor is still hidden"
	tm send-keys -t "$session" "clear; stty -a | grep -qE -- '(^| )-(icanon|echo|isig)( |\$)'" \
		"&& echo bad-$tag || echo good-$tag" Enter
	wait_for "^(good|bad)-$tag\$" 10
	cap | grep -qx "good-$tag" || fail "$1: echo, canonical input or signals left off (stty)"
}

### the initial state comes from the command line
start_flowacct --filter tuig_ --sort rx
wait_for 'sort rx  by flow  filter .tuig_.' 5
wait_for 'RX/s v' 5
wait_for '^loss: none' 3

port=$(free_port)
peer tuig_upsrv listen "$port" 0 0 1
peer tuig_up connect "$port" -1 400000 1
port=$(free_port)
peer tuig_downsrv listen "$port" -1 100000 1
peer tuig_down connect "$port" 0 0 1
xport=$(free_port)
peer tuig_xsrv listen "$xport" 654321 0 2
peer tuig_xcli connect "$xport" 123456 0 2
peer $'\e[31mtuig_evil\a' pair 0 5000 0 1
evil_pid=$last_pid

### rows appear with the right names
all='tuig_evil tuig_evil tuig_down tuig_downsrv tuig_up tuig_upsrv'
all+=' tuig_xcli tuig_xcli tuig_xsrv tuig_xsrv'
keys n
expect_names "$all" "sort by name"
wait_for 'COMM \^' 3

### the hostile name is shown escaped: had ESC reached tmux, this text would not be there
cap | grep -qF '\x1b[31mtuig_evil\x07' || fail "the hostile process name is not shown escaped"

### exact totals with `b`, human units without
keys b
wait_for 'exact bytes'
for i in 1 2; do
	expect_tail tuig_xcli "$i" 2 "654321 123456" "tuig_xcli flow $i: RX/TX totals"
	expect_tail tuig_xsrv "$i" 2 "123456 654321" "tuig_xsrv flow $i: RX/TX totals"
done
expect_tail tuig_evil 1 2 "5000 5000" "tuig_evil: RX/TX totals"
keys b
wait_gone 'exact bytes'
expect_tail tuig_xcli 1 4 "639 KiB 121 KiB" "tuig_xcli in human units"
expect_tail tuig_evil 1 4 "4.9 KiB 4.9 KiB" "tuig_evil in human units"

### every sort key reorders the rows
keys R
expect_names "$(tr ' ' '\n' <<<"$all" | tac | tr '\n' ' ' | sed 's/ $//')" "reverse name sort"
wait_for 'sort comm reversed' 3
keys R
keys r
expect_first "tuig_upsrv tuig_down" "sort by RX/s"
wait_for 'RX/s v' 3
keys t
expect_first "tuig_up tuig_downsrv" "sort by TX/s"
wait_for 'TX/s v' 3
keys '<'
expect_first "tuig_upsrv tuig_down" "'<' from TX/s: RX/s"
keys '>'
expect_first "tuig_up tuig_downsrv" "'>' from RX/s: TX/s"
keys '>'
wait_for 'sort total' 3
first4=$(names | cut -d' ' -f1-4 | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$first4" = "tuig_down tuig_downsrv tuig_up tuig_upsrv " ] ||
	fail "sort by total: first rows '$first4', expected both streams' ends"
set -- $(names)
case "$1 $2" in "tuig_up tuig_upsrv" | "tuig_upsrv tuig_up") ;;
*) fail "sort by total: '$1 $2' first, expected the 400 KB/s stream's ends" ;;
esac
keys P
wait_for 'PID \^' 3
pids_shown=$(rows | awk '{print $1}')
[ "$pids_shown" = "$(sort -n <<<"$pids_shown")" ] || fail "sort by PID: not ascending: $pids_shown"
keys R
wait_for 'PID v' 3
pids_shown=$(rows | awk '{print $1}')
[ "$pids_shown" = "$(sort -rn <<<"$pids_shown")" ] ||
	fail "sort by PID reversed: not descending: $pids_shown"
[ "$(wc -l <<<"$pids_shown")" -eq 10 ] || fail "expected 10 rows, saw: $pids_shown"
keys R
keys n

### `/` filters by name and by port; Esc cancels; empty clears
keys /
wait_for '^Filter:'
keys tuig_x
tm send-keys -t "$session" Enter
expect_names "tuig_xcli tuig_xcli tuig_xsrv tuig_xsrv" "filter tuig_x"
wait_for 'rows 1-4 of 4'
keys /
keys zzz
tm send-keys -t "$session" Escape
wait_for "filter 'tuig_x'" 3
expect_names "tuig_xcli tuig_xcli tuig_xsrv tuig_xsrv" "Esc keeps the filter"
keys /
keys ":$xport"
tm send-keys -t "$session" Enter
expect_names "tuig_xcli tuig_xcli tuig_xsrv tuig_xsrv" "filter by port :$xport"
keys /
tm send-keys -t "$session" Enter
wait_for 'filter -  rows' 3
keys /
keys tuig_
tm send-keys -t "$session" Enter
expect_names "$all" "filter tuig_ again"

### `a`: only the rows that moved bytes this interval (the streams), then all again
keys a
wait_for 'active only' 3
expect_names "tuig_down tuig_downsrv tuig_up tuig_upsrv" "active only"
keys a
wait_gone 'active only' 3
expect_names "$all" "all rows again"

### `g`: one row per process, flows added up
keys g
wait_for 'by process' 3
wait_for 'FLOWS' 3
expect_names "tuig_evil tuig_down tuig_downsrv tuig_up tuig_upsrv tuig_xcli tuig_xsrv" "per process"
cap | grep -q LOCAL && fail "per-process view still shows LOCAL"
keys b
wait_for 'exact bytes'
expect_tail tuig_xcli 1 6 "2 0 0 0 1308642 246912" "tuig_xcli per process: FLOWS, RETRANS (none on loopback), rates, totals"
expect_tail tuig_evil 1 2 "10000 10000" "tuig_evil per process: totals"
### `g` goes on: rows per service, container and cgroup, then per flow again
for by in service container cgroup; do
	keys g
	wait_for "by $by" 3
	wait_for "^ *${by^^} .*PROCS +FLOWS" 3
done
keys g
wait_for 'by flow' 3
wait_for 'LOCAL' 3
wait_for 'CONTAINER/UNIT' 3

### TCP health, where the backend has it: X sorts by retransmits, L by RTT, Enter shows
### the first row's detail (its state and RTT, as the socket reports them)
if grep -q 'RETRANS' <<<"$(cap)"; then
	keys X
	wait_for 'sort retrans' 3
	wait_for 'RETRANS v' 3
	keys L
	wait_for 'sort rtt' 3
	wait_for 'RTT v' 3
	keys o
	wait_for 'sort total' 3
	tm send-keys -t "$session" Enter
	wait_for 'tcp 127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:[0-9]+  pid [0-9]+ .*state ESTAB  rtt [0-9.]+(us|ms) \(min [0-9.]+(us|ms)\)  retrans 0 ' 5
	tm send-keys -t "$session" Enter
	wait_gone 'state ESTAB  rtt' 3
else
	echo "NOTE backend without TCP health: no RTT or RETRANS columns"
fi

### `p` freezes the view; counting goes on
keys p
wait_for 'PAUSED' 3
frozen=$(row_of 'tuig_up ')
sleep 2.5
[ "$(row_of 'tuig_up ')" = "$frozen" ] || fail "the view changed while paused"
keys p
wait_gone 'PAUSED' 3
sleep 1.5
set -- $frozen
before=${!#}
set -- $(row_of 'tuig_up ')
after=${!#}
[ "$after" -gt "$before" ] ||
	fail "after pause: tuig_up TX total $after, was $before: counting stopped?"

### `+` and `-` change the interval
keys +
wait_for 'interval 2s' 3
keys -
wait_for 'interval 1s' 3
keys b
wait_gone 'exact bytes' 3

### help, and back
keys h
wait_for 'flowacct keys' 3
wait_for 'filter by name, address or port' 3
keys x
wait_gone 'flowacct keys' 3
wait_for 'RX total' 3

### scrolling, in a short terminal: 10 rows, 5 fit
tm resize-window -t "$session" -x 190 -y 10
wait_for 'rows 1-5 of 10' 5
tm send-keys -t "$session" Down
wait_for 'rows 2-6 of 10' 3
tm send-keys -t "$session" End
wait_for 'rows 6-10 of 10' 3
tm send-keys -t "$session" Home
wait_for 'rows 1-5 of 10' 3
tm send-keys -t "$session" NPage
wait_for 'rows 6-10 of 10' 3
tm send-keys -t "$session" PPage
wait_for 'rows 1-5 of 10' 3

### a narrow terminal drops columns rather than wrapping
tm resize-window -t "$session" -x 60 -y 40
wait_for 'rows 1-10 of 10' 5
titles=$(cap | sed -n 5p)
for gone in USER PROTO LOCAL REMOTE 'TX total'; do
	grep -qF "$gone" <<<"$titles" && fail "at 60 columns '$gone' is still shown: $titles"
done
for kept in PID COMM 'RX/s' 'TX/s' 'RX total'; do
	grep -qF "$kept" <<<"$titles" || fail "at 60 columns '$kept' is gone: $titles"
done
[ "$(rows | wc -l)" -eq 10 ] || fail "at 60 columns the table is not 10 lines (wrapped?)"
rows | grep -qvE '^ *[0-9]+ ' && fail "at 60 columns a line does not start with a PID (wrapped?)"
cap | awk 'length > 60 { exit 1 }' || fail "a line is wider than the terminal"
tm resize-window -t "$session" -x 190 -y 40
wait_for 'LOCAL' 5
[ "$(rows | wc -l)" -eq 10 ] || fail "after growing back the table is not 10 lines"

### an exited process stays, dimmed, then leaves
kill "$evil_pid"
deadline=$((SECONDS + 10))
until tm capture-pane -e -p -t "$session" | grep -F 'tuig_evil' | grep -qF $'\e[2m'; do
	[ $SECONDS -lt $deadline ] || fail "the exited process's rows are not dimmed"
	sleep 0.2
done
wait_gone 'tuig_evil' 30

### `q` quits and leaves the terminal usable
keys q
[ "$(exit_status)" = 0 ] || fail "flowacct exited with $(exit_status) after q"
terminal_is_sane "after q"

### losses show, in bold red: a one-flow table overflows at once with the streams running;
### then SIGTERM, which the main loop turns into closing the view
start_flowacct --filter tuig_ --max-flows 1
wait_for '^LOSS: flow_table_full=[1-9]' 10
tm capture-pane -e -p -t "$session" | grep -F 'LOSS: flow_table_full=' | grep -qF $'\e[31m' ||
	fail "the loss counters are not shown in red"
kill -TERM "$fa_pid"
[ "$(exit_status)" = 0 ] || fail "flowacct exited with $(exit_status) after SIGTERM"
terminal_is_sane "after SIGTERM"

### --packets adds packet-rate columns; then a crash: the handler restores the terminal,
### then the signal kills as it would have
start_flowacct --filter tuig_ --packets
wait_for 'RX total   TX total   RXpkt/s   TXpkt/s' 5
deadline=$((SECONDS + 10))
until set -- $(row_of 'tuig_up ') && [ $# -gt 2 ] && [ "${!#}" -gt 0 ]; do
	[ $SECONDS -lt $deadline ] || fail "no TX packets per second for the tuig_up stream"
	sleep 0.3
done
kill -SEGV "$fa_pid"
[ "$(exit_status)" = 139 ] || fail "flowacct exited with $(exit_status) after SIGSEGV, expected 139"
terminal_is_sane "after SIGSEGV"

echo "PASS: tui keys, exact totals, sorting, filter, grouping, pause, resize, escaping, exits"
