#!/usr/bin/env bash
# timeout: 300
# Faults, each as docs/RELIABILITY.md says, with the bytes exact against generators that
# know what they moved:
#   full tables      4200 processes, each with a UDP flow of its own, against a flow table
#                    of 16 and an overflow table of 4096: 16 flow rows, 4096 overflow rows,
#                    88 calls unattributed; then 132072 distinct 5-tuples on a veth
#                    against a packet table of 131072. In -b, -j, --json-file and on the
#                    Prometheus page: the rows plus the unattributed (or the packets not
#                    counted) add up to what was sent, and each loss counter is exact.
#   --json-file      its directory removed, then made again; its file system full, then
#                    freed: counting goes on, the failure is said once and its end once,
#                    no reader ever sees a partial file, no temporary file stays, and the
#                    next file has every byte.
#   port taken       (its exit status and line: 21-bad-options) nothing stays loaded.
#   -p PID exits     the last interval reports its bytes, marked final, then exit 0.
#   crash, live view SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT: the terminal is as it was
#                    (main screen, cursor, every stty mode), the process dies of the
#                    signal (exit status 128 + its number), nothing stays loaded.
# SIGINT, SIGTERM, SIGHUP and `| head -1` are 69-exits'.
set -euo pipefail
source "$(dirname "$0")/common.bash"
flood=${FA_TESTBIN:-$root/.output/tests}/fa_flood
fa_setup faults python3 bpftool tmux curl ip mount
[ -x "$flood" ] || fail "no $flood (make test-bins)"
root2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$root2" ] || fail "no cgroup v2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup"
cg=$root2/fa-faults-$$
ns=fa-faults-$$
veth=fafl$$
sock=fa-faults-$$
tm() { tmux -L "$sock" "$@"; }
cleanup_extra() {
	tm kill-server 2>/dev/null || true
	mountpoint -q "$tmp/tfs" 2>/dev/null && umount "$tmp/tfs"
	ip netns del "$ns" 2>/dev/null || true
	ip link del "$veth" 2>/dev/null || true
	for _ in $(seq 50); do [ -d "$cg" ] && ! rmdir "$cg" 2>/dev/null && sleep 0.1 || break; done
	return 0
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
started() { # errfile...: each flowacct says which backend it uses
	local f
	for f in "$@"; do
		for _ in $(seq 100); do grep -q "using backend" "$f" 2>/dev/null && break; sleep 0.1; done
		grep -q "using backend" "$f" 2>/dev/null || fail "flowacct did not start: $(cat "$f")"
	done
}

### full flow and overflow tables: every output, one run
mkdir "$cg"
port=$(free_port)
"$flowacct" -j --json-file "$tmp/full.json" --prometheus "$port" --cgroup "$cg" --max-flows 16 \
	0.5 >"$tmp/full-j.json" 2>"$tmp/full-j.err" &
fa_j=$!
"$flowacct" -b --cgroup "$cg" --max-flows 16 0.5 >"$tmp/full-b.txt" 2>"$tmp/full-b.err" &
fa_b=$!
pids+=("$fa_j" "$fa_b")
started "$tmp/full-j.err" "$tmp/full-b.err"
# the children live until the generator's stdin (a fifo this script holds) closes
mkfifo "$tmp/flood.in"
"$flood" "$cg" 4200 9 "$tmp/flood.out" <"$tmp/flood.in" >"$tmp/flood.ready" 2>&1 &
pids+=($!)
exec {flood_hold}>"$tmp/flood.in"
for _ in $(seq 200); do grep -q ready "$tmp/flood.ready" && break; sleep 0.1; done
grep -q ready "$tmp/flood.ready" || fail "fa_flood did not finish: $(cat "$tmp/flood.ready")"
sleep 1.5 # three intervals
curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/full.prom" || fail "no Prometheus page"
kill -INT "$fa_j" "$fa_b"
wait "$fa_j" || fail "flowacct -j exited $? after SIGINT"
wait "$fa_b" || fail "flowacct -b exited $? after SIGINT"
python3 - "$tmp" <<'PY'
import json, re, sys
tmp = sys.argv[1]
sent = [tuple(map(int, l.split())) for l in open(f"{tmp}/flood.out")]  # (pid, bytes), in order
M, O = 16, 4096  # --max-flows; the overflow table holds max(M, 4096) processes
in_flows, in_overflow, lost = sent[:M], sent[M:M + O], sent[M + O:]
total = sum(b for _, b in sent)
want_drops = {"flow_table_full": len(sent) - M, "flows_dropped": len(sent) - M,
              "overflow_table_full": len(lost), "unattributed_rx_bytes": 0,
              "unattributed_tx_bytes": sum(b for _, b in lost)}
fails = 0
def check(ok, msg):
    global fails
    print(("PASS " if ok else "FAIL ") + msg)
    fails += not ok
print(f"sent: {len(sent)} processes, {total} bytes; expected: {len(in_flows)} flow rows, "
      f"{len(in_overflow)} overflow rows, {len(lost)} calls unattributed ({want_drops['unattributed_tx_bytes']} bytes)")

def judge(what, flows, overflow, drops, tx_total):
    got = {k: drops[k] for k in want_drops}
    check(got == want_drops, f"{what}: loss counters {got}")
    check(flows == dict(in_flows), f"{what}: the first {M} processes are flow rows, exact "
          f"({len(flows)} rows, {sum(flows.values())} bytes)")
    check(overflow == dict(in_overflow), f"{what}: the next {O} are overflow rows, exact "
          f"({len(overflow)} rows, {sum(overflow.values())} bytes)")
    s = sum(flows.values()) + sum(overflow.values()) + drops["unattributed_tx_bytes"]
    check(s == total and tx_total in (None, total),
          f"{what}: flows + overflow + unattributed = {s}, total {tx_total}, sent {total}")

lines = [json.loads(l) for l in open(f"{tmp}/full-j.json")]
flows, overflow = {}, {}
for d in lines:
    for f in d["flows"]:
        flows[f["pid"]] = flows.get(f["pid"], 0) + f["tx_bytes"]
    for o in d["overflow"]:
        overflow[o["pid"]] = overflow.get(o["pid"], 0) + o["tx_bytes"]
judge("-j", flows, overflow, lines[-1]["drops"], lines[-1]["totals"]["tx_bytes_total"])

d = json.load(open(f"{tmp}/full.json"))
judge("--json-file", {f["pid"]: f["tx_bytes_total"] for f in d["flows"]},
      {o["pid"]: o["tx_bytes_total"] for o in d["overflow"]}, d["drops"],
      d["totals"]["tx_bytes_total"])

page = open(f"{tmp}/full.prom").read()
def metric(name):
    m = re.search(rf"^{name} (\d+)$", page, re.M)
    return int(m.group(1)) if m else None
procs = sum(int(v) for v in re.findall(r'^flowacct_process_tx_bytes_total\{comm="fa_flood",[^}]*\} (\d+)$', page, re.M))
drops = {k: metric(f"flowacct_{k}_total") for k in want_drops}
check(drops == want_drops, f"Prometheus: loss counters {drops}")
attributed = sum(b for _, b in in_flows + in_overflow)
check(procs == attributed, f"Prometheus: the fa_flood series hold the flow and overflow rows' {attributed} bytes ({procs})")
check(metric("flowacct_tx_bytes_total") == total and procs + drops["unattributed_tx_bytes"] == total,
      f"Prometheus: processes + unattributed = total = {total} (flowacct_tx_bytes_total {metric('flowacct_tx_bytes_total')})")

# -b: every row is under 1 KiB, so "N B" is exact; the LOSS line is cumulative
text = open(f"{tmp}/full-b.txt").read().splitlines()
row = re.compile(r"^(\d+)\s+fa_flood\s+(udp|\*)\s+(\S+)\s+\S+\s+\S+ \S+\s+\S+ \S+\s+\S+ B\s+(\d+) B  ")
flows, overflow = {}, {}
for l in text:
    m = row.match(l)
    if m:
        (flows if m.group(2) == "udp" else overflow)[int(m.group(1))] = int(m.group(4))
loss = [l for l in text if l.startswith("LOSS: ")][-1]
shown = dict(kv.split("=") for kv in loss[len("LOSS: "):].split())
judge("-b", flows, overflow, {k: int(shown.get(k, 0)) for k in want_drops}, None)
check(all(l.split()[3] == "(overflow)" for l in text if row.match(l) and row.match(l).group(2) == "*"),
      "-b: overflow rows are labelled (overflow)")
sys.exit(1 if fails else 0)
PY
exec {flood_hold}>&- # the children leave

### full packet table: 132072 distinct 5-tuples on a veth of its own (IPv6 off, neighbours
### fixed: nothing else crosses it but the peer's ICMP answers, which are not TCP or UDP)
ip netns add "$ns"
ip link add "$veth" type veth peer name eth0 netns "$ns"
sysctl -qw "net.ipv6.conf.$veth.disable_ipv6=1"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
ip addr add 10.250.7.1/24 dev "$veth"
ip link set "$veth" up
for a in 2 3 4; do ip -n "$ns" addr add "10.250.7.$a/24" dev eth0; done
ip -n "$ns" link set eth0 up
mac=$(ip -n "$ns" -j link show eth0 | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["address"])')
for a in 2 3 4; do ip neigh replace "10.250.7.$a" lladdr "$mac" dev "$veth" nud permanent; done
port=$(free_port)
"$flowacct" -j --json-file "$tmp/pk.json" --prometheus "$port" --packets="$veth" 1 \
	>"$tmp/pk-j.json" 2>"$tmp/pk-j.err" &
fa_j=$!
"$flowacct" -b -r 3 --packets="$veth" 1 >"$tmp/pk-b.txt" 2>"$tmp/pk-b.err" &
fa_b=$!
pids+=("$fa_j" "$fa_b")
started "$tmp/pk-j.err" "$tmp/pk-b.err"
python3 - >"$tmp/pk.sent" <<'PY'
import socket, time
# one datagram per 5-tuple: 131072 (the table's size) + 1000; paced, so the ring keeps up
s, n, want = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), 0, 131072 + 1000
for a in ("10.250.7.2", "10.250.7.3", "10.250.7.4"):
    for p in range(1000, 61000):
        if n == want:
            break
        s.sendto(b"x", (a, p))
        n += 1
        if n % 2000 == 0:
            time.sleep(0.005)
