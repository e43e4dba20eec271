#!/bin/sh
# The Debian packages, end to end: builds them out of tree
# (packaging/debian/build.sh), inspects them (exact file lists, Depends computed
# from the binaries' shared libraries, lintian without errors: warnings are
# printed), runs the programs from an unpacked copy, then, as root, installs them
# on this machine, starts the installed daemon, verifies the installed units,
# and removes and purges them, checking that the server's data survives
# `remove` and goes with `purge`. The machine is left as it was found.
#   debs.sh INSTALL_DIRS_SH SOURCE_DIR WORK_DIR   (only FS_VERSION is used from the first)
# Exit 77 (skipped) without the packaging tools (scripts/install-deps.sh
# --packaging), or, for the install/purge part only, when not root or when
# fieldsync packages are already installed here.
set -eu
. "$(dirname "$0")/lib.sh"
. "$1"
src=$2
work=$3

for t in dpkg-buildpackage dh lintian dpkg-deb dpkg-shlibdeps objdump; do
    command -v "$t" >/dev/null 2>&1 ||
        skip "$t is not installed: run scripts/install-deps.sh --packaging (debhelper, lintian, dpkg-dev, binutils)"
done

# A run killed half-way (a timeout) leaves the packages installed: the marker
# says this test installed them, so they are purged before anything else.
if [ -f "$work/installed.marker" ]; then
    echo "purging the packages a previous interrupted run installed"
    dpkg -P fieldsync fieldsync-server >/dev/null 2>&1 || true
    if grep -q 'user_existed=no' "$work/installed.marker" && getent passwd fieldsync >/dev/null; then
        deluser --system --quiet fieldsync >/dev/null 2>&1 || true
    fi
fi
rm -rf "$work"
mkdir -p "$work"
out="$work/debs"

# 1. Build.
sh "$src/packaging/debian/build.sh" "$out" || fail "packaging/debian/build.sh failed (log: $out/build.log)"
arch=$(dpkg --print-architecture)
client="$out/fieldsync_${FS_VERSION}_$arch.deb"
server="$out/fieldsync-server_${FS_VERSION}_$arch.deb"
[ -f "$client" ] && [ -f "$server" ] ||
    fail "no fieldsync_${FS_VERSION} .debs in $out: does debian/changelog match the project version $FS_VERSION?"
# The files docs/operations.md tells an administrator to install are these.
for name in $(grep -o "fieldsync[a-z-]*_[^ ]*_$arch\.deb" "$src/docs/operations.md"); do
    [ -f "$out/$name" ] || fail "docs/operations.md names $name, which build.sh did not make"
done

# 2. Exactly the expected files in each package.
files() { # deb -> sorted file paths (no directories)
    dpkg-deb -c "$1" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\.||' | sort
}
# dh_compress gzips documents of 4 KiB and more, so the README's name follows its size.
readme=/usr/share/doc/fieldsync/README.md
[ "$(wc -c <"$src/README.md")" -lt 4096 ] || readme="$readme.gz"
{
    printf '%s\n' /usr/bin/fieldsync /usr/bin/fieldsyncd /usr/lib/systemd/user/fieldsyncd.service \
        /usr/share/man/man1/fieldsync.1.gz /usr/share/man/man1/fieldsyncd.1.gz \
        /usr/share/man/man5/fieldsync.conf.5.gz "$readme" \
        /usr/share/doc/fieldsync/changelog.gz /usr/share/doc/fieldsync/copyright \
        /usr/share/doc/fieldsync/examples/fieldsyncd.conf.example
    for d in operations daemon cli socket-api server protocol encryption keyfile; do
        echo "/usr/share/doc/fieldsync/$d.md.gz"
    done
} | sort >"$work/client.expected"
printf '%s\n' /etc/fieldsync/server.conf /usr/sbin/fieldsync-server \
    /lib/systemd/system/fieldsync-server.service /lib/systemd/system/fieldsync-server-gc.service \
    /lib/systemd/system/fieldsync-server-gc.timer /usr/share/man/man8/fieldsync-server.8.gz \
    /usr/share/doc/fieldsync-server/changelog.gz /usr/share/doc/fieldsync-server/copyright \
    /usr/share/doc/fieldsync-server/operations.md.gz /usr/share/doc/fieldsync-server/protocol.md.gz \
    /usr/share/doc/fieldsync-server/server.md.gz | sort >"$work/server.expected"
files "$client" >"$work/client.files"
files "$server" >"$work/server.files"
for p in client server; do
    diff -u "$work/$p.expected" "$work/$p.files" >&2 ||
        fail "the $p package's files differ from the expected list (- missing, + unexpected)"
