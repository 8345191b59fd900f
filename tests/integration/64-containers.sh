#!/usr/bin/env bash
# timeout: 120
# Who is talking, by the names people use. With real cgroups and real network namespaces
# built here: one process holds the same connection (same addresses, same ports) in two
# network namespaces, which must stay two flows with exact bytes each; processes in
# cgroups named as Docker, Kubernetes/containerd, Podman and systemd name them, are
# named in the JSON, with exact bytes per container; a process that moves to another
# cgroup keeps its old flows' cgroup and gets the new one on new flows; a cgroup removed
# while its rows show keeps its name; a hostile cgroup name is escaped. Container names
# come from runtimes' state on disk, here a host root built by the test (--host-root):
# Docker's config.v2.json, containers/storage's containers.json, the kubelet's logs; a
# hostile container name is escaped in the JSON, the text tables and the Prometheus page,
# where each container and service is one series of its exact bytes. The text tables by
# service, container and cgroup list each with its processes and flows.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup containers python3 ip
root2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$root2" ] || fail "no cgroup v2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup"
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
base=$root2/fa-test-$$.slice
cgs=("$base/docker-$id.scope" "$base/kubepods-burstable-pod5f3c2a1e_8b7d_4c6e_9a0b_1234567890ab.slice/cri-containerd-${id//0/1}.scope"
	"$base/libpod-${id//1/2}.scope" "$base/fa-web.service" $'\e[31mevil.service')
cleanup_extra() {
	ip netns del fa-a-$$ 2>/dev/null || true
	ip netns del fa-b-$$ 2>/dev/null || true
	for d in "${cgs[@]}" "$base/kubepods-burstable-pod5f3c2a1e_8b7d_4c6e_9a0b_1234567890ab.slice" "$base"; do
		[ -d "$d" ] && { cat "$d/cgroup.procs" 2>/dev/null | while read -r p; do echo "$p" >"$root2/cgroup.procs"; done; rmdir "$d" 2>/dev/null || true; }
	done
	return 0
}
cgs[4]="$base/${cgs[4]}"
# the runtimes' state, as each keeps it on disk (Docker with a data-root of its own)
host=$tmp/host
mkdir -p "$host/etc/docker" "$host/srv/docker/containers/$id" \
	"$host/var/lib/containers/storage/overlay-containers" "$host/var/log/containers" \
	"$host/var/log/pods/shop_api-7d9f_5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab"
echo '{"data-root": "/srv/docker"}' >"$host/etc/docker/daemon.json"
printf '{"Name": "/we\\"b\\n\\u001b[2J", "ID": "%s"}' "$id" >"$host/srv/docker/containers/$id/config.v2.json"
printf '[{"id": "%s", "names": ["db-1"]}]' "${id//1/2}" >"$host/var/lib/containers/storage/overlay-containers/containers.json"
: >"$host/var/log/containers/api-7d9f_shop_server-${id//0/1}.log"
for d in "${cgs[@]}"; do mkdir -p "$d"; done
ip netns add fa-a-$$
ip netns add fa-b-$$
ip -n fa-a-$$ link set lo up
ip -n fa-b-$$ link set lo up

"$flowacct" -j --host-root "$host" 0.3 >"$tmp/out.json" 2>"$tmp/err" &
fa=$!
pids+=("$fa")
prom_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fa_text=()
"$flowacct" -b -r 1 --prometheus "$prom_port" --host-root "$host" 0.3 >/dev/null 2>"$tmp/err-prom" &
fa_text+=($!)
pids+=($!)
for by in service container cgroup; do
	"$flowacct" -b --by $by --host-root "$host" 0.3 >"$tmp/by-$by.txt" 2>"$tmp/err-$by" &
	fa_text+=($!)
	pids+=($!)
done
for i in $(seq 100); do
	n=$(cat "$tmp"/err "$tmp"/err-* | grep -c "using backend" || true)
	[ "$n" -eq 5 ] && break
	sleep 0.1
done

python3 - "$tmp/expect.json" "fa-a-$$" "fa-b-$$" "$root2" "${cgs[@]}" <<'PY'
import ctypes, json, os, socket, sys, time
out, ns_a, ns_b, root2, *cgs = sys.argv[1:]
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
exp = {"netns": [], "cgroups": []}

