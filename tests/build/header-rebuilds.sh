#!/usr/bin/env bash
# timeout: 300
# An edit of bpf/flowacct.h, the ABI shared by the BPF programs and user space, rebuilds
# both sides: the BPF object, its skeleton and every user object that includes the header;
# and a tree nothing was edited in is up to date. Checked in a fresh copy of the tree
# (like a clone: no dependency files yet, none left by an older Makefile), built once,
# then with make's what-if mode (-n -W bpf/flowacct.h: pretends the header changed,
# touches nothing). Needs no root.
set -euo pipefail
cd "$(dirname "$0")/../.."
# make of its own: not the flags (-n, -j, V=1) of a make that may have called this script
unset MAKEFLAGS MFLAGS MAKELEVEL
tmp=$(mktemp -d /tmp/fa-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

tar -c --exclude=./.git --exclude=./.output --exclude=./flowacct --exclude=./tests/fuzz/corpus \
	. | tar -C "$tmp" -x
cd "$tmp"
make -j"$(nproc)" flowacct >build.log 2>&1 || { cat build.log; fail "the build fails"; }

bpf=.output/flowacct.bpf.o
skel=.output/flowacct.skel.h
mapfile -t users < <(grep -l 'bpf/flowacct\.h' .output/user/*.d | sed 's/\.d$/.o/')
[ ${#users[@]} -gt 0 ] || fail "no user object's dependency file names bpf/flowacct.h"
want=("$bpf" "$skel" "${users[@]}")

# up_to_date WHEN: make -q says nothing is to be done for flowacct and the objects
up_to_date() {
	make -q flowacct "${want[@]}" ||
		fail "$1, make would still rebuild: $(make -n flowacct "${want[@]}" | head -5)"
}
up_to_date "after a build"
echo "PASS: after a build, flowacct, $bpf, $skel and ${#users[@]} user objects are up to date"

remade=$(make -n -W bpf/flowacct.h --debug=b flowacct |
	sed -n "s/^ *Must remake target ['\`]\(.*\)'\.$/\1/p")
missing=()
for t in "${want[@]}"; do
	grep -qxF "$t" <<<"$remade" || missing+=("$t")
done
echo "bpf/flowacct.h changed: make would rebuild" $remade
[ ${#missing[@]} -eq 0 ] || fail "an edit of bpf/flowacct.h would not rebuild ${missing[*]}"
echo "PASS: bpf/flowacct.h changed: $bpf, $skel and the ${#users[@]} user objects" \
	"that include it would be rebuilt"
up_to_date "after make -n -W"
