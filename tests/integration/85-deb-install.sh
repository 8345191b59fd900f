#!/usr/bin/env bash
# timeout: 600
# The Debian package, installed in a clean Debian 12 as a user would: `make deb` builds it
# (lintian must pass), then in a fresh copy of a cached Debian 12 root file system
# (mmdebstrap) `apt-get install ./flowacct_*.deb` resolves its dependencies from the
# mirror. Checked there: flowacct --version says VERSION; the man page; the unit file, as
# systemd-analyze verify sees it, and its systemd-analyze security score, no higher than
# docs/packaging.md says, with every remaining exposure named there; the flowacct system
# user; the bash completion, loaded by bash-completion; /etc/default/flowacct. Then the
# service itself, started by systemd (the tree booted with systemd-nspawn, whatever the
# host's PID 1 is): it serves the metrics as the flowacct user with CAP_BPF alone, counts
# a host process's bytes exactly, serves a port below 1024 with the drop-in
# docs/packaging.md gives, and writes nothing to the journal. Last, apt-get remove
# (the conffile stays) and apt-get purge: no file of the package is left, and the user
# stays, as Debian does for system users (docs/packaging.md).
#
# The root file system is a tarball outside the tree (FA_DEB_CACHE, default
# /var/cache/flowacct-deb), named after a hash of its recipe: built when missing or when
# the recipe (this script's mmdebstrap command, the host's Debian 12 sources) changed. The
# packages apt downloads are kept there too, so a warm run downloads only new versions.
# No network on a cold run (mmdebstrap fails) fails the test.
set -euo pipefail
source "$(dirname "$0")/common.bash"
fa_setup deb-install mmdebstrap tar unshare chroot nsenter sha256sum flock systemd-analyze \
	systemd-nspawn dpkg-deb curl python3
vm_prog=85-deb-install
# shellcheck source=scripts/vmtest-lib.sh
source "$root/scripts/vmtest-lib.sh" # say, die, vm_lock
cache=${FA_DEB_CACHE:-/var/cache/flowacct-deb}
mkdir -p "$cache/archives/partial"
version=$(cat "$root/VERSION")
start=$(date +%s)

### 1. the package
make -C "$root" --no-print-directory deb || fail "make deb failed"
debs=("$root"/.output/deb/flowacct_"$version"_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] ||
	fail "make deb made no single flowacct_${version}_*.deb in .output/deb: ${debs[*]}"
deb=${debs[0]}
echo "PASS make deb: $(basename "$deb"), lintian clean"

### 2. the root file system: Debian 12 from the host's own Debian 12 sources, cached
# The host's apt sources that name bookworm (its release, updates, security), as they are:
# the mirror the machine is configured for. Their text is part of the recipe.
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -s "$f" ] && grep -qE '^[^#]*(^|[[:space:]])bookworm(-[a-z]+)?([[:space:]]|$)' "$f" &&
		sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || fail "no apt source in /etc/apt/sources.list* names bookworm"
# systemd (systemd-analyze), man-db (man), bash-completion: what the checks use, never what
# flowacct depends on (those come from the mirror at install). The package lists stay, so
# apt-get update below is a quick revalidation.
recipe=(mmdebstrap --variant=apt --aptopt='APT::Install-Recommends "false"'
	--include=systemd,man-db,bash-completion --skip=cleanup/apt/lists bookworm)
tarball_hash=$({
	printf '%s\n' "${recipe[@]}"
	cat "${sources[@]}"
} | sha256sum | cut -c1-12)
tarball=$cache/rootfs-bookworm-$tarball_hash.tar
vm_lock "$cache" # one build of the tarball at a time, and no removal while another uses it
if [ -s "$tarball" ]; then
	echo "root file system: $tarball (cached)"
