#!/usr/bin/env bash
# timeout: 240
# The metrics endpoint behind --web-config (the exporter toolkit's format): TLS from a CA
# made here with openssl, basic auth with bcrypt hashes made by libxcrypt (python3's crypt:
# one $2b$, one $2y$), flowacct running as nobody while its key file is readable by root
# alone. A stock Prometheus scrapes it over https with tls_config.ca_file and basic_auth:
# the generator's bytes arrive exact, up == 1 for both users, and up == 0 for a job with a
# wrong password. With curl: no or wrong credentials are 401 with the Basic challenge,
# plain HTTP to the TLS port gets no metrics, TLS 1.2 is refused under min_version TLS13,
# a password that passed is remembered (later scrapes cost no bcrypt) but a wrong one
# still fails, a flood of wrong passwords does not slow the others' scrapes, headers too
# large are 431, one address holds at most 16 connections, and 8 stalled clients (TLS
# handshakes never begun or left halfway included) delay neither scrapes nor intervals.
# A second endpoint requires client certificates (RequireAndVerifyClientCert) and rate
# limits: no certificate, a stranger's, or one not meant for clients is 403; the CA's
# client certificate is 200; the request past the burst is 429.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup prom-tls prometheus curl python3 openssl setpriv
source "$(dirname "$0")/prom.bash"
send_bytes=$((20 * 1024 * 1024 + 3))
recv_bytes=$((1024 * 1024 + 9))

# ---- a CA, the server's certificate, and clients' ----
pki=$tmp/pki
mkdir "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 2 \
	-subj /CN=flowacct-test-ca 2>/dev/null || fail "openssl could not make the CA"
issue() { # name extensions [-selfsigned]: $pki/name.crt and .key
	openssl req -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" \
		-subj "/CN=$1" 2>/dev/null || fail "openssl could not make $1's key"
	printf '%b' "$2" >"$pki/$1.ext"
	if [ "${3:-}" = -selfsigned ]; then
		openssl x509 -req -in "$pki/$1.csr" -key "$pki/$1.key" -days 2 \
			-extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
	else
		openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
			-CAcreateserial -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
	fi || fail "openssl could not sign $1's certificate"
}
issue server 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
issue client 'extendedKeyUsage=clientAuth\n'
issue stranger 'extendedKeyUsage=clientAuth\n' -selfsigned
# the key is root's alone; flowacct reads it before it becomes nobody
chmod 755 "$tmp" "$pki"
chmod 600 "$pki/server.key"
if setpriv --reuid=65534 --regid=65534 --clear-groups cat "$pki/server.key" >/dev/null 2>&1; then
	fail "nobody can read the server's key: the test would prove nothing"
fi

# hash PASSWORD PREFIX: bcrypt by libxcrypt, cost 12 (a check costs about 0.2 s, so a
# remembered one shows), in the PREFIX flavour ($2b or $2y)
hash() {
	python3 -W ignore::DeprecationWarning -c '
import crypt, sys
salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 12)
h = crypt.crypt(sys.argv[1], sys.argv[2] + salt[3:])
assert h and h.startswith(sys.argv[2] + "$12$"), h
print(h)' "$1" "$2"
}
alice_hash=$(hash alice-pw '$2b')
bob_hash=$(hash bob-pw '$2y')
echo "alice: $alice_hash, bob: $bob_hash"

# relative file names start at the web config's directory
cat >"$tmp/web.yml" <<EOF
tls_server_config:
  cert_file: pki/server.crt
  key_file: pki/server.key
  min_version: TLS13
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
basic_auth_users:
  alice: $alice_hash
  bob: '$bob_hash'
EOF

fa_port=$(free_port)
metrics=https://127.0.0.1:$fa_port/metrics
tls=(--cacert "$pki/ca.crt")
"$flowacct" -b --prometheus "127.0.0.1:$fa_port" --prometheus-pids --web-config "$tmp/web.yml" \
	--user nobody 1 >"$tmp/flowacct.log" 2>&1 &
pids+=($!)
fa_pid=$!
wait_endpoint "$metrics" $fa_pid "$tmp/flowacct.log" "${tls[@]}" -u alice:alice-pw
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$fa_pid/status")
[ "$uid" = 65534 ] || fail "flowacct runs as uid $uid, not nobody's 65534"
echo "PASS: flowacct as nobody serves TLS with a key only root may read"

