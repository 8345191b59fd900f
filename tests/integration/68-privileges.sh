#!/usr/bin/env bash
# timeout: 90
# Least privilege, read back from /proc/PID/status while flowacct runs: after set-up it
# keeps CAP_BPF alone (permitted, effective and bounding sets), with no_new_privs; its
# own threads keep nothing; --user switches uid, gid and groups; and it still counts
# exactly. Without root, the capabilities the README names for the backend the probe
# picks are enough. A --user that does not exist is a usage error.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup privileges python3 setpriv curl
bpf_only=0000008000000000 # 1 << CAP_BPF (39)

status() { grep -E "^$2:" "/proc/$1/status" | cut -f2- | tr -d '\t'; }
# moves N bytes while flowacct ($fa, writing JSON to FILE) runs, stops it, and checks it
# counted them exactly: counted_exactly FILE N WHAT
counted_exactly() {
	local port got
	port=$(fa_talk "$2")
	sleep 0.8
	kill -INT "$fa"
	wait "$fa"
	got=$(fa_tx_of "$1" "$port")
	[ "$got" = "$2" ] || fail "$3: $got bytes counted, $2 sent"
	echo "PASS $3: counts exactly ($2 bytes)"
}

### --user nobody, with the JSON file writer's thread and the metrics endpoint's on a
### port below 1024 (bound with CAP_NET_BIND_SERVICE during set-up, which then goes)
lowport=$(shuf -i 600-1000 -n 1)
"$flowacct" -j --user nobody --json-file "$tmp/latest.json" --prometheus "127.0.0.1:$lowport" 0.3 \
	>"$tmp/u.json" 2>"$tmp/u.err" &
fa=$!
pids+=("$fa")
chmod 777 "$tmp"
fa_started "$tmp/u.err"
sleep 0.5
[ "$(status $fa Uid)" = "65534655346553465534" ] || fail "--user nobody: Uid is '$(status $fa Uid)'"
[ "$(status $fa Gid)" = "65534655346553465534" ] || fail "--user nobody: Gid is '$(status $fa Gid)'"
for set in CapPrm CapEff CapBnd; do
	[ "$(status $fa $set)" = $bpf_only ] || fail "--user nobody: $set is $(status $fa $set), not CAP_BPF alone"
done
[ "$(status $fa CapInh)" = 0000000000000000 ] && [ "$(status $fa CapAmb)" = 0000000000000000 ] ||
	fail "--user nobody: inheritable or ambient capabilities left"
[ "$(status $fa NoNewPrivs)" = 1 ] || fail "--user nobody: no_new_privs is not set"
echo "PASS --user nobody: uid/gid 65534, CapPrm = CapEff = CapBnd = CAP_BPF, no_new_privs"
threads=0
for t in /proc/$fa/task/*; do
	comm=$(cat "$t/comm")
	eff=$(grep '^CapEff:' "$t/status" | cut -f2)
	prm=$(grep '^CapPrm:' "$t/status" | cut -f2)
	if [ "${t##*/}" = "$fa" ]; then
		[ "$eff" = $bpf_only ] || fail "the main thread has capabilities $eff"
	else
		[ "$eff $prm" = "0000000000000000 0000000000000000" ] ||
			fail "thread $comm keeps capabilities: effective $eff, permitted $prm"
	fi
	threads=$((threads + 1))
done
[ $threads -ge 3 ] || fail "expected the main, JSON file and metrics server threads, found $threads"
curl -sf -o "$tmp/page" "http://127.0.0.1:$lowport/metrics" && grep -q '^flowacct_build_info' "$tmp/page" ||
	fail "no metrics page on port $lowport"
echo "PASS every thread: the main one CAP_BPF alone, the $((threads - 1)) others (JSON file writer, metrics server on port $lowport) none"
counted_exactly "$tmp/u.json" 54321 "as nobody"

### as root, without --user: the same sets, uid 0
"$flowacct" -j 0.3 >"$tmp/r.json" 2>"$tmp/r.err" &
fa=$!
pids+=("$fa")
fa_started "$tmp/r.err"
sleep 0.3
[ "$(status $fa Uid)" = 0000 ] || fail "without --user the uid changed: $(status $fa Uid)"
[ "$(status $fa CapEff)" = $bpf_only ] && [ "$(status $fa CapBnd)" = $bpf_only ] ||
	fail "as root: CapEff $(status $fa CapEff), CapBnd $(status $fa CapBnd)"
echo "PASS as root: uid 0, CapEff = CapBnd = CAP_BPF after set-up"
kill -INT "$fa"
wait "$fa"

### without root: the capabilities the backend needs, as the probe finds it
fa_probe_backends
backend=${probe_yes[0]}
case $backend in
tracepoint) caps=+bpf,+perfmon,+net_admin ;; # its cgroup programs need CAP_NET_ADMIN
*) caps=+bpf,+perfmon ;;
esac
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,$caps --ambient-caps=-all,$caps \
	"$flowacct" -j 0.3 >"$tmp/n.json" 2>"$tmp/n.err" &
fa=$!
pids+=("$fa")
fa_started "$tmp/n.err"
counted_exactly "$tmp/n.json" 4242 "uid 65534 with only ${caps//+/} ($backend backend)"

if [ "$backend" = tracepoint ]; then
	set +e
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+bpf,+perfmon \
		--ambient-caps=-all,+bpf,+perfmon "$flowacct" -b --backend tracepoint 0.3 1 2>&1)
	rc=$?
	set -e
	[ $rc -eq 1 ] && grep -q "cgroup programs need CAP_NET_ADMIN" <<<"$out" ||
		fail "tracepoint without CAP_NET_ADMIN: exit $rc, '$out'"
	echo "PASS tracepoint without CAP_NET_ADMIN: exit 1, naming CAP_NET_ADMIN"
fi

### a user that does not exist: a usage error, before anything is loaded
set +e
out=$("$flowacct" -b --user no-such-user-fa 1 1 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "^flowacct: --user no-such-user-fa: no such user" <<<"$out" ||
	fail "--user no-such-user-fa: exit $rc, '$out'"
echo "PASS --user no-such-user-fa: exit 2, one line"
echo "PASS: least privilege after set-up"
