#!/usr/bin/env bash
# Builds the libFuzzer target for the --packets header parser and runs it for SECONDS
# (default 60) on the seed corpus, with AddressSanitizer and UndefinedBehaviorSanitizer.
# New inputs go to .output/fuzz/corpus (the seeds stay as committed); a crash leaves its
# input in .output/fuzz/ and makes this exit non-zero.
# usage: tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
out=.output/fuzz
mkdir -p "$out/corpus"
${CLANG:-clang} -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Ibpf -Iuser \
	tests/fuzz/fuzz_pktparse.c user/pktparse.c -o "$out/fuzz_pktparse"
exec "$out/fuzz_pktparse" -max_total_time="$secs" -max_len=4096 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$out/" "$@" "$out/corpus" tests/fuzz/corpus