else
	say "building the root file system with mmdebstrap into $tarball"
	built=$(date +%s)
	# a name mmdebstrap takes for a tarball ends in .tar
	"${recipe[@]}" "$tarball.tmp.tar" "${sources[@]}" >"$tmp/mmdebstrap.log" 2>&1 || {
		tail -n 30 "$tmp/mmdebstrap.log" >&2
		rm -f "$tarball.tmp.tar"
		fail "mmdebstrap could not build the Debian 12 root file system (network? log above)"
	}
	mv "$tarball.tmp.tar" "$tarball"
	for old in "$cache"/rootfs-bookworm-*.tar; do
		[ "$old" = "$tarball" ] || { say "removing the superseded $(basename "$old")"; rm -f "$old"; }
	done
	echo "root file system: $tarball, built in $(($(date +%s) - built)) s ($(du -h "$tarball" | cut -f1))"
fi
rootfs=$tmp/root
mkdir "$rootfs"
tar -C "$rootfs" --xattrs --numeric-owner -xf "$tarball" || fail "extracting $tarball failed"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
cp "$deb" "$rootfs/tmp/"
debname=/tmp/$(basename "$deb")

# in_root CMD...: CMD in the root file system, in a mount namespace of its own with /proc,
# /sys, /dev and the package cache mounted; the mounts end with the namespace, so nothing
# of the host is ever mounted under $tmp when it is removed.
in_root() {
	unshare --mount --propagation private -- /bin/sh -ec '
		r=$1 c=$2
		shift 2
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mount --bind "$c" "$r/var/cache/apt/archives"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$rootfs" "$cache/archives" "$@"
}
# files SNAPSHOT: every path in the root file system, with its type and owner, but apt's
# and dpkg's state, debconf's database, logs, /tmp (where the package was copied) and two
# caches that other packages keep for the whole system: man-db's formatted pages and
# CACHEDIR.TAGs (`man flowacct` below fills it; man-db's daily job prunes it) and
# ldconfig's aux-cache (rewritten by every ldconfig run, as installing libraries does)
files() {
	(cd "$rootfs" && find . \( -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache/apt \
		-o -path ./var/cache/debconf -o -path ./var/log -o -path ./tmp -o -path ./proc -o -path ./sys \
		-o -path ./dev -o -path ./run -o -path ./var/cache/man -o -path ./var/cache/ldconfig \) \
		-prune -o -printf '%p %y %u:%g\n') | LC_ALL=C sort >"$tmp/$1"
}

### 3. install, as a user would: the dependencies come from the mirror
in_root apt-get update -qq >"$tmp/apt-update.log" 2>&1 || {
	cat "$tmp/apt-update.log" >&2
	fail "apt-get update in the root file system failed (network?)"
}
files before
in_root getent passwd flowacct >/dev/null && fail "the clean root file system has a flowacct user already"
in_root apt-get install -y -q "$debname" >"$tmp/install.log" 2>&1 || {
	tail -n 30 "$tmp/install.log" >&2
	fail "apt-get install ./$(basename "$deb") failed"
}
echo "PASS apt-get install ./$(basename "$deb"): $(grep -c '^Setting up' "$tmp/install.log") packages set up"

got=$(in_root flowacct --version) || fail "flowacct --version exited $?"
[ "$got" = "flowacct $version" ] || fail "flowacct --version says '$got', VERSION is $version"
[ "$(in_root sh -c 'command -v flowacct')" = /usr/sbin/flowacct ] || fail "flowacct is not /usr/sbin/flowacct"
echo "PASS /usr/sbin/flowacct --version: $got"

page=$(in_root env MANWIDTH=80 man -P cat flowacct 2>&1) || fail "man flowacct failed: $page"
grep -q 'per-process network flow accounting with eBPF' <<<"$page" || fail "man flowacct shows no NAME line: $page"
in_root man -l -P cat /usr/share/man/man8/flowacct.8.gz >/dev/null || fail "man -l of the installed page failed"
echo "PASS man flowacct"

for f in /usr/share/flowacct/flowacct.schema.json /usr/share/doc/flowacct/README.md.gz \
	/usr/share/doc/flowacct/packaging.md.gz /usr/share/doc/flowacct/prometheus.md.gz \
	/usr/share/doc/flowacct/copyright /etc/default/flowacct; do
	[ -s "$rootfs$f" ] || fail "$f is not installed"
