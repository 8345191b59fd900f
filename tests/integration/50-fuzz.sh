#!/usr/bin/env bash
# timeout: 300
# Every parser of bytes others choose under libFuzzer (AddressSanitizer, UBSan), from
# its seed corpus: the packet headers for 60 seconds, the command line, cgroup paths,
# /proc/self/mountinfo, the container runtimes' state files and --web-config for 25 each
# (FA_FUZZ_SECONDS scales them: it is the packet parser's share). No crash, no leak, no
# read past an input, no answer that contradicts itself. `make fuzz` runs each longer.
set -euo pipefail
cd "${FA_ROOT:-$(dirname "$0")/../..}"
secs=${FA_FUZZ_SECONDS:-60}
tests/fuzz/run.sh pktparse "$secs"
for t in cli cgname mountinfo rtnames webconfig; do
	echo "== $t"
	tests/fuzz/run.sh $t $((secs * 5 / 12 > 0 ? secs * 5 / 12 : 1))
done
