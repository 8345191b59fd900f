#!/usr/bin/env bash
# Builds one libFuzzer target (make's .output/fuzz/fuzz_TARGET rule: AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs it for SECONDS (default 60) on its seed corpus,
# tests/fuzz/corpus/TARGET. New inputs go to .output/fuzz/corpus/TARGET (the seeds stay
# as committed); a crash leaves its input in .output/fuzz/ and makes this exit non-zero.
# usage: tests/fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: tests/fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]" >&2; exit 2; }
target=$1
secs=${2:-60}
shift 2 || shift
out=.output/fuzz
bin=$out/fuzz_$target
seeds=tests/fuzz/corpus/$target
[ -d "$seeds" ] || { echo "run.sh: no seed corpus at $seeds" >&2; exit 2; }
mkdir -p "$out/corpus/$target"
# a make of its own, not one with the flags of a make that may have called this script
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$bin"
[ -x "$bin" ] || { echo "run.sh: no fuzzer at $bin" >&2; exit 1; }
exec "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
	-print_final_stats=1 -artifact_prefix="$out/$target-" "$@" "$out/corpus/$target" "$seeds"
