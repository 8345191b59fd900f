#!/usr/bin/env bash
# timeout: 150
# The running phase's seccomp filter, on the live binary: in every output mode each of
# flowacct's threads is filtered (/proc/PID/task/*/status) and it still counts exactly;
# then calls are made inside the running process with gdb, as a parser bug turned
# into code would make them: a network socket, a file written, executable memory are
# refused with EPERM while flowacct keeps running, and execve() stops the process with
# SIGSYS and a line naming the call. --no-seccomp runs without the filter.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup seccomp python3 gdb curl

# every thread of pid: "Seccomp Seccomp_filters" must be "2 1" (filter mode, one filter)
all_filtered() { # pid what
	local t k=0 mode
	kill -0 "$1" 2>/dev/null || fail "$2: flowacct exited: $(cat "$tmp/m$n.err")"
	for t in /proc/$1/task/*; do
		mode=$(awk '/^Seccomp:/ {m = $2} /^Seccomp_filters:/ {f = $2} END {print m, f}' "$t/status")
		[ "$mode" = "2 1" ] || fail "$2: thread $(cat "$t/comm") has Seccomp/Seccomp_filters '$mode'"
		k=$((k + 1))
	done
	echo "PASS $2: all $k threads run under the filter"
}
# runs one gdb command inside pid and prints what it printed ($1 = ...)
in_process() { # pid expression
	timeout 60 gdb -p "$1" -batch -nx -ex "print $2" 2>/dev/null | sed -n 's/^\$1 = //p'
}

### every output mode: filtered threads, exact counts
port=$(shuf -i 20000-40000 -n 1)
modes=(
	"-j"
	"-j --json-file $tmp/latest.json"
	"-j --prometheus 127.0.0.1:$port"
	"-j --audit"
	"-j --packets"
	"-j --user nobody --json-file $tmp/nobody/latest.json"
)
chmod 755 "$tmp" # nobody reaches its directory
mkdir -m 777 "$tmp/nobody"
n=0
for m in "${modes[@]}"; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # the mode's words
	"$flowacct" $m 0.3 >"$tmp/m$n.json" 2>"$tmp/m$n.err" &
	fa=$!
	pids+=("$fa")
	fa_started "$tmp/m$n.err"
	sleep 0.5
	all_filtered $fa "$m"
	if [[ $m == *--prometheus* ]]; then # 503 until the first interval (slow guests)
		for i in $(seq 50); do
			curl -sf -o "$tmp/page" "http://127.0.0.1:$port/metrics" && break
			sleep 0.2
		done
		grep -q '^flowacct_build_info' "$tmp/page" || fail "$m: no metrics page under the filter"
	fi
	bytes=$((10000 + n))
	lport=$(fa_talk $bytes)
	sleep 0.8
	kill -INT $fa
	rc=0
	wait $fa || rc=$?
	[ $rc -eq 0 ] || fail "$m: exit $rc under the filter: $(cat "$tmp/m$n.err")"
	got=$(fa_tx_of "$tmp/m$n.json" "$lport")
	[ "$got" = $bytes ] || fail "$m: $got bytes counted, $bytes sent"
	! grep -q "seccomp" "$tmp/m$n.err" || fail "$m: $(grep seccomp "$tmp/m$n.err")"
	echo "PASS $m: exit 0, $bytes bytes exactly"
done

### calls made inside the running process, as injected code would; as in use, not in
### the strict mode of the tests, where every unlisted call stops flowacct
env -u FLOWACCT_SECCOMP_STRICT "$flowacct" -b 1 >"$tmp/b.out" 2>"$tmp/b.err" &
fa=$!
pids+=("$fa")
fa_started "$tmp/b.err"
[ "$(in_process $fa '(int)socket(2, 1, 0)')" = -1 ] || fail "socket(AF_INET) was not refused"
[ "$(in_process $fa '*(int *)__errno_location()')" = 1 ] || fail "socket(AF_INET) failed, but not with EPERM"
echo "PASS socket(AF_INET, SOCK_STREAM): refused, EPERM"
[ "$(in_process $fa "(int)open(\"$tmp/written\", 65, 0600)")" = -1 ] && [ ! -e "$tmp/written" ] ||
	fail "open(O_WRONLY|O_CREAT) was not refused"
echo "PASS open(O_WRONLY|O_CREAT) without --json-file: refused, nothing created"
[ "$(in_process $fa '(long)mmap(0, 4096, 5, 0x22, -1, 0)')" = -1 ] ||
	fail "mmap(PROT_READ|PROT_EXEC) was not refused"
echo "PASS mmap(PROT_EXEC): refused"
kill -0 $fa || fail "flowacct did not survive refused calls"
timeout 60 gdb -p $fa -batch -nx -ex 'call (int)execve("/bin/sh", 0, 0)' >/dev/null 2>&1 || true
rc=0
wait $fa || rc=$?
[ $rc -eq $((128 + 31)) ] || fail "after execve(): exit $rc, not 159 (SIGSYS)"
grep -q "^flowacct: the seccomp filter stopped system call execve(59)" "$tmp/b.err" ||
	fail "no line naming execve: $(cat "$tmp/b.err")"
echo "PASS execve() inside flowacct: stopped by SIGSYS (exit 159), with a line naming it"

### --no-seccomp: no filter
"$flowacct" -b --no-seccomp 0.3 >/dev/null 2>"$tmp/n.err" &
fa=$!
pids+=("$fa")
fa_started "$tmp/n.err"
sleep 0.3
[ "$(awk '/^Seccomp:/ {print $2}' /proc/$fa/status)" = 0 ] || fail "--no-seccomp: a filter is on"
kill -INT $fa
wait $fa
echo "PASS --no-seccomp: Seccomp 0"
echo "PASS: the running phase is filtered"