done
[ "$(dpkg-deb -I "$server" conffiles | tr -d ' \n')" = /etc/fieldsync/server.conf ] ||
    fail "/etc/fieldsync/server.conf is not the server package's only conffile"
echo "ok: both packages hold exactly the expected files"

# 3. Depends names the package of every shared library each program needs
# (${shlibs:Depends}), and only what it needs.
mkdir -p "$work/x-client" "$work/x-server"
dpkg-deb -x "$client" "$work/x-client"
dpkg-deb -x "$server" "$work/x-server"
check_depends() { # deb unpacked-root program...
    deb=$1
    x=$2
    shift 2
    deps=$(dpkg-deb -f "$deb" Depends)
    for prog in "$@"; do
        for so in $(objdump -p "$x$prog" | awk '$1 == "NEEDED" { print $2 }'); do
            lib=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
            [ -n "$lib" ] || fail "$prog needs $so, which ldconfig does not know"
            pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n 1 | cut -d: -f1)
            [ -n "$pkg" ] || pkg=$(dpkg -S "$lib" | head -n 1 | cut -d: -f1)
            echo "$deps" | tr ',' '\n' | grep -q "^ *$pkg\( \|$\)" ||
                fail "$(basename "$deb"): $prog needs $so from $pkg, but Depends is: $deps"
        done
    done
}
check_depends "$client" "$work/x-client" /usr/bin/fieldsync /usr/bin/fieldsyncd
check_depends "$server" "$work/x-server" /usr/sbin/fieldsync-server
dpkg-deb -f "$server" Depends | grep -q 'adduser' || fail "fieldsync-server does not depend on adduser (its postinst runs it)"
# libmicrohttpd serves `fieldsync ui` (docs/ui.md); the daemon has no use for it.
if objdump -p "$work/x-client/usr/bin/fieldsyncd" | awk '$1 == "NEEDED" { print $2 }' | grep -q 'libmicrohttpd'; then
    fail "fieldsyncd links libmicrohttpd: only the fieldsync command line (fieldsync ui) may"
fi
echo "ok: Depends: $(dpkg-deb -f "$client" Depends) | $(dpkg-deb -f "$server" Depends)"

# 4. lintian: no errors (warnings are reported). A copy of the client package
# without its copyright file must give an error, so this check can fail.
lintian_errors() { # file... -> lintian output in $work/lintian.out; status 0 if any E:
    lintian --info "$@" >"$work/lintian.out" 2>&1 || true
    grep -q '^E: ' "$work/lintian.out"
}
if lintian_errors "$client" "$server"; then
    cat "$work/lintian.out" >&2
    fail "lintian reports errors"
fi
warnings=$(grep -c '^W: ' "$work/lintian.out" || true)
grep '^[WIP]: ' "$work/lintian.out" || true
echo "ok: lintian: no errors, $warnings warnings"
dpkg-deb -R "$client" "$work/broken"
rm "$work/broken/usr/share/doc/fieldsync/copyright"
dpkg-deb -b "$work/broken" "$work/broken.deb" >/dev/null
lintian_errors "$work/broken.deb" || fail "lintian found no error in a package without a copyright file: the lintian check cannot fail"
echo "ok: lintian rejects a broken package"

# 5. The programs run from the unpacked packages.
expect_status 0 "$work/x-client/usr/bin/fieldsync" --version
grep -q "$FS_VERSION" "$work/out" || fail "fieldsync --version does not say $FS_VERSION"
expect_status 0 "$work/x-client/usr/bin/fieldsyncd" --help
expect_status 0 "$work/x-server/usr/sbin/fieldsync-server" --help
run_daemon_check "$work/x-client/usr/bin" "$work/unpacked-daemon"

# 6. Install, run, remove, purge on this machine.
[ "$(id -u)" -eq 0 ] || skip "not root: the packages were built and checked but not installed (CI runs this as root)"
for p in fieldsync fieldsync-server; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q -v 'not-installed'; then
        skip "package $p is already on this machine ($(dpkg-query -W -f='${Status}' "$p")): not touching it"
    fi
