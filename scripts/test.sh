#!/bin/sh
# Builds fieldsync and runs the whole test suite (unit, simulation, fuzz
# replays, integration). Installs missing Debian packages first.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
#                                (without packaging_debs: the .debs are built from
#                                the plain build's sources and checked once)
#   scripts/test.sh --fuzz       the fuzz targets alone, built with clang as
#                                libFuzzer binaries (with ASan + UBSan) in
#                                build-fuzz/, each run for FS_FUZZ_SECONDS (30)
set -eu
cd "$(dirname "$0")/.."

dir=build
opts=""
deps="--packaging"
target=all
select=""
case "${1:-}" in
--sanitize)
    dir=build-asan
    opts="-DFS_SANITIZE=ON"
    select="-E packaging_debs"
    ;;
--fuzz)
    dir=build-fuzz
    opts="-DCMAKE_C_COMPILER=clang -DFS_FUZZ=ON -DFS_SANITIZE=ON"
    deps="--fuzz"
    target=fuzz_targets
    select="-L fuzz"
    ;;
"") ;;
-h | --help)
    sed -n '2,10p' "$0"
    exit 0
    ;;
*)
    echo "usage: scripts/test.sh [--sanitize | --fuzz]" >&2
    exit 2
    ;;
esac

sh scripts/install-deps.sh "$deps"
jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC2086
cmake -S . -B "$dir" $opts
cmake --build "$dir" -j"$jobs" --target "$target"
# shellcheck disable=SC2086
ctest --test-dir "$dir" --output-on-failure -j"$jobs" $select
