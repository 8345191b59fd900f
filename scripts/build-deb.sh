#!/usr/bin/env bash
# Builds flowacct's Debian package with Debian's own tooling (make deb; docs/packaging.md):
# dpkg-buildpackage -us -uc -b in a copy of the tree, then lintian on the result. The
# copy holds the tree's tracked files and its new ones that git does not ignore, with
# their working tree contents (uncommitted edits are packaged too), never .output/ or the
# built ./flowacct: the working tree is neither read for build outputs nor written to.
#
# usage: scripts/build-deb.sh [OUTDIR]   (default .output/deb)
# OUTDIR gets flowacct_VERSION_ARCH.deb, its -dbgsym package, .changes and .buildinfo,
# build.log, lintian.log and lintian.err; the copy is OUTDIR/build/flowacct-VERSION.
# Exits 1 if debian/changelog's version is not VERSION's, if the build fails, or if
# lintian reports an error or a warning (tags overridden in debian/ are not reported).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-$root/.output/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

die() {
	echo "make deb: $*" >&2
	exit 1
}

for tool in dpkg-buildpackage dpkg-parsechangelog dh dh_bash-completion lintian; do
	command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh deb"
done

# One version, written once: VERSION. debian/changelog names it too (Debian's tools take
# the package's version from there), so the two must agree.
version=$(cat VERSION)
changelog=$(dpkg-parsechangelog -S Version)
[ "$changelog" = "$version" ] ||
	die "debian/changelog's version is $changelog, VERSION's is $version: add an entry (dch -v $version)"

work=$out/build
src=$work/flowacct-$version
rm -rf "$work"
mkdir -p "$src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$root" ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
		if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi # not deleted
	done | tar -C "$root" --null --verbatim-files-from -T - -c | tar -C "$src" -x
else
	tar -C "$root" -c --exclude=./.git --exclude=./.output --exclude=./flowacct . | tar -C "$src" -x
fi

echo "  DEB      $out/flowacct_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	die "dpkg-buildpackage failed (the whole log: $out/build.log)"
}
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/"

# The .changes names the binary packages; --pedantic shows what else lintian would say
# (printed, not failing the build).
changes=$(ls "$out"/flowacct_"$version"_*.changes)
# (lintian's stderr says it should not run as root; it checks files, runs none of them)
lintian --display-info --pedantic --fail-on error,warning "$changes" >"$out/lintian.log" \
	2>"$out/lintian.err" || {
	cat "$out/lintian.log" "$out/lintian.err" >&2
	die "lintian found errors or warnings in the package ($out/lintian.log)"
}
if [ -s "$out/lintian.log" ]; then
	echo "lintian's remarks, none an error or warning:"
	sed 's/^/  /' "$out/lintian.log"
fi
