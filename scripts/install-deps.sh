#!/bin/sh
# Installs the Debian packages fieldsync needs to build, test and run.
# Idempotent: only missing packages are fetched; runs apt-get as root (or via sudo).
set -eu

PACKAGES="build-essential cmake pkg-config clang-format
libsqlite3-dev libsodium-dev libprotobuf-c-dev protobuf-c-compiler
libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev libcmocka-dev libsystemd-dev zlib1g-dev
sqlite3 python3 openssl"

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
