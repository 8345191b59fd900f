#!/usr/bin/env bash
# timeout: 180
# One real container, end to end: Debian 12's podman runs an image built here from
# busybox-static (no registry is needed), and the container moves known bytes over
# loopback to servers on the host that count them. flowacct names the container by the
# name podman gave it, read from containers/storage's own state on disk (no podman API),
# with exact bytes: in -j's flows and services, and in the text table --by container.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup podman podman runc python3
busybox=$(command -v busybox) || fail "busybox is missing (scripts/install-deps.sh: busybox-static)"
name=fa-test-$$
image=localhost/fa-busybox-$$
# runc rather than crun (crun refuses hybrid cgroup hosts whose v2 has a controller),
# cgroupfs (no systemd needed), and limits a root without CAP_SYS_RESOURCE may set
export CONTAINERS_CONF=$tmp/containers.conf
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
cleanup_extra() {
	podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
	podman rmi -f "$image" >/dev/null 2>&1 || true
}

mkdir -p "$tmp/rootfs/bin"
cp "$busybox" "$tmp/rootfs/bin/busybox"
for t in sh nc wget head sleep; do ln -s busybox "$tmp/rootfs/bin/$t"; done
tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
podman import -q "$tmp/rootfs.tar" "$image" >/dev/null || fail "podman import failed"

# the servers: one takes an upload to its end, one answers an HTTP GET with a body;
# each writes down exactly what it received and sent
python3 - "$tmp/ports" "$tmp/server.json" <<'PY' &
import json, socket, sys, threading
up = socket.socket(); up.bind(("127.0.0.1", 0)); up.listen()
web = socket.socket(); web.bind(("127.0.0.1", 0)); web.listen()
open(sys.argv[1], "w").write(f"{up.getsockname()[1]} {web.getsockname()[1]}\n")
res = {}
def upload():
    c, _ = up.accept(); n = 0
    while (b := c.recv(65536)): n += len(b)
    res["upload_rx"] = n; c.close()
def http():
    c, _ = web.accept(); req = b""
    while b"\r\n\r\n" not in req: req += c.recv(65536)
    body = b"w" * 54321
    resp = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    c.sendall(resp)
    res["http_rx"] = len(req); res["http_tx"] = len(resp); c.close()
ts = [threading.Thread(target=f) for f in (upload, http)]
for t in ts: t.start()
for t in ts: t.join()
json.dump(res, open(sys.argv[2], "w"))
PY
pids+=($!)
for i in $(seq 50); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
read -r up_port web_port <"$tmp/ports"

"$flowacct" -j 0.3 >"$tmp/out.json" 2>"$tmp/err" &
fa=$!
pids+=("$fa")
"$flowacct" -b --by container 0.3 >"$tmp/out.txt" 2>"$tmp/err.txt" &
fa_text=$!
pids+=("$fa_text")
for i in $(seq 100); do
	grep -q "using backend" "$tmp/err" && grep -q "using backend" "$tmp/err.txt" && break
	sleep 0.1
done

# the container lingers after its traffic: its cgroup must still exist when flowacct
# samples it (a cgroup gone by then has no path to name)
podman run -d --name "$name" --network=host "$image" sh -c \
	"head -c 123457 /dev/zero | nc 127.0.0.1 $up_port && wget -q -O /dev/null http://127.0.0.1:$web_port/x && sleep 2" \
	>"$tmp/cid" || fail "podman run failed"
cid=$(cat "$tmp/cid")
cpid=$(podman inspect --format '{{.State.Pid}}' "$name")
echo "container $name: id $cid, pid $cpid, $(grep '^0::' "/proc/$cpid/cgroup" || echo 'no cgroup v2 line')"
for i in $(seq 100); do [ -s "$tmp/server.json" ] && break; sleep 0.1; done
[ -s "$tmp/server.json" ] || fail "the container's traffic never reached the servers"
podman wait "$name" >/dev/null
sleep 0.7
kill -INT "$fa" "$fa_text"
wait "$fa" "$fa_text"

python3 - "$tmp/out.json" "$tmp/server.json" "$tmp/out.txt" "$name" "$cid" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
srv = json.load(open(sys.argv[2])); text = open(sys.argv[3]).read()
name, cid = sys.argv[4], sys.argv[5]
fails = 0
def check(ok, msg):
    global fails
    print(("PASS " if ok else "FAIL ") + msg)
    fails += not ok
mine = [f for d in lines for f in d["flows"] if f["container_id"] == cid]
check(mine and all(f["container"] == name and f["container_kind"] == "podman" for f in mine),
      f"the container's flows are named {name!r}, podman ({sorted({(f['container'], f['container_kind']) for f in mine})})")
tx = sum(f["tx_bytes"] for f in mine); rx = sum(f["rx_bytes"] for f in mine)
want_tx = srv["upload_rx"] + srv["http_rx"]; want_rx = srv["http_tx"]
check((tx, rx) == (want_tx, want_rx),
      f"its bytes are exact: tx {tx} (servers received {want_tx}), rx {rx} (server sent {want_rx})")
svc = [s for d in lines for s in d["services"] if s["name"] == name]
check(svc and all(s["kind"] == "podman" for s in svc) and
      (sum(s["tx_bytes"] for s in svc), sum(s["rx_bytes"] for s in svc)) == (want_tx, want_rx),
      f"services: {name!r} moved the same bytes ({[(s['tx_bytes'], s['rx_bytes'], s['procs']) for s in svc]})")
rows = [l.split() for l in text.splitlines() if l.split()[-1:] == [name]]
# nc and wget: two processes, one flow each, over the container's whole life
check(rows and max(int(r[0]) for r in rows) == 2 and max(int(r[1]) for r in rows) == 2,
      f"--by container shows a row {name!r} with its processes and flows ({rows})")
check(all(f["container"] != name for d in lines for f in d["flows"] if f["container_id"] != cid),
      "no other flow is named after it")
sys.exit(1 if fails else 0)
PY
echo "PASS: a podman container by its name, exact"
