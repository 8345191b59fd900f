# Shared by the integration scripts that drive ./flowacct (sourced, not run: tests/run.sh
# runs *.sh only). Sets root and flowacct, checks the requirements (root, the binary, the
# tools) — missing ones fail, never skip — and makes a temporary directory that is
# removed, with every process listed in pids, when the script exits.
root=${FA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
flowacct=${FLOWACCT:-$root/flowacct}
pids=()

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# fa_setup NAME TOOL...: requirements, then $tmp (/tmp/fa-NAME.XXXXXX) and its cleanup.
# A script may define cleanup_extra to stop what else it started.
fa_setup() {
	local name=$1 tool
	shift
	[ "$(id -u)" -eq 0 ] || fail "needs root (flowacct loads BPF programs)"
	[ -x "$flowacct" ] || fail "no flowacct binary at $flowacct (run make)"
	for tool in "$@"; do
		command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh)"
	done
	tmp=$(mktemp -d "/tmp/fa-$name.XXXXXX")
	trap fa_cleanup EXIT
}

fa_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
	wait 2>/dev/null || true
	rm -rf "$tmp"
}

# fa_probe_backends: what this kernel offers, in flowacct's own words: `flowacct
# --probe-backends` prints one line per backend in the order `--backend auto` tries them,
# "NAME yes" or "NAME no REASON...". Sets probe_yes (the usable backends, in that order)
# and probe_no ("NAME REASON..." for each other one). The tests derive what they expect
# from it instead of assuming one machine's kernel; output that is not in that form fails.
fa_probe_backends() {
	local out line name verdict reason names=
	out=$("$flowacct" --probe-backends) || fail "flowacct --probe-backends exited $?: $out"
	echo "flowacct --probe-backends on $(uname -r):"
	sed 's/^/  /' <<<"$out"
	probe_yes=()
	probe_no=()
	while IFS= read -r line; do
		read -r name verdict reason <<<"$line"
		names+="${names:+ }$name"
		case $verdict in
		yes) [ -z "$reason" ] || fail "--probe-backends: '$line': nothing may follow yes" ;;
		no) [ -n "$reason" ] || fail "--probe-backends: '$line' gives no reason" ;;
		*) fail "--probe-backends: '$line' is neither 'NAME yes' nor 'NAME no REASON'" ;;
		esac
		if [ "$verdict" = yes ]; then probe_yes+=("$name"); else probe_no+=("$name $reason"); fi
	done <<<"$out"
	[ "$names" = "fentry kprobe tracepoint" ] ||
		fail "--probe-backends lists '$names', want 'fentry kprobe tracepoint' (auto's order)"
}

# fa_broken_patch BACKEND: the deliberately broken variant of BACKEND's programs that
# the tests must catch (tests/*/broken-BACKEND-WHAT.patch, made by
# tests/integration/gen-broken-patches.py; scripts/vmtest-full.sh finds them the same
# way), or nothing and status 1 if BACKEND has none.
fa_broken_patch() {
	local p
	for p in "$root"/tests/integration/broken-"$1"-*.patch "$root"/tests/vm/broken-"$1"-*.patch; do
		[ -f "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}

# fa_build_patched BACKEND: a copy of the tree in $root/.output/broken-BACKEND with
# BACKEND's broken patch applied, and its flowacct and fa_exact built there
# (scripts/build-patched.sh); the sources stay as they are. Where there is no compiler
# (make vmtest-full's guests), the copy the host built beforehand is used; without
# either, the test fails. Sets patched_src.
fa_build_patched() {
	local backend=$1 patch_file
	patch_file=$(fa_broken_patch "$backend") || fail "no broken patch for $backend"
	patched_src=$root/.output/broken-$backend
	if command -v clang >/dev/null; then
		"$root/scripts/build-patched.sh" "$root" "$patch_file" "$patched_src" ||
			fail "the $backend patched build failed"
	elif [ -x "$patched_src/flowacct" ] && [ -x "$patched_src/.output/tests/fa_exact" ]; then
		echo "no compiler here: using the $backend patched build made beforehand in $patched_src"
	else
		fail "no compiler to build the $backend patched copy, and none built beforehand in $patched_src"
	fi
}
