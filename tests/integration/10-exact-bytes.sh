#!/usr/bin/env bash
# timeout: 300
# Exact bytes per flow and direction on this machine's backend (tracepoint on 6.18):
# fa_exact runs known traffic (TCP/UDP, IPv4/IPv6, send/recv, write/read, sendmsg/recvmsg
# with iovecs, MSG_PEEK, MSG_WAITALL, nonblocking partial writes, sendfile, a process
# that exits mid-run, threads, several processes at once) and compares every flow.
set -euo pipefail
exec "$FA_TESTBIN/fa_exact" --flowacct "$FLOWACCT" --backend tracepoint
