#!/bin/sh
# The main job on embedded defaults, in a fresh demo directory:
#   fieldsync-server on SQLite (loopback), a rep and an enrollment code,
#   fieldsyncd with a new encrypted store, enrolled with the server, a generated
#   book of business loaded through the socket, a sync, then status, today's
#   follow-ups and the pipeline and weekly reports. Both processes keep running.
#
#   scripts/run.sh [--accounts N] [--dir DIR]   start a demo (default: a new /tmp dir)
#   scripts/run.sh --stop DIR                   stop the demo running in DIR
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

accounts=300
dir=""
stop=""
while [ $# -gt 0 ]; do
    case "$1" in
    --accounts) accounts=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --stop) stop=$2; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: scripts/run.sh [--accounts N] [--dir DIR] | --stop DIR" >&2; exit 2 ;;
    esac
done

stop_demo() { # $1: demo dir
    for p in daemon server; do
        if [ -f "$1/$p.pid" ]; then
            kill -TERM "$(cat "$1/$p.pid")" 2>/dev/null || true
            rm -f "$1/$p.pid"
        fi
    done
}

if [ -n "$stop" ]; then
    stop_demo "$stop"
    echo "stopped the fieldsync demo in $stop (its data stays there; rm -r it to remove)"
    exit 0
fi

sh scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

server="$top/build/server/fieldsync-server"
daemon="$top/build/daemon/fieldsyncd"
cli="$top/build/daemon/cli/fieldsync"
demo="$top/build/demo/fieldsync-demo"

[ -n "$dir" ] || dir=$(mktemp -d /tmp/fieldsync-demo.XXXXXX)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/fieldsyncd.sock"
trap 'echo "fieldsync demo failed; logs in $dir (stopping it)" >&2; stop_demo "$dir"' EXIT

# Waits up to $2 seconds for file $1 to exist.
wait_for() {
    i=0
    while [ ! -e "$1" ]; do
        i=$((i + 1))
        [ $i -le $(($2 * 10)) ] || { echo "timed out waiting for $1" >&2; return 1; }
        sleep 0.1
    done
}

echo "== fieldsync-server (SQLite, loopback) in $dir"
"$server" --db "$dir/server.db" user add rep --role rep >/dev/null
code=$("$server" --db "$dir/server.db" enroll-code rep | tail -n 1)
"$server" --db "$dir/server.db" serve --listen 127.0.0.1:0 --port-file "$dir/server.port" \
    </dev/null >"$dir/server.log" 2>&1 &
echo $! >"$dir/server.pid"
wait_for "$dir/server.port" 20
url="http://127.0.0.1:$(cat "$dir/server.port")"
echo "   listening on $url"

echo "== fieldsyncd with a new encrypted store"
# A demo passphrase in a 0600 file, so this script can unlock without a prompt.
umask 077
head -c 18 /dev/urandom | base64 >"$dir/passphrase"
"$daemon" --data-dir "$dir/device" --socket "$sock" </dev/null >"$dir/daemon.log" 2>&1 &
echo $! >"$dir/daemon.pid"
wait_for "$sock" 20
"$cli" --socket "$sock" init --passphrase-file "$dir/passphrase" >/dev/null
"$cli" --socket "$sock" enroll "$url" "$code"

echo "== loading a book of business ($accounts accounts)"
"$demo" --socket "$sock" --accounts "$accounts" --owner rep

echo "== sync"
"$cli" --socket "$sock" sync

echo "== status"
"$cli" --socket "$sock" status
echo "== follow-ups due today"
"$cli" --socket "$sock" followups
echo "== pipeline report"
"$cli" --socket "$sock" report pipeline
echo "== this week: the review days and the funnel"
"$cli" --socket "$sock" report weekly

trap - EXIT
cat <<EOF

fieldsync-server (pid $(cat "$dir/server.pid")) and fieldsyncd (pid $(cat "$dir/daemon.pid"))
keep running. Talk to the daemon with:
    $cli --socket $sock status
Open the book in the web UI (prints the URL; Ctrl-C stops it) with:
    $cli --socket $sock ui
Stop both with:
    scripts/run.sh --stop $dir
EOF