# code CURL_ARGS...: the status of GET /metrics over TLS
code() {
	curl -s -o /dev/null -w '%{http_code}' "${tls[@]}" "$@" "$metrics" || true
}
curl -s -D "$tmp/401.headers" -o /dev/null "${tls[@]}" "$metrics"
head -1 "$tmp/401.headers" | grep -q '^HTTP/1.1 401' || fail "no credentials: $(head -1 "$tmp/401.headers")"
grep -qi '^WWW-Authenticate: Basic realm="flowacct"' "$tmp/401.headers" ||
	fail "a 401 without WWW-Authenticate: Basic realm=\"flowacct\": $(cat "$tmp/401.headers")"
grep -qi '^X-Content-Type-Options: nosniff' "$tmp/401.headers" || fail "no configured header on the 401"
for creds in alice:wrong alice:bob-pw bob:alice-pw mallory:alice-pw : alice:; do
	c=$(code -u "$creds")
	echo "credentials '$creds': $c"
	[ "$c" = 401 ] || fail "credentials '$creds' answered $c, not 401"
done
c=$(code -H 'Authorization: Bearer alice-pw')
[ "$c" = 401 ] || fail "a Bearer token answered $c, not 401"
curl -s -D "$tmp/200.headers" -o "$tmp/page.txt" "${tls[@]}" -u alice:alice-pw "$metrics"
head -1 "$tmp/200.headers" | grep -q '^HTTP/1.1 200' || fail "alice: $(head -1 "$tmp/200.headers")"
grep -q '^flowacct_build_info{' "$tmp/page.txt" || fail "alice's 200 has no metrics"
grep -qi '^X-Content-Type-Options: nosniff' "$tmp/200.headers" || fail "no configured header on the 200"
echo "PASS: no or wrong credentials 401 with the Basic challenge, alice (\$2b\$) 200"

# bob ($2y$): his first check costs a bcrypt, the next ones none; a wrong password after a
# right one still fails
t_first=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "${tls[@]}" -u bob:bob-pw "$metrics")
[ "${t_first% *}" = 200 ] || fail "bob (\$2y\$) answered ${t_first% *}"
t_again=0
for _ in 1 2 3; do
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "${tls[@]}" -u bob:bob-pw "$metrics")
	[ "${t% *}" = 200 ] || fail "bob's second scrape answered ${t% *}"
	t_again=$(python3 -c "print(max($t_again, ${t#* }))")
done
echo "bob: first scrape ${t_first#* }s (bcrypt), then at most ${t_again}s (remembered)"
python3 -c "import sys; sys.exit(not (${t_first#* } >= 0.1 and 2 * $t_again < ${t_first#* }))" ||
	fail "a remembered password is not faster than a bcrypt check"
[ "$(code -u bob:bob-px)" = 401 ] || fail "a wrong password after bob's right one was let in"
echo "PASS: bob (\$2y\$) 200, remembered; a wrong password after it still 401"

# wrong passwords queue on the auth thread, never on the server's: scrapes with a
# remembered password stay fast while 6 clients keep sending wrong ones
cat >"$tmp/flooder.sh" <<EOF
end=\$((SECONDS + 4)); n=0
while [ \$SECONDS -lt \$end ]; do
	curl -s -o /dev/null -w '%{http_code}\n' --cacert "$pki/ca.crt" -u alice:guess\$n "$metrics"
	n=\$((n + 1))
done
EOF
flood=()
for i in 1 2 3 4 5 6; do
	bash "$tmp/flooder.sh" >"$tmp/flood.$i" &
	flood+=($!)
	pids+=($!)
done
sleep 0.5
slowest=0
for _ in $(seq 6); do
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "${tls[@]}" -u alice:alice-pw "$metrics")
	[ "${t% *}" = 200 ] || fail "alice beside the flood answered ${t% *}"
	slowest=$(python3 -c "print(max($slowest, ${t#* }))")
	sleep 0.3
done
wait "${flood[@]}"
wrong=$(cat "$tmp"/flood.* | grep -c '^401$' || true)
other=$(cat "$tmp"/flood.* | grep -vc '^401$' || true)
echo "beside $wrong wrong passwords in 4 s: alice's slowest scrape ${slowest}s"
[ "$other" = 0 ] || fail "$other wrong passwords were not answered 401: $(sort "$tmp"/flood.* | uniq -c)"
[ "$wrong" -ge 6 ] || fail "the flood sent only $wrong wrong passwords"
python3 -c "import sys; sys.exit($slowest > 0.5)" || fail "wrong passwords slowed a scrape to ${slowest}s"
echo "PASS: wrong passwords cost the auth thread, not the others' scrapes"

out=$(curl -s -m 5 "http://127.0.0.1:$fa_port/metrics" 2>&1 || true)
grep -q flowacct_ <<<"$out" && fail "plain HTTP to the TLS port got metrics"
curl -s -o /dev/null -m 5 "${tls[@]}" -u alice:alice-pw --tls-max 1.2 "$metrics" &&
	fail "TLS 1.2 was accepted under min_version: TLS13"