done
user_existed=no
getent passwd fieldsync >/dev/null && user_existed=yes
[ ! -e /var/lib/fieldsync ] || skip "/var/lib/fieldsync exists but no fieldsync-server package is installed: not touching it"
cleanup() {
    dpkg -P fieldsync fieldsync-server >/dev/null 2>&1 || true
    if [ "$user_existed" = no ] && getent passwd fieldsync >/dev/null; then
        deluser --system --quiet fieldsync >/dev/null 2>&1 || true
        getent group fieldsync >/dev/null && delgroup --system --quiet fieldsync >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT INT TERM
echo "user_existed=$user_existed" >"$work/installed.marker"
dpkg -i "$client" "$server" >"$work/dpkg-install.log" 2>&1 || {
    cat "$work/dpkg-install.log" >&2
    fail "dpkg -i of both packages failed"
}
getent passwd fieldsync >/dev/null || fail "installing fieldsync-server did not create the fieldsync user"
[ "$(stat -c '%U %a' /var/lib/fieldsync)" = "fieldsync 750" ] ||
    fail "/var/lib/fieldsync is $(stat -c '%U %a' /var/lib/fieldsync), expected 'fieldsync 750'"
[ -L /etc/systemd/user/default.target.wants/fieldsyncd.service ] ||
    fail "the user unit is not enabled for all users after install"
[ -L /etc/systemd/system/multi-user.target.wants/fieldsync-server.service ] ||
    fail "the server unit is not enabled after install"
[ -L /etc/systemd/system/timers.target.wants/fieldsync-server-gc.timer ] ||
    fail "the daily gc timer is not enabled after install"
expect_status 0 /usr/bin/fieldsync --version
expect_status 0 /usr/bin/fieldsyncd --help
run_daemon_check /usr/bin "$work/installed-daemon"
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -m 700 -p "$work/xdg"
    XDG_RUNTIME_DIR="$work/xdg" systemd-analyze --user verify /usr/lib/systemd/user/fieldsyncd.service ||
        fail "systemd-analyze --user verify of the installed fieldsyncd.service"
    for u in fieldsync-server.service fieldsync-server-gc.service fieldsync-server-gc.timer; do
        systemd-analyze verify "/lib/systemd/system/$u" || fail "systemd-analyze verify of the installed $u"
    done
    echo "ok: the installed units verify"
fi
# The admin's way to use the server: as its user, with the packaged config.
expect_status 0 runuser -u fieldsync -- /usr/sbin/fieldsync-server --config /etc/fieldsync/server.conf \
    user add rep --role rep
[ "$(stat -c %U /var/lib/fieldsync/server.db)" = fieldsync ] || fail "server.db is not owned by fieldsync"

dpkg -r fieldsync-server >"$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log" >&2; fail "dpkg -r fieldsync-server"; }
[ ! -e /usr/sbin/fieldsync-server ] || fail "dpkg -r left /usr/sbin/fieldsync-server"
[ -f /var/lib/fieldsync/server.db ] || fail "dpkg -r fieldsync-server deleted the server database (only purge may)"
[ -f /etc/fieldsync/server.conf ] || fail "dpkg -r fieldsync-server deleted its conffile (only purge may)"
expect_status 0 dpkg-query -W -f='${db:Status-Status}' fieldsync-server
grep -qx config-files "$work/out" || fail "after dpkg -r, fieldsync-server is '$(cat "$work/out")', expected config-files"
echo "ok: dpkg -r fieldsync-server kept /var/lib/fieldsync and /etc/fieldsync"

dpkg -P fieldsync-server >"$work/dpkg-p.log" 2>&1 || { cat "$work/dpkg-p.log" >&2; fail "dpkg -P fieldsync-server"; }
[ ! -e /var/lib/fieldsync ] || fail "dpkg -P fieldsync-server left /var/lib/fieldsync"
[ ! -e /etc/fieldsync ] || fail "dpkg -P fieldsync-server left /etc/fieldsync"
[ ! -e /etc/systemd/system/multi-user.target.wants/fieldsync-server.service ] &&
    [ ! -e /etc/systemd/system/timers.target.wants/fieldsync-server-gc.timer ] ||
    fail "dpkg -P fieldsync-server left its units enabled"
echo "ok: dpkg -P fieldsync-server deleted its data and configuration"

dpkg -r fieldsync >"$work/dpkg-r2.log" 2>&1 || { cat "$work/dpkg-r2.log" >&2; fail "dpkg -r fieldsync"; }
[ ! -e /usr/bin/fieldsyncd ] && [ ! -e /usr/bin/fieldsync ] || fail "dpkg -r fieldsync left its programs"
dpkg -P fieldsync >"$work/dpkg-p2.log" 2>&1 || { cat "$work/dpkg-p2.log" >&2; fail "dpkg -P fieldsync"; }
[ ! -e /etc/systemd/user/default.target.wants/fieldsyncd.service ] || fail "dpkg -P fieldsync left the user unit enabled"
for p in fieldsync fieldsync-server; do
    ! dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qv not-installed ||
        fail "$p is still known to dpkg after purge"
done
echo "ok: both packages removed and purged cleanly"
rm -f "$work/installed.marker"
echo "PASS"
