#!/usr/bin/env bash
# timeout: 90
# The live view on a host with containers and services, in a real terminal (tmux): each
# flow's CONTAINER/UNIT column names what runs it (a systemd unit from its cgroup, a
# Docker container by the name in Docker's state, a hostile one escaped), and `c` turns
# the view into one row per service with exact totals (`b`), and back.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup tui-services tmux python3
root2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$root2" ] || fail "no cgroup v2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup"
sock=fa-tui-svc-$$
session=fa
id=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
base=$root2/fa-tui-$$.slice
unit=$base/tuisvc-web.service
ctr=$base/docker-$id.scope
tm() { tmux -L "$sock" "$@"; }
cleanup_extra() {
	tm kill-server 2>/dev/null || true
	for d in "$unit" "$ctr" "$base"; do
		[ -d "$d" ] || continue
		while read -r p; do echo "$p" >"$root2/cgroup.procs"; done <"$d/cgroup.procs" 2>/dev/null || true
		rmdir "$d" 2>/dev/null || true
	done
	return 0
}
mkdir -p "$unit" "$ctr" "$tmp/host/var/lib/docker/containers/$id"
printf '{"Name": "/shop\\u001b[31m-api"}' >"$tmp/host/var/lib/docker/containers/$id/config.v2.json"

cap() { tm capture-pane -p -t "$session"; }
keys() { tm send-keys -t "$session" -l -- "$1"; }
wait_for() { # ERE [seconds]: until the screen matches
	local deadline=$((SECONDS + ${2:-6}))
	until cap | grep -qE -- "$1"; do
		[ $SECONDS -lt $deadline ] || { cap >&2; fail "the screen never showed /$1/"; }
		sleep 0.2
	done
}
# one row's last N fields, once settled: row_tail TEXT N EXPECTED WHAT
row_tail() {
	local deadline=$((SECONDS + 6)) got
	while :; do
		got=$(cap | grep -F -- "$1" | head -1 | awk -v n="$2" '{ s = ""; for (i = NF - n + 1; i <= NF; i++) s = s (s ? " " : "") $i; print s }')
		[ "$got" = "$3" ] && return 0
		[ $SECONDS -lt $deadline ] || { cap >&2; fail "$4: '$got', expected '$3'"; }
		sleep 0.3
	done
}

# a process in each cgroup: a connection to itself, SEND bytes each way, then idle
cat >"$tmp/pair.py" <<'EOF'
import ctypes, os, socket, sys, time
cg, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
open(os.path.join(cg, "cgroup.procs"), "w").write("0")
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name.encode()), 0, 0, 0)
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen()
c = socket.create_connection(ls.getsockname()); a, _ = ls.accept()
for x, y in ((c, a), (a, c)):
    x.sendall(b"v" * n); got = 0
    while got < n: got += len(y.recv(65536))
print("done", flush=True)
time.sleep(3600)
EOF

tm new-session -d -s "$session" -x 200 -y 30 \
	"env -i PATH=$PATH TERM=screen HOME=/root $flowacct --filter tuisvc_ --host-root $tmp/host 1"
wait_for 'RX/s' 10
python3 "$tmp/pair.py" "$unit" tuisvc_web 31337 >"$tmp/web.out" &
pids+=($!)
python3 "$tmp/pair.py" "$ctr" tuisvc_api 4242 >"$tmp/api.out" &
pids+=($!)

### each flow names what runs it; the hostile container name is escaped
wait_for 'CONTAINER/UNIT'
wait_for 'tuisvc_web +tuisvc-web\.service '
wait_for 'tuisvc_api +shop\\x1b\[31m-api '

### `c`: one row per service, exact totals with `b`; each process sent and received
### its bytes on both of its sockets
keys c
wait_for 'by service'
wait_for '^ *SERVICE .*PROCS +FLOWS'
keys b
wait_for 'exact bytes'
row_tail 'tuisvc-web.service' 2 "$((2 * 31337)) $((2 * 31337))" "tuisvc-web.service: RX/TX totals"
row_tail 'shop\x1b[31m-api' 2 "$((2 * 4242)) $((2 * 4242))" "the container: RX/TX totals"
cap | grep -F 'tuisvc-web.service' | grep -qE '^ *tuisvc-web\.service +1 +2 ' ||
	{ cap >&2; fail "tuisvc-web.service: not 1 process and 2 flows"; }
### `c` again: back to the flows
keys c
wait_for 'by flow'
wait_for 'tuisvc_web +tuisvc-web\.service '
keys q
for i in $(seq 30); do tm has-session -t "$session" 2>/dev/null || break; sleep 0.1; done
echo "PASS: the live view names containers and units, and adds them up by service"