print(n)
PY
# the ring is read behind the sender: the page is judged once two intervals agree
prev=
for _ in $(seq 20); do
	sleep 1.1
	curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/pk.prom" || fail "no Prometheus page"
	now=$(grep '^flowacct_tx_packets_total ' "$tmp/pk.prom" || true)
	[ -n "$now" ] && [ "$now" = "$prev" ] && break
	prev=$now
done
kill -INT "$fa_j" "$fa_b"
wait "$fa_j" || fail "flowacct -j --packets exited $? after SIGINT"
wait "$fa_b" || fail "flowacct -b --packets exited $? after SIGINT"
python3 - "$tmp" <<'PY'
import json, re, sys
tmp = sys.argv[1]
sent, size = int(open(f"{tmp}/pk.sent").read()), 131072
fails = 0
def check(ok, msg):
    global fails
    print(("PASS " if ok else "FAIL ") + msg)
    fails += not ok
def judge(what, counted, drops, total):
    check(drops["ring_packets_dropped"] == 0 and drops["packets_unparsed"] == 0,
          f"{what}: the ring dropped nothing and parsed everything ({drops['ring_packets_dropped']}, "
          f"{drops['packets_unparsed']}): the counts below can be judged")
    check(drops["packets_table_full"] == sent - size,
          f"{what}: packets_table_full {drops['packets_table_full']} = {sent} tuples sent - {size} kept")
    check(counted == size and total in (None, size) and counted + drops["packets_table_full"] == sent,
          f"{what}: rows' packets {counted} (total {total}) + not counted = {sent} sent")
