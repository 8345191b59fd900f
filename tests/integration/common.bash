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
