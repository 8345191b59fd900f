#!/usr/bin/env bash
# timeout: 120
# Every option with every kind of bad value (empty, negative, zero, overflow, trailing
# garbage, huge, out of range, a thing that does not exist), from one table: each gets
# the documented exit code (2: bad usage; 1: a runtime failure, such as a port taken)
# and, first, one line that names the option and says what is wrong. Nothing is loaded
# for a usage error: it is caught before the kernel is touched. --web-config's files are
# made here, each wrong in one way; the unreadable ones are read by root without
# CAP_DAC_OVERRIDE (a second table, run under setpriv).
set -uo pipefail
source "$(dirname "$0")/common.bash"
fa_setup bad-options python3 openssl setpriv
# Every row runs in $tmp: a flowacct that took an option for a file's name (--json-file -b)
# would write that file where it runs, which must not be the tree the suite runs from.
flowacct=$(realpath -- "$flowacct")
cd "$tmp" || fail "cannot enter $tmp"
busy=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# a listener holds the port for the "port taken" row
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(120)' "$busy" &
pids+=($!)
sleep 0.3

# --web-config's files: one per way of being wrong, beside a certificate and key that
# work; the *000 ones are mode 000, read without CAP_DAC_OVERRIDE (nodac_table below).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/server.key" -out "$tmp/server.crt" \
	-days 2 -subj /CN=localhost 2>/dev/null || fail "openssl could not make a certificate"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/other.key" 2>/dev/null ||
	fail "openssl could not make a key"
cp "$tmp/server.crt" "$tmp/cert000.pem"
printf 'tls_server_config: [\n' >"$tmp/web-bad-yaml.yml"
printf 'tls_server_config:\n  cert_filename: server.crt\n' >"$tmp/web-unknown.yml"
printf 'tls_server_config:\n  key_file: server.key\n' >"$tmp/web-key-only.yml"
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n' >"$tmp/web-mismatch.yml"
printf 'tls_server_config:\n  cert_file: cert000.pem\n  key_file: server.key\n' >"$tmp/web-cert000.yml"
printf 'basic_auth_users:\n  alice: s3cret\n' >"$tmp/web-plain-hash.yml"
printf 'basic_auth_users:\n  alice: $2y$10$short\n' >"$tmp/web-short-hash.yml"
cp "$tmp/web-key-only.yml" "$tmp/web000.yml"
chmod 000 "$tmp/cert000.pem" "$tmp/web000.yml"
web="-b --prometheus 9100 --web-config"

