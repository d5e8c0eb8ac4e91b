#!/usr/bin/env bash
# The box's run-time node_modules for one Debian architecture (amd64 or arm64), built once
# per package-lock.json and kept under build/node-modules/ for the next `make deb`:
#
#   scripts/package/node-modules.sh ARCH      prints the folder that holds node_modules
#
# npm installs the locked packages for that CPU without running their install scripts:
# @node-rs/xxhash comes as the CPU's own prebuilt package and serialport's bindings carry
# prebuilt binaries for both CPUs. sqlite3 is the one addon compiled here, from its bundled
# SQLite, by node-gyp against this machine's Node.js headers (it uses Node-API, so one
# binary serves every Node.js >= 20): natively for amd64, with Debian's cross compiler
# (crossbuild-essential-arm64) for arm64. docs/package.md compares this with compiling in
# an arm64 root under qemu-user and with Debian's node-sqlite3, and gives the times.
set -euo pipefail

ARCH="${1:?usage: node-modules.sh amd64|arm64}"
SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${DICOM_EDGE_BUILD_DIR:-$SOURCE/build}/node-modules"

die() {
  echo "node-modules.sh: $*" >&2
  exit 1
}

case "$ARCH" in
  amd64) NPM_CPU=x64 GYP_ARCH=x64 PREBUILDS=linux-x64 CROSS="" ;;
  arm64) NPM_CPU=arm64 GYP_ARCH=arm64 PREBUILDS=linux-arm64 CROSS=aarch64-linux-gnu- ;;
  *) die "unknown architecture $ARCH (amd64 or arm64)" ;;
esac

# A new lock file or a change to this script makes a new tree; an old one is left for
# `make clean` (build/ is not in git).
key="$(cat "$SOURCE/package-lock.json" "$0" | sha256sum | cut -c1-12)"
done_dir="$CACHE/$ARCH-$key"
if [ -f "$done_dir/.complete" ]; then
  echo "$done_dir"
  exit 0
fi

# Node.js's own headers (Debian's nodejs ships them under /usr/include/node): node-gyp
# must not try to download them, this machine reaches only the package registries.
NODEDIR="$(node -p 'require("path").resolve(process.execPath, "..", "..")')"
[ -f "$NODEDIR/include/node/node_api.h" ] || die "no Node.js headers under $NODEDIR/include/node"
if [ -n "$CROSS" ]; then
  command -v "${CROSS}g++" >/dev/null || die "no ${CROSS}g++: apt-get install crossbuild-essential-arm64"
fi

mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/.$ARCH-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$work/"
echo "node-modules.sh: npm ci for linux-$NPM_CPU" >&2
(cd "$work" && npm ci --omit=dev --ignore-scripts --os=linux --cpu="$NPM_CPU" --libc=glibc \
  --no-audit --no-fund --loglevel=error >&2)

started=$SECONDS
echo "node-modules.sh: compiling sqlite3 for $ARCH" >&2
(
  cd "$work/node_modules/sqlite3"
  export CC="${CROSS}gcc" CXX="${CROSS}g++" LINK="${CROSS}g++" AR="${CROSS}ar"
  node ../node-gyp/bin/node-gyp.js rebuild --arch="$GYP_ARCH" --nodedir="$NODEDIR" \
    --jobs="$(nproc)" >"$work/sqlite3-build.log" 2>&1
) || {
  tail -20 "$work/sqlite3-build.log" >&2
  die "sqlite3 did not compile for $ARCH"
}
echo "node-modules.sh: sqlite3 compiled in $((SECONDS - started)) s" >&2

# Only the addon itself is loaded (bindings looks in build/Release); the objects, the
# static libraries and the other systems' prebuilt binaries are not shipped.
release="$work/node_modules/sqlite3/build/Release"
find "$work/node_modules/sqlite3/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
find "$release" -mindepth 1 -maxdepth 1 ! -name node_sqlite3.node -exec rm -rf {} +
"${CROSS}strip" --strip-unneeded "$release/node_sqlite3.node"
prebuilds="$work/node_modules/@serialport/bindings-cpp/prebuilds"
find "$prebuilds" -mindepth 1 -maxdepth 1 ! -name "$PREBUILDS" -exec rm -rf {} +

file -b "$release/node_sqlite3.node" | grep -q "$([ "$ARCH" = arm64 ] && echo aarch64 || echo x86-64)" ||
  die "sqlite3's addon is not for $ARCH: $(file -b "$release/node_sqlite3.node")"

rm -rf "$done_dir"
mv "$work" "$done_dir"
trap - EXIT
touch "$done_dir/.complete"
echo "$done_dir"
