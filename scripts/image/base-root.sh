#!/usr/bin/env bash
# The Debian trixie arm64 root of the SD-card image, before the box is installed: made by
# mmdebstrap from Debian's packages under qemu-user (several minutes here) and kept as
# build/image/base-root/ with its recipe's key beside it, so the next `make image` starts
# from a copy of it. Needs root (mmdebstrap's root mode, binfmt_misc). Prints its path.
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$SOURCE/scripts/image"
BUILD="${DICOM_EDGE_BUILD_DIR:-$SOURCE/build}/image"
ROOT="$BUILD/base-root"

# What runs on the box besides itself: systemd with networkd, resolved and timesyncd (the
# network the installer sets on tty1, names, the clock), the Pi's firmware (non-free-firmware)
# and Debian's arm64 kernel, Node.js 20, growpart to give the cache the whole card at first
# boot, and the few tools a field engineer expects (ip, ps, less).
PACKAGES=(
  systemd systemd-sysv udev dbus systemd-timesyncd systemd-resolved libnss-resolve
  linux-image-arm64 initramfs-tools raspi-firmware
  nodejs passwd
  cloud-guest-utils fdisk e2fsprogs dosfstools
  iproute2 iputils-ping procps less kmod tzdata ca-certificates
)
RECIPE="mmdebstrap --arch=arm64 --variant=apt --components=main,non-free-firmware trixie ${PACKAGES[*]}"
# The files set before the packages install (the initramfs's drivers, raspi-firmware's
# cmdline.txt and config.txt) are part of the recipe.
KEY="$( (echo "$RECIPE"; cd "$HERE/base" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)"

"$SOURCE/scripts/package/binfmt.sh"
if [ -d "$ROOT" ] && [ "$(cat "$ROOT.key" 2>/dev/null)" = "$KEY" ]; then
  echo "$ROOT"
  exit 0
fi
rm -rf "$ROOT" "$ROOT.key" "$ROOT.part"
mkdir -p "$BUILD"
echo "base-root.sh: $RECIPE (once; kept in $ROOT)" >&2
include="$(IFS=,; echo "${PACKAGES[*]}")"
mmdebstrap --arch=arm64 --variant=apt --components=main,non-free-firmware --format=directory \
  --include="$include" \
  --setup-hook="cp -a '$HERE/base/.' \"\$1\"/" \
  trixie "$ROOT.part" >&2
mv "$ROOT.part" "$ROOT"
echo "$KEY" >"$ROOT.key"
echo "$ROOT"
