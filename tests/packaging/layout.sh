#!/bin/sh
# The installed tree (packaging_install fixture) holds exactly the expected files:
# the three programs, a man page in the matching section for each, both systemd
# units pointing at the installed programs, the example configs (accepted by the
# installed programs; a broken copy refused), the docs, and nothing else (no
# demo loader, test or benchmark binaries, static libraries or headers).
#   layout.sh INSTALL_DIRS_SH TREE   (INSTALL_DIRS_SH: build/packaging/install-dirs.sh)
set -eu
. "$(dirname "$0")/lib.sh"
. "$1"
tree=$2
root="$tree/root"
work="$tree/layout"
rm -rf "$work"
mkdir -p "$work"
[ -d "$root" ] || fail "no installed tree in $root (the packaging_install fixture failed)"

# 1. Exactly the expected files.
{
    echo "$BINDIR/fieldsync"
    echo "$BINDIR/fieldsyncd"
    echo "$SBINDIR/fieldsync-server"
    echo "$USER_UNITDIR/fieldsyncd.service"
    echo "$SYSTEM_UNITDIR/fieldsync-server.service"
    echo "$SYSTEM_UNITDIR/fieldsync-server-gc.service"
    echo "$SYSTEM_UNITDIR/fieldsync-server-gc.timer"
    echo "$MANDIR/man1/fieldsync.1"
    echo "$MANDIR/man1/fieldsyncd.1"
    echo "$MANDIR/man5/fieldsync.conf.5"
    echo "$MANDIR/man8/fieldsync-server.8"
    echo "$SYSCONFDIR/fieldsync/server.conf"
    echo "$DOCDIR/examples/fieldsyncd.conf.example"
    for d in README operations daemon cli socket-api server protocol encryption keyfile; do
        echo "$DOCDIR/$d.md"
    done
} | sort >"$work/expected"
(cd "$root" && find . -type f -o -type l) | sed 's|^\.||' | sort >"$work/installed"
if ! diff -u "$work/expected" "$work/installed" >"$work/diff"; then
    cat "$work/diff" >&2
    if [ -e "$root$SBINDIR/fieldsyncd" ]; then
        echo "fieldsyncd belongs in $BINDIR (man section 1; docs/operations.md says why):" \
            "daemon/CMakeLists.txt must install it to CMAKE_INSTALL_BINDIR" >&2
    fi
    fail "the installed files differ from the expected list (- missing, + unexpected)"
fi
echo "ok: $(wc -l <"$work/installed") files installed, exactly the expected ones"

# 2. Programs executable by everyone, data files not executable.
while read -r f; do
    case "$f" in
    "$BINDIR"/* | "$SBINDIR"/*) [ "$(stat -c %a "$root$f")" = 755 ] || fail "$f is mode $(stat -c %a "$root$f"), expected 755" ;;
    *) [ "$(stat -c %a "$root$f")" = 644 ] || fail "$f is mode $(stat -c %a "$root$f"), expected 644" ;;
    esac
done <"$work/installed"

# 3. A man page for every program, in the section its directory implies.
for p in "$root$BINDIR"/*; do
    [ -f "$root$MANDIR/man1/$(basename "$p").1" ] || fail "$(basename "$p") is in $BINDIR but has no section 1 man page"
done
for p in "$root$SBINDIR"/*; do
    [ -f "$root$MANDIR/man8/$(basename "$p").8" ] || fail "$(basename "$p") is in $SBINDIR but has no section 8 man page"
done
# ... that formats without a warning.
if command -v man >/dev/null 2>&1; then
    for m in "$root$MANDIR"/man*/*; do
        LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$m" >/dev/null 2>"$work/manwarn" || fail "man cannot format $m"
        [ ! -s "$work/manwarn" ] || { cat "$work/manwarn" >&2; fail "formatting $m gives warnings"; }
    done
    echo "ok: every man page formats without warnings"
else
    echo "note: man is not installed; man pages not formatted"
fi

