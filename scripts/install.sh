#!/usr/bin/env bash
# Installs dicom-edge as a service on Raspberry Pi OS or Debian, from this source tree:
#   the build under /opt/dicom-edge, the configuration in /etc/dicom-edge/dicom-edge.json,
#   the cache under /var/lib/dicom-edge, a system user "dicom-edge", and a systemd unit that
#   starts it at boot, restarts it after a failure, lets it bind port 104 without root and
#   logs to the journal. With --dashboard, a second unit shows the dashboard on tty1.
#
#   sudo scripts/install.sh [--dashboard] [--port N] [--ae TITLE]
#
# Run again to upgrade: the build is replaced, the configuration and the cache are kept.
# --destdir DIR stages every file under DIR and touches nothing else (no user, no
# systemctl); --no-build installs the build already in dist/. The tests use both.
set -euo pipefail

PREFIX=/opt/dicom-edge
CONFIG_DIR=/etc/dicom-edge
DATA_DIR=/var/lib/dicom-edge
SERVICE_USER=dicom-edge
UNIT_DIR=/etc/systemd/system
DESTDIR=""
DASHBOARD=0
BUILD=1
PORT=104
AE=DICOM_EDGE

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

die() {
  echo "install.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dashboard) DASHBOARD=1 ;;
    --port) PORT="${2:?--port needs a number}"; shift ;;
    --ae) AE="${2:?--ae needs an AE title}"; shift ;;
    --destdir) DESTDIR="${2:?--destdir needs a folder}"; shift ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage 2 ;;
  esac
  shift
done

case "$PORT" in
  '' | *[!0-9]*) die "--port must be a number from 1 to 65535" ;;
esac
if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then die "--port must be a number from 1 to 65535"; fi
if [ "${#AE}" -lt 1 ] || [ "${#AE}" -gt 16 ]; then die "--ae must be 1 to 16 characters"; fi
case "$AE" in
  *\\* | *\"*) die "--ae must not hold a backslash or a quote" ;;
esac

SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
staging() { [ -n "$DESTDIR" ]; }

if ! staging && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo scripts/install.sh)"
fi

# Node.js 20 or later (the firmware's engines). Debian 12's own package is 18.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$node_major" -ge 20 ] || die "Node.js 20 or later is needed (found: $(node --version 2>/dev/null || echo none)); install it from NodeSource or Debian 13"

if [ "$BUILD" -eq 1 ]; then
  echo "install.sh: building in $SOURCE"
  make -C "$SOURCE" build >/dev/null
fi
[ -f "$SOURCE/dist/firmware/cli/main.js" ] || die "no build in $SOURCE/dist (run make build)"

root="${DESTDIR%/}"
echo "install.sh: installing into ${root}${PREFIX}"
# A new build goes beside the old one and replaces it in one rename, so a failed copy
# leaves the running version whole.
mkdir -p "${root}${PREFIX%/*}"
next="${root}${PREFIX}.new"
rm -rf "$next"
mkdir -p "$next/dist" "$next/storage"
cp -a "$SOURCE/bin" "$SOURCE/package.json" "$SOURCE/package-lock.json" "$SOURCE/README.md" "$next/"
cp -a "$SOURCE/dist/firmware" "$SOURCE/dist/storage" "$SOURCE/dist/ui-tty" "$next/dist/"
cp -a "$SOURCE/storage/schema" "$next/storage/"
cp -a "$SOURCE/node_modules" "$next/"
# Keep what runs; drop the compilers, linters and test tools (sqlite3 stays as built here).
(cd "$next" && npm prune --omit=dev --no-audit --no-fund >/dev/null)
rm -rf "${root}${PREFIX}.old"
if [ -e "${root}${PREFIX}" ]; then mv "${root}${PREFIX}" "${root}${PREFIX}.old"; fi
mv "$next" "${root}${PREFIX}"
rm -rf "${root}${PREFIX}.old"

# `dicom-edge status` (and every other command) finds the installed box's configuration.
mkdir -p "${root}/usr/local/bin"
cat >"${root}/usr/local/bin/dicom-edge" <<WRAPPER
#!/bin/sh
# dicom-edge, as installed by scripts/install.sh: commands find ${CONFIG_DIR}/dicom-edge.json.
: "\${DICOM_EDGE_CONFIG:=${CONFIG_DIR}/dicom-edge.json}"
export DICOM_EDGE_CONFIG
exec ${PREFIX}/bin/dicom-edge "\$@"
WRAPPER
chmod 0755 "${root}/usr/local/bin/dicom-edge"

# The manual page (man dicom-edge) and bash completion, made by the installed build from
# the same definitions as its --help.
mkdir -p "${root}/usr/local/share/man/man1" "${root}/etc/bash_completion.d"
"${root}${PREFIX}/bin/dicom-edge" man-page >"${root}/usr/local/share/man/man1/dicom-edge.1"
"${root}${PREFIX}/bin/dicom-edge" completion >"${root}/etc/bash_completion.d/dicom-edge"

mkdir -p "${root}${CONFIG_DIR}" "${root}${DATA_DIR}"
config="${root}${CONFIG_DIR}/dicom-edge.json"
if [ -e "$config" ]; then
  echo "install.sh: keeping the configuration in ${CONFIG_DIR}/dicom-edge.json"
else
  cat >"$config" <<CONFIG
{
  "ae": "${AE}",
  "port": ${PORT},
  "storageDir": "${DATA_DIR}",
  "nodes": []
}
CONFIG
  echo "install.sh: wrote ${CONFIG_DIR}/dicom-edge.json (AE ${AE}, port ${PORT})"
fi

render() {
  sed -e "s|@PREFIX@|${PREFIX}|g" -e "s|@CONFIG_DIR@|${CONFIG_DIR}|g" \
    -e "s|@DATA_DIR@|${DATA_DIR}|g" -e "s|@USER@|${SERVICE_USER}|g" "$1" >"$2"
  chmod 0644 "$2"
}
mkdir -p "${root}${UNIT_DIR}"
render "$SOURCE/scripts/systemd/dicom-edge.service.in" "${root}${UNIT_DIR}/dicom-edge.service"
if [ "$DASHBOARD" -eq 1 ]; then
  render "$SOURCE/scripts/systemd/dicom-edge-dashboard.service.in" \
    "${root}${UNIT_DIR}/dicom-edge-dashboard.service"
fi

if staging; then
  echo "install.sh: staged under $DESTDIR (no user created, no service started)"
  exit 0
fi

if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin \
    --comment "dicom-edge DICOM box" "$SERVICE_USER"
  echo "install.sh: created system user $SERVICE_USER"
fi
usermod -a -G dialout "$SERVICE_USER" 2>/dev/null || true
# The box replaces its config file atomically (temp file + rename), so it owns the folder.
chown -R "$SERVICE_USER:$SERVICE_USER" "$CONFIG_DIR" "$DATA_DIR"
chmod 0750 "$CONFIG_DIR" "$DATA_DIR"
chmod 0640 "$CONFIG_DIR/dicom-edge.json"

systemctl daemon-reload
systemctl enable dicom-edge.service >/dev/null
systemctl restart dicom-edge.service
if [ "$DASHBOARD" -eq 1 ]; then
  systemctl enable dicom-edge-dashboard.service >/dev/null
  systemctl restart dicom-edge-dashboard.service
fi
echo "install.sh: dicom-edge is running; check it with: sudo dicom-edge status"
