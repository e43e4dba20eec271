#!/bin/sh
# `systemd-analyze verify` passes on both installed units (user unit with --user),
# with their ExecStart= pointed at the installed programs and Documentation=
# looked up in the installed man pages; broken copies of each fail it, so the
# check is known to be able to fail here. Also checks the hardening the units
# promise is there (a deleted line would otherwise go unnoticed).
#   systemd_verify.sh INSTALL_DIRS_SH TREE
set -eu
. "$(dirname "$0")/lib.sh"
. "$1"
tree=$2
root="$tree/root"
work="$tree/systemd"
command -v systemd-analyze >/dev/null 2>&1 ||
    skip "systemd-analyze is not installed (Debian package systemd); units not verified"
[ -d "$root" ] || fail "no installed tree in $root (the packaging_install fixture failed)"
rm -rf "$work"
mkdir -p "$work/xdg"
chmod 700 "$work/xdg"

user_unit="$root$USER_UNITDIR/fieldsyncd.service"
sys_unit="$root$SYSTEM_UNITDIR/fieldsync-server.service"
gc_unit="$root$SYSTEM_UNITDIR/fieldsync-server-gc.service"
gc_timer="$root$SYSTEM_UNITDIR/fieldsync-server-gc.timer"

# verify MODE UNIT...: runs systemd-analyze [--user] verify on copies of the
# UNITs whose program paths point into the installed tree (a timer is verified
# with its service beside it). Output in $work/verify.out.
verify() {
    mode=$1
    shift
    rm -rf "$work/copy"
    mkdir -p "$work/copy"
    copies=""
    for u in "$@"; do
        copy="$work/copy/$(basename "$u")"
        sed "s|=\\([+-]*\\)$BINDIR/|=\\1$root$BINDIR/|; s|=\\([+-]*\\)$SBINDIR/|=\\1$root$SBINDIR/|" "$u" >"$copy"
        [ -s "$copy" ] || fail "could not copy $u for systemd-analyze"
        copies="$copies $copy"
    done
    set +e
    # shellcheck disable=SC2086
    XDG_RUNTIME_DIR="$work/xdg" MANPATH="$root$MANDIR" systemd-analyze "$mode" verify $copies \
        >"$work/verify.out" 2>&1
    vrc=$?
    set -e
    # Warnings (unknown keys, bad values) are not always a failing status.
    if [ "$vrc" -eq 0 ] && grep -q -i 'unknown\|failed to parse\|invalid\|ignoring' "$work/verify.out"; then
        vrc=1
    fi
    return $vrc
}

verify --user "$user_unit" || { cat "$work/verify.out" >&2; fail "systemd-analyze --user verify fieldsyncd.service"; }
echo "ok: fieldsyncd.service (user unit) verifies"
verify --system "$sys_unit" || { cat "$work/verify.out" >&2; fail "systemd-analyze verify fieldsync-server.service"; }
echo "ok: fieldsync-server.service (system unit) verifies"
verify --system "$gc_unit" "$gc_timer" || { cat "$work/verify.out" >&2; fail "systemd-analyze verify fieldsync-server-gc.service and .timer"; }
echo "ok: fieldsync-server-gc.service and .timer verify"

# Broken copies must fail: a typo in a value, a missing program.
sed 's/^Type=notify/Type=notfy/' "$user_unit" >"$work/broken-type.service"
if verify --user "$work/broken-type.service"; then fail "systemd-analyze accepted Type=notfy: the verify check cannot fail"; fi
sed "s|^ExecStart=$SBINDIR/fieldsync-server|ExecStart=$SBINDIR/fieldsync-missing|" "$sys_unit" >"$work/broken-exec.service"
if verify --system "$work/broken-exec.service"; then fail "systemd-analyze accepted a missing ExecStart program"; fi
sed 's/^PrivateTmp=yes/PrivateTmpp=yes/' "$user_unit" >"$work/broken-key.service"
if verify --user "$work/broken-key.service"; then fail "systemd-analyze accepted an unknown key (PrivateTmpp=)"; fi
echo "ok: broken units are rejected (bad value, missing program, unknown key)"

# The promised settings, one per line as systemd reads them.
need() { # unit line
    grep -qx -- "$2" "$1" || fail "$(basename "$1") lacks '$2'"
}
for l in Type=notify Restart=on-failure PrivateUsers=yes NoNewPrivileges=yes ProtectSystem=strict \
    PrivateTmp=yes 'ReadWritePaths=%h/.local/share/fieldsync %t/fieldsync' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' MemoryDenyWriteExecute=yes \
    LockPersonality=yes RestrictRealtime=yes SystemCallArchitectures=native RuntimeDirectory=fieldsync \
    LimitCORE=0; do
    need "$user_unit" "$l"
done
for l in User=fieldsync StateDirectory=fieldsync NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
    PrivateTmp=yes PrivateDevices=yes 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    MemoryDenyWriteExecute=yes CapabilityBoundingSet= Restart=on-failure LimitCORE=0; do
    need "$sys_unit" "$l"
done
for l in User=fieldsync Type=oneshot PrivateNetwork=yes ProtectSystem=strict NoNewPrivileges=yes \
    LimitCORE=0; do
    need "$gc_unit" "$l"
done
need "$gc_timer" OnCalendar=daily
echo "PASS"
