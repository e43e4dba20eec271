#!/bin/sh
# Fixture of the packaging tests: `cmake --install` of this build into a DESTDIR,
# the way a package build or an administrator installs it.
#   install_tree.sh BUILD_DIR TREE
# TREE/root receives the default install, TREE/demo the `demo` component only.
set -eu
build=$1
tree=$2

rm -rf "$tree"
mkdir -p "$tree"
DESTDIR="$tree/root" cmake --install "$build" >"$tree/install.log" 2>&1 || {
    cat "$tree/install.log" >&2
    echo "FAIL: cmake --install $build into $tree/root" >&2
    exit 1
}
DESTDIR="$tree/demo" cmake --install "$build" --component demo >>"$tree/install.log" 2>&1 || {
    cat "$tree/install.log" >&2
    echo "FAIL: cmake --install --component demo" >&2
    exit 1
}
echo "installed into $tree/root ($(find "$tree/root" -type f | wc -l) files)"
