#!/usr/bin/env bash
# timeout: 300
# flowacct --audit, the second oracle: a workload leaves TCP connections of every kind
# open (plain v4/v6/v4-mapped, unread data, MSG_WAITALL, peeks, a half-closed pair, a
# splice() relay, sendfile, a full send queue); on every usable backend flowacct must
# have watched each of those sockets from its start and find each exact against the
# kernel's own counters (sock_diag), and exit 0. Then a broken build (the receive count
# taken where it misses splice, or the classic `copied`) must be caught by the audit
# alone: exit 3, with the miscounted sockets named.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup audit python3
fa_probe_backends
[ ${#probe_yes[@]} -gt 0 ] || fail "no backend is usable on this kernel: nothing to audit"

# run_audit FLOWACCT BACKEND: sets rc, sockets (the workload's) and err (flowacct's stderr)
run_audit() {
	local bin=$1 backend=$2 fa wl i
	err=$tmp/err.$backend.$(basename "$(dirname "$bin")")
	"$bin" --backend "$backend" --audit -b 0.5 >/dev/null 2>"$err" &
	fa=$!
	pids+=("$fa")
	for i in $(seq 100); do grep -q "using backend" "$err" && break; sleep 0.1; done
	grep -q "using backend" "$err" || fail "$backend: flowacct did not start: $(cat "$err")"
	python3 "$root/tests/integration/audit_workload.py" "$bin" >"$tmp/wl" &
	wl=$!
	pids+=("$wl")
	for i in $(seq 200); do grep -q READY "$tmp/wl" && break; sleep 0.1; done
	sockets=$(sed -n 's/^READY //p' "$tmp/wl")
	[ -n "$sockets" ] || fail "$backend: the workload did not get ready"
	sleep 1.5 # three intervals, each audited
	kill -INT "$fa"
	set +e
	wait "$fa"
	rc=$?
	set -e
	kill "$wl"
	wait "$wl" 2>/dev/null || true
}

# "last check: W TCP sockets watched from their start: E exact, M mismatched, ..."
last_check() { sed -n 's/.*audit: last check: \([0-9]*\) TCP sockets watched from their start: \([0-9]*\) exact, \([0-9]*\) mismatched.*/\1 \2 \3/p' "$err"; }

for backend in "${probe_yes[@]}"; do
	run_audit "$flowacct" "$backend"
	grep 'audit:' "$err" | sed "s/^/  $backend: /"
	[ "$rc" -eq 0 ] || fail "$backend: flowacct --audit exited $rc, want 0: $(grep MISMATCH "$err" | head -3)"
	read -r watched exact mismatched <<<"$(last_check)"
	[ -n "${watched:-}" ] || fail "$backend: no audit summary"
	# other sockets of the host may have been opened meanwhile: at least the workload's
	[ "$watched" -ge "$sockets" ] || fail "$backend: $watched sockets watched, the workload alone has $sockets"
	[ "$exact" -ge "$sockets" ] && [ "$mismatched" -eq 0 ] ||
		fail "$backend: $exact of $watched sockets exact, $mismatched mismatched (the workload has $sockets)"
	echo "PASS $backend: the workload's $sockets sockets exact against the kernel's counters"
done

# The audit catches a broken build on its own.
caught=()
for backend in "${probe_yes[@]}"; do
	fa_broken_patch "$backend" >/dev/null || continue
	fa_build_patched "$backend"
	run_audit "$patched_src/flowacct" "$backend"
	grep 'audit:' "$err" | head -4 | sed "s/^/  broken $backend: /"
	[ "$rc" -eq 3 ] || fail "broken $backend: flowacct --audit exited $rc, want 3 (a mismatch)"
	case $backend in
	tracepoint) # the relay's socket it spliced from, and only it: nothing counted, 1000003 read
		grep -q 'MISMATCH .*flowacct rx 0 .*read 1000003 ' "$err" ||
			fail "broken tracepoint: the splice relay's socket is not among the mismatches"
		read -r watched exact mismatched <<<"$(last_check)"
		[ "$mismatched" -eq 1 ] ||
			fail "broken tracepoint: $mismatched sockets mismatched, want only the relay's" ;;
	kprobe) # MSG_WAITALL and the peeking reader: counted more than read
		[ "$(grep -c MISMATCH "$err")" -ge 2 ] ||
			fail "broken kprobe: fewer than two mismatched sockets" ;;
	esac
	caught+=("$backend")
done
echo "PASS: --audit is exact on ${probe_yes[*]}${caught:+ and catches the broken ${caught[*]} build}"
