#!/usr/bin/env bash
# The kernel matrix: boots Debian's own kernels under QEMU (TCG) and runs the exactness
# tests inside, once per backend each kernel supports, plus the cross-backend and the
# `--backend auto` tests. The kernels are listed in tests/vm/kernels.conf. See docs/vmtest.md.
#
# Usage: scripts/vmtest.sh [--only NAME] [--backends LIST] [--patch FILE]
#   --only NAME      boot only the kernel labelled NAME in kernels.conf
#   --backends LIST  test only these backends (comma-separated) instead of the kernel's own
#   --patch FILE     apply FILE (patch -p1) to a copy of the tree before building: how a
#                    deliberately broken program is shown to make the matrix fail; its
#                    logs go to .output/vmtest/patched/logs/
#
# Environment:
#   FA_VMTEST_CACHE    kernel packages (default /var/cache/flowacct-vmtest as root, else
#                      ${XDG_CACHE_HOME:-~/.cache}/flowacct-vmtest); reruns need no network
#   FA_VMTEST_TEST_TIMEOUT  seconds one test run may take inside a guest (default 180)
#   FA_VMTEST_TIMEOUT  seconds one guest may run before it is killed (default: enough for
#                      boot, every test run at its limit and the auto test)
#   FA_VMTEST_MEM      guest memory in MiB (default 1024)
#
# Exits 0 only if every kernel booted, reported every expected result, and all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

only=
only_backends=
patch_file=
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=$2; shift 2 ;;
	--backends) only_backends=$2; shift 2 ;;
	--patch) patch_file=$(realpath "$2"); shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "vmtest: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

vm_prog=vmtest
# shellcheck source=scripts/vmtest-lib.sh
source scripts/vmtest-lib.sh
test_timeout=${FA_VMTEST_TEST_TIMEOUT:-180}
mem=${FA_VMTEST_MEM:-1024}
work=$root/.output/vmtest
# a patched run keeps its initramfs and logs apart, so they never pass for the real ones
run_dir=$work${patch_file:+/patched}
logs=$run_dir/logs
mkdir -p "$cache" "$logs"
vm_lock "$work"

vm_need_tools qemu-system-x86_64 cpio gzip xz dpkg-deb apt-get apt-cache
busybox=/bin/busybox
is_static "$busybox" || die "$busybox is not static: install busybox-static"

