#!/usr/bin/env bash
# timeout: 120
# --cgroup filters in the kernel, descendants included: with --cgroup A, a process in
# A's child cgroup is counted exactly, and a process in B (a sibling) never appears; a
# path that is no cgroup is a usage error.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup cgroup-filter python3
root2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$root2" ] || fail "no cgroup v2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup"
base=fa-filter-$$.slice
mkdir -p "$root2/$base/a.slice/web.service" "$root2/$base/b.slice"
cleanup_extra() {
	for d in "$root2/$base/a.slice/web.service" "$root2/$base/a.slice" "$root2/$base/b.slice" "$root2/$base"; do
		[ -d "$d" ] && { while read -r p; do echo "$p" >"$root2/cgroup.procs"; done <"$d/cgroup.procs"; rmdir "$d" || true; }
	done
	return 0
}
set +e
out=$("$flowacct" --cgroup "/$base/none" 1 1 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "^flowacct: --cgroup /$base/none: no such cgroup under $root2" <<<"$out" ||
	fail "a missing cgroup: exit $rc, '$out' (want 2 and one line naming it)"
echo "PASS a missing cgroup is a usage error: $out"

"$flowacct" -j --cgroup "/$base/a.slice" 0.3 >"$tmp/out.json" 2>"$tmp/err" &
fa=$!
pids+=("$fa")
for i in $(seq 100); do grep -q "using backend" "$tmp/err" && break; sleep 0.1; done
python3 - "$root2/$base" "$tmp/expect" <<'PY'
import os, socket, sys, time
base, out = sys.argv[1:]
def talk(cg, n):
    pid = os.fork()
    if pid == 0:
        with open(os.path.join(base, cg, "cgroup.procs"), "w") as f: f.write("0")
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
        c = socket.create_connection(s.getsockname()); a, _ = s.accept()
        c.sendall(b"x" * n); got = 0
        while got < n: got += len(a.recv(65536))
        os._exit(0)
    return pid
inside = talk("a.slice/web.service", 424242)
outside = talk("b.slice", 131313)
for p in (inside, outside): os.waitpid(p, 0)
open(out, "w").write(f"{inside} {outside}\n")
PY
sleep 0.7
kill -INT "$fa"
wait "$fa"
read -r inside outside <"$tmp/expect"
python3 - "$tmp/out.json" "$inside" "$outside" <<'PY'
import json, sys
path, inside, outside = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tx = {}
for line in open(path):
    for f in json.loads(line)["flows"]:
        tx[f["pid"]] = tx.get(f["pid"], 0) + f["tx_bytes"]
assert tx.get(inside) == 424242, f"the process below --cgroup sent 424242, flowacct says {tx.get(inside)}"
assert outside not in tx, f"the process outside --cgroup was counted: {tx.get(outside)}"
print(f"PASS --cgroup: the descendant's 424242 bytes exact, the sibling's never counted ({sorted(tx)})")
PY
