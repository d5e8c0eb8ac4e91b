#!/usr/bin/env bash
# Lets this machine run arm64 programs under qemu-user (Debian's qemu-user-static and
# binfmt-support): binfmt_misc mounted where the kernel has it but nothing mounted it (as in
# a container), and Debian's qemu-aarch64 entry enabled. Needs root; does nothing when done.
set -euo pipefail

BINFMT=/proc/sys/fs/binfmt_misc
if [ ! -e "$BINFMT/register" ]; then
  mount -t binfmt_misc binfmt_misc "$BINFMT"
fi
if [ ! -e "$BINFMT/qemu-aarch64" ]; then
  update-binfmts --enable qemu-aarch64
fi
# F (fix binary): the kernel opens the interpreter now, so it works inside a chroot too.
grep -q '^flags: .*F' "$BINFMT/qemu-aarch64" || {
  echo "binfmt.sh: qemu-aarch64 is registered without the F flag; a chroot cannot use it" >&2
  exit 1
}
