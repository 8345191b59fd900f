#!/usr/bin/env python3
"""scale_gen.py PAIRS: PAIRS connected TCP pairs over loopback, each end moving one byte
a second, until killed. Prints "ready" once every pair is connected. One process holds at
most PAIRS * 2 + 1 descriptors: make bench-scale starts several."""
import os
import selectors
import socket
import sys
import time

pairs = int(sys.argv[1])
lst = socket.socket()
lst.bind(("127.0.0.1", 0))
lst.listen(4096)
addr = lst.getsockname()
ends = []
for _ in range(pairs):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(addr)
    except BlockingIOError:
        pass
    a, _ = lst.accept()
    a.setblocking(False)
    ends += [c, a]
print("ready", flush=True)
sel = selectors.DefaultSelector()
for s in ends:
    sel.register(s, selectors.EVENT_READ)
next_tick = time.monotonic()
while True:
    now = time.monotonic()
    if now >= next_tick:
        for s in ends:
            try:
                s.send(b"x")
            except BlockingIOError:
                pass
        next_tick += 1.0
    for key, _ in sel.select(timeout=max(0.0, next_tick - time.monotonic())):
        try:
            key.fileobj.recv(4096)
        except BlockingIOError:
            pass
