#!/usr/bin/env bash
# timeout: 60
# --packets without CAP_NET_RAW (root with that one capability dropped from the bounding
# set): the ring refuses to start with -EPERM and a message naming CAP_NET_RAW, and
# flowacct exits 1 with such a message, rather than running without packet counts.
source "$(dirname "$0")/packets.bash"
pk_build
nocap=(setpriv --bounding-set -net_raw --inh-caps -net_raw)

rc=0
"${nocap[@]}" "$PROBE" >"$PK_TMP/out" 2>"$PK_TMP/err" || rc=$?
echo "pktring_probe: exit $rc: $(cat "$PK_TMP/err")"
[ $rc = 1 ] || pk_fail "pktring_probe without CAP_NET_RAW: exit $rc, want 1"
grep -q CAP_NET_RAW "$PK_TMP/err" || pk_fail "the message does not name CAP_NET_RAW"

FLOWACCT=${FLOWACCT:-$FA_ROOT/flowacct}
[ -x "$FLOWACCT" ] || pk_fail "no flowacct binary at $FLOWACCT (run make first)"
rc=0
"${nocap[@]}" "$FLOWACCT" --packets 1 1 >"$PK_TMP/out" 2>"$PK_TMP/err" || rc=$?
echo "flowacct --packets: exit $rc: $(cat "$PK_TMP/err")"
[ $rc = 1 ] || pk_fail "flowacct --packets without CAP_NET_RAW: exit $rc, want 1"
grep -q CAP_NET_RAW "$PK_TMP/err" || pk_fail "flowacct's message does not name CAP_NET_RAW"
echo PASS
