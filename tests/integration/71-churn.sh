#!/usr/bin/env bash
# timeout: 120
# The churn soak: FA_CHURN_N short-lived processes (default 2000, FA_CHURN_RATE 100 a
# second: about 35 s; `make soak` runs 10,000 at 50 a second, then 20,000 as fast as they
# go), each naming itself (some with hostile bytes), opening connections to one
# long-lived server and moving a number of bytes of its own, while flowacct runs (-j and
# --json-file, 1 s intervals, --cgroup: only the workload's processes). fa_churn's
# manifest says what each process's own calls moved; afterwards, for every child and the
# server:
#   - flowacct's bytes (the sum of its interval values) equal the manifest exactly, per
#     process and, for processes whose flows all fit the table, per protocol, under the
#     name the process gave itself (escaped), with as many flows as it had sockets: a
#     child that lived a few milliseconds, far less than an interval, counts like any;
#   - nothing else is counted (the totals equal the manifest's sums), and no byte is in
#     no process's row (a full table puts them in overflow rows, which count);
#   - the tables stay bounded: as full at the end of the churn as in its middle; after it
#     and the linger, no flow or overflow row of an exited process and no flow of a closed
#     TCP socket is left, in flowacct's rows or the kernel's flow index; the slots were
#     reused (their high-water mark is the peak of flows at once, not the flows ever
#     made). What stays is the server's UDP peers (its unconnected socket is still open;
#     idle peers leave when the table is nearly full): exactly as many as it had;
#   - flowacct's RSS, heap and CPU at the start, middle and end: in the second half of a
#     paced churn the bytes its heap has in use may not grow (bounds below), and its CPU
#     may not be much more than in the first.
set -euo pipefail
source "$(dirname "$0")/common.bash"
n=${FA_CHURN_N:-2000}
rate=${FA_CHURN_RATE:-100}       # children started per second
parallel=${FA_CHURN_PARALLEL:-4} # children alive at once, at most
interval=1
# A flow leaves after the interval of its last byte or event (its socket's close), then
# --linger (3 s: 3 intervals), the last of them the read after retirement: 5 intervals;
# 3 to spare
settle=$((interval * 8))
gen=${FA_TESTBIN:-$root/.output/tests}/fa_churn

fa_setup churn python3 bpftool gdb
[ -x "$gen" ] || fail "no $gen (run make test-bins)"
root2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$root2" ] || fail "no cgroup v2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup"
cg=fa-churn-$$
mkdir "$root2/$cg"
cleanup_extra() {
	if [ -d "$root2/$cg" ]; then
		while read -r p; do echo "$p" >"$root2/cgroup.procs" 2>/dev/null || true; done <"$root2/$cg/cgroup.procs"
		rmdir "$root2/$cg" 2>/dev/null || true
	fi
	return 0
}
echo "churn: $n children, $rate started per second, at most $parallel at once"

mkdir "$tmp/out"
"$flowacct" -j --json-file "$tmp/out/flowacct.json" --cgroup "/$cg" "$interval" \
	>"$tmp/flowacct.ndjson" 2>"$tmp/flowacct.err" &
fa=$!
pids+=("$fa")
for _ in $(seq 300); do
	[ -s "$tmp/out/flowacct.json" ] && break
	kill -0 "$fa" 2>/dev/null || { cat "$tmp/flowacct.err"; fail "flowacct exited at start"; }
	sleep 0.1
done
[ -s "$tmp/out/flowacct.json" ] || fail "no $tmp/out/flowacct.json after 30 s"
grep "using backend" "$tmp/flowacct.err"

