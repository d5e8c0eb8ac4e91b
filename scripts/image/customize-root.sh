#!/usr/bin/env bash
# Makes a copy of the base root into the box's system: installs the box's arm64 package,
# lays scripts/image/overlay/ over it, sets the box's configuration for the image and
# enables what runs at boot. Runs the root's own dpkg and systemctl under qemu-user.
#
#   scripts/image/customize-root.sh ROOT DEB
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
root="${1:?the root folder}"
deb="${2:?the arm64 package}"

in_root() { chroot "$root" "$@"; }

# /proc in the root while its scripts run: dpkg's maintainer scripts and raspi-firmware's
# kernel hook (ischroot) look there to know they run in a chroot.
mount -t proc proc "$root/proc"
trap 'umount "$root/proc"' EXIT

# The package, as apt would install it on a Pi (its postinst makes the user, the cache
# folder and enables dicom-edge.service; systemd does not run in a chroot).
cp "$deb" "$root/tmp/dicom-edge.deb"
in_root dpkg -i /tmp/dicom-edge.deb >&2
rm -f "$root/tmp/dicom-edge.deb"

# Owned by root whoever checked the tree out.
cp -R --preserve=mode,timestamps --no-preserve=ownership "$HERE/overlay/." "$root/"

# cmdline.txt and config.txt from the image's settings (overlay/etc/default/raspi-*), as
# raspi-firmware writes them again at every kernel upgrade on the Pi.
kernel_version="$(ls "$root/lib/modules")"
in_root env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware "$kernel_version" >&2

# The box's configuration on the image: the serial console on the UART of the Pi's GPIO
# header (/dev/serial0: overlay/etc/udev/rules.d/70-dicom-edge-serial0.rules).
config="$root/etc/dicom-edge/dicom-edge.json"
node -e '
  const fs = require("fs");
  const file = process.argv[1];
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  config.serial = { path: "/dev/serial0", baudRate: 115200 };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
' "$config"

# Names resolve through systemd-resolved, which takes the DNS servers networkd is given.
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
# A new machine-id at first boot: each card is its own machine (DHCP client id, journal).
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

in_root systemctl enable \
  dicom-edge.service dicom-edge-dashboard.service dicom-edge-grow-cache.service \
  dicom-edge-apply-setup.path \
  systemd-networkd.service systemd-resolved.service systemd-timesyncd.service \
  fstrim.timer >&2
# tty1 is the dashboard's; the installer has no login there (nor anywhere: the box is
# configured on its dashboard and its serial console).
in_root systemctl mask getty@tty1.service autovt@tty1.service >&2
# No questions on the console at first boot (locale, keymap, time zone, root password):
# the dashboard sets the time zone.
in_root systemctl mask systemd-firstboot.service >&2
# Nothing writes to the card on a timer but fstrim: no package lists (the box is not
# upgraded by itself), no manual-page index.
for unit in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer; do
  if [ -e "$root/usr/lib/systemd/system/$unit" ]; then in_root systemctl disable "$unit" >&2 || true; fi
done
# Package lists are downloaded again when someone upgrades; they need not be on the card.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
