#!/usr/bin/env python3
"""Regenerates the deliberately broken variants of bpf/flowacct.bpf.c that tests 62, 82
and 83 must catch, as patches against the current file (run from the tree's root after
changing bpf/flowacct.bpf.c, when a patch no longer applies):
  tests/vm/broken-kprobe-copied.patch            kprobe adds tcp_cleanup_rbuf's `copied`
  tests/integration/broken-tracepoint-recvmsg.patch  tracepoint counts TCP at recvmsg's return
"""
import difflib, re, sys

SRC = "bpf/flowacct.bpf.c"


def kprobe_copied(s):
    a = s.index('SEC("kprobe/tcp_cleanup_rbuf")')
    b = s.index('SEC("kprobe/skb_consume_udp")')
    return s[:a] + '''SEC("kprobe/tcp_cleanup_rbuf")
int BPF_KPROBE(tcp_cleanup_rbuf_kprobe, struct sock *sk, int copied)
{
	/* BROKEN on purpose: the classic design, adding the running total `copied` */
	account(sk, copied > 0 ? copied : 0, FA_DIR_RX, &no_peer);
	return 0;
}

''' + s[b:]


def tracepoint_recvmsg(s):
    early = re.search(r"\tif \(is_tcp\(sk\)\) /\*[^\n]*\n\t\treturn 0;\n", s)
    s = s[:early.start()] + ("\t(void)is_tcp; /* BROKEN on purpose: TCP counted at recvmsg's "
                             "return, as before */\n") + s[early.end():]
    body = re.search(r"(int BPF_PROG\(tcp_rcv_space_adjust_tp, struct sock \*sk\)\n\{\n)(.*?)(\n\})",
                     s, re.S)
    return (s[:body.end(1)] + "\treturn 0; /* BROKEN on purpose: see sock_recv_length_tp */" +
            s[body.start(3):])


def write(path, transform):
    old = open(SRC).read()
    new = transform(old)
    diff = difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                "a/" + SRC, "b/" + SRC)
    open(path, "w").writelines(diff)
    print("wrote", path)


write("tests/vm/broken-kprobe-copied.patch", kprobe_copied)
write("tests/integration/broken-tracepoint-recvmsg.patch", tracepoint_recvmsg)
