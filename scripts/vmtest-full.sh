#!/usr/bin/env bash
# The integration suite on real kernels: boots each kernel of tests/vm/kernels.conf (the
# ones `make vmtest` boots) under QEMU (TCG) with a real Debian 12 userland, and runs
# `tests/run.sh integration` inside, on a clean copy of the tree built on the host.
# Reports, per kernel, which tests passed and failed. See docs/vmtest.md, "make vmtest-full".
#
# Usage: scripts/vmtest-full.sh [--only NAME] [--skip LIST]
#   --only NAME   boot only the kernel labelled NAME in kernels.conf
#   --skip LIST   also leave out these tests (comma-separated names, as 10-exact-bytes)
#
# Environment:
#   FA_VMTEST_CACHE          kernel packages and the root file system image (default
#                            /var/cache/flowacct-vmtest as root, else
#                            ${XDG_CACHE_HOME:-~/.cache}/flowacct-vmtest)
#   FA_VMTEST_FULL_MEM       guest memory in MiB (default 3072)
#   FA_VMTEST_FULL_TIMEOUT   seconds one guest may run before it is killed (default: the
#                            sum of the tests' own limits, plus 300)
#
# Exits 0 only if every kernel booted and every test that runs in a guest passed there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

only=
extra_skip=
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=$2; shift 2 ;;
	--skip) extra_skip=${2//,/ }; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "vmtest-full: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

vm_prog=vmtest-full
# shellcheck source=scripts/vmtest-lib.sh
source scripts/vmtest-lib.sh
mem=${FA_VMTEST_FULL_MEM:-3072}
work=$root/.output/vmtest-full
logs=$work/logs
mkdir -p "$cache" "$logs"
vm_lock "$work"

vm_need_tools qemu-system-x86_64 mmdebstrap mke2fs depmod modprobe cpio gzip tar \
	dpkg-deb apt-get apt-cache
busybox=/bin/busybox
is_static "$busybox" || die "$busybox is not static: install busybox-static"

# Tests that cannot run in a guest: they boot QEMU themselves (no nested QEMU under TCG
# in any useful time; the host's `make test` runs them).
skip="80-vmtest 82-vmtest-catches-broken-kprobe${extra_skip:+ $extra_skip}"

# ---- 1. the tree: its tracked files, copied, built on the host ----
# Tracked files only (a clean copy: no stray outputs or local files), with their working
# tree contents, so uncommitted edits are tested too. The copy keeps its .output/ between
# runs: make rebuilds what changed. The guest links against its own Debian 12 libraries.
build_tree() {
	src=$work/src
	mkdir -p "$src"
	find "$src" -mindepth 1 -maxdepth 1 ! -name .output -exec rm -rf {} +
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$root" ls-files -z | while IFS= read -r -d '' f; do
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi # not deleted
		done | tar -C "$root" --null -T - -c | tar -C "$src" -x
	else
		tar -C "$root" -c --exclude=./.git --exclude=./.output --exclude=./flowacct . |
			tar -C "$src" -x
	fi
	rm -rf "$src/.output/test-logs"
	say "building flowacct and the test programs (make test-bins) in $src"
	make -C "$src" --no-print-directory -j"$(nproc)" flowacct test-bins >&2 || die "build failed"
	# the guest has no compiler: the broken builds its tests must catch are made here
	# (broken-BACKEND-WHAT.patch, built where fa_build_patched looks for them)
	local patch backend
	for patch in "$src"/tests/integration/broken-*.patch "$src"/tests/vm/broken-*.patch; do
		[ -f "$patch" ] || continue
		backend=$(basename "$patch" .patch)
		backend=${backend#broken-}
		backend=${backend%%-*}
		"$src/scripts/build-patched.sh" "$src" "$patch" "$src/.output/broken-$backend" >&2 ||
			die "the $backend patched build failed"
	done
}

# ---- 2. the root file system: Debian 12 from tests/vm/rootfs.packages, cached ----
# One ext4 image, made with mke2fs -d (no loop mount), named after a hash of the package
# list and of how it is built: a changed list builds a new one, which replaces the old.
# Guests never change it (QEMU's snapshot=on keeps their writes in a temporary file).
rootfs_packages() { sed 's/#.*//' tests/vm/rootfs.packages | tr -s ' \t' '\n\n' | sed '/^$/d' | sort -u; }
build_rootfs() {
	local pkgs recipe hash dir
	pkgs=$(rootfs_packages | paste -sd, -)
	[ -n "$pkgs" ] || die "tests/vm/rootfs.packages lists no package"
	# everything that decides the image's contents; its hash names the image
	recipe=(mmdebstrap --variant=apt --aptopt='APT::Install-Recommends "false"'
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*'
		--customize-hook='mkdir -p "$1/lib/modules" && echo fa-vmtest >"$1/etc/hostname" &&
			printf "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" >"$1/etc/hosts"'
		--include="$pkgs" bookworm)
	hash=$(printf '%s\n' "${recipe[@]}" | sha256sum | cut -c1-12)
	rootfs=$cache/rootfs-bookworm-$hash.img
	if [ -s "$rootfs" ]; then
		say "root file system $rootfs (cached)"
		return
	fi
	dir=$cache/rootfs-bookworm-$hash.tmp
	rm -rf "$dir" "$rootfs.tmp"
	say "building the root file system with mmdebstrap ($(rootfs_packages | wc -l) packages and their dependencies)"
	"${recipe[@]}" "$dir" >"$logs/mmdebstrap.log" 2>&1 ||
		die "mmdebstrap failed (network? see $logs/mmdebstrap.log)"
	# the files, plus room for what the guests write outside /tmp
	mke2fs -q -t ext4 -L fa-root -E root_owner=0:0 -d "$dir" "$rootfs.tmp" \
		"$(($(du -sm "$dir" | cut -f1) * 5 / 4 + 512))M" || die "mke2fs of the root file system failed"
	rm -rf "$dir"
	mv "$rootfs.tmp" "$rootfs"
	for old in "$cache"/rootfs-bookworm-*.img; do
		if [ "$old" != "$rootfs" ]; then
			say "removing the superseded $(basename "$old")"
			rm -f "$old"
		fi
	done
	say "root file system $rootfs ($(du -h "$rootfs" | cut -f1))"
}

# ---- 3. per kernel: its modules, an initramfs that loads virtio-blk, the payload disk ----
# The payload (an ext4 image, read-only in the guest): src/ (the built copy of the tree)
# and modules/<version>/ (the kernel package's /lib/modules, with depmod's indexes).
prepare_kernel() { # name deb
	local name=$1 deb=$2 kdir=$work/$1 kver m ko ir
	rm -rf "$kdir"
	mkdir -p "$kdir/payload" "$kdir/pkg"
	dpkg-deb --fsys-tarfile "$deb" | tar -C "$kdir/pkg" -x --wildcards './lib/modules/*' ||
		die "no /lib/modules in $deb"
	kver=$(ls "$kdir/pkg/lib/modules")
	depmod -b "$kdir/pkg" "$kver"

	ir=$kdir/initramfs
	mkdir -p "$ir"/{bin,dev,proc,sys,modules}
	cp "$busybox" "$ir/bin/busybox"
	cp tests/vm/full-initrd "$ir/init"
	chmod +x "$ir/init"
	# what virtio-blk needs, in load order (modprobe says "builtin ..." for built-in ones)
	: >"$ir/modules/order"
	for m in virtio_pci virtio_blk; do
		modprobe -d "$kdir/pkg" -S "$kver" --show-depends "$m" | sed -n 's/^insmod \([^ ]*\).*/\1/p'
	done | awk '!seen[$0]++' | while read -r ko; do
		case $ko in
		*.ko) cp "$ko" "$ir/modules/" ;;
		*.ko.xz) xz -dc "$ko" >"$ir/modules/$(basename "$ko" .xz)" ;;
		*.ko.zst) zstd -qdc "$ko" >"$ir/modules/$(basename "$ko" .zst)" ;;
		*) die "unexpected module file $ko" ;;
		esac
		basename "${ko%.xz}" .zst >>"$ir/modules/order"
	done
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$kdir/initrd.gz"

	mv "$kdir/pkg/lib/modules" "$kdir/payload/modules"
	rm -rf "$kdir/pkg"
	cp -al "$src" "$kdir/payload/src"
	mke2fs -q -t ext4 -L fa-payload -E root_owner=0:0 -d "$kdir/payload" "$kdir/payload.img" \
		"$(($(du -sm "$kdir/payload" | cut -f1) + 64))M" || die "mke2fs of the payload failed"
	rm -rf "$kdir/payload"
	# the guest writes its logs here as a tar archive
	rm -f "$kdir/results.img"
	truncate -s 256M "$kdir/results.img"
	say "$name: kernel $kver, initramfs modules: $(tr '\n' ' ' <"$ir/modules/order")"
}

