# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with the sourcing script
# Shared by scripts/vmtest.sh and scripts/vmtest-full.sh (sourced, not run): the kernel
# package cache, one run per tree at a time, booting a guest under QEMU (TCG) and
# telling how it ended. The sourcing script sets vm_prog (its name in messages) first,
# and before booting mem (guest MiB) and logs (the console logs' directory); this file
# sets cache, and vm_boot sets vm_rc and vm_secs. See docs/vmtest.md.

say() { echo "${vm_prog:-vmtest}: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# The kernel packages (and vmtest-full's root filesystem) live here, outside the tree.
if [ "$(id -u)" -eq 0 ]; then
	cache=${FA_VMTEST_CACHE:-/var/cache/flowacct-vmtest}
else
	cache=${FA_VMTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flowacct-vmtest}
fi

# vm_lock DIR: one run at a time in DIR; a second one waits for the first. Another run
# would overwrite this one's images and console logs while its guests use them.
vm_lock() {
	mkdir -p "$1"
	exec 9>"$1/lock"
	if ! flock -n 9; then
		say "another run in this tree holds $1/lock; waiting for it"
		flock 9
	fi
}

vm_need_tools() { # tool...
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
	done
}

# static: an ELF file without a program interpreter (readelf comes with gcc's binutils)
is_static() { readelf -l "$1" >/dev/null 2>&1 && ! readelf -l "$1" 2>/dev/null | grep -q INTERP; }

# ---- kernels: newest package matching the glob, cached, its vmlinuz extracted ----
# fetch_kernel prints the path of the vmlinuz; the package is next to it, with .deb for
# .vmlinuz. apt-cache reads local lists only; the network is used only when the newest
# package is not cached yet, and a cached match serves when offline.
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

# ---- boot one guest ----
# vm_boot LIMIT LOG VMLINUZ INITRD APPEND [qemu args...]: runs the guest until it powers
# off, at most LIMIT seconds (then it is killed), its serial console in LOG (carriage
# returns removed) and QEMU's own messages in LOG's .qemu.log sibling. Sets vm_rc (QEMU's
# or timeout's exit status) and vm_secs.
vm_boot() {
	local limit=$1 log=$2 vmlinuz=$3 initrd=$4 append=$5 start
	shift 5
	start=$(date +%s)
	vm_rc=0
	timeout --kill-after=10 "$limit" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m "$mem" \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$log" \
		-kernel "$vmlinuz" -initrd "$initrd" -append "$append" "$@" \
		</dev/null >"${log%.console.log}.qemu.log" 2>&1 || vm_rc=$?
	vm_secs=$(($(date +%s) - start))
	tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
}

# vm_guest_failure LIMIT LOG DONE-LINE: after vm_boot, why the guest failed as a whole,
# or nothing if it ran to its end (printed DONE-LINE) and powered off.
vm_guest_failure() {
	if [ "$vm_rc" -eq 124 ] || [ "$vm_rc" -eq 137 ]; then
		echo "killed after ${1}s (hung)"
	elif [ "$vm_rc" -ne 0 ]; then
		echo "qemu exit $vm_rc: $(tail -n 1 "${2%.console.log}.qemu.log")"
	elif ! grep -q "^$3" "$2"; then
		echo "guest stopped before finishing"
	fi
}

# vm_excerpts MAX ERE NAME...: what went wrong, from each failing guest's own console
# ($logs/NAME.console.log: the first MAX lines matching ERE; the whole log stays).
vm_excerpts() {
	local max=$1 ere=$2 name
	shift 2
	for name in "$@"; do
		echo
		echo "== $name: failures from $logs/$name.console.log"
		grep -E "$ere" "$logs/$name.console.log" | head -n "$max" ||
			echo "(none printed: the guest stopped early; see the log)"
	done
}

# vm_each_kernel FUNC: runs FUNC NAME PACKAGE-GLOB AUTO BACKENDS... for each kernel of
# tests/vm/kernels.conf, or only for the one labelled $only if that is set; dies if none.
vm_each_kernel() {
	local name glob auto backends n=0
	while read -r -u 3 name glob auto backends; do
		case $name in '' | '#'*) continue ;; esac
		[ -n "$only" ] && [ "$only" != "$name" ] && continue
		n=$((n + 1))
		# shellcheck disable=SC2086 # one word per backend
		"$1" "$name" "$glob" "$auto" $backends
	done 3<tests/vm/kernels.conf
	[ $n -gt 0 ] || die "no kernel matched${only:+ '$only'} in tests/vm/kernels.conf"
}
