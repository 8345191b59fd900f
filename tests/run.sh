#!/usr/bin/env bash
# Runs flowacct's tests, tier by tier, each test under a timeout with its output kept in
# .output/test-logs/; prints a summary table and exits non-zero if anything failed.
#
#   build        tests/build/*.sh: the Makefile's own behaviour (no root)
#   unit         .output/tests/test_* from tests/unit/ (cmocka; no root, no BPF)
#   bpf          .output/tests/bpf/test_* from tests/bpf/ (cmocka against real BPF maps)
#   integration  tests/integration/*.sh in name order, against real traffic
#   sanitize     the ASan + UBSan build (make sanitize-bins): every unit test, then the
#                integration tests of FA_SANITIZE_TESTS against its flowacct
#
# usage: tests/run.sh [TIER...]   (default: all five, in that order)
# The bpf and integration tiers need root and BPF: without them they fail, never skip.
# FA_TEST_SKIP="name ..." (integration test names without .sh) does not run those tests;
# the summary lists them as NOT RUN, neither passed nor failed.
set -uo pipefail
cd "$(dirname "$0")/.."
tiers=(build unit bpf integration sanitize)
# The integration tests the sanitizer build also runs, as many as the 20-minute budget of
# make test holds: every output, the live view, options, packets, containers, exits.
sanitize_tests=${FA_SANITIZE_TESTS:-10-exact-bytes 20-cli-errors 21-bad-options 30-json-schema 40-tui-tmux 54-packets-drops 60-prometheus 61-json-file 62-audit 64-containers 69-exits}
[ $# -gt 0 ] || set -- "${tiers[@]}"
for tier in "$@"; do
	case " ${tiers[*]} " in
	*" $tier "*) ;;
	*)
		echo "usage: tests/run.sh [TIER...]; tiers: ${tiers[*]}" >&2
		exit 2
		;;
	esac
done
export FA_ROOT=$PWD FLOWACCT=$PWD/flowacct FA_TESTBIN=$PWD/.output/tests
# every flowacct the tests run stops, naming the call, at a system call the running
# phase's seccomp filter does not list (in use it would fail with EPERM): a path the
# lists miss fails its test instead of misbehaving quietly
export FLOWACCT_SECCOMP_STRICT=1
logs=.output/test-logs
mkdir -p "$logs"
declare -a results
read -ra skip <<<"${FA_TEST_SKIP:-}"
failed=0
not_run=0

# fail_one NAME REASON: a test (or a whole tier) that could not run counts as failed
fail_one() {
	printf '%-40s FAIL (%s)\n' "$1" "$2"
	results+=("FAIL  $1  ($2)")
	failed=$((failed + 1))
}

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

# run_script FILE NAME: a shell test, under the limit its "# timeout: N" line gives
run_script() {
	local limit
	limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$1" | head -1)
	run_one "$2" "${limit:-300}" bash "$1"
}

# run_programs SOURCE_DIR BIN_DIR PREFIX: the program built from each SOURCE_DIR/test_*.c
run_programs() {
	local src bin
	for src in "$1"/test_*.c; do
		[ -f "$src" ] || continue
		bin=$2/$(basename "$src" .c)
		if [ -x "$bin" ]; then
			run_one "$3-$(basename "$bin")" 120 "$bin"
		else
			fail_one "$3-$(basename "$bin")" "$bin not built: run make test-bins"
		fi
	done
}

# needs_root TIER: 0 if running as root; else the tier fails, loudly
needs_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	echo "the $1 tier needs root and BPF (its tests load BPF programs or create BPF maps):" \
		"run it as root" >&2
	fail_one "$1 tier" "needs root and BPF"
	return 1
}

skipped() { # name: listed in FA_TEST_SKIP
	local s
	for s in "${skip[@]}"; do
		[ "$s" = "$1" ] && return 0
	done
	return 1
}

for s in "${skip[@]}"; do
	[ -f "tests/integration/$s.sh" ] ||
		echo "FA_TEST_SKIP: no integration test named $s (tests/integration/$s.sh)" >&2
done

for tier in "$@"; do
	case $tier in
	build)
		for t in tests/build/*.sh; do
			[ -f "$t" ] && run_script "$t" "build-$(basename "$t" .sh)"
		done
		;;
	unit)
		run_programs tests/unit .output/tests unit
		;;
	bpf)
		needs_root bpf && run_programs tests/bpf .output/tests/bpf bpf
		;;
	integration)
		needs_root integration || continue
		for t in tests/integration/*.sh; do
			[ -f "$t" ] || continue
			name=$(basename "$t" .sh)
			if skipped "$name"; then
				printf '%-40s NOT RUN (FA_TEST_SKIP)\n' "$name"
				results+=("NOT RUN  $name  (FA_TEST_SKIP)")
				not_run=$((not_run + 1))
				continue
			fi
			run_script "$t" "$name"
		done
		;;
	sanitize)
		# a sanitizer report fails the test: a distinct exit code, never recovered
		export ASAN_OPTIONS=detect_leaks=1:exitcode=86:abort_on_error=0:strict_string_checks=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87
		[ -x .output/asan/flowacct ] || {
			fail_one "sanitize tier" ".output/asan/flowacct not built: run make test-bins"
			continue
		}
		run_programs tests/unit .output/asan/tests sanitize-unit
		needs_root sanitize || continue
		for name in $sanitize_tests; do
			[ -f "tests/integration/$name.sh" ] || {
				fail_one "sanitize-$name" "no tests/integration/$name.sh"
				continue
			}
			FLOWACCT=$PWD/tests/sanitize/flowacct run_script "tests/integration/$name.sh" \
				"sanitize-$name"
		done
		unset ASAN_OPTIONS UBSAN_OPTIONS
		;;
	esac
done

echo
echo "== summary: $((${#results[@]} - not_run)) run, $failed failed, $not_run not run =="
printf '%s\n' "${results[@]}"
[ $failed -eq 0 ]
