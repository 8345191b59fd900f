#!/usr/bin/env bash
# timeout: 600
# The exactness test can fail on this kernel's own backends. For each usable backend that
# has a broken variant, a copy of the tree is built with it and fa_exact must fail the
# flows that variant miscounts, and pass a plain connection:
#  - tracepoint: TCP received bytes taken at sock:sock_recv_length (what recvmsg
#    returned), the design before the read sequence, which misses splice() and
#    TCP_ZEROCOPY_RECEIVE;
#  - kprobe: tcp_cleanup_rbuf's `copied` added (the classic tcptop design), which counts a
#    MSG_WAITALL read many times over and counts peeks (also 82, in the kernel matrix).
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_probe_backends

declare -A caught=(
	[tracepoint]="tcp4-splice-relay/relay-in tcp4-zerocopy-rx/receiver"
	[kprobe]="tcp4-waitall/server tcp6-peek/server"
)
checked=()
for backend in "${probe_yes[@]}"; do
	fa_broken_patch "$backend" >/dev/null || continue
	fa_build_patched "$backend"
	src=$patched_src
	out=$src/fa_exact.log
	: >"$out"
	for flow in ${caught[$backend]} tcp4-send-recv/server; do
		"$src/.output/tests/fa_exact" --flowacct "$src/flowacct" --backend "$backend" \
			--only "${flow%%/*}" >>"$out" 2>&1 || true
	done
	for flow in ${caught[$backend]}; do
		grep -Eq "^FAIL $flow[ :]" "$out" || fail "$backend: the broken build was not caught at $flow (see $out)"
	done
	# the patch only breaks what it says: a plain connection stays exact
	grep -q '^PASS tcp4-send-recv/server' "$out" || fail "$backend: recvmsg itself broke (see $out)"
	grep '^FAIL' "$out" | sed "s/^/  $backend: /" | head -4
	checked+=("$backend")
done
[ ${#checked[@]} -gt 0 ] ||
	fail "no usable backend here has a broken variant to check (usable: ${probe_yes[*]:-none}; ${probe_no[*]:-})"
echo "PASS: the broken builds fail exactly where they miscount, on: ${checked[*]}"
