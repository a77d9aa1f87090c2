#!/usr/bin/env bash
# Verifies the unit files that Debian packages ship: every *.service must load without an error
# (warnings are allowed: they name directives gitvisor does not implement). The packages are only
# downloaded and unpacked into a temporary folder, never installed.
set -euo pipefail

gitvisor=${1:?usage: debian_units.sh PATH-TO-gitvisor}
packages=(openssh-server nginx-common redis-server cron rsyslog chrony systemd apache2 postgresql-common
          dbus haproxy memcached bind9 exim4-daemon-light)

work=$(mktemp -d /tmp/gitvisor-debian-units-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

download() {
    local ok=0
    for p in "${packages[@]}"; do
        if apt-get download -q "$p" >/dev/null 2>"$work/apt-$p.err"; then ok=$((ok + 1)); fi
    done
    echo "$ok"
}

got=$(download)
if [ "$got" -lt "${#packages[@]}" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null 2>&1 || true
    rm -f ./*.deb
    got=$(download)
fi
if [ "$got" -eq 0 ]; then
    echo "SKIP: Debian's package registry cannot be reached ($(head -c 300 "$work/apt-${packages[0]}.err"))"
    exit 77
fi
echo "downloaded $got of ${#packages[@]} packages"

for deb in ./*.deb; do dpkg -x "$deb" root; done
# Only systemd's unit folders: packages also ship D-Bus activation files named *.service.
mapfile -t dirs < <(find root -type d \( -path '*/systemd/system' -o -path '*/systemd/user' \) | sort)
[ "${#dirs[@]}" -gt 0 ] || { echo "FAIL: no systemd unit folders in the packages"; exit 1; }
mapfile -t units < <(find "${dirs[@]}" -name '*.service' \( -type f -o -type l \) | sort)
echo "verifying ${#units[@]} unit files"
[ "${#units[@]}" -ge 50 ] || { echo "FAIL: expected at least 50 unit files, found ${#units[@]}"; exit 1; }

status=0
"$gitvisor" verify "${dirs[@]}" >out.txt 2>err.txt || status=$?
cat err.txt
if [ "$status" -ne 0 ]; then
    echo "FAIL: gitvisor verify exited $status"
    grep ': error: ' out.txt || cat out.txt
    exit 1
fi
echo "warnings by message:"
sed -n 's/.*: warning: //p' out.txt | sed 's/ by gitvisor.*//' | sort | uniq -c | sort -rn | sed -n '1,15p'  # reads all: no SIGPIPE under pipefail
