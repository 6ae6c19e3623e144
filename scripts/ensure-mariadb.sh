#!/usr/bin/env bash
# Makes sure the MariaDB server binaries the tests and the demo start privately are installed.
# On a fresh Debian machine it installs them from Debian's packages; elsewhere it says what to do.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "mage-migrate: cargo is not installed; install a stable Rust toolchain (https://rustup.rs)" >&2
  exit 1
fi

if have mariadbd && have mariadb-install-db; then
  exit 0
fi

echo "mage-migrate: MariaDB server binaries (mariadbd, mariadb-install-db) are missing; installing Debian's mariadb-server package" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "mage-migrate: no apt-get here: install MariaDB 10.6 or newer (server binaries) with your package manager, then run this again" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "mage-migrate: run as root or install sudo: apt-get install mariadb-server" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# The package's own service is not needed (the tests start private servers). On a machine without
# an init system, starting it would fail the install: a policy-rc.d that says "no" keeps it off.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -q || { echo "mage-migrate: apt-get update failed; check the package mirror" >&2; exit 1; }
$SUDO apt-get install -y -q --no-install-recommends mariadb-server mariadb-client || {
  echo "mage-migrate: installing mariadb-server failed (see above)" >&2
  exit 1
}
have mariadbd && have mariadb-install-db || {
  echo "mage-migrate: mariadb-server is installed but mariadbd or mariadb-install-db is still missing" >&2
  exit 1
}
