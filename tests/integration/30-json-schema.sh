#!/usr/bin/env bash
# timeout: 120
# Every line of -j output validates against docs/flowacct.schema.json, with traffic of
# both protocols and families flowing.
set -euo pipefail
out=$(mktemp)
"$FLOWACCT" -j 0.2 8 >"$out" &
fa=$!
sleep 0.5
python3 - <<'PY'
import socket
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(fam); s.bind((host, 0)); s.listen()
    c = socket.create_connection(s.getsockname()[:2]); a, _ = s.accept()
    c.sendall(b"x" * 5000); a.recv(10000)
    u1 = socket.socket(fam, socket.SOCK_DGRAM); u1.bind((host, 0))
    u2 = socket.socket(fam, socket.SOCK_DGRAM); u2.bind((host, 0))
    u1.connect(u2.getsockname()[:2]); u1.send(b"y" * 300); u2.recv(1000)
PY
wait $fa
python3 - "$FA_ROOT/docs/flowacct.schema.json" "$out" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
lines = open(sys.argv[2]).read().splitlines()
assert len(lines) == 8, f"expected 8 lines, got {len(lines)}"
protos = set()
for i, line in enumerate(lines):
    doc = json.loads(line)
    jsonschema.validate(doc, schema)
    protos |= {(f["proto"], f["family"]) for f in doc["flows"]}
assert {("tcp", "ipv4"), ("tcp", "ipv6"), ("udp", "ipv4"), ("udp", "ipv6")} <= protos, protos
print(f"PASS {len(lines)} lines valid against the schema; saw {sorted(protos)}")
PY
