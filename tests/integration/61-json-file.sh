#!/usr/bin/env bash
# timeout: 120
# --json-file is replaced atomically: a reader that opens and parses the file as fast as
# it can, while flowacct rewrites it every 0.1 s with traffic running, must never see a
# partial or invalid file. Every version it sees must match docs/flowacct.schema.json (if
# the schema exists), totals never go backwards, and no temporary file is left behind.
# The traffic comes from a process with a hostile name, which must arrive escaped.
# Then the same with the interactive view on a pseudo-terminal: the file still updates.
set -euo pipefail
source "$(dirname "$0")/common.bash"
schema=$root/docs/flowacct.schema.json
seconds=8

fa_setup jsonfile python3 script
python3 -c 'import jsonschema' || fail "python3-jsonschema is missing"
mkdir "$tmp/out"
out=$tmp/out/flowacct.json

# Loopback TCP in both directions for as long as the reader runs.
cat >"$tmp/traffic.py" <<'EOF'
import ctypes, socket, sys, threading, time
end = time.monotonic() + float(sys.argv[1])
# a name with a quote, a backslash, a newline, a terminal escape and a non-UTF-8 byte
ctypes.CDLL(None).prctl(15, b'j"s\\\n\x1b[2J\xfe', 0, 0, 0)  # PR_SET_NAME
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
cli = socket.create_connection(srv.getsockname())
peer, _ = srv.accept()
def echo():
    while True:
        b = peer.recv(65536)
        if not b:
            return
        peer.sendall(b)
threading.Thread(target=echo, daemon=True).start()
while time.monotonic() < end:
    cli.sendall(b"j" * 32768)
    n = 0
    while n < 32768:
        n += len(cli.recv(65536))
    time.sleep(0.01)
EOF

cat >"$tmp/reader.py" <<'EOF'
import json, os, sys, time
path, seconds, schema = sys.argv[1], float(sys.argv[2]), sys.argv[3]
validate = None
if os.path.exists(schema):
    import jsonschema
    with open(schema) as f:
        s = json.load(f)
    cls = jsonschema.validators.validator_for(s)
    cls.check_schema(s)
    validate = cls(s).validate
else:
    print("no %s yet: checking JSON only" % schema)
versions, reads, inodes = {}, 0, set()
# The window opens at the first version: flowacct's start (loading BPF programs takes
# seconds on an emulated machine) is no part of it. The first version is due within 20 s.
first_by, end = time.monotonic() + 20, None
while end is None or time.monotonic() < end:
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        if versions:
            sys.exit("FAIL: %s vanished after %d versions" % (path, len(versions)))
        if time.monotonic() > first_by:
            break
        time.sleep(0.01)
        continue
    if end is None:
        end = time.monotonic() + seconds
    with f:
        inodes.add(os.fstat(f.fileno()).st_ino)
        data = f.read()
    reads += 1
    try:
        doc = json.loads(data)
    except ValueError as e:
        sys.exit("FAIL: read %d: %d bytes are not JSON (%s): ...%r" % (reads, len(data), e, data[-80:]))
    if not data.endswith(b"}\n"):
        sys.exit("FAIL: read %d does not end with one object and a newline" % reads)
    if doc["ts"] not in versions:
        versions[doc["ts"]] = doc
        if validate:
            validate(doc)
    time.sleep(0.002)
if not versions:
    sys.exit("FAIL: %s never appeared" % path)
ordered = [versions[k] for k in sorted(versions)]
for a, b in zip(ordered, ordered[1:]):
    for k in ("rx_bytes_total", "tx_bytes_total"):
        if b["totals"][k] < a["totals"][k]:
            sys.exit("FAIL: totals.%s went back from %d to %d" % (k, a["totals"][k], b["totals"][k]))
hostile = r'j"s\\\x0a\x1b[2J\xfe'
if not any(p["comm"] == hostile for d in ordered for p in d["processes"]):
    sys.exit("FAIL: no process named %r (the traffic generator, escaped)" % hostile)
moved = ordered[-1]["totals"]["tx_bytes_total"] - ordered[0]["totals"]["tx_bytes_total"]
print("%d reads, %d versions, %d inodes, %d bytes sent meanwhile%s" %
      (reads, len(versions), len(inodes), moved, ", schema-valid" if validate else ""))
if len(versions) < seconds * 10 / 4:
    sys.exit("FAIL: only %d versions in %.0f s at 0.1 s intervals" % (len(versions), seconds))
if moved <= 0:
    sys.exit("FAIL: no traffic in the snapshots")
EOF

"$flowacct" -b --json-file "$out" 0.1 >"$tmp/flowacct.log" 2>&1 &
pids+=($!)
fa_pid=$!
python3 "$tmp/traffic.py" $((seconds + 22)) &
pids+=($!)
traffic=$!
python3 "$tmp/reader.py" "$out" "$seconds" "$schema" || { tail -5 "$tmp/flowacct.log"; exit 1; }
kill $traffic 2>/dev/null || true
kill -INT $fa_pid
wait $fa_pid || fail "flowacct exited with $? on SIGINT"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["final"], "last version not final"' "$out" ||
	fail "after exit the file does not hold the final snapshot"
mode=$(stat -c %a "$out")
want=$(printf %o $((0666 & ~0$(umask))))
echo "file mode $mode (umask $(umask))"
[ "$mode" = "$want" ] || fail "mode $mode, want $want as for any new file: mkstemp's 0600 leaked"
left=$(ls -A "$tmp/out")
[ "$left" = flowacct.json ] || fail "left in the directory: $left"
echo "PASS: batch mode, no partial file seen, nothing left behind"

# The interactive view owns the terminal; the file must still be written every interval.
# Its input is a FIFO nobody writes to: no keys, and no end of file either.
rm -f "$out"
mkfifo "$tmp/keys"
exec 3<>"$tmp/keys"
# new traffic: this flowacct counts from its own start
python3 "$tmp/traffic.py" 25 &
pids+=($!)
traffic=$!
TERM=xterm timeout 25 script -qfec "$flowacct --json-file $out 0.2" /dev/null \
	<"$tmp/keys" >"$tmp/tui.log" 2>&1 &
pids+=($!)
python3 "$tmp/reader.py" "$out" 3 "$schema" || fail "with the interactive view"
kill $traffic 2>/dev/null || true
grep -q "backend" "$tmp/tui.log" || fail "the interactive view did not draw"
echo "PASS: alongside the interactive view"