lines = [json.loads(l) for l in open(f"{tmp}/pk-j.json")]
counted = sum(r["tx_packets"] for d in lines for k in ("flows", "unmatched_packets") for r in d[k])
judge("-j", counted, lines[-1]["drops"], lines[-1]["totals"]["tx_packets_total"])
d = json.load(open(f"{tmp}/pk.json"))
judge("--json-file", sum(r["tx_packets_total"] for k in ("flows", "unmatched_packets") for r in d[k]),
      d["drops"], d["totals"]["tx_packets_total"])
page = open(f"{tmp}/pk.prom").read()
def metric(name):
    m = re.search(rf"^{name} (\d+)$", page, re.M)
    return int(m.group(1)) if m else None
series = sum(int(v) for v in re.findall(r"^flowacct_(?:process|unmatched)_tx_packets_total\{[^}]*\} (\d+)$", page, re.M))
judge("Prometheus", series, {k: metric(f"flowacct_{k}_total") for k in
      ("ring_packets_dropped", "packets_unparsed", "packets_table_full")}, metric("flowacct_tx_packets_total"))
loss = [l for l in open(f"{tmp}/pk-b.txt") if l.startswith("LOSS: ")]
shown = dict(kv.split("=") for kv in loss[-1][len("LOSS: "):].split()) if loss else {}
check(int(shown.get("packets_table_full", -1)) == sent - size and "ring_packets_dropped" not in shown,
      f"-b: LOSS line {loss[-1].strip() if loss else None!r}")
