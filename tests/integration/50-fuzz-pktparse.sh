#!/usr/bin/env bash
# timeout: 150
# The --packets header parser under libFuzzer (AddressSanitizer, UBSan) for 60 seconds,
# from the seed corpus of real frames: no crash, no read past a frame, no inconsistent
# answer. `make fuzz` runs the same target for longer.
set -euo pipefail
cd "${FA_ROOT:-$(dirname "$0")/../..}"
tests/fuzz/run.sh "${FA_FUZZ_SECONDS:-60}"
