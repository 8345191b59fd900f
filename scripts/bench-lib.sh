# Sourced by the bench scripts: what more than one of them does. Each script defines
# say() (its own prefix) before sourcing this.

# cpu_ticks PID: user + system CPU time of a process (all its threads), in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wait_for FILE PATTERN PID: until the tool PID says in FILE that it is ready; if it
# exits first, or 30 s pass, says why and exits
wait_for() {
	local i
	for i in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { say "$(cat "$1")"; exit 1; }
		sleep 0.1
	done
	say "timed out waiting for '$2' in $1"
	exit 1
}

# bench_require WHY TOOL...: root (WHY says what for) and each tool, or says which is
# missing and exits
bench_require() {
	local why=$1 t
	shift
	[ "$(id -u)" -eq 0 ] || { say "needs root ($why)"; exit 1; }
	for t in "$@"; do
		command -v "$t" >/dev/null || { say "$t is missing: run scripts/install-deps.sh"; exit 1; }
	done
}
