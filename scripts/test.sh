#!/bin/sh
# Builds fieldsync and runs the whole test suite (unit, simulation, fuzz
# replays, integration). Installs missing Debian packages first.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
set -eu
cd "$(dirname "$0")/.."

dir=build
opts=""
case "${1:-}" in
--sanitize)
    dir=build-asan
    opts="-DFS_SANITIZE=ON"
    ;;
"") ;;
-h | --help)
    sed -n '2,6p' "$0"
    exit 0
    ;;
*)
    echo "usage: scripts/test.sh [--sanitize]" >&2
    exit 2
    ;;
esac

sh scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC2086
cmake -S . -B "$dir" $opts
cmake --build "$dir" -j"$jobs"
ctest --test-dir "$dir" --output-on-failure -j"$jobs"
