#!/usr/bin/env bash
# timeout: 300
# Exact bytes per flow and direction, on every backend this kernel offers (flowacct
# --probe-backends; tracepoint alone on the project's 6.18 hosts, all three on 6.12):
# fa_exact runs known traffic (TCP/UDP, IPv4/IPv6, send/recv, write/read, sendmsg/recvmsg
# with iovecs, MSG_PEEK, MSG_WAITALL, nonblocking partial writes, sendfile, a process
# that exits mid-run, threads, several processes at once) and compares every flow.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_probe_backends
[ ${#probe_yes[@]} -gt 0 ] || fail "no backend is usable on this kernel: nothing to measure with"
failed=()
for backend in "${probe_yes[@]}"; do
	echo "=== fa_exact --backend $backend"
	"${FA_TESTBIN:-$root/.output/tests}/fa_exact" --flowacct "$flowacct" --backend "$backend" ||
		failed+=("$backend")
done
[ ${#failed[@]} -eq 0 ] || fail "fa_exact failed on: ${failed[*]}"
echo "PASS: exact on ${probe_yes[*]}"
