#!/usr/bin/env bash
# timeout: 1800
# The kernel matrix (`make vmtest`) inside `make test`: fentry and kprobe on Debian's 6.1,
# all three backends on 6.12, the cross-backend and `--backend auto` tests, under QEMU.
# A normal run takes a few minutes; the limit above only bounds hung guests, which
# scripts/vmtest.sh kills and reports as failures on its own well before.
set -euo pipefail
exec "${FA_ROOT:-$(dirname "$0")/../..}/scripts/vmtest.sh"
