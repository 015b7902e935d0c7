#!/usr/bin/env bash
# Shared by the install and *-up.sh scripts (source it): installs Debian packages by name with apt-get when they
# are missing, as root or through password-less sudo, refreshing the package lists at most once per run.
#   apt_install PACKAGE...        installs those of PACKAGE... that dpkg does not list as installed
#   as_root COMMAND...            runs COMMAND as root (directly when we are root, else through sudo -n)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    echo "${0##*/}: need root or password-less sudo to run: $*" >&2
    return 1
  fi
}

apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "${0##*/}: installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${SPOTWISE_APT_UPDATED:-}" ]; then
    as_root apt-get update -qq
    export SPOTWISE_APT_UPDATED=1
  fi
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
