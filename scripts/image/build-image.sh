#!/usr/bin/env bash
# Builds the SD-card image of the box for a Raspberry Pi 4/5, build/dicom-edge-VERSION-arm64.img:
#
#   scripts/image/build-image.sh [--deb build/deb/dicom-edge_VERSION_arm64.deb] [--out FILE]
#
# Debian trixie arm64 (base-root.sh, kept under build/image/) with the box's arm64 package
# installed, the files of scripts/image/overlay/ and the units enabled, written without
# mounting anything: each partition is made from a folder (mkfs.vfat + mcopy, mke2fs -d)
# and copied into the image at its place.
#   p1 DE-BOOT  FAT32, 256 MiB  /boot/firmware: the Pi's firmware, kernel, initrd, config.txt
#   p2 DE-ROOT  ext4            /: the system and the box
#   p3 DE-CACHE ext4, 128 MiB   /var/lib/dicom-edge: grown to the end of the card at boot
# Needs root (chroot under qemu-user, file ownership). docs/image.md says how to use it.
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$SOURCE/scripts/image"
BUILD="${DICOM_EDGE_BUILD_DIR:-$SOURCE/build}"
VERSION="$(node -p 'require(process.argv[1]).version' "$SOURCE/package.json")"
DEB="$BUILD/deb/dicom-edge_${VERSION}_arm64.deb"
OUT="$BUILD/dicom-edge-$VERSION-arm64.img"
BOOT_MIB=256
CACHE_MIB=128
# The first partition starts at 4 MiB: erase blocks of SD cards are up to 4 MiB.
ALIGN_MIB=4

die() {
  echo "build-image.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --deb) DEB="${2:?--deb needs a file}"; shift ;;
    --out) OUT="${2:?--out needs a file}"; shift ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || die "needs root (a chroot and the files' owners)"
[ -f "$DEB" ] || die "no package $DEB (make deb)"

base="$("$HERE/base-root.sh")"
work="$BUILD/image/work"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
root="$work/root"
echo "build-image.sh: copying $base" >&2
cp -a "$base" "$root"

"$HERE/customize-root.sh" "$root" "$DEB"

# The partitions' contents: the firmware folder and the cache folder leave the root's
# file system and become their own (the root keeps the empty folders as mount points).
boot_dir="$work/boot"
cache_dir="$work/cache"
mv "$root/boot/firmware" "$boot_dir"
mkdir -m 0755 "$root/boot/firmware"
mv "$root/var/lib/dicom-edge" "$cache_dir"
mkdir -m 0755 "$root/var/lib/dicom-edge"

echo "build-image.sh: making the file systems" >&2
boot_img="$work/boot.vfat"
mkfs.vfat -F 32 -n DE-BOOT -C "$boot_img" $((BOOT_MIB * 1024)) >/dev/null
mcopy -s -p -m -i "$boot_img" "$boot_dir"/* ::/

# The root's size: what it holds and a third more, for upgrades and the few files it gains.
root_kib="$(du -sk --apparent-size "$root" | cut -f1)"
root_mib=$(((root_kib * 4 / 3 / 1024 + ALIGN_MIB) / ALIGN_MIB * ALIGN_MIB))
root_img="$work/root.ext4"
mke2fs -q -t ext4 -L DE-ROOT -d "$root" "$root_img" "${root_mib}M"

# The cache: 1 % reserved (the box does not run as root, so it cannot use what root
# keeps back; e2fsck and the journal still get some slack).
owner="$(stat -c %u:%g "$cache_dir")"
cache_img="$work/cache.ext4"
mke2fs -q -t ext4 -L DE-CACHE -m 1 -E root_owner="$owner" -d "$cache_dir" "$cache_img" "${CACHE_MIB}M"
debugfs -w -R "set_inode_field / mode 040750" "$cache_img" >/dev/null 2>&1

echo "build-image.sh: assembling $OUT" >&2
total_mib=$((ALIGN_MIB + BOOT_MIB + root_mib + CACHE_MIB))
tmp="$OUT.part"
rm -f "$tmp"
mkdir -p "$(dirname "$OUT")"
truncate -s "${total_mib}M" "$tmp"
# MBR, as the Pi's boot ROM reads it: the FAT partition first (type c, W95 FAT32 LBA).
sfdisk --quiet --label dos "$tmp" <<TABLE
start=${ALIGN_MIB}MiB, size=${BOOT_MIB}MiB, type=c, bootable
start=$((ALIGN_MIB + BOOT_MIB))MiB, size=${root_mib}MiB, type=83
start=$((ALIGN_MIB + BOOT_MIB + root_mib))MiB, size=${CACHE_MIB}MiB, type=83
TABLE
dd if="$boot_img" of="$tmp" bs=1M seek="$ALIGN_MIB" conv=notrunc,sparse status=none
dd if="$root_img" of="$tmp" bs=1M seek=$((ALIGN_MIB + BOOT_MIB)) conv=notrunc,sparse status=none
dd if="$cache_img" of="$tmp" bs=1M seek=$((ALIGN_MIB + BOOT_MIB + root_mib)) conv=notrunc,sparse status=none
mv "$tmp" "$OUT"
echo "$OUT"
