# Helpers shared by the packaging test scripts (sourced, POSIX sh).

# Stops a daemon run_daemon_check started (and left running by a failed check).
fail() {
    echo "FAIL: $*" >&2
    [ -z "${dpid:-}" ] || kill -TERM "$dpid" 2>/dev/null || true
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

# wait_for PATH SECONDS: waits until PATH exists, polling every 0.1 s.
wait_for() {
    n=0
    while [ ! -e "$1" ]; do
        n=$((n + 1))
        [ "$n" -le $(($2 * 10)) ] || return 1
        sleep 0.1
    done
}

# wait_gone PID SECONDS: waits until process PID has exited.
wait_gone() {
    n=0
    while kill -0 "$1" 2>/dev/null; do
        n=$((n + 1))
        [ "$n" -le $(($2 * 10)) ] || return 1
        sleep 0.1
    done
}

# expect_status WANT CMD...: runs CMD, fails unless it exits with status WANT.
expect_status() {
    want=$1
    shift
    set +e
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    set -e
    [ "$got" -eq "$want" ] || {
        cat "$work/out" "$work/err" >&2
        fail "$* exited $got, expected $want"
    }
}

# run_daemon_check BINDIR WORK: starts BINDIR/fieldsyncd on a temp config in WORK,
# talks to it with BINDIR/fieldsync over its socket (status, init with a passphrase
# file, status again), stops it with SIGTERM and checks a clean exit.
run_daemon_check() {
    bindir=$1
    dwork=$2
    mkdir -p "$dwork"
    chmod 700 "$dwork"
    sock="$dwork/run/fieldsyncd.sock"
    mkdir -m 700 "$dwork/run"
    cat >"$dwork/fieldsyncd.conf" <<CONF
data_dir = $dwork/data
socket = $sock
log_target = stderr
test_fast_kdf = true
CONF
    "$bindir/fieldsyncd" --config "$dwork/fieldsyncd.conf" 2>"$dwork/daemon.log" &
    dpid=$!
    wait_for "$sock" 30 || { cat "$dwork/daemon.log" >&2; fail "the installed fieldsyncd did not open $sock within 30 s"; }
    expect_status 0 "$bindir/fieldsync" --socket "$sock" --json status
    grep -q '"uninitialized"' "$work/out" || { fail "status of a new daemon is not uninitialized: $(cat "$work/out")"; }
    (umask 077 && head -c 18 /dev/urandom | base64 >"$dwork/passphrase")
    expect_status 0 "$bindir/fieldsync" --socket "$sock" init --passphrase-file "$dwork/passphrase"
    expect_status 0 "$bindir/fieldsync" --socket "$sock" --json status
    grep -q '"unlocked"' "$work/out" || { fail "status after init is not unlocked: $(cat "$work/out")"; }
    [ -f "$dwork/data/fieldsync.db" ] || { fail "no store in $dwork/data after init"; }
    kill -TERM "$dpid"
    set +e
    wait "$dpid"
    drc=$?
    set -e
    dpid=""
    [ "$drc" -eq 0 ] || { cat "$dwork/daemon.log" >&2; fail "fieldsyncd exited $drc after SIGTERM, expected 0"; }
    [ ! -e "$sock" ] || fail "fieldsyncd left its socket $sock behind"
    echo "ok: the installed fieldsyncd served fieldsync status/init on $sock and stopped cleanly"
}