# 4. The demo loader only as its own component.
[ -x "$tree/demo$BINDIR/fieldsync-demo" ] || fail "cmake --install --component demo did not install fieldsync-demo"

# 5. The installed programs run.
expect_status 0 "$root$BINDIR/fieldsync" --version
grep -q "$FS_VERSION" "$work/out" || fail "fieldsync --version does not say $FS_VERSION: $(cat "$work/out")"
expect_status 0 "$root$BINDIR/fieldsyncd" --help
grep -q -- '--config' "$work/out" || fail "fieldsyncd --help does not list --config"
expect_status 0 "$root$SBINDIR/fieldsync-server" --help
expect_status 2 "$root$BINDIR/fieldsyncd" --no-such-flag

# 6. The example configs are accepted by the installed programs, and a copy
# with an unknown key is refused (so the check can fail).
mkdir -m 700 "$work/xdg"
ex="$root$DOCDIR/examples/fieldsyncd.conf.example"
expect_status 0 env XDG_RUNTIME_DIR="$work/xdg" "$root$BINDIR/fieldsyncd" --config "$ex" \
    --data-dir "$work/data" --print-config
grep -q 'sales_cycle_days' "$work/out" || fail "--print-config with the example config printed no settings"
{ cat "$ex"; echo "no_such_setting = 1"; } >"$work/bad.conf"
expect_status 1 env XDG_RUNTIME_DIR="$work/xdg" "$root$BINDIR/fieldsyncd" --config "$work/bad.conf" \
    --data-dir "$work/data" --print-config
grep -q 'no_such_setting' "$work/err" || fail "a bad fieldsyncd.conf is refused without naming the key: $(cat "$work/err")"

sconf="$root$SYSCONFDIR/fieldsync/server.conf"

expect_status 0 "$root$SBINDIR/fieldsync-server" --config "$sconf" --db "$work/server.db" user add rep --role rep
expect_status 0 "$root$SBINDIR/fieldsync-server" --config "$sconf" --db "$work/server.db" user list
grep -q rep "$work/out" || fail "user list after user add shows no rep"
{ cat "$sconf"; echo "no-such-option = 1"; } >"$work/bad-server.conf"
expect_status 2 "$root$SBINDIR/fieldsync-server" --config "$work/bad-server.conf" --db "$work/server.db" user list
echo "ok: example configs accepted by the installed programs; unknown keys refused"

# 7. The units start the installed programs and name installed man pages.
check_unit() { # unit program
    u="$root$1"
    exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
    [ "$exe" = "$2" ] || fail "$1 starts '$exe', expected $2"
    [ -x "$root$exe" ] || fail "$1 starts $exe, which is not installed"
    for page in $(sed -n 's/^Documentation=//p' "$u"); do
        name=${page#man:}
        sec=${name##*(}
        sec=${sec%)}
        [ -f "$root$MANDIR/man$sec/${name%(*}.$sec" ] || fail "$1 documents $page, which is not installed"
    done
}
check_unit "$USER_UNITDIR/fieldsyncd.service" "$BINDIR/fieldsyncd"
check_unit "$SYSTEM_UNITDIR/fieldsync-server.service" "$SBINDIR/fieldsync-server"
check_unit "$SYSTEM_UNITDIR/fieldsync-server-gc.service" "$SBINDIR/fieldsync-server"
grep -q "^ExecStart=.* --config $SYSCONFDIR/fieldsync/server.conf gc\$" \
    "$root$SYSTEM_UNITDIR/fieldsync-server-gc.service" || fail "the gc unit does not run gc with $SYSCONFDIR/fieldsync/server.conf"
grep -q "^ExecStart=.* --config $SYSCONFDIR/fieldsync/server.conf serve" \
    "$root$SYSTEM_UNITDIR/fieldsync-server.service" || fail "the server unit does not read $SYSCONFDIR/fieldsync/server.conf"

# 8. The installed daemon serves its socket and stops cleanly.
run_daemon_check "$root$BINDIR" "$work/daemon"
echo "PASS"