# flowacct's kernel maps, by name, from the map ids of its file descriptors
for f in /proc/"$fa"/fdinfo/*; do
	id=$(awk '$1 == "map_id:" { print $2 }' "$f" 2>/dev/null) || continue
	[ -n "$id" ] && echo "$id $(bpftool map show id "$id" | awk 'NR == 1 { print $4 }')"
done >"$tmp/maps"
for m in flow_index overflow dropped_flows flowacct.bss; do
	grep -q " $m\$" "$tmp/maps" || fail "flowacct (pid $fa) has no map named $m: $(tr '\n' ' ' <"$tmp/maps")"
done

# sample LABEL: flowacct's memory, CPU and tables now, printed and kept in samples.jsonl
cat >"$tmp/sample.py" <<'EOF'
import json, os, re, subprocess, sys, time
label, pid, maps, jfile, errfile, out = sys.argv[1:]
def heap_in_use():
    # malloc_stats(), called inside flowacct by gdb, prints to flowacct's stderr what
    # its allocator holds: the bytes in use, not the pages it keeps (RSS)
    subprocess.run(["timeout", "20", "gdb", "-p", pid, "-batch", "-ex", "call (void)malloc_stats()"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    text = open(errfile).read()
    m = re.findall(r"Total \(incl. mmap\):\nsystem bytes += +\d+\nin use bytes += +(\d+)", text)
    if not m:
        sys.exit(f"no malloc_stats() output from flowacct (pid {pid}) in {errfile}")
    return int(m[-1])
# Mid-interval, away from the outputs' transient buffers (the file is rewritten each
# interval); the smaller of two readings
phase = (time.time() - os.stat(jfile).st_mtime) % 1
time.sleep(0.3 - phase if phase < 0.3 else 1.3 - phase if phase > 0.7 else 0)
heap = min(heap_in_use(), heap_in_use()) // 1024
status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
kib = {k: int(status[k].split()[0]) for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem")}
rss = kib["VmRSS"]
stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
ids = dict(reversed(l.split()) for l in open(maps))
def dump(name):
    return json.loads(subprocess.check_output(["bpftool", "map", "dump", "id", ids[name], "-j"]))
kernel = {m: len(dump(m)) for m in ("flow_index", "overflow", "dropped_flows")}
kernel["next_slot"] = dump("flowacct.bss")[0]["formatted"]["value"][".bss"][0]["next_slot"]
snap = json.load(open(jfile))  # replaced atomically: always whole
rows = {"children": 0, "server_tcp": 0, "server_udp": 0, "server_overflow": 0, "overflow": 0}
for f in snap["flows"]:
    rows["server_" + f["proto"] if f["comm"] == "churn-srv" else "children"] += 1
for o in snap["overflow"]:
    rows["server_overflow" if o["comm"] == "churn-srv" else "overflow"] += 1
s = dict(label=label, rss_kib=rss, heap_kib=heap, anon_kib=kib["RssAnon"], file_kib=kib["RssFile"],
         shmem_kib=kib["RssShmem"], cpu_s=cpu, nflows=snap["nflows"], nprocs=snap["nprocs"],
         rows=rows, kernel=kernel, ts=snap["ts"])
print(f"{label:>8}: RSS {rss} KiB, heap in use {heap} KiB, CPU {cpu:.2f} s; rows: {snap['nflows']} flows (children "
      f"{rows['children']}, server TCP {rows['server_tcp']}, UDP {rows['server_udp']}), "
      f"{snap['nprocs']} processes; kernel: index {kernel['flow_index']}, overflow "
      f"{kernel['overflow']}, dropped_flows {kernel['dropped_flows']}, slots used {kernel['next_slot']}")
with open(out, "a") as f:
    f.write(json.dumps(s) + "\n")
EOF
sample() {
	python3 "$tmp/sample.py" "$1" "$fa" "$tmp/maps" "$tmp/out/flowacct.json" "$tmp/flowacct.err" \
		"$tmp/samples.jsonl" ||
		fail "sampling flowacct ($1) failed"
}
# wait_mark WORD: until fa_churn has printed WORD (it has no deadline of its own: the
# test's timeout is the limit)
wait_mark() {
	until grep -q "^$1 " "$tmp/churn.out"; do
		kill -0 "$churn" 2>/dev/null || { cat "$tmp/churn.err"; fail "fa_churn exited before '$1'"; }
		sleep 0.05
	done
}

sleep $((2 * interval))
sample start
# the workload, in its own cgroup from its first instruction: the server and every child
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$root2/$cg" \
	"$gen" -n "$n" -r "$rate" -P "$parallel" -m "$tmp/manifest" >"$tmp/churn.out" 2>"$tmp/churn.err" &
churn=$!
pids+=("$churn")
wait_mark half
sample middle
wait_mark done
sample end
sleep "$settle"
sample settled
kill -TERM "$churn"
rc=0
wait "$churn" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/churn.err"; fail "fa_churn exited with $rc: the workload itself failed"; }
cat "$tmp/churn.out"
sleep $((2 * interval))
kill -INT "$fa"
wait "$fa" || fail "flowacct exited with $? on SIGINT"
grep -v "backend\|using\|bytes\|mmap\|Arena\|Total" "$tmp/flowacct.err" || true

python3 - "$tmp/manifest" "$tmp/flowacct.ndjson" "$tmp/samples.jsonl" "$n" "$rate" <<'EOF'
import collections, json, sys
manifest, ndjson, samples = sys.argv[1:4]
n, rate = int(sys.argv[4]), float(sys.argv[5])
fails = []
def check(ok, msg):
    if not ok:
        fails.append(msg)
    return ok

# ground truth: what each process's calls moved, per protocol
want = {}  # (pid, name) -> {proto: [tx, rx, flows]}, role
roles = {}
for line in open(manifest):
    role, pid, name, proto, tx, rx, flows = line.rstrip("\n").split("\t")
    key = (int(pid), name)
    check(proto not in want.get(key, {}), f"manifest: {key} {proto} twice (pid reused at once?)")
    want.setdefault(key, {})[proto] = [int(tx), int(rx), int(flows)]
    roles[key] = role
children = [k for k in want if roles[k] == "child"]
server = [k for k in want if roles[k] == "server"]
if not check(len(children) == n and len(server) == 1,
             f"manifest: {len(children)} children and {len(server)} servers, want {n} and 1"):
    sys.exit("FAIL: " + "; ".join(fails))
server = server[0]
# the manifest agrees with itself: the server received what the children sent, and so on
for proto in ("tcp", "udp"):
    ctx = sum(v[proto][0] for k, v in want.items() if k in children and proto in v)
    crx = sum(v[proto][1] for k, v in want.items() if k in children and proto in v)
    stx, srx = want[server][proto][:2]
    check(ctx == srx and crx == stx, f"manifest: {proto} children sent {ctx}, received {crx}; "
          f"the server received {srx}, sent {stx}")

# what flowacct said: per (pid, comm) and protocol, the sums of the interval values
got = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
proc_sum = collections.defaultdict(lambda: [0, 0])
tuples = collections.defaultdict(set)
overflowed = set()  # processes with an overflow row: bytes of flows that did not fit
lines, last, srv_total = 0, None, [0, 0]
for line in open(ndjson):
    d = json.loads(line)
    lines += 1
    last = d
    for f in d["flows"]:
        k = (f["pid"], f["comm"])
        got[k][f["proto"]][0] += f["tx_bytes"]
        got[k][f["proto"]][1] += f["rx_bytes"]
        tuples[k, f["proto"]].add((f["laddr"], f["lport"], f["raddr"], f["rport"]))
    for o in d["overflow"]:
        overflowed.add((o["pid"], o["comm"]))
    for p in d["processes"]:
        proc_sum[p["pid"], p["comm"]][0] += p["tx_bytes"]
        proc_sum[p["pid"], p["comm"]][1] += p["rx_bytes"]
        if (p["pid"], p["comm"]) == server:
            srv_total = [p["tx_bytes_total"], p["rx_bytes_total"]]
check(last is not None and last["final"], "the last -j line is not the final one")
names_by_pid = collections.defaultdict(set)
for pid, comm in proc_sum:
    names_by_pid[pid].add(comm)
bad = 0
for k, protos in sorted(want.items()):
    pid, name = k
    if k not in proc_sum:
        bad += not check(False, f"{roles[k]} pid {pid} named {name!r}: not in flowacct's output"
                     + (f" under that name (it shows {sorted(names_by_pid[pid])})"
                        if pid in names_by_pid else ""))
        continue
    tx = sum(v[0] for v in protos.values())
    rx = sum(v[1] for v in protos.values())
    ok = check(proc_sum[k] == [tx, rx], f"{roles[k]} pid {pid} {name!r}: flowacct tx/rx "
               f"{proc_sum[k][0]}/{proc_sum[k][1]}, it moved {tx}/{rx}")
    # an overflow row has no protocol: per protocol only the processes without one
    for proto, (ptx, prx, flows) in protos.items() if k not in overflowed else ():
        g = got[k][proto]
        ok &= check(g == [ptx, prx], f"{roles[k]} pid {pid} {name!r} {proto}: flowacct tx/rx "
                    f"{g[0]}/{g[1]}, it moved {ptx}/{prx}")
        if roles[k] == "child":
            nt = len(tuples[k, proto])
            ok &= check(nt == flows, f"child pid {pid} {name!r} {proto}: {nt} flows, it made {flows}")
    bad += not ok
for k, v in proc_sum.items():
    check(k in want or v == [0, 0], f"pid {k[0]} {k[1]!r} moved {v[0]}/{v[1]} bytes: not the workload's")
# the server's totals are cumulative: its closed connections' flows left the table, and
# what they moved stays in its process row (a closed row's carry); -j lists a process in
# the intervals it moved, the last of which has everything
stx = sum(v[0] for v in want[server].values())
srx = sum(v[1] for v in want[server].values())
check(srv_total == [stx, srx], f"the server's process totals when it last moved: "
      f"{srv_total[0]}/{srv_total[1]}, it moved {stx}/{srx} since start")
tot_tx = sum(v[0] for p in want.values() for v in p.values())
tot_rx = sum(v[1] for p in want.values() for v in p.values())
t = last["totals"]
check((t["tx_bytes_total"], t["rx_bytes_total"]) == (tot_tx, tot_rx),
      f"totals tx/rx {t['tx_bytes_total']}/{t['rx_bytes_total']}, the workload moved {tot_tx}/{tot_rx}")
# bytes that fit no flow go to their process's overflow row, whose bytes are checked
# above; only bytes in no row at all would be a loss here
for k in ("overflow_table_full", "unattributed_rx_bytes", "unattributed_tx_bytes"):
    check(last["drops"][k] == 0, f"drops.{k} = {last['drops'][k]}: bytes of no process")
full = last["drops"]["flow_table_full"]
if full:
    print(f"the flow table filled: {full} calls of {len(overflowed)} processes went to their "
          f"overflow rows (checked per process, not per protocol)")
hostile = [k for k in children if not k[1].startswith("ch")]
print(f"{lines} intervals; {len(want)} processes checked ({len(hostile)} with hostile names, e.g. "
      f"{hostile[0][1]!r}), {bad} wrong; totals tx/rx {tot_tx}/{tot_rx}; server "
      f"{want[server]['tcp'][2]} TCP connections, {want[server]['udp'][2]} UDP peers")

# Bounded tables. After the linger, what is left is the baseline and the server's UDP
# peers. Where the backend tells a TCP socket's state (TCP health), the server's closed
# connections leave like an exited process's flows; without it (kprobe) they stay until
# the table is nearly full, and are allowed for.
S = {s["label"]: s for s in map(json.loads, open(samples))}
start, mid, end, settled = S["start"], S["middle"], S["end"], S["settled"]
snaps = [json.loads(l) for l in open(ndjson)]
health = any("state" in f for d in snaps for f in d["flows"] if f["proto"] == "tcp")
peers, conns = want[server]["udp"][2], want[server]["tcp"][2]
left = peers + (0 if health else conns)
peak = max(d["nflows"] for d in snaps)
r = settled["rows"]
check(r["children"] == 0, f"{r['children']} flows of exited children still in the table "
      "after the churn and the linger")
if health:
    check(r["server_tcp"] == 0, f"{r['server_tcp']} flows of the server's closed TCP "
          f"connections still in the table after the churn (of {conns} made)")
check(r["server_udp"] == peers, f"{r['server_udp']} server UDP flows after the churn, want its "
      f"{peers} peers (the socket is still open)")
check(settled["nflows"] <= start["nflows"] + left,
      f"{settled['nflows']} flows after the churn, want at most the baseline {start['nflows']} "
      f"+ {left} of the server")
check(settled["nprocs"] <= start["nprocs"] + 1,
      f"{settled['nprocs']} processes after the churn, baseline {start['nprocs']} + the server")
k = settled["kernel"]
check(k["flow_index"] <= start["kernel"]["flow_index"] + left,
      f"kernel flow index: {k['flow_index']} entries after the churn, want at most the "
      f"baseline {start['kernel']['flow_index']} + {left} of the server")
check(r["overflow"] == 0, f"{r['overflow']} overflow rows of exited children left after the churn")
check(k["overflow"] <= r["server_overflow"], f"{k['overflow']} overflow rows in the kernel after "
      f"the churn, want at most the server's {r['server_overflow']}")
# Mid-churn the table is in a steady state: as full at the end as in the middle, not
# fuller by the processes seen since.
check(end["nflows"] <= mid["nflows"] * 1.25 + 64, f"{mid['nflows']} flows in the middle of "
      f"the churn, {end['nflows']} at its end: the table grows with the processes seen")
# Slots are reused: the high-water mark stays near the peak of rows shown at once (a slot
# is shown until it is handed back), never the number of flows ever made.
made = sum(v[2] for p in want.values() for v in p.values())
check(k["next_slot"] <= peak * 1.25 + 64, f"{k['next_slot']} slots used for a peak of {peak} "
      f"flows at once ({made} made): retired slots are not reused")
print(f"tables: peak {peak} flows at once, {made} made, {k['next_slot']} slots used; after the "
      f"churn {settled['nflows']} flows ({peers} server UDP peers), baseline {start['nflows']}")

# RSS and CPU. RSS is a poor leak detector here: flowacct's heap keeps about 1.3 MiB free
# after start-up (what loading the BPF object freed, in pieces), and a leak fills that
# before RSS moves; so the bound is on the bytes its allocator has in use (malloc_stats).
# In the second half of the churn the tables are at their working size, and the bytes
# in use may grow by at most HEAP_BOUND_KIB: a leaked allocation of 64 bytes (80 with
# glibc's header) per process is 80 KiB in the second half of this test's 2,000 and
# 390 KiB in make soak's 10,000; the smallest (16 bytes, 32 with the header) 156 KiB
# there. RSS may grow by RSS_BOUND_KIB, a coarse check beside it.
HEAP_BOUND_KIB, RSS_BOUND_KIB = 32, 1024
for s in (start, mid, end, settled):
    print(f"{s['label']:>8}: RSS {s['rss_kib']} KiB (anonymous {s['anon_kib']}, files "
          f"{s['file_kib']}), heap in use {s['heap_kib']} KiB, CPU {s['cpu_s']:.2f} s")
heap2 = end["heap_kib"] - mid["heap_kib"]
rss2 = end["rss_kib"] - mid["rss_kib"]
cpu1 = mid["cpu_s"] - start["cpu_s"]
cpu2 = end["cpu_s"] - mid["cpu_s"]
per = 1000 / (n / 2)
print(f"second half: heap in use {heap2:+} KiB, RSS {rss2:+} KiB; CPU: first half {cpu1:.2f} s "
      f"({cpu1 * per:.3f} s per 1,000 children), second half {cpu2:.2f} s "
      f"({cpu2 * per:.3f} s per 1,000 children)")
# The bounds are for a steady state: children started at a set rate, their flows all in
# the table. Started as fast as they end, or with the table full (the working size then
# follows the overflow rows, which come and go with the timing), there is none.
steady = rate > 0 and not full
if not steady:
    print("no steady state (unpaced, or the table full): memory and CPU shown, not judged")
check(not steady or heap2 <= HEAP_BOUND_KIB, f"the bytes in use grew {heap2} KiB in the "
      f"second half of the churn (bound {HEAP_BOUND_KIB} KiB): a leak per process or flow?")
check(not steady or rss2 <= RSS_BOUND_KIB, f"RSS grew {rss2} KiB in the second half of the "
      f"churn (bound {RSS_BOUND_KIB} KiB)")
# CPU per interval follows the rows in the table, which are steady: the second half may
# cost at most half as much again as the first, and 0.3 s of scheduling noise.
check(not steady or cpu2 <= 1.5 * cpu1 + 0.3, f"CPU of the second half {cpu2:.2f} s against "
      f"{cpu1:.2f} s in the first: the cost per interval grows with the processes seen")
if fails:
    for f in fails[:20]:
        print("FAIL:", f)
    sys.exit(f"FAIL: {len(fails)} checks failed" + (" (first 20 shown)" if len(fails) > 20 else ""))
print("PASS: every byte of every process, named as it named itself; tables bounded")
EOF
