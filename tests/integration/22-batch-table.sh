#!/usr/bin/env bash
# timeout: 120
# The batch table (-b) of real flows: every column of a table lines up in every row, however
# long an endpoint is (an IPv6 address of 39 characters, [::1], IPv4), each column as wide
# as its widest cell; the titles are the live view's; the totals are the bytes that moved
# and the rates per second never exceed them; --bits shows bits per second; the filter's
# :PORT is a port exactly, !TERM negates, terms all hold; --by process has one row per
# process with its FLOWS.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup batch-table ip python3
ns=fa-table-$$
cleanup_extra() { ip netns del "$ns" 2>/dev/null || true; }
ip netns add "$ns"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$ns" link set lo up
long_a=fd00:1234:5678:9abc:def0:1234:5678:9abc
long_b=fd00:1234:5678:9abc:def0:1234:5678:9abd
ip -n "$ns" addr add "$long_a/128" dev lo nodad
ip -n "$ns" addr add "$long_b/128" dev lo nodad

# fa_tbl_gen: four connections, each a client sending 1000 bytes to its server every
# second until killed: IPv4 to port 50 and to port 5011 (":50" must not match 5011), [::1]
# to port 443, and the two long addresses to port 8080. It prints "ready" once connected.
cat >"$tmp/gen.py" <<'EOF'
import ctypes, socket, sys, threading, time
ctypes.CDLL(None).prctl(15, b"fa_tbl_gen", 0, 0, 0)  # PR_SET_NAME
ends = [(socket.AF_INET, "127.0.0.1", 50, "127.0.0.1"), (socket.AF_INET, "127.0.0.1", 5011, "127.0.0.1"),
        (socket.AF_INET6, "::1", 443, "::1"), (socket.AF_INET6, sys.argv[1], 8080, sys.argv[2])]
pairs = []
for fam, addr, port, src in ends:
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen()
    c = socket.socket(fam); c.bind((src, 0)); c.connect((addr, port))
    a, _ = s.accept()
    pairs.append((c, a))
print("ready", flush=True)
while True:
    for c, a in pairs:
        c.sendall(b"g" * 1000)
        got = 0
        while got < 1000:
            got += len(a.recv(65536))
    time.sleep(1)
EOF
ip netns exec "$ns" python3 "$tmp/gen.py" "$long_a" "$long_b" >"$tmp/gen.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q ready "$tmp/gen.out" && break; sleep 0.1; done
grep -q ready "$tmp/gen.out" || fail "the generator did not connect: $(cat "$tmp/gen.out")"

# run NAME ARGS...: flowacct -b ARGS for three 1 s intervals, into $tmp/NAME
run() {
	local name=$1
	shift
	"$flowacct" -q -b "$@" 1 3 >"$tmp/$name" 2>"$tmp/$name.err" ||
		fail "flowacct -b $* exited $?: $(cat "$tmp/$name.err")"
}
run flows --filter fa_tbl_gen --json-file "$tmp/last.json"
run port50 --filter 'fa_tbl_gen :50'
run not_fd00 --filter 'fa_tbl_gen !fd00'
run bits --filter fa_tbl_gen --bits
run procs --filter fa_tbl_gen --by process

python3 - "$tmp" "$long_a" "$long_b" <<'PY'
import json, re, sys
tmp, long_a, long_b = sys.argv[1:]
fails = []
def check(ok, what):
    print(("PASS " if ok else "FAIL ") + what)
    if not ok:
        fails.append(what)

def tables(name):  # [(title, [rows])] of each interval's table
    out, cur = [], None
    for l in open(f"{tmp}/{name}").read().splitlines():
        if l.startswith(("PID  ", "PROCS  ")):
            cur = (l, [])
            out.append(cur)
        elif not l:
            cur = None
        elif cur:
            cur[1].append(l)
    return out

RIGHT = {"PROCS", "FLOWS", "RX/s", "TX/s", "RX_TOTAL", "TX_TOTAL", "RXPKT/s", "TXPKT/s"}
def cells(title, row):  # the row's cells by title, cut where the title's columns are
    names = title.split()
    starts = [0] + [title.index("  " + n, 1) + 2 for n in names[1:]]
    out = {}
    for i, n in enumerate(names):
        if n in RIGHT:  # ends where its title ends; starts after the previous column's gap
            end = starts[i] + len(n)
            begin = row.rindex("  ", 0, end) + 2 if "  " in row[:end] else 0
            out[n] = (row[begin:end], row[end - 1] != " " and row[end:end + 2] in ("  ", ""))
        else:  # starts where its title starts, after two spaces
            end = len(row) if i + 1 == len(names) else None
            if end is None:
                nxt = starts[i + 1]
                end = nxt if names[i + 1] not in RIGHT else row.index("  ", starts[i])
            ok = starts[i] == 0 or row[starts[i] - 2:starts[i]] == "  "
            out[n] = (row[starts[i]:end].rstrip(), ok and row[starts[i]:starts[i] + 1] != " ")
    return out

def fmt_bytes(b):  # user/format.c's fa_fmt_bytes
    units, u = ["B", "KiB", "MiB", "GiB"], 0
    while b >= 1024 and u < 3:
        b /= 1024; u += 1
    return f"{b:.0f} B" if u == 0 else f"{b:.1f} {units[u]}" if b < 9.95 else f"{b:.0f} {units[u]}"

