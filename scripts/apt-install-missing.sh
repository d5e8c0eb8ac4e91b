# shellcheck shell=bash
# Sourced by install-peers.sh and install-image-tools.sh:
#   apt_install_missing WHO PACKAGE...
# installs the packages from Debian's registry when running as root; otherwise says what is
# missing and fails, so a developer's `make` stops with the apt-get line to type.
apt_install_missing() {
  local who="$1"
  shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$who: missing $* and not root; install them with apt-get" >&2
    return 1
  fi
  echo "$who: installing $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