sys.exit(1 if fails else 0)
PY
ip netns del "$ns"

### --json-file faults: a process whose bytes the test sets, talking to itself
cat >"$tmp/talker.py" <<'EOF'
# each line N on stdin: N bytes over its own loopback TCP connection, then "ok". The
# connection is made at the first line: one older than flowacct would not be counted whole.
import socket, sys
print("ready", flush=True)
for line in sys.stdin:
    if line == "connect\n":
        ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen()
        c = socket.create_connection(ls.getsockname()); s, _ = ls.accept()
        print("ok", flush=True)
        continue
    n = int(line)
    c.sendall(b"t" * n)
    got = 0
    while got < n:
        got += len(s.recv(65536))
    print("ok", flush=True)
EOF
talk() { # N: the talker moves N bytes, and says so (connect: it connects first)
	echo "$1" >&"${TALK[1]}"
	read -r -t 10 reply <&"${TALK[0]}" && [ "$reply" = ok ] || fail "the talker did not move $1 bytes"
}
# file_total PATH: the talker's bytes sent and received in the JSON file, "tx rx"
file_total() {
	python3 -c 'import json, sys
try:
    d = json.load(open(sys.argv[1]))
except FileNotFoundError:
    print("none"); sys.exit()
fl = [f for f in d["flows"] if f["pid"] == int(sys.argv[2])]
print(sum(f["tx_bytes_total"] for f in fl), sum(f["rx_bytes_total"] for f in fl))' "$1" "$talker"
}
wait_file_total() { # PATH "TX RX" what
	local got
	for _ in $(seq 50); do
		got=$(file_total "$1")
		[ "$got" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$3: the file has '$got', want '$2'"
}
# a reader that opens the file as often as it can: each time it exists, it is whole
cat >"$tmp/watch.py" <<'EOF'
import json, os, sys, time
path, stop = sys.argv[1], sys.argv[2]
reads = missing = bad = 0
while not os.path.exists(stop):
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        missing += 1
        time.sleep(0.002)
        continue
    reads += 1
    try:
        assert data.endswith(b"\n")
        json.loads(data)
    except (AssertionError, ValueError):
        bad += 1
        print("partial:", data[-80:], flush=True)
    time.sleep(0.002)
print(f"reads {reads} missing {missing} partial {bad}", flush=True)
EOF

# jsonfile_fault BREAK MEND DIR: flowacct -j -p TALKER --json-file DIR/flows.json, with the
# talker moving 1000 bytes, then BREAK, 2000, MEND, 30; failure_line is the line it must say
jsonfile_fault() {
	local break_it=$1 mend=$2 dir=$3 file=$3/flows.json fd
	coproc TALK { exec python3 "$tmp/talker.py"; }
	read -r -t 10 reply <&"${TALK[0]}" && [ "$reply" = ready ] || fail "the talker did not start"
	talker=$TALK_PID
	rm -f "$tmp/watch.stop"
	python3 "$tmp/watch.py" "$file" "$tmp/watch.stop" >"$tmp/watch.out" &
	local watcher=$!
	"$flowacct" -j -p "$talker" --json-file "$file" 0.3 >"$tmp/jf.json" 2>"$tmp/jf.err" &
	local fa=$!
	pids+=("$fa" "$watcher" "$talker")
	started "$tmp/jf.err"
	talk connect
	talk 1000
	wait_file_total "$file" "1000 1000" "before the fault"
	$break_it
	talk 2000
	sleep 1.2 # four intervals, each failing
	$mend
	wait_file_total "$file" "3000 3000" "once $dir is usable again: every byte, the 2000 moved meanwhile too"
	talk 30
	wait_file_total "$file" "3030 3030" "an interval later"
	kill -INT "$fa"
	wait "$fa" || fail "flowacct exited $? after SIGINT"
	touch "$tmp/watch.stop"
	wait "$watcher"
	python3 -c 'import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
tx = sum(f["tx_bytes"] for l in d for f in l["flows"] if f["pid"] == int(sys.argv[2]))
sys.exit(tx != 3030)' "$tmp/jf.json" "$talker" || fail "-j beside the failing file did not count all 3030 bytes"
	echo "PASS counting went on: -j has all 3030 bytes"
	grep -q ' partial 0$' "$tmp/watch.out" || fail "a reader saw a partial file: $(cat "$tmp/watch.out")"
	echo "PASS no reader saw a partial file: $(tail -1 "$tmp/watch.out")"
	! compgen -G "$dir/.flows.json.*" >/dev/null || fail "temporary files left in $dir: $(ls -A "$dir")"
	echo "PASS no temporary file is left in $dir"
	[ "$(grep -c 'json-file output failed' "$tmp/jf.err")" -eq 1 ] ||
		fail "the failure is not said exactly once: $(cat "$tmp/jf.err")"
	grep -qxE "$failure_line" "$tmp/jf.err" || fail "the failure is not said as '$failure_line': $(cat "$tmp/jf.err")"
	[ "$(grep -cx 'flowacct: json-file output works again' "$tmp/jf.err")" -eq 1 ] ||
		fail "its end is not said exactly once: $(cat "$tmp/jf.err")"
	echo "PASS said once, and its end once: $(grep 'json-file output failed' "$tmp/jf.err")"
	fd=${TALK[1]}
	exec {fd}>&-
	wait "$talker" 2>/dev/null || true
}

### its directory removed, then made again: flowacct does not make it (documented)
jf_dir=$tmp/jfd/d
mkdir -p "$jf_dir"
rm_dir() { rm -rf "$jf_dir"; }
mk_dir() {
	sleep 0.5
	[ ! -e "$jf_dir" ] || fail "flowacct made $jf_dir again"
	mkdir "$jf_dir"
}
failure_line="flowacct: json-file output failed: cannot create a file in $jf_dir: No such file or directory \(counting goes on; will retry every interval\)"
jsonfile_fault rm_dir mk_dir "$jf_dir"

### its file system full, then freed: the old file stays whole until a new one fits
mkdir "$tmp/tfs"
mount -t tmpfs -o size=64k fa-faults "$tmp/tfs"
fill() {
	dd if=/dev/zero of="$tmp/tfs/fill" bs=1k 2>/dev/null || true
	[ "$(df --output=avail "$tmp/tfs" | tail -1 | tr -d ' ')" -eq 0 ] || fail "$tmp/tfs is not full"
}
unfill() {
	[ "$(file_total "$tmp/tfs/flows.json")" = "1000 1000" ] ||
		fail "while the disk was full the file changed: $(file_total "$tmp/tfs/flows.json")"
	echo "PASS while the disk is full, the file is the last whole one (1000 bytes each way)"
	rm "$tmp/tfs/fill"
}
failure_line="flowacct: json-file output failed: cannot write $tmp/tfs/\.flows\.json\.[A-Za-z0-9]{6}: No space left on device \(counting goes on; will retry every interval\)"
jsonfile_fault fill unfill "$tmp/tfs"
umount "$tmp/tfs"

### the Prometheus port taken: exit 1 and its line are 21-bad-options'; here, that nothing
### of the programs it loaded before finding the port taken stays in the kernel
# (it exits before its fds can be read: programs loaded since, held by no process, are left)
held_progs() { cat /proc/[0-9]*/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -u; }
orphans_since() { # max id before: loaded programs newer than it that no process holds
	bpftool prog show -j | python3 -c '
import json, sys
held = set(open(sys.argv[2]).read().split())
print(" ".join(str(p["id"]) for p in json.load(sys.stdin) if p["id"] > int(sys.argv[1]) and str(p["id"]) not in held))' "$1" <(held_progs)
}
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$tmp/busy" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/busy" ] && break; sleep 0.1; done
max_before=$(bpftool prog show -j | python3 -c 'import json, sys; print(max([p["id"] for p in json.load(sys.stdin)] + [0]))')
rc=0
"$flowacct" -b --prometheus "$(cat "$tmp/busy")" 0.3 >/dev/null 2>"$tmp/busy.err" || rc=$?
[ $rc -eq 1 ] || fail "port taken: exit $rc, want 1: $(cat "$tmp/busy.err")"
grep -q 'Address already in use' "$tmp/busy.err" || fail "port taken: $(cat "$tmp/busy.err")"
for _ in $(seq 50); do
	left=$(orphans_since "$max_before")
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || fail "port taken: programs $left are loaded, and no process holds them"
echo "PASS port taken: exit 1, '$(tail -1 "$tmp/busy.err")', nothing left loaded"