curl -sv -o /dev/null "${tls[@]}" -u alice:alice-pw "$metrics" 2>&1 | grep -q 'SSL connection using TLSv1.3' ||
	fail "the scrape did not use TLS 1.3"
c=$(code -u alice:alice-pw -H "X-Pad: $(head -c 20000 /dev/zero | tr '\0' a)")
[ "$c" = 431 ] || fail "a 20000-byte header answered $c, not 431"
echo "PASS: plain HTTP gets nothing, TLS 1.2 refused, 20 kB of headers 431"

# one address holds at most 16 connections; another still gets in
python3 - "$fa_port" "$tmp/held" <<'EOF' &
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(16)]
open(sys.argv[2], "w").close()
time.sleep(3)
EOF
holder=$!
pids+=($holder)
for _ in $(seq 50); do
	[ -e "$tmp/held" ] && break
	sleep 0.1
done
sleep 0.3
c=$(code -m 3 -u alice:alice-pw)
c2=$(code -m 3 -u alice:alice-pw --interface 127.0.0.2)
echo "16 connections held from 127.0.0.1: a 17th from there: $c, one from 127.0.0.2: $c2"
[ "$c" = 000 ] || fail "a 17th connection from one address answered $c"
[ "$c2" = 200 ] || fail "a connection from another address answered $c2 beside the 16"
wait $holder
echo "PASS: at most 16 connections per address"

check_stalled "$metrics" "$pki/ca.crt" $fa_pid -u alice:alice-pw

# ---- a real Prometheus, over https with basic auth ----
job() { # name user password
	cat <<EOF
  - job_name: $1
    scheme: https
    tls_config:
      ca_file: $pki/ca.crt
    basic_auth:
      username: $2
      password: $3
    static_configs:
      - targets: ['127.0.0.1:$fa_port']
EOF
}
{
	printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n'
	job flowacct alice alice-pw
	job bob bob bob-pw
	job wrongpw alice not-alice-pw
} >"$tmp/prometheus.yml"
prom_start "$tmp/prometheus.yml"
start_pair main "$send_bytes" "$recv_bytes"
wait_pair main $gen_pid
echo "generator pid $gen_pid sent $send_bytes, received $recv_bytes; sink pid $sink_pid"
for j in flowacct bob; do
	gen="job=\"$j\",pid=\"$gen_pid\",comm=\"fa_promgen\",proto=\"tcp\""
	wait_value "flowacct_process_tx_bytes_total{$gen}" "$send_bytes"
	wait_value "flowacct_process_rx_bytes_total{$gen}" "$recv_bytes"
	wait_value "flowacct_process_rx_bytes_total{job=\"$j\",pid=\"$sink_pid\",proto=\"tcp\"}" \
		"$send_bytes"
	wait_value "up{job=\"$j\"}" 1
done
wait_value 'up{job="wrongpw"}' 0
echo "PASS: Prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3) scraped the exact bytes over TLS with basic auth"

# ---- client certificates, and a rate limit ----
cat >"$tmp/web-mtls.yml" <<EOF
tls_server_config:
  cert_file: $pki/server.crt
  key_file: $pki/server.key
  client_ca_file: $pki/ca.crt
  client_auth_type: RequireAndVerifyClientCert
rate_limit:
  interval: 1h
  burst: 6
EOF
m_port=$(free_port)
metrics=https://127.0.0.1:$m_port/metrics
"$flowacct" -b --prometheus "127.0.0.1:$m_port" --web-config "$tmp/web-mtls.yml" 1 \
	>"$tmp/flowacct-mtls.log" 2>&1 &
pids+=($!)
# ready once an interval has ended, told by its log: every request counts against the burst
for _ in $(seq 100); do
	grep -q 'interval' "$tmp/flowacct-mtls.log" && break
	kill -0 $! 2>/dev/null || { cat "$tmp/flowacct-mtls.log"; fail "flowacct exited"; }
	sleep 0.2
done
sleep 0.5
got=
for who in none stranger server client client client client; do
	case $who in
	none) c=$(code) ;;
	*) c=$(code --cert "$pki/$who.crt" --key "$pki/$who.key") ;;
	esac
	got+="$who:$c "
done
echo "client certificates, then past the burst of 6: $got"
[ "$got" = "none:403 stranger:403 server:403 client:200 client:200 client:200 client:429 " ] ||
	fail "want none:403 stranger:403 server:403 (not a client certificate), client:200 x3, client:429"
echo "PASS: RequireAndVerifyClientCert lets in the CA's client certificate alone; the burst is 6"
