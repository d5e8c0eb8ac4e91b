#!/usr/bin/env bash
# An arm64 Debian trixie root with Node.js (Debian's nodejs, 20.x), where the arm64 package
# is installed and the box runs under qemu-user for the tests: made once by mmdebstrap from
# Debian's packages (about 2 minutes here) and kept in build/arm64-root for the next run.
# Needs root (mmdebstrap's root mode, binfmt_misc). Prints the root's path.
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
ROOT="${DICOM_EDGE_BUILD_DIR:-$SOURCE/build}/arm64-root"
# passwd: useradd, for the package's system user (Priority required, not Essential).
RECIPE="mmdebstrap --arch=arm64 --variant=apt --include=nodejs,passwd trixie"

"$SOURCE/scripts/package/binfmt.sh"
if [ "$(cat "$ROOT.complete" 2>/dev/null)" = "$RECIPE" ]; then
  echo "$ROOT"
  exit 0
fi
rm -rf "$ROOT" "$ROOT.complete"
mkdir -p "$(dirname "$ROOT")"
echo "arm64-root.sh: $RECIPE (once; kept in $ROOT)" >&2
# shellcheck disable=SC2086 # the recipe is words
$RECIPE "$ROOT" >&2
echo "$RECIPE" >"$ROOT.complete"
echo "$ROOT"