### a PID that exits mid-run: its last interval reports it, then the run ends by itself
coproc TALK { exec python3 "$tmp/talker.py"; }
read -r -t 10 reply <&"${TALK[0]}" && [ "$reply" = ready ] || fail "the talker did not start"
talker=$TALK_PID
pids+=("$talker")
"$flowacct" -j -p "$talker" 0.3 >"$tmp/pid.json" 2>"$tmp/pid.err" &
fa=$!
pids+=("$fa")
fa_progs_of "$tmp/pid.err" "$fa"
talk connect
talk 4321
fd=${TALK[1]}
exec {fd}>&- # the talker reads EOF and exits
for _ in $(seq 50); do kill -0 "$fa" 2>/dev/null || break; sleep 0.1; done
kill -0 "$fa" 2>/dev/null && fail "-p $talker: the process exited, and flowacct still runs"
rc=0
wait "$fa" || rc=$?
[ $rc -eq 0 ] || fail "-p: exit $rc after its process exited, want 0"
grep -qx 'flowacct: every watched process has exited' "$tmp/pid.err" ||
	fail "-p: it did not say why it ended: $(cat "$tmp/pid.err")"
python3 - "$tmp/pid.json" "$talker" <<'PY' || fail "-p: the last interval does not report the process"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
pid = int(sys.argv[2])
tx = sum(f["tx_bytes"] for l in d for f in l["flows"] if f["pid"] == pid)
rx = sum(f["rx_bytes"] for l in d for f in l["flows"] if f["pid"] == pid)
last = d[-1]
rows = [p for p in last["processes"] if p["pid"] == pid]
row = rows[0] if rows else {}
ok = last["final"] and row.get("exited") and row.get("tx_bytes_total") == 4321 and tx == rx == 4321
print("PASS" if ok else "FAIL", f"-p {pid}: the last interval is final ({last['final']}) and has the "
      f"process, exited ({row.get('exited')}), {row.get('tx_bytes_total')} bytes sent; "
      f"summed over intervals {tx} sent, {rx} received; want 4321")
