#!/usr/bin/env python3
"""Turns the frames of a pcap file into fuzz_pktparse seeds (see fuzz_pktparse.c for the
6-byte preamble). Frames of a cooked capture (LINUX_SLL2) also become SOCK_DGRAM-style
seeds (network header first, EtherType apart) and raw-IP ones, the forms the ring sees;
Ethernet frames also get 802.1Q and 802.1ad+802.1Q tags inserted (the test kernel has no
VLAN devices to capture them from).

usage: pcap2seeds.py PCAP OUTDIR [MAX_FRAMES]"""
import hashlib
import os
import struct
import sys

LINK_NETWORK, LINK_ETHERNET, LINK_SLL, LINK_SLL2, LINK_RAW_IP = range(5)
DLT = {1: LINK_ETHERNET, 113: LINK_SLL, 276: LINK_SLL2, 101: LINK_RAW_IP}


def frames(path):
    with open(path, 'rb') as f:
        hdr = f.read(24)
        magic = struct.unpack('<I', hdr[:4])[0]
        end = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        linktype = struct.unpack(end + 'I', hdr[20:24])[0] & 0x0fffffff
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, orig = struct.unpack(end + 'IIII', rec)
            yield DLT[linktype], f.read(incl), orig


def seed(link, pkttype, ethertype, frame, orig):
    extra = min(max(orig - len(frame), 0), 0xffff)
    return struct.pack('>BBHH', link, pkttype, ethertype, extra) + frame


def variants(link, frame, orig):
    if link == LINK_SLL2 and len(frame) >= 20:
        proto, pkttype = struct.unpack('>H', frame[:2])[0], frame[10]
        yield seed(LINK_SLL2, 0, 0, frame, orig)
        yield seed(LINK_NETWORK, pkttype, proto, frame[20:], orig - 20)
        yield seed(LINK_RAW_IP, pkttype, 0, frame[20:], orig - 20)
    elif link == LINK_ETHERNET and len(frame) >= 14:
        # loopback captures carry no direction: one seed sent, one received
        yield seed(LINK_ETHERNET, 4, 0, frame, orig)
        yield seed(LINK_ETHERNET, 0, 0, frame, orig)
        q = frame[:12] + b'\x81\x00\x00\x0a' + frame[12:]
        yield seed(LINK_ETHERNET, 0, 0, q, orig + 4)
        qinq = frame[:12] + b'\x88\xa8\x00\x14\x81\x00\x00\x1e' + frame[12:]
        yield seed(LINK_ETHERNET, 4, 0, qinq, orig + 8)
    else:
        yield seed(link, 0, 0, frame, orig)


def main():
    path, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1 << 30
    os.makedirs(out, exist_ok=True)
    for i, (link, frame, orig) in enumerate(frames(path)):
        if i >= limit:
            break
        for s in variants(link, frame, orig):
            name = hashlib.sha1(s).hexdigest()[:16]
            with open(os.path.join(out, name), 'wb') as f:
                f.write(s)


if __name__ == '__main__':
    main()
