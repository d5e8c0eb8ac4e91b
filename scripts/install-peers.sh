#!/usr/bin/env bash
# Installs the interop test peers from Debian's packages when they are missing:
# DCMTK (storescu, storescp, echoscu, dcmconv, dcmcjpeg, ...), Orthanc with its DICOMweb
# plugin (the STOW-RS destination of the tests), and the tools the
# appliance-face tests drive: socat (a pty pair for the serial console), tmux (the dashboard),
# the checkers of the installer and its units (ShellCheck, systemd-analyze), and strace (the
# SD-card budget in `make bench` counts fsyncs with it), and Prometheus with promtool (the
# metrics tests scrape the box with a real Prometheus and check the shipped alert rules),
# and groff (the man page is checked by rendering it); and what the Debian packages are built
# and tried with (scripts/package/): Debian's arm64 cross compiler, qemu-user with binfmt_misc
# and mmdebstrap for an arm64 root the box runs in under emulation.
set -euo pipefail
missing=()
command -v storescu >/dev/null 2>&1 || missing+=(dcmtk)
command -v Orthanc >/dev/null 2>&1 || [ -x /usr/sbin/Orthanc ] || missing+=(orthanc)
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || missing+=(orthanc-dicomweb)
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v groff >/dev/null 2>&1 || missing+=(groff-base)
command -v file >/dev/null 2>&1 || missing+=(file)
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(crossbuild-essential-arm64)
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v update-binfmts >/dev/null 2>&1 || missing+=(binfmt-support)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
command -v arch-test >/dev/null 2>&1 || missing+=(arch-test)
[ ${#missing[@]} -gt 0 ] || exit 0
# shellcheck source=apt-install-missing.sh source-path=SCRIPTDIR
. "$(dirname "$0")/apt-install-missing.sh"
apt_install_missing install-peers "${missing[@]}"
# Debian's package starts an Orthanc service on port 4242/8042; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now orthanc >/dev/null 2>&1 || true; fi
if [ -x /etc/init.d/orthanc ]; then /etc/init.d/orthanc stop >/dev/null 2>&1 || true; fi
# Likewise Prometheus (port 9090) and its node exporter.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi
for s in prometheus prometheus-node-exporter; do
  if [ -x /etc/init.d/$s ]; then /etc/init.d/$s stop >/dev/null 2>&1 || true; fi
done
