# shellcheck shell=bash
# The live view's tests: flowacct in a tmux pane, keys sent with send-keys, the screen
# read back with capture-pane. Sourced after common.bash, by a test that sets `sock` and
# `session` (or takes the defaults) and calls fa_setup itself.
: "${sock:=fa-tui-$$}" "${session:=tui}"
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
# the table: the lines under the column titles (line 6), blank lines, the key bar and the
# detail panel left out; the HISTORY column's graph too (ASCII: a word of " .:-=+*#"),
# so that fields count from the end as the numbers
rows() {
	cap | awk 'NR > 6 && NF && !/^Enter Detail/ { if (/^ Detail /) exit; print }' |
		sed -E 's/ [-.:=+*#]{1,10}( |$)/ \1/g; s/ [-.:=+*#]{1,10}( |$)/ \1/g'
}
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

wait_dimmed() { # fixed-text what: until a line with the text is drawn dim (SGR 2)
	local deadline=$((SECONDS + 10))
	until tm capture-pane -e -p -t "$session" | grep -F -- "$1" | grep -qF $'\e[2m'; do
		[ $SECONDS -lt $deadline ] || fail "$2 not dimmed"
		sleep 0.2
	done
}

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

# tui_session WIDTH HEIGHT [ENV...]: the pane's shell, as a person's terminal would be
# after flowacct leaves it; ENV (e.g. LANG=C.UTF-8) for flowacct's environment
tui_session() {
	local w=$1 h=$2
	shift 2
	tm new-session -d -s "$session" -x "$w" -y "$h" \
		"env -i PATH=$PATH TERM=screen HOME=/root $* bash --norc --noprofile"
	tm send-keys -t "$session" "PS1='sh\$ '; ulimit -c 0; cd $tmp" Enter
	wait_for '^sh\$'
}
