#!/bin/sh
# The package files the documents tell an administrator to install must be the
# ones packaging/debian/build.sh makes: NAME_VERSION_ARCH.deb, VERSION being
# the first entry of packaging/debian/changelog (a native package: no Debian
# revision). Each name is checked against that pattern; an architecture may be
# any word, a shell wildcard stands for any part.
#   doc_names.sh SOURCE_DIR
set -eu
. "$(dirname "$0")/lib.sh"
src=$1
version=$(sed -n '1s/^[a-z0-9.+-]* (\([^)]*\)).*/\1/p' "$src/packaging/debian/changelog")
[ -n "$version" ] || fail "cannot read the version from packaging/debian/changelog"
found=0
for doc in "$src/README.md" "$src/docs"/*.md "$src/packaging/README.md" "$src/packaging/man"/*; do
    for name in $(grep -o '[A-Za-z0-9_.*+-]*\.deb\b' "$doc" | sort -u); do
        found=$((found + 1))
        case "$name" in
        .deb | fieldsync_\*.deb | fieldsync-server_\*.deb | \*.deb) continue ;;
        fieldsync_"$version"_*.deb | fieldsync-server_"$version"_*.deb)
            arch=${name##*_}
            arch=${arch%.deb}
            case "$arch" in *[!a-z0-9*]* | "") fail "$doc names $name: the architecture part is wrong" ;; esac
            ;;
        *) fail "$doc names $name, but build.sh makes fieldsync_${version}_ARCH.deb and fieldsync-server_${version}_ARCH.deb" ;;
        esac
    done
done
echo "ok: the $found .deb names in the documents match version $version"
