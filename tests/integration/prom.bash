# Shared by the Prometheus tests, 60-prometheus.sh and 70-prometheus-tls.sh (sourced
# after common.bash and fa_setup, not run): free ports, waiting for an endpoint, the
# generator/sink pair whose bytes are exact, a stock Prometheus and its HTTP API, and
# the check that stalled clients delay neither the intervals nor other scrapes.

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_endpoint URL FLOWACCT_PID LOG [CURL_ARGS...]: until URL answers 200
wait_endpoint() {
	local url=$1 pid=$2 log=$3 code
	shift 3
	for _ in $(seq 100); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url" || true)
		[ "$code" = 200 ] && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "flowacct exited"; }
		sleep 0.2
	done
	fail "$url answered $code, not 200, within 20 s"
}

# The generator (tests/integration/fa_promgen.c, built by make test-bins): a distinctive
# process name, exact byte counts, its socket kept open while Prometheus is queried.
promgen=${FA_TESTBIN:-$root/.output/tests}/fa_promgen
[ -x "$promgen" ] || fail "no generator at $promgen (run make test-bins)"

# The sink: receives exactly WANT bytes (else it fails), replies REPLY bytes, then waits.
cat >"$tmp/sink.py" <<'EOF'
import os, signal, socket, sys
want, reply, portfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
c, _ = s.accept()
got = 0
while got < want:
    b = c.recv(1 << 16)
    if not b:
        break
    got += len(b)
if got != want:
    sys.exit("sink received %d bytes, want %d" % (got, want))
c.sendall(b"x" * reply)
signal.pause()  # the connection stays established while it is queried
EOF

start_pair() { # tag send recv [process name]: sets sink_pid, gen_pid
	python3 "$tmp/sink.py" "$2" "$3" "$tmp/$1.port" &
	pids+=($!)
	sink_pid=$!
	for _ in $(seq 50); do
		[ -s "$tmp/$1.port" ] && break
		sleep 0.1
	done
	"$promgen" "$(cat "$tmp/$1.port")" "$2" "$3" "$tmp/$1.done" ${4:+"$4"} &
	pids+=($!)
	gen_pid=$!
}

wait_pair() { # tag generator-pid
	for _ in $(seq 150); do
		[ -s "$tmp/$1.done" ] && return 0
		kill -0 "$2" 2>/dev/null || fail "the $1 generator failed"
		sleep 0.1
	done
	fail "the $1 generator did not finish"
}

# prom_start CONFIG: a Prometheus with CONFIG, its data in $tmp; sets api once it is ready
prom_start() {
	local port
	port=$(free_port)
	prometheus --config.file="$1" --storage.tsdb.path="$tmp/tsdb" \
		--web.listen-address="127.0.0.1:$port" >"$tmp/prometheus.log" 2>&1 &
	pids+=($!)
	api=http://127.0.0.1:$port
	for _ in $(seq 100); do
		curl -sf "$api/-/ready" >/dev/null && return 0
		sleep 0.2
	done
	tail -20 "$tmp/prometheus.log"
	fail "Prometheus not ready"
}

# query PROMQL: the instant vector's samples as "labels-json value" lines
query() {
	curl -sf --data-urlencode "query=$1" "$api/api/v1/query" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in r["data"]["result"]:
    print(json.dumps(s["metric"], sort_keys=True), s["value"][1])'
}

# value_of PROMQL: the one sample's value, or nothing
value_of() {
	query "$1" | awk 'NR == 1 { print $NF }'
}

wait_value() { # promql want
	local got=
	for _ in $(seq 60); do
		got=$(value_of "$1")
		[ "$got" = "$2" ] && { echo "PASS: $1 = $got"; return 0; }
		sleep 0.5
	done
	fail "$1 = '${got}', want $2"
}

# check_stalled URL CA FLOWACCT_PID [CURL_ARGS...]: 8 clients that stall (a request never
# finished, a response never read; over TLS, with CA, also a handshake never begun and
# one left halfway) must delay neither the intervals nor other scrapes (the collector
# only swaps a page pointer, and libmicrohttpd never waits on one client), nor make
# flowacct spin: it uses less than half a core meanwhile. CURL_ARGS (credentials) go to
# the scrapes, and their basic auth to the stalled full requests.
cat >"$tmp/stall.py" <<'EOF'
import base64, socket, ssl, sys, time
port, seconds, ca, auth = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
hdr = ("Authorization: Basic %s\r\n" % base64.b64encode(auth.encode()).decode()) if auth else ""
full = ("GET /metrics HTTP/1.1\r\nHost: x\r\n%s\r\n" % hdr).encode()
held = []
for i in range(8):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    if ca and i % 4 == 0:
        pass  # a TLS handshake never begun
    elif ca and i % 4 == 1:
        s.send(b"\x16\x03\x01\x02")  # a ClientHello's record header, and no more
    else:
        if ca:
            s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="localhost")
        s.send(b"GET /metr" if i % 2 else full)
    held.append(s)
time.sleep(seconds)
EOF
stalled_ts() {
	sed -n 's/^flowacct_snapshot_timestamp_seconds \([0-9]*\).*/\1/p' "$tmp/stalled.txt"
}
cpu_ticks() { # pid: user + system time so far, in clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
check_stalled() {
	local url=$1 ca=$2 fa=$3 port auth= t slowest=0 first advanced stall_pid i ticks
	shift 3
	port=${url#*://127.0.0.1:}
	port=${port%%/*}
	[ "${1:-}" = -u ] && auth=$2
	python3 "$tmp/stall.py" "$port" 4 "$ca" "$auth" &
	stall_pid=$!
	pids+=($stall_pid)
	sleep 0.5
	ticks=$(cpu_ticks "$fa")
	for i in $(seq 7); do
		t=$(curl -s -o "$tmp/stalled.txt" -m 5 -w '%{http_code} %{time_total}' \
			${ca:+--cacert "$ca"} "$@" "$url")
		[ "${t% *}" = 200 ] || fail "a scrape beside stalled clients answered ${t% *}"
		slowest=$(python3 -c "print(max($slowest, ${t#* }))")
		[ "$i" = 1 ] && first=$(stalled_ts)
		sleep 0.5
	done
	ticks=$(($(cpu_ticks "$fa") - ticks))
	wait $stall_pid || fail "the stalled clients could not connect"
	advanced=$(($(stalled_ts) - first))
	echo "beside 8 stalled clients${ca:+ (TLS)}: slowest scrape ${slowest}s, snapshots advanced ${advanced}s in about 3.5 s, flowacct used $ticks of $(($(getconf CLK_TCK) * 35 / 10)) clock ticks"
	[ "$advanced" -ge 2 ] || fail "intervals stopped while clients stalled"
	[ "$ticks" -lt $(($(getconf CLK_TCK) * 35 / 20)) ] || fail "flowacct spun while clients stalled"
	python3 -c "import sys; sys.exit($slowest > 1)" || fail "a scrape took ${slowest}s"
	echo "PASS: stalled clients${ca:+ (TLS)} block neither scrapes nor intervals"
}