sys.exit(0 if ok else 1)
PY
fa_progs_gone "-p PID exited (exit 0)"

### a crash in the live view: the handler puts the terminal back, the signal kills
tm new-session -d -s crash -x 160 -y 40 "env -i PATH=$PATH TERM=screen HOME=/root bash --norc --noprofile"
tm send-keys -t crash "PS1='sh\$ '; ulimit -c 0; cd $tmp; stty -g >stty.before" Enter
cap() { tm capture-pane -p -t crash; }
wait_screen() { # ERE [seconds]
	for _ in $(seq $((${2:-10} * 10))); do cap | grep -qE -- "$1" && return 0; sleep 0.1; done
	fail "timed out waiting for /$1/ on the screen: $(cap)"
}
wait_screen '^sh\$'
for sig in SEGV BUS ILL FPE ABRT; do
	rm -f "$tmp/fa.rc" "$tmp/tui.err"
	# a non-interactive bash, which does not mend the terminal after a child killed by a
	# signal: what flowacct leaves is what is checked
	tm send-keys -t crash "clear; bash -c '\"\$0\" \"\$@\" 2>tui.err; echo \$? >fa.rc' $flowacct 0.5" Enter
	wait_screen '^flowacct [0-9:]{8}  interval' 20
	fa=$(pgrep -x -P "$(pgrep -n -P "$(tm display -p -t crash '#{pane_pid}')")" flowacct) ||
		fail "SIG$sig: flowacct is not running"
	fa_progs_of "$tmp/tui.err" "$fa"
	[ "$(tm display -p -t crash '#{alternate_on}')" = 1 ] || fail "SIG$sig: the view is not in the alternate screen"
	kill -"$sig" "$fa"
	for _ in $(seq 50); do [ -s "$tmp/fa.rc" ] && break; sleep 0.1; done
	want=$((128 + $(kill -l "$sig")))
	[ "$(cat "$tmp/fa.rc" 2>/dev/null)" = "$want" ] ||
		fail "SIG$sig: exit status $(cat "$tmp/fa.rc" 2>/dev/null), want $want (killed by the signal)"
	wait_screen '^sh\$'
	[ "$(tm display -p -t crash '#{alternate_on} #{cursor_flag}')" = "0 1" ] ||
		fail "SIG$sig: alternate screen and cursor are '$(tm display -p -t crash '#{alternate_on} #{cursor_flag}')', want '0 1'"
	tag=$sig$RANDOM
	tm send-keys -t crash "clear; [ \"\$(stty -g)\" = \"\$(cat stty.before)\" ] && echo same-$tag || echo changed-$tag" Enter
	wait_screen "^(same|changed)-$tag\$"
	cap | grep -qx "same-$tag" || fail "SIG$sig: the terminal's modes differ from before (stty -g)"
	echo "PASS SIG$sig: exit $want, main screen, cursor shown, every terminal mode as before"
	fa_progs_gone "SIG$sig in the live view"
done
echo "PASS: full tables exact in every output; --json-file faults; port taken; -p PID exit; crashes"
