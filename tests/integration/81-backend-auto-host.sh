#!/usr/bin/env bash
# timeout: 120
# `--backend auto` picks the first backend that `flowacct --probe-backends` finds usable
# on the kernel it runs on (tracepoint on the project's 6.18 hosts: no kprobes built in,
# fentry loads refused; fentry on Debian's 6.1 and 6.12, which `make vmtest` checks
# against tests/vm/kernels.conf).
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_probe_backends
[ ${#probe_yes[@]} -gt 0 ] || fail "the probe finds no usable backend on this kernel"
want=${probe_yes[0]}
chosen=$(sh "$root/tests/vm/auto-backend.sh" "$flowacct" 60)
echo "kernel $(uname -r): --backend auto chose $chosen; the first usable one is $want"
[ "$chosen" = "$want" ] || fail "want $want"
echo "PASS"
