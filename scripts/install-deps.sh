#!/usr/bin/env bash
# Installs, from Debian 12, every package flowacct needs to build, run and test.
# Idempotent: installs only what is missing, so a second run does no network I/O.
set -euo pipefail

# Build: compiler and BPF toolchain, libbpf (skeletons, CO-RE), libelf/zlib/zstd
# (libbpf's own dependencies, static archives for `make STATIC=1`), yajl (writes
# the JSON outputs, streamed), jansson (parses JSON in tests), ncurses
# (interactive view), libmicrohttpd (Prometheus endpoint), cmocka (unit tests),
# libseccomp (the running phase's system call filter); for --web-config, GnuTLS (the
# endpoint's TLS, also called directly), libyaml (parses the file) and libxcrypt (checks
# basic auth's bcrypt hashes).
build_pkgs=(
	make gcc clang llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev
	libyajl-dev libjansson-dev libncurses-dev libmicrohttpd-dev libcmocka-dev libseccomp-dev
	libgnutls28-dev libyaml-dev libcrypt-dev
)
# Tests: real peers and ground truth (ss from iproute2, tmux for the terminal
# view, Prometheus server, tshark), the JSON Schema validator, the kernel lab
# (QEMU, busybox-static, cpio; for vmtest-full's Debian guests mmdebstrap, mke2fs from
# e2fsprogs, depmod/modprobe from kmod), libFuzzer's runtime, podman with runc (one real
# container, run from an image built here from busybox-static), valgrind (memcheck on the
# live binary), gdb (forbidden system calls made inside a running flowacct) and openssl
# (the certificates of the TLS endpoint's test).
test_pkgs=(
	iproute2 procps tmux prometheus curl python3 python3-jsonschema jq
	qemu-system-x86 busybox-static cpio gzip xz-utils mmdebstrap e2fsprogs kmod
	libclang-rt-14-dev tshark tcpdump sockperf iperf3 clang-format bpftrace ethtool
	podman runc valgrind gdb openssl
)

# The Debian package (make deb, docs/packaging.md): debhelper (dh, its dh_installsystemd),
# dpkg-dev (dpkg-buildpackage), fakeroot, bash-completion (dh_bash-completion), lintian;
# its install test (85-deb-install) builds a clean Debian 12 with mmdebstrap (above),
# checks the unit with systemd-analyze (systemd) and the man page with man (man-db), and
# boots it with systemd-nspawn (systemd-container) to start the service under systemd.
deb_pkgs=(debhelper dpkg-dev fakeroot bash-completion lintian mmdebstrap systemd systemd-container
	man-db)

want=("${build_pkgs[@]}")
case "${1:-all}" in
build) ;;
deb) want+=("${deb_pkgs[@]}") ;;
all) want+=("${test_pkgs[@]}" "${deb_pkgs[@]}") ;;
*) echo "usage: $0 [build|deb|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
