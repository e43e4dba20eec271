#!/bin/sh
# Installs the Debian packages fieldsync needs to build, test and run.
# Idempotent: only missing packages are fetched; runs apt-get as root (or via sudo).
#   scripts/install-deps.sh              build, test and run
#   scripts/install-deps.sh --packaging  also the tools that build and check the
#                                        .deb packages (tests/packaging)
#   scripts/install-deps.sh --fuzz       also clang and its libFuzzer runtime
#                                        (scripts/test.sh --fuzz)
set -eu

# chromium, chromium-driver: the web UI's browser test (tests/integration/ui).
PACKAGES="build-essential cmake pkg-config clang-format
libsqlite3-dev libsodium-dev libprotobuf-c-dev protobuf-c-compiler
libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev libcmocka-dev libsystemd-dev zlib1g-dev
libzstd-dev
libpq-dev postgresql-15 haproxy
sqlite3 python3 openssl chromium chromium-driver"

# postgresql-15: the server's PostgreSQL backend is tested against a throwaway
# cluster (tests/pg/pgcluster.py runs initdb/postgres from it, never the
# system cluster the package sets up); haproxy: the multi-instance test.
# debhelper/dpkg-dev/fakeroot: dpkg-buildpackage; lintian: package checks;
# systemd: systemd-analyze verify of the units; adduser: the server's postinst;
# man-db: man page formatting checks; binutils: objdump for the Depends check.
PACKAGING_PACKAGES="debhelper dpkg-dev fakeroot lintian systemd adduser man-db binutils"
# libclang-rt-dev: libFuzzer and the sanitizers' runtimes (clang only recommends it).
FUZZ_PACKAGES="clang libclang-rt-dev"

case "${1:-}" in
--packaging) PACKAGES="$PACKAGES $PACKAGING_PACKAGES" ;;
--fuzz) PACKAGES="$PACKAGES $FUZZ_PACKAGES" ;;
"") ;;
*)
    echo "usage: scripts/install-deps.sh [--packaging | --fuzz]" >&2
    exit 2
    ;;
esac

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "fieldsync: installing missing packages:$missing" >&2
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
