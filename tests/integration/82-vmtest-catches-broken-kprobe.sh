#!/usr/bin/env bash
# timeout: 900
# The kernel matrix can fail: with the kprobe backend patched to add tcp_cleanup_rbuf's
# `copied` argument (the classic tcptop design, a running total within one call) instead
# of the read sequence's advance, the 6.1 guest's kprobe run must find the MSG_WAITALL
# reader over-counted and the peeking reader counting its peeks. The patch goes to a
# throwaway copy of the tree (scripts/vmtest.sh --patch); the sources stay as they are.
set -uo pipefail
root=${FA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
log=$root/.output/vmtest/patched/logs/6.1.console.log
rm -f "$log"

"$root/scripts/vmtest.sh" --only 6.1 --backends kprobe \
	--patch "$root/tests/vm/broken-kprobe-copied.patch"
rc=$?

fail() { echo "FAIL: $*" >&2; exit 1; }
[ $rc -eq 1 ] || fail "vmtest with the broken kprobe program exited $rc, want 1 (failed)"
[ -f "$log" ] || fail "no guest log $log: the patched run never booted"
grep -q '^VMTEST-RESULT 6.1 kprobe FAIL' "$log" || fail "the kprobe row did not fail"
grep '^FAIL tcp4-waitall/server' "$log" || fail "the MSG_WAITALL reader was not caught (see $log)"
grep '^FAIL tcp6-peek/server' "$log" || fail "the peeking reader was not caught (see $log)"
echo "PASS: the broken kprobe program fails the matrix"
