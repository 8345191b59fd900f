#!/bin/sh
# Usage: auto-backend.sh FLOWACCT [SECONDS]
# Starts `FLOWACCT --backend auto`, waits until it says which backend it chose
# ("flowacct: using backend X ..." on stderr), stops it and prints X.
# Copies flowacct's stderr to its own; exits 1 if it names none within SECONDS (default 60).
# POSIX sh: runs on the host (tests/integration/81-backend-auto-host.sh) and in the
# vmtest guest under busybox.
flowacct=${1:?usage: auto-backend.sh FLOWACCT [SECONDS]}
limit=${2:-60}
err=$(mktemp)
trap 'rm -f "$err"' EXIT

"$flowacct" --backend auto -j >/dev/null 2>"$err" &
pid=$!
backend=
i=0
while [ $i -lt $((limit * 5)) ]; do
	backend=$(sed -n 's/^flowacct: using backend \([a-z]*\).*/\1/p' "$err" | head -n 1)
	[ -n "$backend" ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.2
	i=$((i + 1))
done
# SIGINT is flowacct's clean stop; a process that ignores it is killed after 5 s
kill -INT $pid 2>/dev/null
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 25 ]; do
	sleep 0.2
	i=$((i + 1))
done
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null

# flowacct's own account of what it tried and why, for the log
sed 's/^/  | /' "$err" >&2
if [ -z "$backend" ]; then
	echo "auto-backend: flowacct named no backend within ${limit}s" >&2
	exit 1
fi
echo "$backend"
