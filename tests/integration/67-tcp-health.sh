#!/usr/bin/env bash
# timeout: 120
# TCP health per flow, against the kernel's own counters. A veth pair into a network
# namespace, and an XDP program (generic mode: this kernel has no netem and no tc
# actions) that drops chosen data segments on their way to the server, so the client
# retransmits: flowacct's retransmits per flow must equal the client socket's own
# TCP_INFO tcpi_total_retrans, exactly, and its RTT must match tcpi_rtt read at the end
# (min RTT never above smoothed RTT). A refused connect(), a peer that resets mid-transfer
# and a clean close: each opened, closed and reset exactly once, on the right flow and
# process. Where the probe finds a backend without the health hooks (kprobe), the fields
# must be absent, never zero.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup tcp-health python3 ip ethtool
xdp=$FA_TESTBIN/bpf/xdp_drop.bpf.o
[ -f "$xdp" ] || fail "no $xdp (make test-bins)"
ns=fa-h-$$
cleanup_extra() {
	ip netns del "$ns" 2>/dev/null || true
	ip link del fa-h$$ 2>/dev/null || true
}
ip netns add "$ns"
ip link add "fa-h$$" type veth peer name eth0 netns "$ns"
ip addr add 10.79.0.1/24 dev "fa-h$$"
ip link set "fa-h$$" up
ip -n "$ns" addr add 10.79.0.2/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set lo up
# one segment per packet, so a drop is one segment's loss
ethtool -K "fa-h$$" tso off gso off >/dev/null 2>&1 || true
ip -n "$ns" link set dev eth0 xdpgeneric obj "$xdp" sec xdp || fail "attaching the XDP program failed"

fa_probe_backends
backend=${probe_yes[0]}
health=yes
[ "$backend" = kprobe ] && health=no
echo "backend $backend: TCP health expected: $health"

"$flowacct" -j 0.3 >"$tmp/out.json" 2>"$tmp/err" &
fa=$!
pids+=("$fa")
for i in $(seq 100); do grep -q "using backend" "$tmp/err" && break; sleep 0.1; done

# the servers, in the namespace: 47123 (behind the drops) reads to the end; 47124 resets
# its connection after 50000 bytes; 47125 is closed (refused)
ip netns exec "$ns" python3 - "$tmp/ready" <<'PY' &
import socket, struct, sys, threading
def serve(port, reset_after=None):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("10.79.0.2", port)); ls.listen()
    return ls
lossy, resetter = serve(47123), serve(47124)
open(sys.argv[1], "w").write("ready\n")
def drain(ls):
    c, _ = ls.accept()
    while c.recv(65536): pass
    c.close()
def reset(ls):
    c, _ = ls.accept(); got = 0
    while got < 50000: got += len(c.recv(65536))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
ts = [threading.Thread(target=drain, args=(lossy,)), threading.Thread(target=reset, args=(resetter,))]
for t in ts: t.start()
for t in ts: t.join()
PY
pids+=($!)
for i in $(seq 50); do [ -s "$tmp/ready" ] && break; sleep 0.1; done
[ -s "$tmp/ready" ] || fail "the servers did not start"

python3 - "$tmp/expect.json" <<'PY'
import json, os, socket, struct, sys, time
TCP_INFO_LEN = 232
def info(s):
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LEN)
    # struct tcp_info: tcpi_rtt at 68, tcpi_total_retrans at 100, tcpi_min_rtt at 156
    return {"rtt": struct.unpack_from("I", b, 68)[0], "total_retrans": struct.unpack_from("I", b, 100)[0],
            "min_rtt": struct.unpack_from("I", b, 156)[0]}
exp = {"pid": os.getpid()}
# lossy: 3 MB through the drops, then wait until everything is acknowledged
c = socket.create_connection(("10.79.0.2", 47123))
c.sendall(b"L" * 3000000)
for i in range(200):
    b = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LEN)
    if struct.unpack_from("I", b, 24)[0] == 0 and struct.unpack_from("I", b, 28)[0] == 0:  # unacked, sacked
        break
    time.sleep(0.05)
exp["lossy"] = {"lport": c.getsockname()[1], **info(c)}
time.sleep(0.5)
exp["lossy_at_close"] = info(c)
c.close()
# a peer that resets mid-transfer: our send fails with ECONNRESET (or EPIPE)
r = socket.create_connection(("10.79.0.2", 47124))
exp["reset"] = {"lport": r.getsockname()[1]}
try:
    for i in range(400):
        r.sendall(b"R" * 10000)
        time.sleep(0.002)
    exp["reset"]["error"] = None
except OSError as e:
    exp["reset"]["error"] = e.errno
r.close()
# refused
x = socket.socket()
try:
    x.connect(("10.79.0.2", 47125))
    exp["refused"] = {"error": None}
except OSError as e:
    exp["refused"] = {"error": e.errno, "lport": x.getsockname()[1]}
x.close()
time.sleep(1.0)
json.dump(exp, open(sys.argv[1], "w"))
PY
sleep 0.5
kill -INT "$fa"
wait "$fa"

