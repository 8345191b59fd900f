#!/usr/bin/env bash
# Builds the libFuzzer target for the --packets header parser (make's
# .output/fuzz/fuzz_pktparse rule: AddressSanitizer and UndefinedBehaviorSanitizer) and
# runs it for SECONDS (default 60) on the seed corpus.
# New inputs go to .output/fuzz/corpus (the seeds stay as committed); a crash leaves its
# input in .output/fuzz/ and makes this exit non-zero.
# usage: tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
out=.output/fuzz
mkdir -p "$out/corpus"
# a make of its own, not one with the flags of a make that may have called this script
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$out/fuzz_pktparse"
[ -x "$out/fuzz_pktparse" ] || { echo "run.sh: no fuzzer at $out/fuzz_pktparse" >&2; exit 1; }
exec "$out/fuzz_pktparse" -max_total_time="$secs" -max_len=4096 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$out/" "$@" "$out/corpus" tests/fuzz/corpus
