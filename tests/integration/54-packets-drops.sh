#!/usr/bin/env bash
# timeout: 120
# --packets under a flood into a tiny ring: drops are reported, never silent, and the
# totals add up exactly: the ring's own count (tp_packets) equals what the sender sent,
# and frames read + frames dropped = sent, with every frame read on the sender's flow.
# V3 also reports queue freezes. The ring watches only the sending veth, in namespaces
# with IPv6 off, so nothing but the flood reaches it (ARP is kept out by the filter).
source "$(dirname "$0")/packets.bash"
pk_build
n=200000
a=fa-pk-da-$$
b=fa-pk-db-$$
for ns in "$a" "$b"; do
	pk_netns "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
ip link add pk-a netns "$a" type veth peer name pk-b netns "$b"
ip -n "$a" addr add 10.79.0.1/24 dev pk-a
ip -n "$b" addr add 10.79.0.2/24 dev pk-b
ip -n "$a" link set pk-a up
ip -n "$b" link set pk-b up

for v in 3 2; do
	port=$((5700 + v))
	pk_probe_start "$a" "$PK_TMP/v$v" -V $v -i pk-a -b 4096 -n 2 -t 10
	ip netns exec "$b" "$GEN" udp-recv $port $n 1000 >"$PK_TMP/recv$v" &
	sleep 0.2
	ip netns exec "$a" "$GEN" udp-send 10.79.0.2 $port $n 64 >"$PK_TMP/send$v"
	wait $!
	pk_probe_stop_all

	line=$(grep '^udp' "$PK_TMP/send$v")
	sent=$(pk_field "$line" sent)
	s=$(grep '^stats' "$PK_TMP/v$v")
	flow=$(pk_flow "$PK_TMP/v$v" udp "$(pk_field "$line" local)" "$(pk_field "$line" remote)")
	echo "V$v: sender: $line"
	echo "V$v: ring:   $s"
	echo "V$v: flow:   $flow"
	packets=$(pk_field "$s" packets)
	drops=$(pk_field "$s" drops)
	frames=$(pk_field "$s" frames)
	tx=$(pk_field "$flow" tx_packets)
	[ "$drops" -gt 0 ] || pk_fail "V$v: a 2-block ring under $n datagrams reported no drops"
	[ "$packets" = "$sent" ] || pk_fail "V$v: ring saw $packets packets, sender sent $sent"
	[ $((frames + drops)) = "$sent" ] ||
		pk_fail "V$v: read $frames + dropped $drops != sent $sent"
	[ "$tx" = "$frames" ] || pk_fail "V$v: flow has $tx of the $frames frames read"
	[ "$(pk_field "$s" unparsed)" = 0 ] && [ "$(pk_field "$s" other)" = 0 ] ||
		pk_fail "V$v: frames other than the flood"
	if [ $v = 3 ]; then
		[ "$(pk_field "$s" freezes)" -gt 0 ] || pk_fail "V3: a full ring reported no freezes"
	fi
done
echo PASS
