#!/usr/bin/env bash
# timeout: 180
# Closed flows leave after --linger, on every backend this kernel offers (flowacct
# --probe-backends), while their bytes stay in their process's totals. A generator that
# stays alive throughout, and knows what its own calls moved, closes in turn:
#   - a connected UDP socket that sent N bytes (nothing but its release ends a UDP flow);
#   - a TCP connection (its state CLOSE where the backend has TCP health, its release on
#     the kprobe backend);
#   - an unconnected UDP socket that talked to three peers: its three flows leave at once.
# With --linger 1 and a 0.2 s interval (L = 5 intervals), each flow is in the
# --json-file snapshots, with "closed": true and its exact bytes, from the first that
# sees it closed through L more and the read after its retirement, L + 2 in all (TCP:
# counted from the first that also sees it idle, which can be the next): so until at
# least 0.95 s after its close, and in none from 1.7 s after it (TCP: 1.9 s). After the
# last one has left, the process's row still holds every byte (its closed rows), as do
# the -j lines' interval values of each flow.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup closed-flows python3
fa_probe_backends
[ ${#probe_yes[@]} -gt 0 ] || fail "no backend is usable on this kernel: nothing to measure with"

failed=()
for backend in "${probe_yes[@]}"; do
	echo "=== --backend $backend"
	python3 - "$flowacct" "$backend" "$tmp" <<'PY' || failed+=("$backend")
import json, os, select, socket, subprocess, sys, time
from datetime import datetime

flowacct, backend, tmp = sys.argv[1:4]
INTERVAL, LINGER_S = 0.2, 1.0
L = 5  # LINGER_S in intervals
bad = 0

def check(ok, msg):
    global bad
    print(("PASS " if ok else "FAIL ") + msg, flush=True)
    bad += not ok

# The peers, in a process of their own: a UDP receiver for the connected socket, three
# for the unconnected one, a TCP server that reads everything and replies 4321 bytes.
peer_r, peer_w = os.pipe()
peers = os.fork()
if not peers:
    os.close(peer_r)
    us = []
    for _ in range(4):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        u.bind(("127.0.0.1", 0))
        us.append(u)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    os.write(peer_w, json.dumps([u.getsockname()[1] for u in us] + [ls.getsockname()[1]]).encode() + b"\n")
    a, _ = ls.accept()
    while a.recv(65536):
        pass
    a.sendall(b"r" * 4321)
    a.close()
    time.sleep(30)
    os._exit(0)
os.close(peer_w)
ports = json.loads(os.read(peer_r, 4096))

# The generator: waits for "go", then each socket moves its bytes and closes, 0.5 s
# apart; it reports what each call returned and when each close returned.
go_r, go_w = os.pipe()
rep_r, rep_w = os.pipe()
gen = os.fork()
if not gen:
    os.close(go_w)
    os.close(rep_r)
    os.read(go_r, 1)
    out = []
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect(("127.0.0.1", ports[0]))
    tx = sum(c.send(b"u" * (700 + i)) for i in range(10))
    out.append({"what": "udp connected", "proto": "udp", "lport": c.getsockname()[1],
                "rports": [ports[0]], "tx": tx, "rx": 0})
    c.close()
    out[-1]["closed_at"] = time.time()
    time.sleep(0.5)
    t = socket.create_connection(("127.0.0.1", ports[4]))
    t.sendall(b"t" * 123457)
    t.shutdown(socket.SHUT_WR)
    rx = 0
    while True:
        d = t.recv(65536)
        if not d:
            break
        rx += len(d)
    out.append({"what": "tcp", "proto": "tcp", "lport": t.getsockname()[1],
                "rports": [ports[4]], "tx": 123457, "rx": rx})
    t.close()
    out[-1]["closed_at"] = time.time()
    time.sleep(0.5)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = [u.sendto(b"p" * (300 + 11 * i), ("127.0.0.1", ports[1 + i])) for i in range(3)]
    out.append({"what": "udp unconnected, 3 peers", "proto": "udp",
                "lport": u.getsockname()[1], "rports": ports[1:4], "tx": tx, "rx": 0})
    u.close()
    out[-1]["closed_at"] = time.time()
    os.write(rep_w, json.dumps(out).encode() + b"\n")
    time.sleep(30)  # alive: its flows leave because their sockets closed
    os._exit(0)
os.close(go_r)
os.close(rep_w)

jf = f"{tmp}/flowacct.{backend}.json"
nd = open(f"{tmp}/flowacct.{backend}.ndjson", "w")
err = open(f"{tmp}/flowacct.{backend}.err", "w")
fa = subprocess.Popen([flowacct, "--backend", backend, "--linger", str(LINGER_S), "-j",
                       "--json-file", jf, str(INTERVAL)], stdout=nd, stderr=err)
snaps, seen = [], set()

def poll():
    try:
        d = json.load(open(jf))
    except (OSError, ValueError):
        return
    if d["ts"] not in seen:
        seen.add(d["ts"])
        d["t"] = datetime.fromisoformat(d["ts"].replace("Z", "+00:00")).timestamp()
        snaps.append(d)

start = time.time()
while not snaps:
    poll()
    if fa.poll() is not None or time.time() - start > 20:
        sys.exit(f"flowacct did not start: {open(err.name).read()}")
    time.sleep(0.02)
os.write(go_w, b"x")
rep = b""
while not rep.endswith(b"\n"):  # the snapshots are read meanwhile: none may be missed
    poll()
    if select.select([rep_r], [], [], 0.02)[0]:
        rep += os.read(rep_r, 65536)
sockets = json.loads(rep)
end = sockets[-1]["closed_at"] + 2.5
while time.time() < end:
    poll()
    time.sleep(0.02)
# the process's totals, once every flow has left: what its calls moved
tx_all = sum(s["tx"] if s["proto"] == "tcp" or len(s["rports"]) == 1 else sum(s["tx"])
             for s in sockets)
rx_all = sum(s["rx"] for s in sockets)
last = snaps[-1]
procs = [p for p in last["processes"] if p["pid"] == gen]
check(len(procs) == 1 and procs[0]["tx_bytes_total"] == tx_all and
      procs[0]["rx_bytes_total"] == rx_all,
      f"after its flows left, the process's row holds its bytes: tx {tx_all} rx {rx_all} "
      f"(flowacct: {[(p['tx_bytes_total'], p['rx_bytes_total']) for p in procs]})")
check(not [f for f in last["flows"] if f["pid"] == gen],
      f"after the linger, no flow of the (living) process is left "
      f"({[(f['proto'], f['lport'], f['rport']) for f in last['flows'] if f['pid'] == gen]})")
fa.terminate()
fa.wait()
nd.close()
lines = [json.loads(l) for l in open(nd.name)]

for s in sockets:
    for i, rport in enumerate(s["rports"]):
        name = f"{s['what']} :{s['lport']} -> :{rport}"
        tx = s["tx"][i] if isinstance(s["tx"], list) else s["tx"]
        def mine(d):
            return [f for f in d["flows"] if f["pid"] == gen and f["proto"] == s["proto"] and
                    f["lport"] == s["lport"] and f["rport"] == rport]
        shown = [(d, mine(d)[0]) for d in snaps if mine(d)]
        check(bool(shown) and shown[-1][1]["tx_bytes_total"] == tx and
              shown[-1][1]["rx_bytes_total"] == s["rx"],
              f"{name}: in the JSON file with its exact bytes, tx {tx} rx {s['rx']} "
              f"({[(f['tx_bytes_total'], f['rx_bytes_total']) for _, f in shown[-1:]]})")
        sums = (sum(f["tx_bytes"] for d in lines for f in mine(d)),
                sum(f["rx_bytes"] for d in lines for f in mine(d)))
        check(sums == (tx, s["rx"]), f"{name}: -j's interval values add up to tx {tx} rx "
              f"{s['rx']} ({sums})")
        closed = [i for i, d in enumerate(snaps) if any(f["closed"] for f in mine(d))]
        if not closed:
            check(False, f"{name}: never shown \"closed\": true")
            continue
        k = closed[0]
        after = [i for i in range(k, len(snaps)) if not mine(snaps[i])]
        gone = after[0] if after else None
        tcp = s["proto"] == "tcp"
        check(gone is not None and all(mine(snaps[i]) and mine(snaps[i])[0]["closed"]
                                       for i in range(k, gone)) and
              not any(mine(snaps[i]) for i in range(gone, len(snaps))),
              f"{name}: closed from its first snapshot so ({snaps[k]['t'] - s['closed_at']:+.2f} s "
              f"after the close) until it leaves, and never back")
        if gone is None:
            continue
        check(L + 2 <= gone - k <= L + (4 if tcp else 3),
              f"{name}: gone {gone - k} snapshots after the first that showed it closed "
              f"(want {L + 2}..{L + (4 if tcp else 3)})")
        stay = snaps[gone - 1]["t"] - s["closed_at"]
        left = snaps[gone]["t"] - s["closed_at"]
        check(stay >= 0.95 and left <= (1.9 if tcp else 1.7),
              f"{name}: last shown {stay:.2f} s after its close (want >= 0.95), gone "
              f"{left:.2f} s after it (want <= {1.9 if tcp else 1.7})")
for p in (gen, peers):
    os.kill(p, 9)
    os.waitpid(p, 0)
sys.exit(1 if bad else 0)
PY
done
[ ${#failed[@]} -eq 0 ] || fail "closed flows did not leave as documented on: ${failed[*]}"
echo "PASS: closed flows leave after --linger, their bytes kept, on ${probe_yes[*]}"
