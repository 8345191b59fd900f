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
fa_setup tui tmux python3
source "$(dirname "$0")/tui.bash"
tui_session 190 40

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
wait_for 'sort rate' 3
first4=$(names | cut -d' ' -f1-4 | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$first4" = "tuig_down tuig_downsrv tuig_up tuig_upsrv " ] ||
	fail "sort by rate: first rows '$first4', expected both streams' ends"
set -- $(names)
case "$1 $2" in "tuig_up tuig_upsrv" | "tuig_upsrv tuig_up") ;;
*) fail "sort by rate: '$1 $2' first, expected the 400 KB/s stream's ends" ;;
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
# (RETRANS left out: an emulated guest has retransmitted on loopback)
expect_tail tuig_xcli 1 4 "0 0 1308642 246912" "tuig_xcli per process: rates, totals"
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
	wait_for 'sort rate' 3
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
wait_for 'RX_TOTAL' 3

### scrolling, in a short terminal: 10 rows, 5 fit
### (the title, two meters, loss, status and column titles, 3 rows, the key bar)
### (the selection follows its row as sorting moves it: Home goes back to the top)
tm resize-window -t "$session" -x 190 -y 10
tm send-keys -t "$session" Home
wait_for 'rows 1-3 of 10' 5
for _ in 1 2 3; do tm send-keys -t "$session" Down; done
wait_for 'rows 2-4 of 10' 3
tm send-keys -t "$session" End
wait_for 'rows 8-10 of 10' 3
tm send-keys -t "$session" Home
wait_for 'rows 1-3 of 10' 3
tm send-keys -t "$session" NPage
wait_for 'rows 4-6 of 10' 3
tm send-keys -t "$session" PPage
wait_for 'rows 1-3 of 10' 3

### a narrow terminal drops columns rather than wrapping
tm resize-window -t "$session" -x 60 -y 40
wait_for 'rows 1-10 of 10' 5
titles=$(cap | sed -n 6p)
for gone in USER PROTO 'TX_TOTAL' 'RX_TOTAL'; do
	grep -qF "$gone" <<<"$titles" && fail "at 60 columns '$gone' is still shown: $titles"
done
# what a flow row is stays: its endpoints (cut from the left, keeping the port)
for kept in COMM LOCAL REMOTE 'RX/s' 'TX/s'; do
	grep -qF "$kept" <<<"$titles" || fail "at 60 columns '$kept' is gone: $titles"
done
[ "$(rows | wc -l)" -eq 10 ] || fail "at 60 columns the table is not 10 lines (wrapped?)"
rows | grep -qvE ':[0-9]+ +[^ ]*:[0-9]+ ' &&
	fail "at 60 columns a row does not show two endpoints with their ports (wrapped?)"
cap | awk 'length > 60 { exit 1 }' || fail "a line is wider than the terminal"
tm resize-window -t "$session" -x 190 -y 40
wait_for 'LOCAL' 5
[ "$(rows | wc -l)" -eq 10 ] || fail "after growing back the table is not 10 lines"

### an exited process stays, dimmed, then leaves
kill "$evil_pid"
wait_dimmed tuig_evil "the exited process's rows are"
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
wait_for 'RX_TOTAL   TX_TOTAL   RXPKT/s   TXPKT/s' 5
deadline=$((SECONDS + 10))
until set -- $(row_of 'tuig_up ') && [ $# -gt 2 ] && [ "${!#}" -gt 0 ]; do
	[ $SECONDS -lt $deadline ] || fail "no TX packets per second for the tuig_up stream"
	sleep 0.3
done
kill -SEGV "$fa_pid"
[ "$(exit_status)" = 139 ] || fail "flowacct exited with $(exit_status) after SIGSEGV, expected 139"
terminal_is_sane "after SIGSEGV"

echo "PASS: tui keys, exact totals, sorting, filter, grouping, pause, resize, escaping, exits"