# ---- 1. a static flowacct and static test programs, built in a copy of the tree ----
# A copy, so the host's dynamic ./flowacct and .output/ stay as they are, and so a
# --patch never touches the real sources. The copy keeps its own .output/ between runs
# (make rebuilds what changed); a patched copy is always rebuilt from scratch.
build_static() {
	local src
	if [ -n "$patch_file" ]; then
		src=$work/src-patched
		rm -rf "$src"
	else
		src=$work/src
	fi
	mkdir -p "$src"
	find "$src" -mindepth 1 -maxdepth 1 ! -name .output -exec rm -rf {} +
	tar -C "$root" -c --exclude=./.git --exclude=./.output --exclude=./flowacct . |
		tar -C "$src" -x
	if [ -n "$patch_file" ]; then
		say "applying $patch_file to the copy in $src"
		patch -d "$src" -p1 --forward <"$patch_file" >&2 ||
			die "$patch_file does not apply to the current tree"
	fi
	local itests=()
	for c in "$src"/tests/integration/*.c; do
		[ -f "$c" ] && itests+=(".output/tests/$(basename "$c" .c)")
	done
	say "building static flowacct and ${#itests[@]} test program(s) in $src"
	make -C "$src" --no-print-directory -j"$(nproc)" STATIC=1 flowacct "${itests[@]}" >&2 ||
		die "static build failed"
	static_dir=$src
}

# ---- 2. the initramfs: busybox, flowacct, the test programs, tests/vm/init ----
build_initramfs() {
	local ir=$run_dir/initramfs
	rm -rf "$ir"
	mkdir -p "$ir"/{bin,dev,proc,sys,tmp,etc}
	cp "$busybox" "$ir/bin/busybox"
	cp "$static_dir/flowacct" "$ir/bin/flowacct"
	for t in "$static_dir"/.output/tests/*; do
		case $(basename "$t") in test_*) continue ;; esac # unit tests run on the host
		[ -f "$t" ] && [ -x "$t" ] && cp "$t" "$ir/bin/"
	done
	for b in "$ir"/bin/*; do
		[ "$(basename "$b")" = busybox ] && continue
		is_static "$b" || die "$b is not statically linked"
	done
	# the sock_diag handlers for TCP, modules in Debian's kernels, for --audit; from each
	# kernel's own package, uncompressed for busybox's insmod (init loads the guest's)
	vm_each_kernel add_diag_modules
	cp tests/vm/auto-backend.sh "$ir/bin/auto-backend.sh"
	cp tests/vm/init "$ir/init"
	chmod +x "$ir/init" "$ir/bin/auto-backend.sh"
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$run_dir/initrd.gz"
	say "initramfs $(du -h "$run_dir/initrd.gz" | cut -f1) ($(ls "$ir/bin" | tr '\n' ' '))"
}

add_diag_modules() { # name glob ...
	local vmlinuz deb
	vmlinuz=$(fetch_kernel "$2") || return 0 # run_kernel reports the missing kernel
	deb=${vmlinuz%.vmlinuz}.deb
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$run_dir/initramfs" --wildcards './lib/modules/*/kernel/net/ipv4/inet_diag.ko*' \
			'./lib/modules/*/kernel/net/ipv4/tcp_diag.ko*' ||
		die "no inet_diag/tcp_diag modules in $deb"
	find "$run_dir/initramfs/lib/modules" -name '*.ko.xz' -exec xz -d -f {} +
}

# ---- 3. boot one kernel, collect its VMTEST-RESULT lines ----
declare -a rows kernel_secs failed_kernels
failed=0

row() { # kernel test PASS|FAIL passed failed note...
	local k=$1 t=$2 r=$3 p=$4 f=$5
	shift 5
	rows+=("$(printf '%-6s %-14s %-5s %6s %6s  %s' "$k" "$t" "$r" "$p" "$f" "$*")")
	[ "$r" = PASS ] || failed=$((failed + 1))
}

run_kernel() { # name glob auto backends...
	local name=$1 glob=$2 auto=$3
	shift 3
	if [ -n "$only_backends" ]; then
		# shellcheck disable=SC2046 # one word per backend
		set -- $(tr , ' ' <<<"$only_backends")
	fi
	local backends=("$@") vmlinuz log secs vm_timeout failed_before
	vm_timeout=${FA_VMTEST_TIMEOUT:-$((90 + ${#backends[@]} * test_timeout + 150))}
	log=$logs/$name.console.log
	failed_before=$failed
	if ! vmlinuz=$(fetch_kernel "$glob"); then
		row "$name" boot FAIL 0 1 "no kernel package for $glob"
		return
	fi
	say "booting $name ($(basename "$vmlinuz" .vmlinuz)): ${backends[*]}"
	vm_boot "$vm_timeout" "$log" "$vmlinuz" "$run_dir/initrd.gz" \
		"console=ttyS0 loglevel=4 panic=-1 fa_kernel=$name fa_backends=$(
			IFS=,
			echo "${backends[*]}"
		) fa_auto=$auto fa_timeout=$test_timeout"
	secs=$vm_secs

	local results why
	results=$(sed -n "s/^VMTEST-RESULT $name //p" "$log")
	why=$(vm_guest_failure "$vm_timeout" "$log" VMTEST-DONE)
	[ -z "$why" ] || row "$name" guest FAIL 0 1 "$why"

	# every expected line must be there; a missing one is a failure
	local expect=("${backends[@]}") t line
	[ ${#backends[@]} -ge 2 ] && expect+=(cross-backend)
	[ -n "$auto" ] && expect+=(auto)
	for t in "${expect[@]}"; do
		line=$(echo "$results" | awk -v t="$t" '$1 == t' | head -n 1)
		if [ -n "$line" ]; then
			# shellcheck disable=SC2086 # split the line into its fields
			row "$name" $line
		else
			row "$name" "$t" FAIL 0 0 "no result from the guest"
		fi
	done
	[ "$failed" -gt "$failed_before" ] && failed_kernels+=("$name")
	say "$name done in ${secs}s; console log: $log"
	kernel_secs+=("$name ${secs}s")
}

# Bash reads a script as it runs it: with everything in main(), a long run is unaffected
# by edits to this file made meanwhile.
main() {
	total_start=$(date +%s)
	build_static
	build_initramfs
	vm_each_kernel run_kernel

	vm_excerpts 40 '^(FAIL |fa_exact: [0-9]+ passed|VMTEST-RESULT .* FAIL)|Kernel panic|BUG:|WARNING:|Oops|auto-backend:' \
		"${failed_kernels[@]}"

	echo
	echo "== vmtest: kernel x backend ($(($(date +%s) - total_start))s; ${kernel_secs[*]}) =="
	printf '%-6s %-14s %-5s %6s %6s  %s\n' kernel test result passed failed note
	printf '%s\n' "${rows[@]}"
	if [ $failed -gt 0 ]; then
		echo "vmtest: $failed row(s) failed; the guests' console output is in $logs/"
		exit 1
	fi
	echo "vmtest: all passed"
}

main "$@"
exit
