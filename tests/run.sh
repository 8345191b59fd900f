#!/usr/bin/env bash
# Runs flowacct's tests: unit tests (.output/tests/test_*), then every
# tests/integration/*.sh in name order, each under a timeout, with its output kept in
# .output/test-logs/. Prints a summary table; exits non-zero if anything failed.
# Integration tests need root and BPF: without them they fail, they never skip.
# FA_TEST_SKIP="name ..." leaves those integration tests out (listed as NOT RUN): for
# places where a test cannot run at all, such as nested QEMU inside a vmtest-full guest.
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
export FA_ROOT=$PWD FLOWACCT=$PWD/flowacct FA_TESTBIN=$PWD/.output/tests
logs=.output/test-logs
mkdir -p "$logs"
declare -a names results
failed=0
not_run=0
skip=" ${FA_TEST_SKIP:-} "

run_one() { # name timeout cmd...
	local name=$1 limit=$2 start rc
	shift 2
	start=$(date +%s)
	printf '%-40s ' "$name"
	timeout --kill-after=10 "$limit" "$@" >"$logs/$name.log" 2>&1
	rc=$?
	local secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "PASS (${secs}s)"
		results+=("PASS  $name")
	else
		[ $rc -eq 124 ] && echo "FAIL (timeout after ${limit}s)" || echo "FAIL (exit $rc, ${secs}s)"
		results+=("FAIL  $name  (log: $logs/$name.log)")
		failed=$((failed + 1))
		sed 's/^/    | /' "$logs/$name.log" | tail -40
	fi
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in .output/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "unit-$(basename "$t")" 120 "$t"
	done
fi

if [ "$what" = all ] || [ "$what" = integration ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "integration tests need root (they load BPF programs): run 'make test' as root" >&2
		exit 1
	fi
	for t in tests/integration/*.sh; do
		[ -f "$t" ] || continue
		if [[ $skip == *" $(basename "$t" .sh) "* ]]; then
			printf '%-40s NOT RUN (FA_TEST_SKIP)\n' "$(basename "$t" .sh)"
			results+=("NOT RUN  $(basename "$t" .sh)  (FA_TEST_SKIP)")
			not_run=$((not_run + 1))
			continue
		fi
		limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -1)
		run_one "$(basename "$t" .sh)" "${limit:-300}" bash "$t"
	done
fi

echo
echo "== summary: $((${#results[@]} - not_run)) run, $failed failed, $not_run not run =="
printf '%s\n' "${results[@]}"
[ $failed -eq 0 ]
