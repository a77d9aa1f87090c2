#!/usr/bin/env bash
# Installs what gitvisor needs to build and test on Debian 12. Idempotent: runs
# `apt-get update` once and installs only the packages that are missing.
set -euo pipefail

packages=(
  cmake g++ ninja-build pkg-config git sqlite3
  libgit2-dev libinih-dev libpoco-dev libsqlite3-dev catch2
  clang libclang-rt-14-dev   # libFuzzer and sanitizer runtimes for the fuzz test
  python3                    # example units and integration tests
  curl                       # HTTP endpoint tests
  prometheus                 # promtool: /metrics is checked with `promtool check metrics`
  groff-base man-db          # the man pages are checked for warnings
  util-linux                 # unshare: gitvisord as PID 1 of a namespace (container mode)
  openssh-server openssh-client  # sshd and ssh-keygen: fetching over ssh:// from a private sshd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -o DPkg::Lock::Timeout=300
# Installing a package must not start its service (prometheus is installed for promtool only): a
# policy-rc.d that forbids starts, for the length of the install, unless the machine has one.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"

# Packages installed here for the tests only (promtool, sshd for ssh:// fetch tests) do not leave their
# services enabled on a developer's machine.
for pair in prometheus:prometheus openssh-server:ssh; do
  package=${pair%%:*}
  service=${pair#*:}
  if [[ " ${missing[*]} " == *" $package "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now --quiet "$service.service" 2>/dev/null || true
  fi
done
