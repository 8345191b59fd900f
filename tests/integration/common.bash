# Shared by the integration scripts that drive ./flowacct (sourced, not run: tests/run.sh
# runs *.sh only). Sets root and flowacct, checks the requirements (root, the binary, the
# tools) — missing ones fail, never skip — and makes a temporary directory that is
# removed, with every process listed in pids, when the script exits.
root=${FA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
flowacct=${FLOWACCT:-$root/flowacct}
pids=()

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# fa_setup NAME TOOL...: requirements, then $tmp (/tmp/fa-NAME.XXXXXX) and its cleanup.
# A script may define cleanup_extra to stop what else it started.
fa_setup() {
	local name=$1 tool
	shift
	[ "$(id -u)" -eq 0 ] || fail "needs root (flowacct loads BPF programs)"
	[ -x "$flowacct" ] || fail "no flowacct binary at $flowacct (run make)"
	for tool in "$@"; do
		command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh)"
	done
	tmp=$(mktemp -d "/tmp/fa-$name.XXXXXX")
	trap fa_cleanup EXIT
}

fa_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
	wait 2>/dev/null || true
	rm -rf "$tmp"
}

# fa_probe_backends: what this kernel offers, in flowacct's own words: `flowacct
# --probe-backends` prints one line per backend in the order `--backend auto` tries them,
# "NAME yes" or "NAME no REASON...". Sets probe_yes (the usable backends, in that order)
# and probe_no ("NAME REASON..." for each other one). The tests derive what they expect
# from it instead of assuming one machine's kernel; output that is not in that form fails.
fa_probe_backends() {
	local out line name verdict reason names=
	out=$("$flowacct" --probe-backends) || fail "flowacct --probe-backends exited $?: $out"
	echo "flowacct --probe-backends on $(uname -r):"
	sed 's/^/  /' <<<"$out"
	probe_yes=()
	probe_no=()
	while IFS= read -r line; do
		read -r name verdict reason <<<"$line"
		names+="${names:+ }$name"
		case $verdict in
		yes) [ -z "$reason" ] || fail "--probe-backends: '$line': nothing may follow yes" ;;
		no) [ -n "$reason" ] || fail "--probe-backends: '$line' gives no reason" ;;
		*) fail "--probe-backends: '$line' is neither 'NAME yes' nor 'NAME no REASON'" ;;
		esac
		if [ "$verdict" = yes ]; then probe_yes+=("$name"); else probe_no+=("$name $reason"); fi
	done <<<"$out"
	[ "$names" = "fentry kprobe tracepoint" ] ||
		fail "--probe-backends lists '$names', want 'fentry kprobe tracepoint' (auto's order)"
}

# fa_broken_patch BACKEND: the deliberately broken variant of BACKEND's programs that
# the tests must catch (tests/*/broken-BACKEND-WHAT.patch, made by
# tests/integration/gen-broken-patches.py; scripts/vmtest-full.sh finds them the same
# way), or nothing and status 1 if BACKEND has none.
fa_broken_patch() {
	local p
	for p in "$root"/tests/integration/broken-"$1"-*.patch "$root"/tests/vm/broken-"$1"-*.patch; do
		[ -f "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}

# fa_build_patched BACKEND: a copy of the tree in $root/.output/broken-BACKEND with
# BACKEND's broken patch applied, and its flowacct and fa_exact built there
# (scripts/build-patched.sh); the sources stay as they are. Where there is no compiler
# (make vmtest-full's guests), the copy the host built beforehand is used; without
# either, the test fails. Sets patched_src.
fa_build_patched() {
	local backend=$1 patch_file
	patch_file=$(fa_broken_patch "$backend") || fail "no broken patch for $backend"
	patched_src=$root/.output/broken-$backend
	if command -v clang >/dev/null; then
		"$root/scripts/build-patched.sh" "$root" "$patch_file" "$patched_src" ||
			fail "the $backend patched build failed"
	elif [ -x "$patched_src/flowacct" ] && [ -x "$patched_src/.output/tests/fa_exact" ]; then
		echo "no compiler here: using the $backend patched build made beforehand in $patched_src"
	else
		fail "no compiler to build the $backend patched copy, and none built beforehand in $patched_src"
	fi
}

# What a flowacct leaves in the kernel (69-exits, 73-faults). fa_progs_of ERRFILE PID: once
# its stderr (ERRFILE) says it is attached, the BPF programs and links that process PID
# holds, read from its fds' /proc fdinfo (bpftool here cannot name a program's process,
# and other flowacct runs on the machine are not this one's). Sets progs and links.
fa_progs_of() {
	local i
	for i in $(seq 100); do grep -q "using backend" "$1" 2>/dev/null && break; sleep 0.1; done
	grep -q "using backend" "$1" 2>/dev/null || fail "flowacct did not start: $(cat "$1")"
	progs=$(cat /proc/"$2"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -u | tr '\n' ' ')
	links=$(cat /proc/"$2"/fdinfo/* 2>/dev/null | awk '$1 == "link_id:" { print $2 }' | sort -u | tr '\n' ' ')
	[ -n "$progs" ] || fail "flowacct (pid $2) holds no BPF program"
}
# fa_progs_gone WHAT: soon after the exit, no program of $progs is loaded and no link of
# $links or of those programs is left (bpftool).
fa_progs_gone() {
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
	left=$(bpftool link show -j | python3 -c '
import json, sys
progs, links = set(sys.argv[1].split()), set(sys.argv[2].split())
print(" ".join(str(l["id"]) for l in json.load(sys.stdin)
               if str(l.get("prog_id")) in progs or str(l["id"]) in links))' "$progs" "$links")
	[ -z "$left" ] || fail "$1: links $left are still there after flowacct exited"
	echo "PASS $1: its $(wc -w <<<"$progs") programs and $(wc -w <<<"$links") links are gone"
}

# fa_started ERRFILE: waits (10 s at most) for a flowacct writing its stderr to ERRFILE to
# say it is attached; fails with what it said otherwise.
fa_started() {
	local i
	for i in $(seq 100); do
		grep -q "using backend" "$1" && return 0
		sleep 0.1
	done
	fail "flowacct did not start: $(cat "$1")"
}

# fa_talk N: moves N bytes over a loopback TCP connection, client to server, and prints
# the client's port (its flow's lport in flowacct's JSON).
fa_talk() {
	python3 -c '
import socket, sys
n = int(sys.argv[1])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.sendall(b"t" * n); got = 0
while got < n: got += len(a.recv(65536))
print(c.getsockname()[1])' "$1"
}

# fa_tx_of JSON PORT: the tx bytes of the flows with lport PORT, summed over every
# interval of a file of flowacct -j lines.
fa_tx_of() {
	python3 -c '
import json, sys
print(sum(f["tx_bytes"] for l in open(sys.argv[1]) for f in json.loads(l)["flows"] if f["lport"] == int(sys.argv[2])))' "$1" "$2"
}