# exit | first line (an extended regex, after "flowacct: ") | arguments
table=$(cat <<EOF
2|invalid PID ''|-p ''
2|invalid PID '-1'|-p -1
2|invalid PID '0'|-p 0
2|invalid PID '99999999999'|-p 99999999999
2|invalid PID '12x'|-p 12x
2|no process with PID 2147483647|-b -p 2147483647 1 1
2|--by takes flow, process, service, container or cgroup, not ''|--by ''
2|--by takes flow, process, service, container or cgroup, not 'pod'|--by pod
2|--sort takes rate, rx, tx, total, pid, comm, retrans or rtt, not 'size'|-s size
2|--sort takes rate, rx, tx, total, pid, comm, retrans or rtt, not ''|--sort ''
2|--rows takes a positive number, not '0'|-r 0
2|--rows takes a positive number, not '-3'|-r -3
2|--rows takes a positive number, not '1x'|-r 1x
2|--rows takes a positive number, not '99999999999999999999'|-r 99999999999999999999
2|--backend takes auto, fentry, kprobe or tracepoint, not 'ebpf'|--backend ebpf
2|--max-flows takes a number from 1 to 16777216, not '0'|--max-flows 0
2|--max-flows takes a number from 1 to 16777216, not '16777217'|--max-flows 16777217
2|--max-flows takes a number from 1 to 16777216, not '10k'|--max-flows 10k
2|--json-file needs a path|--json-file ''
2|--json-file needs a path, not the option '-b' \(for a file of that name write \./-b\)|--json-file -b 0.2 1
2|--json-file needs a path, not the option '--batch'|--json-file --batch 0.2 1
2|--web-config needs a path, not the option '-q'|--prometheus 9100 --web-config -q
2|--cgroup needs a path, not the option '-4' \(for a cgroup of that name write /-4\)|--cgroup -4
2|--user needs a user name, not the option '-v'|--user -v
2|--host-root needs a path, not the option '--quiet'|--host-root --quiet
2|--filter needs a text, not the option '-b' \(to filter on that text write --filter=-b\)|--filter -b 0.2 1
1|--json-file /proc/x.json: cannot create files in /proc|-b --json-file /proc/x.json 0.2 1
2|--rows does not apply to -j, which writes every flow that moved, each interval: --by, --sort, --reverse, --rows, --filter and --bits shape the tables of -b and the live view \(filter the JSON with jq\)$|-j -r 5 0.2 1
2|--filter does not apply to -j|-j --filter ssh 0.2 1
2|--by does not apply to -j|-j --by process 0.2 1
2|--sort does not apply to -j|-j -s rx 0.2 1
2|--reverse does not apply to -j|-j -R 0.2 1
2|--bits does not apply to -j|-j --bits 0.2 1
2|--sort does not apply to -j|-j --json-file $tmp/x.json --sort tx 0.2 1
2|--no-stdout leaves nothing to show: add --prometheus or --json-file|--no-stdout
2|--no-stdout writes nothing to standard output: it excludes --json|--no-stdout -j --prometheus 9100 0.2 1
2|--no-stdout writes nothing to standard output: it excludes --batch|--no-stdout -b --json-file $tmp/x.json
2|--rows shapes the tables of -b and the live view, and --no-stdout shows none|--no-stdout --prometheus 9100 -r 3 0.2 1
2|--delay takes a number of seconds from 0.01 to 86400, not '0'|-d 0
2|--delay takes a number of seconds from 0.01 to 86400, not ''|--delay ''
2|--delay takes a number of seconds from 0.01 to 86400, not '1s'|-d 1s
2|the interval is given twice, by -d and as '2': give one|-d 1 2
2|--iterations takes a positive number, not '0'|-n 0
2|--iterations takes a positive number, not '-1'|--iterations -1
2|the count is given twice, by -n and as '3': give one|-n 2 1 3
2|--prometheus '': the port must be 1..65535|--prometheus ''
2|--prometheus '0': the port must be 1..65535|--prometheus 0
2|--prometheus '65536': the port must be 1..65535|--prometheus 65536
2|--prometheus '80x': the port must be 1..65535|--prometheus 80x
2|--prometheus 'abc': the port must be 1..65535|-b --prometheus abc 0.2 1
2|--prometheus '::1:80': write IPv6 addresses in brackets|--prometheus ::1:80
2|--prometheus '\[::1': expected \[IPV6\]:PORT|--prometheus [::1
2|--prometheus-flows needs --prometheus|--prometheus-flows
2|--prometheus-pids needs --prometheus|--prometheus-pids
2|--prometheus-max-names takes a number from 1 to 100000, not ''|--prometheus 9100 --prometheus-max-names ''
2|--prometheus-max-names takes a number from 1 to 100000, not '100001'|--prometheus 9100 --prometheus-max-names 100001
2|--prometheus-max-names bounds the series by name|--prometheus-max-names 5
2|--web-config needs a path|--prometheus 9100 --web-config ''
2|--web-config configures the --prometheus endpoint: it needs --prometheus|--web-config $tmp/web-unknown.yml
2|--web-config /no-such-web-config-fa.yml: No such file or directory: give the path of a web config file|$web /no-such-web-config-fa.yml 1 1
2|--web-config $tmp: .*: give a regular file|$web $tmp 1 1
2|--web-config $tmp/web-bad-yaml.yml: line 2, column 1: .*: not valid YAML|$web $tmp/web-bad-yaml.yml 1 1
2|--web-config $tmp/web-unknown.yml: line 2: tls_server_config.cert_filename: unknown key|$web $tmp/web-unknown.yml 1 1
2|--web-config $tmp/web-unknown.yml: line 2: tls_server_config.cert_filename: unknown key|-b --prometheus 9100 --web.config.file $tmp/web-unknown.yml 1 1
2|--web-config $tmp/web-key-only.yml: tls_server_config: no cert_file \(or cert\): give the server's certificate|$web $tmp/web-key-only.yml 1 1
2|--web-config $tmp/web-mismatch.yml: tls_server_config: the certificate and key do not load \(GnuTLS: .*\): give PEM files|$web $tmp/web-mismatch.yml 1 1
2|--web-config $tmp/web-plain-hash.yml: line 2: basic_auth_users.alice: not a bcrypt hash \(\\\$2y\\\$, \\\$2b\\\$ or \\\$2a\\\$|$web $tmp/web-plain-hash.yml 1 1
2|--web-config $tmp/web-short-hash.yml: line 2: basic_auth_users.alice: not a bcrypt hash|$web $tmp/web-short-hash.yml 1 1
2|--tpacket-version takes 2 or 3, not '4'|--tpacket-version 4
2|--ring-block-size takes a multiple of 4096 up to 1 GiB, not '4095'|--ring-block-size 4095
2|--ring-block-size takes a multiple of 4096 up to 1 GiB, not '2147483648'|--ring-block-size 2147483648
2|--ring-blocks takes 1 to 65536, not '0'|--ring-blocks 0
2|--ring-blocks takes 1 to 65536, not '65537'|--ring-blocks 65537
2|--ring-block-timeout takes 1 to 60000 ms, not '0'|--ring-block-timeout 0
2|--ring-block-timeout takes 1 to 60000 ms, not '60001'|--ring-block-timeout 60001
2|--packets=nosuchif0: no such interface|-b --packets=nosuchif0 1 1
2|-i nosuchif0: no such interface \(ip link lists them\)|-b -i nosuchif0 1 1
2|-i nosuchif0: no such interface|-b --interface nosuchif0 1 1
2|-i needs an interface name|-i ''
2|-i needs an interface name, not the option '-b'|-i -b
2|-i 'abcdefghijklmnop': an interface name has at most 15 bytes|-i abcdefghijklmnop
2|--linger takes a number of seconds from 0 to 3600, not '-1'|--linger -1
2|--linger takes a number of seconds from 0 to 3600, not '3601'|--linger 3601
2|--linger takes a number of seconds from 0 to 3600, not '1s'|--linger 1s
2|--linger takes a number of seconds from 0 to 3600, not 'nan'|--linger nan
2|--linger takes a number of seconds from 0 to 3600, not ''|--linger ''
2|--audit checks every TCP socket: it cannot be combined with .*-i|--audit -i lo
2|--cgroup needs a path|--cgroup ''
2|--cgroup /no-such-cgroup-fa: no such cgroup under|-b --cgroup /no-such-cgroup-fa 1 1
2|--host-root takes an absolute path, not 'host'|--host-root host
2|--host-root /no-such-dir-fa: No such file or directory|-b --host-root /no-such-dir-fa 1 1
2|--user needs a user name|--user ''
2|--user no-such-user-fa: no such user|-b --user no-such-user-fa 1 1
2|--audit checks every TCP socket: it cannot be combined with|--audit --udp
2|--json and --batch exclude each other|-j -b
2|interval must be a number of seconds from 0.01 to 86400, not '0'|0
2|interval must be a number of seconds from 0.01 to 86400, not '1e9'|1e9
2|interval must be a number of seconds from 0.01 to 86400, not 'nan'|nan
2|interval must be a number of seconds from 0.01 to 86400, not '1s'|1s
2|count must be a positive number, not '0'|1 0
2|count must be a positive number, not '2x'|1 2x
2|unexpected argument '3'|1 2 3
2|unknown option '--bogus'|--bogus
2|option '-s' needs an argument|-s
1|--prometheus 127.0.0.1:$busy: .*Address already in use|-b --prometheus 127.0.0.1:$busy 0.3 1
EOF
)
# Files root may not read: run as root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
nodac_table=$(cat <<EOF
2|--web-config $tmp/web000.yml: Permission denied: make it readable by the user flowacct starts as|$web $tmp/web000.yml 1 1
2|--web-config $tmp/web-cert000.yml: tls_server_config.cert_file $tmp/cert000.pem: Permission denied: make it readable|$web $tmp/web-cert000.yml 1 1
EOF
)
failed=0 n=0
# run_table [RUNNER]: the rows on stdin, each command after RUNNER
run_table() {
	while IFS='|' read -r want msg args; do
		n=$((n + 1))
		out=$(eval "${1:-} \"\$flowacct\" $args" 2>&1 </dev/null)
		rc=$?
		first=$(grep -v '^flowacct: \(backend .* skipped\|using backend\)' <<<"$out" | head -1)
		if [ "$rc" = "$want" ] && grep -qE -- "^flowacct: $msg" <<<"$first"; then
			echo "PASS exit $rc: flowacct $args"
		else
			echo "FAIL flowacct $args: want exit $want and /$msg/, got exit $rc, first line '$first'"
			failed=$((failed + 1))
		fi
		# a usage error is said before anything else: no backend was tried
		if [ "$want" = 2 ] && grep -q 'using backend\|backend .* skipped' <<<"$out"; then
			echo "FAIL flowacct $args: a usage error found only after loading"
			failed=$((failed + 1))
		fi
	done
}
run_table <<<"$table"
# `--json-file -b` once took -b for the file's name: it made a file named -b and ran
n=$((n + 1))
(cd "$tmp" && "$flowacct" --json-file -b 0.2 1 >/dev/null 2>&1)
if [ -e "$tmp/-b" ]; then
	echo "FAIL flowacct --json-file -b made a file named -b"
	failed=$((failed + 1))
else
	echo "PASS flowacct --json-file -b: no file named -b"
fi
run_table "setpriv --bounding-set -dac_override,-dac_read_search" <<<"$nodac_table"
[ $failed -eq 0 ] || fail "$failed of $n bad inputs were not handled as documented"
echo "PASS: $n bad inputs, each one line and its exit code"
