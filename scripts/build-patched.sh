#!/usr/bin/env bash
# build-patched.sh TREE PATCH DEST: a copy of TREE in DEST with PATCH applied, and its
# flowacct and fa_exact built there; TREE stays as it is. Used by the tests that prove a
# broken build is caught (tests/integration/common.bash, fa_build_patched), and by
# scripts/vmtest-full.sh, which builds the copies on the host for guests that have no
# compiler.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: build-patched.sh TREE PATCH DEST" >&2; exit 2; }
tree=$1 patch_file=$2 dest=$3
rm -rf "$dest"
mkdir -p "$dest"
tar -C "$tree" -c --exclude=./.git --exclude=./.output --exclude=./flowacct . | tar -C "$dest" -x
patch -d "$dest" -p1 --forward <"$patch_file" >/dev/null || {
	echo "$patch_file does not apply to the current tree: regenerate it with tests/integration/gen-broken-patches.py" >&2
	exit 1
}
make -C "$dest" --no-print-directory -j"$(nproc)" flowacct .output/tests/fa_exact >/dev/null