python3 - "$tmp/out.json" "$tmp/expect.json" "$health" <<'PY'
import errno, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
exp = json.load(open(sys.argv[2])); health = sys.argv[3] == "yes"
fails = 0
def check(ok, msg):
    global fails
    print(("PASS " if ok else "FAIL ") + msg)
    fails += not ok
C = ["retrans_segs", "active_opens", "passive_opens", "closes", "resets_sent", "resets_received"]
flows = {}
for d in lines:
    for f in d["flows"]:
        if f["proto"] != "tcp":
            continue
        k = (f["pid"], f["laddr"], f["lport"], f["raddr"], f["rport"])
        g = flows.setdefault(k, {c: 0 for c in C} | {"rows": []})
        g["rows"].append(f)
        for c in C:
            if c in f:
                g[c] += f[c]
def mine(rport, lport=None):
    return [g for (pid, la, lp, ra, rp), g in flows.items()
            if pid == exp["pid"] and rp == rport and (lport is None or lp == lport)]
if not health:
    keys = {k for d in lines for f in d["flows"] for k in f}
    check(not keys & set(C + ["srtt_us", "min_rtt_us", "state"]),
          "no backend health hooks: every health field is absent, none is zero")
    sys.exit(1 if fails else 0)
lossy = mine(47123, exp["lossy"]["lport"])
want = exp["lossy_at_close"]["total_retrans"]
check(exp["lossy"]["total_retrans"] > 0, f"the drops made the client retransmit ({exp['lossy']['total_retrans']} segments, TCP_INFO)")
check(len(lossy) == 1 and lossy[0]["retrans_segs"] == want,
      f"lossy flow: retrans_segs {[g['retrans_segs'] for g in lossy]} == the socket's tcpi_total_retrans {want}")
last = lossy[0]["rows"][-1] if lossy else {}
rtt = exp["lossy_at_close"]["rtt"]
srtt = last.get("srtt_us") or 0
# flowacct's last reading is at the socket's last state change, after the FIN's ACK has
# moved srtt by an eighth of that sample's difference: within a factor of two, or 500 us
check(srtt > 0 and abs(srtt - rtt) <= max(rtt, 500),
      f"lossy flow: srtt_us {srtt} matches tcpi_rtt {rtt} read at close (within a factor of two, or 500 us)")
# (srtt is kept in eighths of a microsecond and shown rounded down: 1 us of slack)
check(all((f.get("min_rtt_us") or 0) <= (f.get("srtt_us") or 0) + 1 for g in flows.values() for f in g["rows"] if f.get("srtt_us")),
      "min_rtt_us is never above srtt_us, in any row")
check(lossy and (lossy[0]["active_opens"], lossy[0]["closes"], lossy[0]["resets_sent"], lossy[0]["resets_received"]) == (1, 1, 0, 0),
      f"clean close: opened once, closed once, no reset ({[(g['active_opens'], g['closes'], g['resets_sent'], g['resets_received']) for g in lossy]})")
check(last.get("state") in ("FIN-WAIT-2", "TIME-WAIT", "CLOSE", "FIN-WAIT-1"), f"lossy flow's last state {last.get('state')!r} is a closing one")
rst = mine(47124, exp["reset"]["lport"])
check(exp["reset"]["error"] in (errno.ECONNRESET, errno.EPIPE), f"the client's send failed with {exp['reset']['error']} (ECONNRESET or EPIPE)")
check(len(rst) == 1 and (rst[0]["active_opens"], rst[0]["resets_received"], rst[0]["closes"]) == (1, 1, 1),
      f"reset mid-transfer: the client's flow opened 1, reset received 1, closed 1 ({[(g['active_opens'], g['resets_received'], g['closes']) for g in rst]})")
ref = mine(47125)
check(exp["refused"]["error"] == errno.ECONNREFUSED, "the third connect() was refused")
check(len(ref) == 1 and (ref[0]["active_opens"], ref[0]["resets_received"], ref[0]["closes"], ref[0]["resets_sent"]) == (0, 1, 1, 0)
      and sum(f["tx_bytes"] + f["rx_bytes"] for f in ref[0]["rows"]) == 0,
      f"refused: its flow (no byte) has a reset received and a close, no open ({[(g['active_opens'], g['resets_received'], g['closes']) for g in ref]})")
# the servers' side, in the namespace: passive opens, and the reset the resetter sent
srv = {k: g for k, g in flows.items() if k[0] != exp["pid"] and k[2] in (47123, 47124)}
by_port = {k[2]: g for k, g in srv.items()}
check(by_port.get(47123, {}).get("passive_opens") == 1 and by_port.get(47124, {}).get("passive_opens") == 1,
      f"the servers' flows: one passive open each ({[(k[2], g['passive_opens']) for k, g in srv.items()]})")
check(by_port.get(47124, {}).get("resets_sent") == 1,
      f"the resetting server sent one reset ({by_port.get(47124, {}).get('resets_sent')})")
sys.exit(1 if fails else 0)
PY
echo "PASS: TCP health per flow equals the kernel's own counters"
