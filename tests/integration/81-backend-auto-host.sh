#!/usr/bin/env bash
# timeout: 120
# `--backend auto` picks tracepoint on this project's host kernel (6.18 in Firecracker:
# no kprobes built in, fentry loads refused), as it picks fentry on the vmtest kernels.
# FA_EXPECT_AUTO names another expectation for a host whose kernel allows fentry.
set -euo pipefail
root=${FA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
want=${FA_EXPECT_AUTO:-tracepoint}
chosen=$(sh "$root/tests/vm/auto-backend.sh" "${FLOWACCT:-$root/flowacct}" 60)
echo "kernel $(uname -r): --backend auto chose $chosen"
if [ "$chosen" != "$want" ]; then
	echo "FAIL: want $want" >&2
	exit 1
fi
echo "PASS"
