#!/usr/bin/env bash
# timeout: 150
# Hostile text, in every output. Processes name themselves (prctl(PR_SET_NAME), any 15
# bytes) with an ESC sequence that would clear the screen and set the terminal's title,
# BEL, quotes, backslashes, newline and CR, 0x01 and 0x7f, a byte right before the
# terminator of a full 15-byte name, a name the kernel truncates, invalid UTF-8, overlong
# UTF-8, a lone continuation byte, a C1 control and a bidi override encoded in UTF-8, and
# valid UTF-8; others run in cgroups whose names hold ESC, quotes, a newline (where the
# kernel takes it) and 0xff, or in containers whose runtime state names them with ESC,
# BEL, a quote, C1, a bidi override (Docker's config.v2.json) and raw 0xff, ESC and a
# newline (a kubelet log's file name). Each moves its own known number of TCP bytes.
# Every output of the same run is read: -b (flows, and --by service, cgroup and
# container), -j, --json-file, the Prometheus page (and promtool's lint), and the live
# view in a real terminal (tmux). In each: (1) no byte outside printable ASCII but the
# output's own newlines, and in the terminal no title set and no bell rung; (2) every name
# in its documented escaped form, exactly, computed here from the raw bytes: printable
# ASCII stays, a backslash becomes \\, any other byte \xNN; then the output's own quoting;
# (3) JSON parses strictly (python's json, jq) and is UTF-8; (4) each process's bytes,
# exactly.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup hostile python3 tmux curl jq promtool
sock=fa-hostile-$$
tm() { tmux -L "$sock" "$@"; }
root2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$root2" ] || fail "no cgroup v2 hierarchy is mounted: mount -t cgroup2 none /sys/fs/cgroup"
base=$root2/fa-hostile-$$.slice
id1=$(printf 'd%.0s' {1..12})0123456789abcdef0123456789abcdef0123456789abcdef0123
id2=$(printf 'e%.0s' {1..12})${id1#dddddddddddd}
uid=7c0d2a1e_8b7d_4c6e_9a0b_1234567890ab
cgs=()
cleanup_extra() {
	local d i
	tm kill-server 2>/dev/null || true
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	# deepest first; a killed process leaves its cgroup as it is reaped
	for ((i = ${#cgs[@]} - 1; i >= 0; i--)); do
		d=${cgs[i]}
		for _ in $(seq 20); do [ -d "$d" ] && ! rmdir "$d" 2>/dev/null && sleep 0.1 || break; done
	done
	return 0
}
fa_mkcg() { mkdir "$1" && cgs+=("$1"); }

### cgroups named with hostile bytes; the kernel refuses some (a newline, on some kernels)
fa_mkcg "$base"
svc_names=($'\e[31mred.service' $'q"u\'o.service' $'n\nl.service' $'\xff\xfe.service')
svc_ok=()
for n in "${svc_names[@]}"; do
	if fa_mkcg "$base/$n" 2>/dev/null; then
		svc_ok+=("$n")
	else
		echo "NOTE the kernel refuses a cgroup named $(printf '%q' "$n")"
	fi
done
[ ${#svc_ok[@]} -ge 3 ] || fail "only ${#svc_ok[@]} hostile cgroup names were accepted"
# containers: Docker's state names one, a kubelet log's file name the other
fa_mkcg "$base/docker-$id1.scope"
fa_mkcg "$base/kubepods-besteffort-pod$uid.slice"
fa_mkcg "$base/kubepods-besteffort-pod$uid.slice/cri-containerd-$id2.scope"
host=$tmp/host
mkdir -p "$host/var/lib/docker/containers/$id1" "$host/var/log/containers"
python3 -c 'import json, sys; json.dump({"Name": "/\x1b]0;pwn\x07\"\u009b\u202e", "ID": sys.argv[1]}, open(sys.argv[2], "w"))' \
	"$id1" "$host/var/lib/docker/containers/$id1/config.v2.json"
: >"$host/var/log/containers/"$'p\xffd_n\es_c\nt"r'"-$id2.log"

### who runs, named how, moving how much: the spec for hostile_gen.py, and what each
### output must show (the expected escaped forms are computed in the checker)
python3 - "$tmp" "$root2" "$base" "$id1" "$id2" "$uid" "${svc_ok[@]}" <<'PY'
import json, os, sys
tmp, root2, base, id1, id2, uid, *svcs = [os.fsencode(a) for a in sys.argv[1:]]
names = [
    b"\x1b[2J\x1b]0;x\x07",  # clear the screen, set the title
    b"bel\x07bel",
    b"q\"uo'te",
    b"b\\a\\x41\\",  # backslashes, one before text that looks like an escape
    b"nl\ncr\rx",
    b"c\x01d\x7fe",
    b"0123456789abcd\xff",  # 15 bytes: the last one is right before the terminator
    b"long-name-truncated-by-kernel",  # the kernel keeps 15
    b"inv\xff\xfe",
    b"ol\xc0\xaf",  # overlong '/'
    b"ol\xe0\x80\xaf",  # overlong '/', three bytes
    b"lone\x80",  # a continuation byte alone
    b"c1\xc2\x9b2J",  # U+009B CSI, a C1 control, as UTF-8
    b"\xe2\x80\xaeexe.txt",  # U+202E RIGHT-TO-LEFT OVERRIDE
    b"caf\xc3\xa9",  # valid UTF-8
]
procs = [{"name": n, "cgroup": None, "service": None, "container": None} for n in names]
for i, s in enumerate(svcs):
    procs.append({"name": b"hcg%d" % i, "cgroup": base + b"/" + s, "service": s, "container": None})
procs.append({"name": b"hctr-docker", "cgroup": base + b"/docker-" + id1 + b".scope",
              "service": None, "container": b"\x1b]0;pwn\x07\"\xc2\x9b\xe2\x80\xae"})
procs.append({"name": b"hctr-kube", "cgroup": base + b"/kubepods-besteffort-pod" + uid +
              b".slice/cri-containerd-" + id2 + b".scope", "service": None,
              "container": b"n\x1bs/p\xffd/c\nt\"r"})
spec, expect = [], []
for i, p in enumerate(procs):
    a, b = 100 + 11 * i, 300 + 13 * i  # distinct, and under 1 KiB: the text tables say "N B"
    spec.append({"name": p["name"].hex(), "cgroup": p["cgroup"] and os.fsdecode(p["cgroup"]),
                 "a": a, "b": b})
    expect.append({k: v.hex() if isinstance(v, bytes) else v for k, v in p.items()} |
                  {"comm": p["name"][:15].hex(), "a": a, "b": b,
                   "cgroup": p["cgroup"] and p["cgroup"][len(root2):].hex()})
json.dump(spec, open(tmp + b"/spec.json", "w"))
json.dump(expect, open(tmp + b"/expect.json", "w"))
PY
nprocs=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/spec.json")
python3 "$root/tests/integration/hostile_gen.py" "$tmp/spec.json" "$tmp/go" >"$tmp/gen.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	[ "$(grep -cE '^[0-9]+ [0-9]+$' "$tmp/gen.out")" -eq "$nprocs" ] && break
	grep -q '^error' "$tmp/gen.out" && fail "a generator failed: $(cat "$tmp/gen.out")"
	sleep 0.1
done
[ "$(grep -cE '^[0-9]+ [0-9]+$' "$tmp/gen.out")" -eq "$nprocs" ] ||
	fail "the generators did not start: $(cat "$tmp/gen.out")"
fa_args=()
while read -r i p; do
	pids+=("$p")
	fa_args+=(-p "$p")
done < <(grep -E '^[0-9]+ [0-9]+$' "$tmp/gen.out")
fa_args+=(--host-root "$host")

### every output at once, each watching only these processes
prom_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$tmp/jf"
fas=()
"$flowacct" -j --json-file "$tmp/jf/flows.json" --prometheus "$prom_port" "${fa_args[@]}" 0.5 \
	>"$tmp/out.json" 2>"$tmp/err-json" &
fas+=($!)
"$flowacct" -b "${fa_args[@]}" 0.5 >"$tmp/by-flow.txt" 2>"$tmp/err-flow" &
fas+=($!)
for by in service cgroup container; do
	"$flowacct" -b --by $by "${fa_args[@]}" 0.5 >"$tmp/by-$by.txt" 2>"$tmp/err-$by" &
	fas+=($!)
done
pids+=("${fas[@]}")
# the live view in window 1, which is not the current window: a bell there would flag it
tm new-session -d -s h -x 250 -y 60 "env -i PATH=$PATH TERM=screen HOME=/root bash --norc --noprofile"
tm new-window -d -t h:1 "env -i PATH=$PATH TERM=screen HOME=/root bash --norc --noprofile"
tm select-pane -t h:1 -T fa-title-unchanged
tm send-keys -t h:1 "exec $flowacct ${fa_args[*]} 0.5 2>$tmp/err-tui" Enter
for _ in $(seq 100); do
	n=$(cat "$tmp"/err-* 2>/dev/null | grep -c "using backend" || true)
	[ "$n" -eq 6 ] && break
	sleep 0.1
done
[ "$n" -eq 6 ] || fail "not every flowacct started: $(cat "$tmp"/err-*)"
# the oracles work: a title sequence and a bell in another pane of this tmux are seen
tm new-window -d -t h:2 "printf 'x\a\e]0;probe\a'; sleep 30"
for _ in $(seq 50); do
	[ "$(tm display -p -t h:2 '#{pane_title} #{window_bell_flag}')" = "probe 1" ] && break
	sleep 0.1
done
[ "$(tm display -p -t h:2 '#{pane_title} #{window_bell_flag}')" = "probe 1" ] ||
	fail "tmux does not show a title set or a bell rung: this test could not see one"

touch "$tmp/go"
for _ in $(seq 100); do
	[ "$(grep -c '^done' "$tmp/gen.out")" -eq "$nprocs" ] && break
	sleep 0.1
done
[ "$(grep -c '^done' "$tmp/gen.out")" -eq "$nprocs" ] || fail "the generators did not finish: $(cat "$tmp/gen.out")"
sleep 1.5 # three intervals: every output has it all
tm send-keys -t h:1 b
for _ in $(seq 50); do
	tm capture-pane -p -t h:1 | grep -q 'exact bytes' && break
	sleep 0.1
done
sleep 1
tm capture-pane -p -t h:1 >"$tmp/tui.txt"
tm display -p -t h:1 '#{pane_title}' >"$tmp/tui.title"
tm display -p -t h:1 '#{window_bell_flag}' >"$tmp/tui.bell"
curl -sf "http://127.0.0.1:$prom_port/metrics" >"$tmp/metrics.txt" || fail "no Prometheus page"
promtool check metrics <"$tmp/metrics.txt" || fail "promtool check metrics rejects the page"
tm send-keys -t h:1 q
kill -INT "${fas[@]}"
for p in "${fas[@]}"; do
	wait "$p" || fail "flowacct $p exited with $? after SIGINT"
done
jq -e . "$tmp/out.json" >/dev/null || fail "jq rejects the -j output"
jq -e . "$tmp/jf/flows.json" >/dev/null || fail "jq rejects the --json-file"

python3 - "$tmp" <<'PY'
import json, re, sys
tmp = sys.argv[1]
expect = json.load(open(f"{tmp}/expect.json"))
pid_of = {int(i): int(p) for i, p in (l.split() for l in open(f"{tmp}/gen.out")
                                      if re.fullmatch(r"\d+ \d+\n", l))}
fails = 0

def check(ok, msg):
    global fails
    print(("PASS " if ok else "FAIL ") + msg)
    fails += not ok

def esc(raw):  # the documented rule, written here apart from flowacct's code
    return "".join("\\\\" if c == 0x5C else chr(c) if 0x20 <= c < 0x7F else f"\\x{c:02x}"
                   for c in raw)

def prom(v):  # a label value as the exposition format quotes it
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

def printable(data, what, allowed=b"\n"):
    bad = [(i, c) for i, c in enumerate(data) if not (0x20 <= c < 0x7F or bytes([c]) in allowed)]
    check(not bad, f"{what}: every byte is printable ASCII or a newline ({len(data)} bytes; "
          f"first others: {[(i, hex(c)) for i, c in bad[:5]]})")

procs = []
for i, e in enumerate(expect):
    p = {k: bytes.fromhex(v) if isinstance(v, str) and k not in ("a", "b") else v
         for k, v in e.items()}
    p["pid"] = pid_of[i]
    p["bytes"] = e["a"] + e["b"]  # each way, over its two flows
    p["workload"] = p["container"] or p["service"]
    procs.append(p)

outputs = {n: open(f"{tmp}/{n}", "rb").read() for n in
           ("out.json", "jf/flows.json", "metrics.txt", "by-flow.txt", "by-service.txt",
            "by-cgroup.txt", "by-container.txt", "tui.txt")}
for n, data in outputs.items():
    printable(data, n)

### -j and --json-file: strict JSON, UTF-8, the escaped forms, the bytes
def json_lines(name):
    text = outputs[name].decode("utf-8", "strict")
    return [json.loads(l, strict=True) for l in text.splitlines()]

lines = json_lines("out.json")
sums = {}
for d in lines:
    for f in d["flows"]:
        s = sums.setdefault(f["pid"], {"rx": 0, "tx": 0, "rows": []})
        s["rx"] += f["rx_bytes"]; s["tx"] += f["tx_bytes"]; s["rows"].append(f)
(jf,) = json_lines("jf/flows.json")
for p in procs:
    want = {"comm": esc(p["comm"]), "container": p["container"] and esc(p["container"])}
    if p["cgroup"]:  # else the test's own cgroup, whatever it is
        want |= {"cgroup": esc(p["cgroup"]), "service": p["service"] and esc(p["service"])}
    s = sums.get(p["pid"], {"rx": 0, "tx": 0, "rows": []})
    got = [{k: f[k] for k in want} for f in s["rows"]]
    check(s["rows"] and all(g == want for g in got) and s["rx"] == s["tx"] == p["bytes"],
          f"-j pid {p['pid']} {p['name']!r}: {want}, {p['bytes']} bytes each way "
          f"(flowacct: {got[:1]}, rx {s['rx']} tx {s['tx']})")
    rows = [f for f in jf["flows"] if f["pid"] == p["pid"]]
    got = [{k: f[k] for k in want} for f in rows]
    rx, tx = sum(f["rx_bytes_total"] for f in rows), sum(f["tx_bytes_total"] for f in rows)
    check(len(rows) == 2 and all(g == want for g in got) and rx == tx == p["bytes"],
          f"--json-file pid {p['pid']}: the same, {p['bytes']} each way (rx {rx} tx {tx})")
# the services array: containers by their names, units by theirs
svc = {}
for d in lines:
    for s in d["services"]:
        t = svc.setdefault(s["name"], [0, 0]); t[0] += s["rx_bytes"]; t[1] += s["tx_bytes"]
for p in procs:
    if p["workload"]:
        n = esc(p["workload"])
        check(svc.get(n) == [p["bytes"], p["bytes"]],
              f"-j services {n!r}: {p['bytes']} each way (flowacct {svc.get(n)})")

### Prometheus: the label values, quoted for the exposition format, and the bytes
page = outputs["metrics.txt"].decode("ascii")
series = {}
for l in page.splitlines():
    m = re.fullmatch(r'flowacct_process_(rx|tx)_bytes_total\{(.*)\} (\d+)', l)
    if m:
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        series.setdefault(labels["comm"], []).append((m.group(1), labels, int(m.group(3))))
for p in procs:
    q = prom(esc(p["comm"]))
    got = series.get(q, [])
    rx = sum(v for d, _, v in got if d == "rx")
    tx = sum(v for d, _, v in got if d == "tx")
    ok = rx == tx == p["bytes"] and f'comm="{q}"' in page
    if p["container"]:
        ok &= all(l["container"] == prom(esc(p["container"])) for _, l, _ in got)
    if p["service"]:
        ok &= all(l["service"] == prom(esc(p["service"])) for _, l, _ in got)
    check(got and ok, f'Prometheus comm="{q}"{" container/service " + repr(prom(esc(p["workload"]))) if p["workload"] else ""}: '
          f"{p['bytes']} each way (page: rx {rx} tx {tx})")

### the text tables: flow rows by pid (the comm column, exactly), group rows by name
BYTES = r"(\d+(?:\.\d+)? (?:B|KiB|MiB|GiB))"
def exact(h):  # "123 B": exact below 1 KiB, which every count here is
    n, unit = h.split()
    return int(n) if unit == "B" else None
flow_re = re.compile(r"^(\d+)\s+(.+?)\s+(tcp|udp)\s+(\S+)\s+(\S+)\s+" + r"\s+".join([BYTES] * 4) + r"  (.*)$")
def cols(title, l, *names):  # the cells of l under the titles of left-aligned columns
    at = [title.index(n) for n in names] + [None]
    return [l[at[i]:at[i + 1]].rstrip() if at[i + 1] else l[at[i]:] for i in range(len(names))]
text = outputs["by-flow.txt"].decode("ascii").splitlines()
for p in procs:
    head = [str(p["pid"]), esc(p["comm"]), "tcp"]
    rows, title = {}, ""
    for l in text:
        if l.startswith("PID  "):
            title = l
        m = flow_re.match(l)
        if m and int(m.group(1)) == p["pid"]:
            rows[m.group(4)] = (cols(title, l, "PID", "COMM", "PROTO", "LOCAL")[:3] == head,
                                exact(m.group(8)), exact(m.group(9)), m.group(10))
    rx = sum(r[1] for r in rows.values())
    tx = sum(r[2] for r in rows.values())
    wl = esc(p["workload"]) if p["workload"] else None
    check(len(rows) == 2 and all(r[0] for r in rows.values()) and rx == tx == p["bytes"] and
          (wl is None or all(r[3] == wl for r in rows.values())),
          f"-b pid {p['pid']}: rows begin {head!r} in the columns PID, COMM, PROTO{', CONTAINER/UNIT ' + repr(wl) if wl else ''}, "
          f"{p['bytes']} each way (rows {sorted(rows.values())})")
group_re = re.compile(r"^\s*(\d+)\s+(\d+)\s+" + r"\s+".join([BYTES] * 4) + r"  (.*)$")
for by, key in (("service", "workload"), ("cgroup", "cgroup"), ("container", "container")):
    shown = {}
    for l in outputs[f"by-{by}.txt"].decode("ascii").splitlines():
        m = group_re.match(l)
        if m:
            shown[m.group(7)] = (exact(m.group(5)), exact(m.group(6)))
    for p in procs:
        if p[key]:
            n = esc(p[key])
            check(shown.get(n) == (p["bytes"], p["bytes"]),
                  f"-b --by {by}: the row {n!r} has {p['bytes']} each way (flowacct {shown.get(n)})")

### the live view: the rows of each pid, with its escaped name and workload, exact bytes
screen = outputs["tui.txt"].decode("ascii").splitlines()
check(any("exact bytes" in l for l in screen), "the live view shows exact bytes (b)")
for p in procs:
    rows = [l.split() for l in screen if l.split()[:1] == [str(p["pid"])]]
    ok = len(rows) == 2 and all(r[2] == esc(p["comm"]) for r in rows)
    if p["workload"]:
        ok &= all(r[3] == esc(p["workload"]) for r in rows)
    rx = sum(int(r[-2]) for r in rows if r[-2].isdigit())
    tx = sum(int(r[-1]) for r in rows if r[-1].isdigit())
    check(ok and rx == tx == p["bytes"],
          f"live view pid {p['pid']}: COMM {esc(p['comm'])!r}"
          f"{', CONTAINER/UNIT ' + repr(esc(p['workload'])) if p['workload'] else ''}, "
          f"{p['bytes']} each way (rows {[' '.join(r) for r in rows]})")
title = open(f"{tmp}/tui.title").read().strip()
bell = open(f"{tmp}/tui.bell").read().strip()
check(title == "fa-title-unchanged", f"the live view's pane title is unchanged ({title!r})")
check(bell == "0", f"no bell rang in the live view's window (flag {bell})")
sys.exit(1 if fails else 0)
PY
echo "PASS: hostile names escaped in text, JSON, the JSON file, Prometheus and the live view; bytes exact"