def pair(n):
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 47001)); srv.listen()
    c = socket.socket(); c.bind(("127.0.0.1", 47002)); c.connect(("127.0.0.1", 47001))
    a, _ = srv.accept()
    c.sendall(b"x" * n); got = 0
    while got < n: got += len(a.recv(65536))
    a.sendall(b"y" * (n // 7)); got = 0
    while got < n // 7: got += len(c.recv(65536))
    return srv, c, a

# one process, the same 4-tuple in two network namespaces
keep = []
own = os.open("/proc/self/ns/net", os.O_RDONLY)
for ns, n in ((ns_a, 111111), (ns_b, 222222)):
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    assert libc.setns(fd, CLONE_NEWNET) == 0, ctypes.get_errno()
    inode = os.fstat(fd).st_ino
    keep += pair(n)
    exp["netns"].append({"pid": os.getpid(), "netns": inode, "client_tx": n, "server_tx": n // 7})
libc.setns(own, CLONE_NEWNET)

# one child per cgroup: it moves itself in, then talks over loopback
def in_cgroup(path, n, move_to=None):
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        with open(os.path.join(path, "cgroup.procs"), "w") as f: f.write("0")
        srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
        c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()
        c.sendall(b"c" * n); got = 0
        while got < n: got += len(a.recv(65536))
        info = {"pid": os.getpid(), "cgroup": path, "bytes": n, "moved": None}
        if move_to:
            with open(os.path.join(move_to, "cgroup.procs"), "w") as f: f.write("0")
            c2 = socket.create_connection(srv.getsockname()); a2, _ = srv.accept()
            c2.sendall(b"m" * 3333); got = 0
            while got < 3333: got += len(a2.recv(65536))
            info["moved"] = {"cgroup": move_to, "bytes": 3333}
        os.write(w, json.dumps(info).encode()); os.close(w)
        if move_to:
            # the first cgroup is removed meanwhile; the old flow moves 77 bytes more,
            # still the first cgroup's (taken at its first sight)
            os.read(go_r, 1)
            time.sleep(0.4)
            c.sendall(b"z" * 77); got = 0
            while got < 77: got += len(a.recv(65536))
        time.sleep(1.5)
        os._exit(0)
    os.close(w)
    info = json.loads(os.read(r, 65536)); os.close(r)
    info["go"] = go_w
    return pid, info

kids = []
for i, path in enumerate(cgs):
    pid, info = in_cgroup(path, 10000 * (i + 1), move_to=cgs[3] if i == 0 else None)
    kids.append(pid); exp["cgroups"].append(info)
time.sleep(0.7)  # two intervals: a cgroup gone before flowacct sampled it has no path to show
os.rmdir(cgs[0]) # empty now: its process moved on
os.write(exp["cgroups"][0]["go"], b"g")
exp["cgroups"][0]["bytes"] += 77
time.sleep(0.8)
json.dump(exp, open(out, "w"))
for pid in kids: os.waitpid(pid, 0)
PY
sleep 0.5
curl -sf "http://127.0.0.1:$prom_port/metrics" >"$tmp/metrics.txt" || fail "no Prometheus page"
kill -INT "$fa" "${fa_text[@]}"
wait "$fa" "${fa_text[@]}"

python3 - "$tmp/out.json" "$tmp/expect.json" "$root2" "$tmp" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
exp = json.load(open(sys.argv[2])); root2 = sys.argv[3]; tmp = sys.argv[4]
last = lines[-1]
# flowacct's flows, summed over intervals, by (pid, lport, rport, netns)
flows = {}
for d in lines:
    for f in d["flows"]:
        k = (f["pid"], f["lport"], f["rport"], f["netns"])
        g = flows.setdefault(k, {"rx": 0, "tx": 0})
        g["rx"] += f["rx_bytes"]; g["tx"] += f["tx_bytes"]
        g["cgroup"], g["container"], g["kind"] = f["cgroup"], f["container"], f["container_kind"]
        g["service"], g["id"], g["pod"] = f["service"], f["container_id"], f["pod_uid"]
fails = 0
def check(ok, msg):
    global fails
    print(("PASS " if ok else "FAIL ") + msg)
    fails += not ok
for e in exp["netns"]:
    cli = flows.get((e["pid"], 47002, 47001, e["netns"]))
    srv = flows.get((e["pid"], 47001, 47002, e["netns"]))
    check(cli is not None and (cli["tx"], cli["rx"]) == (e["client_tx"], e["server_tx"]),
          f"netns {e['netns']}: client 127.0.0.1:47002 -> :47001 tx {e['client_tx']} rx {e['server_tx']} (flowacct {cli})")
    check(srv is not None and (srv["rx"], srv["tx"]) == (e["client_tx"], e["server_tx"]),
          f"netns {e['netns']}: server 127.0.0.1:47001 -> :47002 rx {e['client_tx']} tx {e['server_tx']} (flowacct {srv})")
ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
want = {  # what each cgroup is named: by the layout it imitates, and the runtime's state
    0: ("docker", 'we"b\\x0a\\x1b[2J', ID, None, None),
    1: ("cri", "shop/api-7d9f/server", ID.replace("0", "1"), "5f3c2a1e-8b7d-4c6e-9a0b-1234567890ab", None),
    2: ("podman", "db-1", ID.replace("1", "2"), None, None),
    3: (None, None, None, None, "fa-web.service"),
    4: (None, None, None, None, "\\x1b[31mevil.service"),
}
for i, e in enumerate(exp["cgroups"]):
    rel = e["cgroup"][len(root2):]
    mine = [g for (pid, *_), g in flows.items() if pid == e["pid"]]
    first = [g for g in mine if g["cgroup"] == rel.replace("\x1b", "\\x1b")]
    tx = sum(g["tx"] for g in first)
    kind, name, cid, pod, unit = want[i]
    got = [(g["kind"], g["container"], g["id"], g["pod"], g["service"]) for g in first]
    check(tx == e["bytes"] and first and all(x == want[i] for x in got),
          f"cgroup {rel!r}: {want[i]}, {e['bytes']} bytes sent (flowacct: {got}, {tx} bytes)")
    if e["moved"]:
        rel2 = e["moved"]["cgroup"][len(root2):]
        moved = [g for g in mine if g["cgroup"] == rel2]
        check(sum(g["tx"] for g in moved) == e["moved"]["bytes"] and all(g["service"] == "fa-web.service" for g in moved),
              f"after moving to {rel2}: its new flow is the service's, {e['moved']['bytes']} bytes (flowacct {[(g['service'], g['tx']) for g in moved]})")
# services (the rows of --by service): each container and unit moved exactly what its
# processes sent and received, summed over intervals
svc = {}
for d in lines:
    for s in d["services"]:
        t = svc.setdefault(s["name"], [0, 0, s["kind"]]); t[0] += s["tx_bytes"]; t[1] += s["rx_bytes"]
for i, e in enumerate(exp["cgroups"]):
    kind, name, cid, pod, unit = want[i]
    n = name or unit
    # the child's client and server side both: sent and received alike
    sent = e["bytes"] + (e["moved"]["bytes"] if e["moved"] and i != 0 else 0)
    if i == 3:  # the service also has the moved process's second connection
        sent += exp["cgroups"][0]["moved"]["bytes"]
    got = svc.get(n)
    check(got is not None and got[0] == sent and got[1] == sent and got[2] == (kind or "service"),
          f"services {n!r}: {sent} bytes each way, kind {kind or 'service'} (flowacct {got})")
# the text tables by service, container and cgroup
for by, names in (("service", [want[i][1] or want[i][4] for i in range(5)]),
                  ("container", [want[i][1] for i in range(3)] + ["(host)"]),
                  ("cgroup", [e["cgroup"][len(root2):].replace("\x1b", "\\x1b") for e in exp["cgroups"][1:]])):
    raw = open(f"{tmp}/by-{by}.txt", "rb").read()
    text = raw.decode("ascii")
    title = [l for l in text.splitlines() if l.lstrip().startswith("PROCS ")]
    shown = {l.split("  ")[-1] for l in text.splitlines() if l[:7].strip().isdigit()}
    missing = [n for n in names if n not in shown]
    check(title and title[0].split()[-1] == by.upper() and not missing and b"\x1b" not in raw,
          f"--by {by}: rows for {names} (missing {missing}), no raw ESC")
# the removed cgroup: its old flow's 10000 + 77 bytes (the 77 sent after the rmdir) are
# still the docker container's (checked above with the sum); and no row lost its name
check(all(f["cgroup"] is not None for d in lines for f in d["flows"]),
      "every flow row has its cgroup's path, the removed one's included")
raw = open(sys.argv[1], "rb").read()
check(b"\x1b" not in raw, "no raw ESC byte anywhere in the JSON")
# Prometheus: per name and container or service (the children are all python3), exact;
# label values escaped (a raw newline or quote would break the page)
page = open(f"{tmp}/metrics.txt", "rb").read()
check(b"\x1b" not in page and b"\n\n" not in page, "the Prometheus page has no raw ESC or empty line")
def prom(value):  # a label value as the exposition format quotes it
    return value.replace("\\", "\\\\").replace('"', '\\"')
series = {}
for l in page.decode("ascii").splitlines():
    if l.startswith("flowacct_process_tx_bytes_total{"):
        labels, v = l.rsplit(" ", 1)
        series[labels] = int(v)
for i, e in enumerate(exp["cgroups"]):
    kind, name, cid, pod, unit = want[i]
    sent = svc[name or unit][0]
    key = (f'flowacct_process_tx_bytes_total{{comm="python3",container="{prom(name or "")}",'
           f'service="{prom(unit or "")}",proto="tcp"}}')
    check(series.get(key) == sent, f"Prometheus {key}: {sent} (page: {series.get(key)})")
sys.exit(1 if fails else 0)
PY
echo "PASS: containers and namespaces by name, exact"
