#!/bin/sh
# Builds fieldsync and runs the whole test suite (unit, simulation, fuzz
# replays, integration). Installs missing Debian packages first.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
#                                (without packaging_debs: the .debs are built from
#                                the plain build's sources and checked once)
set -eu
cd "$(dirname "$0")/.."

dir=build
opts=""
exclude=""
case "${1:-}" in
--sanitize)
    dir=build-asan
    opts="-DFS_SANITIZE=ON"
    exclude="packaging_debs"
    ;;
"") ;;
-h | --help)
    sed -n '2,8p' "$0"
    exit 0
    ;;
*)
    echo "usage: scripts/test.sh [--sanitize]" >&2
    exit 2
    ;;
esac

sh scripts/install-deps.sh --packaging
jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC2086
cmake -S . -B "$dir" $opts
cmake --build "$dir" -j"$jobs"
if [ -n "$exclude" ]; then
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" -E "$exclude"
else
    ctest --test-dir "$dir" --output-on-failure -j"$jobs"
fi
