#!/usr/bin/env bash
# Times the three ways to get sqlite3's addon for arm64 (docs/package.md has the figures):
#   cross  Debian's cross compiler on this machine (what node-modules.sh does);
#   qemu   node-gyp in an arm64 Debian root under qemu-user (the root made first, timed apart);
#   debian Debian's node-sqlite3 package for arm64, fetched and unpacked (no compiling).
# Run as root (mmdebstrap, chroot): scripts/package/measure-sqlite3-routes.sh [ROUTE...]
# The build root is kept in build/arm64-build-root for the next run.
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${DICOM_EDGE_BUILD_DIR:-$SOURCE/build}"
routes=("$@")
[ ${#routes[@]} -gt 0 ] || routes=(cross qemu debian)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

seconds() {
  local start=$SECONDS
  "$@" >>"$work/log" 2>&1 || {
    tail -20 "$work/log" >&2
    exit 1
  }
  echo $((SECONDS - start))
}

# The locked packages for arm64, without install scripts, as node-modules.sh starts.
tree() {
  mkdir -p "$1"
  cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$1/"
  (cd "$1" && npm ci --omit=dev --ignore-scripts --os=linux --cpu=arm64 --libc=glibc \
    --no-audit --no-fund --loglevel=error)
}

cross() {
  tree "$work/cross"
  cd "$work/cross/node_modules/sqlite3"
  CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
    node ../node-gyp/bin/node-gyp.js rebuild --arch=arm64 --nodedir=/usr --jobs="$(nproc)"
}

build_root() {
  local root="$BUILD/arm64-build-root"
  [ -f "$root/.complete" ] && return 0
  rm -rf "$root"
  "$SOURCE/scripts/package/binfmt.sh"
  mmdebstrap --arch=arm64 --variant=apt \
    --include=nodejs,npm,node-gyp,libnode-dev,python3,make,g++ trixie "$root"
  touch "$root/.complete"
}

qemu() {
  local root="$BUILD/arm64-build-root"
  rm -rf "$root/tmp/sqlite3-build"
  tree "$root/tmp/sqlite3-build"
  chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp sh -c \
    "cd /tmp/sqlite3-build/node_modules/sqlite3 && node-gyp rebuild --nodedir=/usr --jobs=$(nproc)"
}

debian() {
  local root="$BUILD/arm64-build-root"
  chroot "$root" sh -c 'apt-get update -qq && cd /tmp && apt-get download node-sqlite3'
  dpkg-deb -x "$root"/tmp/node-sqlite3_*_arm64.deb "$work/debian"
}

for route in "${routes[@]}"; do
  case "$route" in
    cross) echo "cross-compile (crossbuild-essential-arm64): $(seconds cross) s" ;;
    qemu)
      echo "arm64 build root (mmdebstrap, once): $(seconds build_root) s"
      echo "node-gyp under qemu-user: $(seconds qemu) s"
      ;;
    debian)
      echo "arm64 build root (mmdebstrap, once): $(seconds build_root) s"
      echo "Debian's node-sqlite3 fetched and unpacked: $(seconds debian) s"
      dpkg-deb -f "$BUILD"/arm64-build-root/tmp/node-sqlite3_*_arm64.deb Version Depends
      ;;
    *) echo "unknown route $route (cross, qemu, debian)" >&2; exit 2 ;;
  esac
done
