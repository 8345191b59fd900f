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

if [ "$(id -u)" -eq 0 ]; then
	cache=${FA_VMTEST_CACHE:-/var/cache/flowacct-vmtest}
else
	cache=${FA_VMTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flowacct-vmtest}
fi
test_timeout=${FA_VMTEST_TEST_TIMEOUT:-180}
mem=${FA_VMTEST_MEM:-1024}
work=$root/.output/vmtest
# a patched run keeps its initramfs and logs apart, so they never pass for the real ones
run_dir=$work${patch_file:+/patched}
logs=$run_dir/logs
mkdir -p "$cache" "$logs"
# One run at a time per tree: a second `make test` or `make vmtest` would overwrite this
# run's initramfs and console logs while its guests read and write them.
exec 9>"$work/lock"
if ! flock -n 9; then
	echo "vmtest: another vmtest run in this tree holds $work/lock; waiting for it" >&2
	flock 9
fi

say() { echo "vmtest: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in qemu-system-x86_64 cpio gzip dpkg-deb apt-get apt-cache; do
	command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done
# static: an ELF file without a program interpreter (readelf comes with gcc's binutils)
is_static() { readelf -l "$1" >/dev/null 2>&1 && ! readelf -l "$1" 2>/dev/null | grep -q INTERP; }
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
	cp tests/vm/auto-backend.sh "$ir/bin/auto-backend.sh"
	cp tests/vm/init "$ir/init"
	chmod +x "$ir/init" "$ir/bin/auto-backend.sh"
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$run_dir/initrd.gz"
	say "initramfs $(du -h "$run_dir/initrd.gz" | cut -f1) ($(ls "$ir/bin" | tr '\n' ' '))"
}

# ---- 3. kernels: newest package matching the glob, cached, its vmlinuz extracted ----
# Prints the path of the vmlinuz. apt-cache reads local lists only; the network is used
# only when the newest package is not cached yet, and a cached match serves when offline.
newest_package() { # package-glob
	apt-cache pkgnames linux-image- 2>/dev/null | while read -r p; do
		# shellcheck disable=SC2053 # $glob is a pattern on purpose
		if [[ $p == $1 ]]; then echo "$p"; fi
	done | sort -V | tail -n 1
}

fetch_kernel() { # package-glob
	local glob=$1 pkg deb vmlinuz
	pkg=$(newest_package "$glob")
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ] && ! ls "$cache"/*.deb >/dev/null 2>&1; then
		# a fresh machine (a container, say) may have no package lists yet
		say "apt knows no package matching '$glob': running apt-get update"
		apt-get update -qq >&2 || true
		pkg=$(newest_package "$glob")
	fi
	deb=
	if [ -n "$pkg" ]; then
		deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
		if [ -z "$deb" ]; then
			say "downloading $pkg into $cache"
			(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
				say "download of $pkg failed; trying the cache"
			deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
			# the new package replaces older ones of the same line: the cache stays bounded
			[ -n "$deb" ] && for old in "$cache"/*; do
				if [[ $(basename "$old") == ${glob}_* && $(basename "$old") != ${pkg}_* ]]; then
					say "removing the superseded $(basename "$old")"
					rm -f "$old"
				fi
			done
		fi
	fi
	if [ -z "$deb" ]; then # offline or apt knows no match: the newest cached match
		deb=$(for d in "$cache"/*.deb; do
			if [[ $(basename "$d") == ${glob}_*.deb ]]; then echo "$d"; fi
		done | sort -V | tail -n 1)
	fi
	[ -n "$deb" ] || { say "no package matches '$glob' (apt-get update?)"; return 1; }
	vmlinuz=$cache/$(basename "$deb" .deb).vmlinuz
	if [ ! -s "$vmlinuz" ]; then
		dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './boot/vmlinuz-*' >"$vmlinuz.tmp"
		mv "$vmlinuz.tmp" "$vmlinuz"
	fi
	echo "$vmlinuz"
}

# ---- 4. boot one kernel, collect its VMTEST-RESULT lines ----
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
	local backends=("$@") vmlinuz log start rc secs vm_timeout failed_before
	vm_timeout=${FA_VMTEST_TIMEOUT:-$((90 + ${#backends[@]} * test_timeout + 150))}
	log=$logs/$name.console.log
	failed_before=$failed
	if ! vmlinuz=$(fetch_kernel "$glob"); then
		row "$name" boot FAIL 0 1 "no kernel package for $glob"
		return
	fi
	say "booting $name ($(basename "$vmlinuz" .vmlinuz)): ${backends[*]}"
	start=$(date +%s)
	rc=0
	timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m "$mem" \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$log" \
		-kernel "$vmlinuz" -initrd "$run_dir/initrd.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 fa_kernel=$name fa_backends=$(
			IFS=,
			echo "${backends[*]}"
		) fa_auto=$auto fa_timeout=$test_timeout" \
		</dev/null >"$logs/$name.qemu.log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"

	local results
	results=$(sed -n "s/^VMTEST-RESULT $name //p" "$log")
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		row "$name" guest FAIL 0 1 "killed after ${vm_timeout}s (hung)"
	elif [ $rc -ne 0 ]; then
		row "$name" guest FAIL 0 1 "qemu exit $rc: $(tail -n 1 "$logs/$name.qemu.log")"
	elif ! grep -q '^VMTEST-DONE' "$log"; then
		row "$name" guest FAIL 0 1 "guest stopped before finishing"
	fi

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
	while read -r -u 3 name glob auto backends; do
		case $name in '' | '#'*) continue ;; esac
		[ -n "$only" ] && [ "$only" != "$name" ] && continue
		[ -n "$only_backends" ] && backends=${only_backends//,/ }
		# shellcheck disable=SC2086 # one word per backend
		run_kernel "$name" "$glob" "$auto" $backends
	done 3<tests/vm/kernels.conf
	[ ${#rows[@]} -gt 0 ] || die "no kernel matched${only:+ '$only'} in tests/vm/kernels.conf"

	# What went wrong, from each failing guest's own console (the whole log stays on disk)
	for name in "${failed_kernels[@]}"; do
		echo
		echo "== $name: failures from $logs/$name.console.log"
		grep -E '^(FAIL |fa_exact: [0-9]+ passed|VMTEST-RESULT .* FAIL)|Kernel panic|BUG:|WARNING:|Oops|auto-backend:' \
			"$logs/$name.console.log" | head -n 40 || echo "(none printed: the guest stopped early; see the log)"
	done

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
