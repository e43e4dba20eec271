#!/bin/sh
# Builds the fieldsync and fieldsync-server .deb packages out of tree: copies the
# source (tracked and untracked files that git does not ignore; no build dirs)
# into a temporary directory, puts packaging/debian/ there as debian/, and runs
# dpkg-buildpackage -us -uc -b in the copy, so the repository is never written.
#   packaging/debian/build.sh OUTDIR
# OUTDIR receives the .deb files, the .changes and .buildinfo, and build.log.
# Needs: scripts/install-deps.sh --packaging (debhelper, lintian, ...).
# DEB_BUILD_OPTIONS defaults to "nocheck parallel=2".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: packaging/debian/build.sh OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)

for t in dpkg-buildpackage dh dpkg-checkbuilddeps; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "build.sh: $t is missing: run scripts/install-deps.sh --packaging" >&2
        exit 3
    }
done

version=$(dpkg-parsechangelog -l "$here/changelog" -S Version)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
src="$tmp/fieldsync-$version"
mkdir "$src"

# The source: what git knows (without ignored build output), else a plain copy.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$top" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
        (cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$src"
else
    (cd "$top" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$src"
fi
rm -rf "$src/debian"
cp -a "$here" "$src/debian"

echo "build.sh: building fieldsync $version in $src (log: $out/build.log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-nocheck parallel=2}" \
    dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    echo "build.sh: dpkg-buildpackage failed; full log in $out/build.log" >&2
    exit 1
fi
for f in "$tmp"/*.deb "$tmp"/*.ddeb "$tmp"/*.changes "$tmp"/*.buildinfo; do
    [ -e "$f" ] && cp "$f" "$out/"
done
ls "$out"/*.deb