done
cmp -s "$rootfs/usr/share/flowacct/flowacct.schema.json" "$root/docs/flowacct.schema.json" ||
	fail "the installed JSON schema is not docs/flowacct.schema.json"
echo "PASS the schema, documentation and /etc/default/flowacct are installed"

### 4. the system user
pw=$(in_root getent passwd flowacct) || fail "no flowacct user after installation"
IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
[ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ] ||
	fail "the flowacct user is not a system user without home and login: $pw"
in_root getent group flowacct >/dev/null || fail "no flowacct group"
[ ! -e "$rootfs/nonexistent" ] || fail "/nonexistent was created"
echo "PASS system user: $pw"

### 5. the unit
unit=/lib/systemd/system/flowacct.service
[ -f "$rootfs$unit" ] || fail "$unit is not installed"
cmp -s "$rootfs$unit" "$root/debian/flowacct.service" || fail "the installed unit is not debian/flowacct.service"
# verify loads the unit as systemd would: unknown settings, a missing binary, bad syntax
out=$(in_root systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify $unit: $out"
[ -z "$out" ] || fail "systemd-analyze verify $unit complains: $out"
[ ! -e "$rootfs/etc/systemd/system/multi-user.target.wants/flowacct.service" ] ||
	fail "flowacct.service was enabled on installation (docs/packaging.md: it is not)"
echo "PASS systemd-analyze verify: no complaint; not enabled on installation"

# Every option of ExecStart must be one this flowacct has: otherwise the service fails at
# its start, which verify cannot see.
help=$(in_root flowacct --help)
for opt in $(sed -n 's/^ExecStart=//p' "$rootfs$unit" | grep -oE -- '(^| )--?[a-z][a-z0-9-]*'); do
	grep -qE -- "(^|[ ,])$opt([ ,=[]|$)" <<<"$help" ||
		fail "ExecStart gives $opt, which flowacct --help does not list: the service would not start"
done
echo "PASS every option of ExecStart is in flowacct --help"

# The score, and each exposure it still counts, as docs/packaging.md documents them
in_root systemd-analyze security --offline=true --no-pager "$unit" >"$tmp/security" 2>&1 ||
	fail "systemd-analyze security: $(cat "$tmp/security")"
score=$(sed -n 's/.*Overall exposure level for flowacct.service: \([0-9.]*\).*/\1/p' "$tmp/security")
doc=$root/docs/packaging.md
documented=$(sed -n 's/^Overall exposure level: \*\*\([0-9.]*\)\*\*.*/\1/p' "$doc")
[ -n "$score" ] || fail "no score in systemd-analyze security's output: $(cat "$tmp/security")"
[ -n "$documented" ] || fail "$doc has no 'Overall exposure level: **N**' line"
awk -v s="$score" -v d="$documented" 'BEGIN { exit !(s <= d) }' ||
	fail "systemd-analyze security scores flowacct.service $score, more than the $documented of $doc"
# each exposure is a table row of the doc: | `Setting` | exposure | why |, its pipes
# escaped (\|) as a Markdown table needs
while read -r setting; do
	grep -qF -- "| \`${setting//|/\\|}\` |" "$doc" || fail "exposure $setting is not explained in $doc"
done < <(awk '$1 == "✗" { print $2 }' "$tmp/security")
echo "PASS systemd-analyze security: $score (documented: $documented), each exposure explained"

### 6. bash completion, as bash-completion loads it on first use
# (84-bash-completion checks the file against --help; here, that it is the one installed
# and works where bash-completion loads it)
comp=/usr/share/bash-completion/completions/flowacct
[ -f "$rootfs$comp" ] || fail "$comp is not installed"
cmp -s "$rootfs$comp" "$root/contrib/bash-completion/flowacct" ||
	fail "the installed completion is not contrib/bash-completion/flowacct"
out=$(in_root bash -c 'source /usr/share/bash-completion/bash_completion
	_completion_loader flowacct
	complete -p flowacct
	COMP_WORDS=(flowacct --sort ""); COMP_CWORD=2; _flowacct; echo "sort: ${COMPREPLY[*]}"
	COMP_WORDS=(flowacct --prom); COMP_CWORD=1; _flowacct; echo "prom: ${COMPREPLY[*]}"
	COMP_WORDS=(flowacct --packets = ""); COMP_CWORD=3; _flowacct
	echo "ifaces: $(printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " ")"
	echo "keys: $_flowacct_sort_keys"') || fail "loading the completion failed: $out"
grep -qx 'complete -F _flowacct flowacct' <<<"$out" || fail "complete -p flowacct: $out"
keys=$(sed -n 's/^keys: //p' <<<"$out")
[ -n "$keys" ] && grep -qxF "sort: $keys" <<<"$out" || fail "--sort completes wrongly: $out"
# the options come from the installed flowacct's --help
want_prom=$(in_root flowacct --help | grep -oE -- '--prometheus[a-z-]*' | LC_ALL=C sort -u | tr '\n' ' ')
grep -qxF "prom: ${want_prom% }" <<<"$out" || fail "--prom completes wrongly (want $want_prom): $out"
want_ifaces=$(ls /sys/class/net | LC_ALL=C sort | tr '\n' ' ')
grep -qxF "ifaces: $want_ifaces" <<<"$out" || fail "--packets= completes wrongly (want $want_ifaces): $out"
echo "PASS bash completion: complete -F _flowacct flowacct, options and values"

### 7. the service, started by systemd: the root file system booted with systemd-nspawn
# (systemd as its PID 1, whatever runs this host), on a throw-away overlay (--volatile:
# the tree stays as installed). It shares the host's network, and flowacct's BPF
# programs see the whole kernel, so the service counts a process of the host, exactly.
# The container gets the capabilities and calls the unit hands on, and no more.
machine=fa-deb-$$
systemd-nspawn -q --keep-unit --register=no --machine="$machine" --volatile=overlay -D "$rootfs" -b \
	--capability=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN --system-call-filter='bpf perf_event_open' \
	</dev/null >"$tmp/boot.log" 2>&1 &
nspawn=$!
pids+=("$nspawn")
leader=
for _ in $(seq 100); do # the container's PID 1: a descendant whose pid there is 1
	for p in $(pgrep -P "$nspawn") $(pgrep -P "$(pgrep -P "$nspawn" | head -1)" 2>/dev/null); do
		grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null && leader=$p
	done
	[ -n "$leader" ] && break
	sleep 0.1
done
[ -n "$leader" ] || fail "systemd-nspawn did not boot the root file system: $(tail -n 20 "$tmp/boot.log")"
in_box() { nsenter -t "$leader" -a "$@"; }
# until its systemd has booted (systemctl cannot reach it before it listens: retried)
state=
for _ in $(seq 120); do
	state=$(timeout 30 nsenter -t "$leader" -a systemctl is-system-running --wait 2>&1) || true
	case $state in running | degraded) break ;; esac
	sleep 0.25
done
[ "$state" = running ] || [ "$state" = degraded ] ||
	fail "the container's systemd did not finish booting ($state): $(tail -n 20 "$tmp/boot.log")"
# serving PORT: the metrics page is up; the service runs as the flowacct user, its
# permitted and effective sets CAP_BPF alone, with no_new_privs
serving() {
	local port=$1 st set
	rm -f "$tmp/page" # a page of an earlier port must not pass for this one's
	for _ in $(seq 100); do
		curl -sf -o "$tmp/page" "http://127.0.0.1:$port/metrics" && break
		sleep 0.1
	done
	grep -q "^flowacct_build_info{version=\"$version\"" "$tmp/page" 2>/dev/null ||
		fail "the service serves no metrics page on 127.0.0.1:$port:
$(in_box systemctl status --no-pager flowacct 2>&1; in_box journalctl -u flowacct --no-pager -o cat 2>&1 | tail -20)"
	st=$(in_box cat "/proc/$(in_box systemctl show -p MainPID --value flowacct.service)/status") ||
		fail "the service serves 127.0.0.1:$port but has no main process"
	[ "$(awk '$1 == "Uid:" { print $2 }' <<<"$st")" = "$(in_box id -u flowacct)" ] ||
		fail "the service does not run as the flowacct user: $(grep Uid <<<"$st")"
	for set in CapPrm CapEff; do
		[ "$(awk -v k="$set:" '$1 == k { print $2 }' <<<"$st")" = 0000008000000000 ] ||
			fail "the running service holds more than CAP_BPF ($set): $(grep -E 'Cap' <<<"$st")"
	done
	[ "$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st")" = 1 ] ||
		fail "the running service may gain privileges: $(grep NoNew <<<"$st")"
}
# a port of its own above 1024, and 1 s intervals, through /etc/default/flowacct as an
# administrator would. The unit grants no CAP_NET_BIND_SERVICE (docs/packaging.md): a
# flowacct that asked for it there would not start, and no page would be served.
port=$(shuf -i 20000-29999 -n 1)
in_box sed -i "s/^FLOWACCT_LISTEN=.*/FLOWACCT_LISTEN=127.0.0.1:$port/; s/^FLOWACCT_INTERVAL=.*/FLOWACCT_INTERVAL=1/" \
	/etc/default/flowacct
in_box systemctl start flowacct.service || fail "systemctl start flowacct failed:
$(in_box systemctl status --no-pager flowacct 2>&1; in_box journalctl -u flowacct --no-pager -o cat 2>&1 | tail -20)"
serving "$port"
echo "PASS systemctl start flowacct: serves 127.0.0.1:$port as the flowacct user, with CAP_BPF alone"

# a process of the host, with a name of its own (comm is the name it was started by):
# Debian's python3 itself, not a wrapper that PATH may find first (pyenv's shims run what
# their own name says)
[ -x /usr/bin/python3 ] || fail "/usr/bin/python3 is missing (scripts/install-deps.sh)"
ln -s "$(readlink -f /usr/bin/python3)" "$tmp/fa-deb-peer"
n=1234567
"$tmp/fa-deb-peer" -c '
import socket, sys
n = int(sys.argv[1])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.sendall(b"d" * n); got = 0
while got < n: got += len(a.recv(65536))' "$n"
sleep 2.5 # the interval it ends in, and the next
curl -sf -o "$tmp/page" "http://127.0.0.1:$port/metrics" || fail "scraping the service failed"
for dir in tx rx; do
	got=$(awk -v m="flowacct_process_${dir}_bytes_total" 'index($0, m "{") == 1 &&
		index($0, "comm=\"fa-deb-peer\"") { s += $NF } END { print s + 0 }' "$tmp/page")
	[ "$got" = "$n" ] || fail "the service counted $got bytes ${dir} for the host's fa-deb-peer, which moved $n"
done
echo "PASS the service sees a host process's $n bytes each way, exactly"

# A port below 1024, with the drop-in docs/packaging.md gives for it (taken from there, so
# the documented one is what runs): flowacct binds it, then gives CAP_NET_BIND_SERVICE up.
# (Where net.ipv4.ip_unprivileged_port_start is lower than the port, binding needs no
# capability: the check then shows only that the drop-in does no harm.)
dropin=$(awk '/^```ini$/ { block = ""; inblock = 1; next }
	/^```$/ { if (inblock && block ~ /^# --prometheus on a port below 1024/) printf "%s", block; inblock = 0; next }
	inblock { block = block $0 "\n" }' "$doc")
grep -qx 'AmbientCapabilities=CAP_NET_BIND_SERVICE' <<<"$dropin" ||
	fail "$doc has no drop-in for a port below 1024 (a block starting '# --prometheus on a port below 1024')"
low=$(python3 -c '
import socket
for p in range(1023, 511, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()') || fail "no free port below 1024 on 127.0.0.1"
in_box mkdir -p /etc/systemd/system/flowacct.service.d
printf '%s\n' "$dropin" | in_box sh -c 'cat >/etc/systemd/system/flowacct.service.d/low-port.conf'
in_box sed -i "s/^FLOWACCT_LISTEN=.*/FLOWACCT_LISTEN=127.0.0.1:$low/" /etc/default/flowacct
in_box systemctl daemon-reload
in_box systemctl restart flowacct.service || fail "systemctl restart flowacct with the low-port drop-in failed"
serving "$low"
echo "PASS with the low-port drop-in of $(basename "$doc"): serves 127.0.0.1:$low, then CAP_BPF alone"

in_box systemctl stop flowacct.service
result=$(in_box systemctl show -p Result --value flowacct.service)
[ "$result" = success ] || fail "systemctl stop: the service ended with '$result'"
# --no-stdout and --quiet: nothing from flowacct in the journal, at start, every interval,
# at the end. That a service's output does reach the journal here is shown first.
# (a runtime unit: systemd-run would need D-Bus, which this root file system has not)
in_box sh -c 'printf "[Service]\nType=oneshot\nExecStart=/bin/echo fa-journal-probe-line\n" \
	>/run/systemd/system/fa-journal-probe.service'
in_box systemctl daemon-reload
in_box systemctl start fa-journal-probe.service || fail "the journal probe service failed to run"
for _ in $(seq 50); do
	in_box journalctl _SYSTEMD_UNIT=fa-journal-probe.service --no-pager -o cat | grep -q fa-journal-probe-line &&
		break
	sleep 0.1
done
in_box journalctl _SYSTEMD_UNIT=fa-journal-probe.service --no-pager -o cat | grep -q fa-journal-probe-line ||
	fail "a service's stdout does not reach the container's journal: the check below would prove nothing"
said=$(in_box journalctl _SYSTEMD_UNIT=flowacct.service _COMM=flowacct --no-pager -o cat)
[ -z "$said" ] || fail "flowacct wrote to the journal (a service's stdout and stderr): $said"
kill -s RTMIN+4 "$leader" # systemd's own signal to power off (systemctl would ask logind over D-Bus)
for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
kill -0 "$nspawn" 2>/dev/null && fail "the container did not power off"
echo "PASS the journal holds nothing flowacct wrote; systemctl stop ends it with success"

### 8. remove: the conffile stays; purge: nothing of the package stays
in_root apt-get remove -y -q flowacct >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log" >&2; fail "apt-get remove failed"; }
[ ! -e "$rootfs/usr/sbin/flowacct" ] && [ ! -e "$rootfs$unit" ] && [ ! -e "$rootfs$comp" ] ||
	fail "apt-get remove left the binary, the unit or the completion"
[ -f "$rootfs/etc/default/flowacct" ] || fail "apt-get remove removed the conffile /etc/default/flowacct"
echo "PASS apt-get remove: files gone, /etc/default/flowacct kept"
# --autoremove: the dependencies installed for it go too, so the whole tree can be compared
in_root apt-get purge -y -q --autoremove flowacct >"$tmp/purge.log" 2>&1 || {
	cat "$tmp/purge.log" >&2
	fail "apt-get purge failed"
}
files after
if ! diff "$tmp/before" "$tmp/after" >"$tmp/diff"; then
	cat "$tmp/diff" >&2
	fail "after purge the root file system differs from before the installation (above: < before, > after)"
fi
in_root dpkg-query -W flowacct >/dev/null 2>&1 && fail "dpkg still knows flowacct after purge"
# Debian does not remove a system user on purge (docs/packaging.md): it stays, owning no file
in_root getent passwd flowacct >/dev/null || fail "the flowacct user was removed on purge"
owned=$(find "$rootfs" -xdev -user "$uid" -print -quit)
[ -z "$owned" ] || fail "after purge $owned still belongs to the flowacct user"
echo "PASS apt-get purge: every file as before the installation; the user stays, owning nothing"
# the download cache keeps only what the mirror still has
in_root apt-get autoclean -qq >/dev/null || fail "apt-get autoclean failed"
echo "PASS 85-deb-install in $(($(date +%s) - start)) s"
