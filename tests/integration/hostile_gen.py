# hostile_gen.py SPEC GO_FILE (72-hostile-text): one child per entry of SPEC, a
# JSON list of {"name": hex bytes, "cgroup": path or null, "a": n, "b": n}. Each child moves
# into its cgroup, names itself with prctl(PR_SET_NAME) (any bytes but NUL; the kernel
# keeps 15), writes "INDEX PID" on stdout, waits until GO_FILE exists, then over one
# loopback TCP connection to itself sends a bytes one way and b the other, writes
# "done INDEX", and idles with its sockets open until killed. The connection is made
# after GO_FILE, so a flowacct started before it counts every byte.
import ctypes, json, os, socket, sys, time

spec, go = json.load(open(sys.argv[1])), sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NAME = 15


def say(text):
    os.write(1, text.encode() + b"\n")  # one write: the children share stdout


def recv_exactly(s, n):
    got = 0
    while got < n:
        got += len(s.recv(n - got))


def child(i, e):
    if e["cgroup"]:
        with open(os.path.join(os.fsencode(e["cgroup"]), b"cgroup.procs"), "w") as f:
            f.write("0")
    if libc.prctl(PR_SET_NAME, ctypes.c_char_p(bytes.fromhex(e["name"])), 0, 0, 0):
        raise OSError(ctypes.get_errno(), "prctl")
    say(f"{i} {os.getpid()}")
    while not os.path.exists(go):
        time.sleep(0.02)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    c = socket.create_connection(ls.getsockname())
    s, _ = ls.accept()
    c.sendall(b"a" * e["a"])
    recv_exactly(s, e["a"])
    s.sendall(b"b" * e["b"])
    recv_exactly(c, e["b"])
    say(f"done {i}")
    while True:
        time.sleep(3600)


for i, e in enumerate(spec):
    if os.fork() == 0:
        try:
            child(i, e)
        except BaseException as ex:
            say(f"error {i} {ex!r}")
        os._exit(1)
while True:
    time.sleep(3600)
