#!/usr/bin/env python3
"""TCP connections of every kind flowacct --audit must judge, left open in the states the
traffic leaves them in, so the audit sees them: prints "READY <sockets>" and sleeps until
killed. Each socket's counts are the kernel's to tell (sock_diag), not this script's."""
import os, select, socket, sys, time

keep = []


def pair(family, host, connect_to=None):
    srv = socket.socket(family)
    srv.bind((host, 0))
    srv.listen()
    port = srv.getsockname()[1]
    c = socket.create_connection((connect_to or host, port))
    a, _ = srv.accept()
    srv.close()
    keep.extend([c, a])
    return c, a


def read_exactly(s, n, flags=0):
    got = 0
    while got < n:
        got += len(s.recv(min(65536, n - got), flags))


# plain both ways, over IPv4, IPv6 and v4-mapped IPv6
for fam, host, to in ((socket.AF_INET, "127.0.0.1", None), (socket.AF_INET6, "::1", None),
                      (socket.AF_INET6, "::", "::ffff:127.0.0.1")):
    c, a = pair(fam, host, to)
    c.sendall(b"a" * 1234567)
    read_exactly(a, 1234567)
    a.sendall(b"b" * 4321)
    read_exactly(c, 4321)

# data left unread in the receive queue
c, a = pair(socket.AF_INET, "127.0.0.1")
c.sendall(b"u" * 50000)
read_exactly(a, 20000)

# MSG_WAITALL, and peeks before every read
c, a = pair(socket.AF_INET6, "::1")
c.sendall(b"w" * 300000)
a.recv(300000, socket.MSG_WAITALL)
c, a = pair(socket.AF_INET, "127.0.0.1")
c.sendall(b"p" * 100001)
got = 0
while got < 100001:
    a.recv(5000, socket.MSG_PEEK)
    got += len(a.recv(3000))

# half closed: the client's FIN read by the server (CLOSE_WAIT / FIN_WAIT2)
c, a = pair(socket.AF_INET, "127.0.0.1")
c.sendall(b"h" * 77777)
c.shutdown(socket.SHUT_WR)
while a.recv(65536):
    pass
a.sendall(b"r" * 999)
read_exactly(c, 999)

# a relay that moves everything with splice(), socket -> pipe -> socket
c, r_in = pair(socket.AF_INET, "127.0.0.1")
r_out, sink = pair(socket.AF_INET, "127.0.0.1")
pr, pw = os.pipe()
total = 1000003
c.sendall(b"s" * total)
moved = 0
while moved < total:
    n = os.splice(r_in.fileno(), pw, total - moved)
    if not n:
        break
    left = n
    while left:
        left -= os.splice(pr, r_out.fileno(), left)
    moved += n
read_exactly(sink, total)

# sendfile() from a file
c, a = pair(socket.AF_INET6, "::1")
with open(sys.argv[1] if len(sys.argv) > 1 else "/proc/self/exe", "rb") as f:
    sent = os.sendfile(c.fileno(), f.fileno(), 0, 200000)
read_exactly(a, sent)

# data stuck in the sender's queue: the receiver reads nothing, the sender fills its
# queue without blocking
c, a = pair(socket.AF_INET, "127.0.0.1")
c.setblocking(False)
try:
    while True:
        c.send(b"q" * 65536)
except BlockingIOError:
    pass

print("READY", len(keep), flush=True)
while True:
    time.sleep(60)
