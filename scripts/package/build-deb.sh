#!/usr/bin/env bash
# Builds the Debian package of the box, dicom-edge_VERSION_ARCH.deb, from this tree's build:
#
#   scripts/package/build-deb.sh [--arch amd64|arm64] [--version V] [--out DIR]
#
# It holds /usr/lib/dicom-edge (dist, node_modules built for ARCH, package.json),
# /usr/bin/dicom-edge, the systemd units, the man page, the bash completion and the default
# configuration /etc/dicom-edge/dicom-edge.json (a conffile: an upgrade keeps the one in
# place). Its maintainer scripts (scripts/package/debian/) make the system user and the
# cache folder /var/lib/dicom-edge, kept on upgrade and on remove; purge deletes it.
# The version defaults to package.json's; the package goes to build/deb/ by default.
# `make deb` builds both architectures; docs/package.md says how to install it.
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$SOURCE/scripts/package"
ARCH=amd64
VERSION=""
OUT="$SOURCE/build/deb"

die() {
  echo "build-deb.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH="${2:?--arch needs amd64 or arm64}"; shift ;;
    --version) VERSION="${2:?--version needs a version}"; shift ;;
    --out) OUT="${2:?--out needs a folder}"; shift ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
[ -n "$VERSION" ] || VERSION="$(node -p 'require(process.argv[1]).version' "$SOURCE/package.json")"
case "$VERSION" in
  [0-9]*) ;;
  *) die "a Debian version starts with a digit: $VERSION" ;;
esac
[ -f "$SOURCE/dist/firmware/cli/main.js" ] || die "no build in $SOURCE/dist (run make build)"

PREFIX=/usr/lib/dicom-edge
modules="$("$HERE/node-modules.sh" "$ARCH")"

stage="$(mktemp -d "${TMPDIR:-/tmp}/dicom-edge-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
lib="$root$PREFIX"
mkdir -p "$lib/dist" "$lib/storage" "$root/usr/bin" "$root/DEBIAN"
cp -a "$SOURCE/bin" "$SOURCE/package.json" "$SOURCE/package-lock.json" "$SOURCE/README.md" "$lib/"
cp -a "$SOURCE/dist/firmware" "$SOURCE/dist/storage" "$SOURCE/dist/ui-tty" "$lib/dist/"
cp -a "$SOURCE/storage/schema" "$lib/storage/"
cp -a "$modules/node_modules" "$lib/"
# Source maps point at sources the package does not hold.
find "$lib/dist" -name '*.js.map' -delete

install -m 0755 "$HERE/dicom-edge.sh" "$root/usr/bin/dicom-edge"

# The manual page and the completion, made by this tree's build from the same definitions
# as its --help (the package's own build is for ARCH and may not run here).
mkdir -p "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions"
"$SOURCE/bin/dicom-edge" man-page | gzip -9n >"$root/usr/share/man/man1/dicom-edge.1.gz"
"$SOURCE/bin/dicom-edge" completion >"$root/usr/share/bash-completion/completions/dicom-edge"

# The units install.sh also renders, with the package's paths.
units="$root/usr/lib/systemd/system"
mkdir -p "$units"
for unit in dicom-edge dicom-edge-dashboard; do
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@CONFIG_DIR@|/etc/dicom-edge|g" \
    -e "s|@DATA_DIR@|/var/lib/dicom-edge|g" -e "s|@USER@|dicom-edge|g" \
    "$SOURCE/scripts/systemd/$unit.service.in" >"$units/$unit.service"
done

install -D -m 0644 "$HERE/dicom-edge.json" "$root/etc/dicom-edge/dicom-edge.json"
echo /etc/dicom-edge/dicom-edge.json >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "$HERE/debian/$script" "$root/DEBIAN/$script"
done
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" \
  -e "s|@SIZE@|$(du -sk --exclude=DEBIAN "$root" | cut -f1)|" \
  "$HERE/debian/control.in" >"$root/DEBIAN/control"

mkdir -p "$OUT"
deb="$OUT/dicom-edge_${VERSION}_${ARCH}.deb"
# gzip, not xz: 1.6 s instead of 7 s to pack here, for 9.2 MB instead of 7.4 MB (arm64).
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