def size(s):  # "1.2 KiB" -> bytes; "16 kb" -> bits
    n, unit = s.split()
    return float(n) * {"B": 1, "KiB": 1024, "MiB": 1 << 20, "b": 1, "kb": 1e3, "Mb": 1e6}[unit]

# every table: aligned, the live view's titles
flow_titles = ["PID", "COMM", "PROTO", "LOCAL", "REMOTE", "RX/s", "TX/s", "RX_TOTAL", "TX_TOTAL",
               "CONTAINER/UNIT"]
for name in ("flows", "port50", "not_fd00", "bits"):
    ts = tables(name)
    check(len(ts) == 3 and all(t.split() == flow_titles for t, _ in ts),
          f"{name}: three tables titled {' '.join(flow_titles)}")
    bad = [r for t, rows in ts for r in rows if not all(ok for _, ok in cells(t, r).values())]
    check(ts and all(rows for _, rows in ts[1:]) and not bad,
          f"{name}: every cell of every row in its column ({len(bad)} rows not: {bad[:2]})")

# the flows: the four connections' eight ends, their endpoints in the cells exactly, and
# the last table's totals as the JSON file's (the same last snapshot)
last = json.load(open(f"{tmp}/last.json"))
want = {}
for f in last["flows"]:
    if f["comm"] != "fa_tbl_gen":
        continue
    ep = lambda a, p: f"[{a}]:{p}" if ":" in a else f"{a}:{p}"
    want[(ep(f["laddr"], f["lport"]), ep(f["raddr"], f["rport"]))] = f
title, rows = tables("flows")[-1]
got = {(c["LOCAL"][0], c["REMOTE"][0]): c for c in (cells(title, r) for r in rows)}
check(len(want) == 8 and set(got) == set(want), f"flows: the 8 ends, each a row ({sorted(got)})")
check(any(l == f"[{long_a}]:8080" for l, _ in got) and any(r == f"[{long_a}]:8080" for _, r in got),
      f"flows: [{long_a}]:8080 whole in LOCAL and REMOTE")
for k, c in got.items():
    f = want.get(k)
    if not f:
        continue
    ok = (c["RX_TOTAL"][0] == fmt_bytes(f["rx_bytes_total"]) and
          c["TX_TOTAL"][0] == fmt_bytes(f["tx_bytes_total"]) and c["PID"][0] == str(f["pid"]) and
          c["PROTO"][0] == "tcp" and c["COMM"][0] == "fa_tbl_gen")
    # per second over the 1 s interval, never more than moved in it
    ok &= size(c["RX/s"][0]) <= f["rx_bytes"] and size(c["TX/s"][0]) <= f["tx_bytes"]
    check(ok, f"flows {k}: totals {c['RX_TOTAL'][0]}/{c['TX_TOTAL'][0]} as the JSON's "
              f"{f['rx_bytes_total']}/{f['tx_bytes_total']}, rates {c['RX/s'][0]}/{c['TX/s'][0]} "
              f"within {f['rx_bytes']}/{f['tx_bytes']} B")

# the filter
def ends(name):
    return [(c["LOCAL"][0], c["REMOTE"][0]) for t, rows in tables(name) for c in (cells(t, r) for r in rows)]
p50 = ends("port50")
check(p50 and all(l.endswith(":50") or r.endswith(":50") for l, r in p50) and
      {e for e in p50 if e[0].endswith(":50")} and {e for e in p50 if e[1].endswith(":50")},
      f"--filter 'fa_tbl_gen :50': only the port-50 connection's two ends, not 5011's ({sorted(set(p50))})")
nf = ends("not_fd00")
check(len(set(nf)) == 6 and not any("fd00" in l + r for l, r in nf),
      f"--filter 'fa_tbl_gen !fd00': the six ends but the long addresses' ({sorted(set(nf))})")

# --bits: rates in bits per second, totals in bytes
title, rows = tables("bits")[-1]
bits = [cells(title, r) for r in rows]
check(bits and all(re.fullmatch(r"\d+(\.\d)? (b|kb)", c["RX/s"][0]) and
                   re.fullmatch(r"\d+(\.\d)? (B|KiB)", c["RX_TOTAL"][0]) for c in bits) and
      any(c["RX/s"][0] == "8.0 kb" for c in bits),
      f"--bits: rates in b or kb (1000 B/s is 8.0 kb), totals in bytes ({[c['RX/s'][0] for c in bits]})")
head = open(f"{tmp}/bits").readline()
# the divisor is the measured interval when it ran long (1.01 s on a loaded machine)
check(re.search(r"\(rates in bits per second over the 1\.\d\d s interval; totals in bytes "
                r"since start\)", head),
      f"--bits: the header says so: {head.strip()}")

# --by process: the one process, its 8 flows
title, rows = tables("procs")[-1]
check(title.split() == ["PID", "COMM", "FLOWS", "RX/s", "TX/s", "RX_TOTAL", "TX_TOTAL", "CONTAINER/UNIT"],
      f"--by process: the live view's columns ({title})")
pr = [cells(title, r) for r in rows]
check(len(pr) == 1 and pr[0]["FLOWS"][0] == "8" and pr[0]["COMM"][0] == "fa_tbl_gen",
      f"--by process: one row, FLOWS 8 ({rows})")
sys.exit(1 if fails else 0)
PY
echo "PASS: the batch table lines up, and says what moved"