# ---- 4. boot one kernel, collect its VMTEST-FULL-RESULT lines ----
declare -a rows kernel_secs failed_kernels
failed=0

row() { # kernel test PASS|FAIL|NOT-RUN seconds note...
	local k=$1 t=$2 r=$3 s=$4
	shift 4
	rows+=("$(printf '%-6s %-36s %-7s %5s  %s' "$k" "$t" "$r" "$s" "$*")")
	case $r in PASS | NOT-RUN) ;; *) failed=$((failed + 1)) ;; esac
}

# the time limit of one guest: each test's own (# timeout: line, else run.sh's 300 s)
suite_limit() {
	local t name sum=0 limit
	for t in "$src"/tests/integration/*.sh; do
		name=$(basename "$t" .sh)
		[[ " $skip " == *" $name "* ]] && continue
		limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -1)
		sum=$((sum + ${limit:-300} + 10))
	done
	echo $((sum + 300))
}

run_kernel() { # name glob (the rest of the kernels.conf line is vmtest's)
	local name=$1 glob=$2 vmlinuz log limit results why t line failed_before=$failed
	log=$logs/$name.console.log
	if ! vmlinuz=$(fetch_kernel "$glob"); then
		row "$name" boot FAIL - "no kernel package for $glob"
		failed_kernels+=("$name")
		return
	fi
	prepare_kernel "$name" "${vmlinuz%.vmlinuz}.deb"
	limit=${FA_VMTEST_FULL_TIMEOUT:-$(suite_limit)}
	say "booting $name ($(basename "$vmlinuz" .vmlinuz)), at most ${limit}s; console: $log"
	vm_boot "$limit" "$log" "$vmlinuz" "$work/$name/initrd.gz" \
		"console=ttyS0 loglevel=4 panic=-1 fa_kernel=$name fa_skip=${skip// /,}" \
		-drive "file=$rootfs,format=raw,if=virtio,snapshot=on" \
		-drive "file=$work/$name/payload.img,format=raw,if=virtio,readonly=on" \
		-drive "file=$work/$name/results.img,format=raw,if=virtio"
	rm -rf "${logs:?}/$name"
	mkdir -p "$logs/$name"
	tar -C "$logs/$name" -xf "$work/$name/results.img" 2>/dev/null ||
		say "$name: the guest left no logs"

	results=$(sed -n "s/^VMTEST-FULL-RESULT $name //p" "$log")
	why=$(vm_guest_failure "$limit" "$log" VMTEST-FULL-DONE)
	if [ -n "$why" ]; then
		line=$(sed -n 's/^VMTEST-FULL-FAIL [^ ]* //p' "$log" | head -n 1)
		row "$name" guest FAIL "$vm_secs" "$why${line:+: $line}"
	fi
	# a row for every test of the tree: a missing one is a failure; when the guest died,
	# the first one missing is the one it died in
	local missing="no result from the guest"
	[ -z "$why" ] || missing="no result: the guest stopped during this test"
	for t in modules "$src"/tests/integration/*.sh; do
		t=$(basename "$t" .sh)
		line=$(echo "$results" | awk -v t="$t" '$1 == t' | head -n 1)
		if [ -n "$line" ]; then
			# shellcheck disable=SC2086 # split the line into its fields
			row "$name" $line
		else
			row "$name" "$t" FAIL - "$missing"
			missing="no result from the guest"
		fi
	done
	[ "$failed" -gt "$failed_before" ] && failed_kernels+=("$name")
	say "$name done in ${vm_secs}s; test logs in $logs/$name/test-logs/"
	kernel_secs+=("$name ${vm_secs}s")
}

# Bash reads a script as it runs it: with everything in main(), a long run is unaffected
# by edits to this file made meanwhile.
main() {
	local total_start
	total_start=$(date +%s)
	build_tree
	build_rootfs
	vm_each_kernel run_kernel

	vm_excerpts 60 '^VMTEST-FULL-(FAIL|RESULT .* FAIL)|^    \| (FAIL|.*FAIL:)|Kernel panic|BUG:|Oops' \
		"${failed_kernels[@]}"

	echo
	echo "== vmtest-full: integration suite per kernel ($(($(date +%s) - total_start))s; ${kernel_secs[*]}) =="
	printf '%-6s %-36s %-7s %5s  %s\n' kernel test result secs note
	printf '%s\n' "${rows[@]}"
	if [ $failed -gt 0 ]; then
		echo "vmtest-full: $failed row(s) failed; consoles and test logs in $logs/"
		exit 1
	fi
	echo "vmtest-full: all passed"
}

main "$@"
exit
