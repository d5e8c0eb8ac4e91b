#!/usr/bin/env bash
# Installs, from Debian's packages, what `make image` and `make image-test` need when it is
# missing: mmdebstrap, qemu-user with binfmt_misc (the arm64 root is made and set up under
# emulation), the file-system makers that fill a partition from a folder without mounting
# it (mke2fs -d, mkfs.vfat + mtools), sfdisk, and qemu-system-aarch64 with qemu-img for
# the boot test. DCMTK (echoscu, storescu, findscu, storescp) comes from install-peers.sh.
set -euo pipefail
missing=()
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v update-binfmts >/dev/null 2>&1 || missing+=(binfmt-support)
command -v arch-test >/dev/null 2>&1 || missing+=(arch-test)
command -v qemu-system-aarch64 >/dev/null 2>&1 || missing+=(qemu-system-arm)
command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
command -v mkfs.vfat >/dev/null 2>&1 || missing+=(dosfstools)
command -v mcopy >/dev/null 2>&1 || missing+=(mtools)
command -v sfdisk >/dev/null 2>&1 || missing+=(fdisk)
command -v mke2fs >/dev/null 2>&1 || missing+=(e2fsprogs)
command -v debugfs >/dev/null 2>&1 || missing+=(e2fsprogs)
[ ${#missing[@]} -gt 0 ] || exit 0
# shellcheck source=apt-install-missing.sh source-path=SCRIPTDIR
. "$(dirname "$0")/apt-install-missing.sh"
apt_install_missing install-image-tools "${missing[@]}"
