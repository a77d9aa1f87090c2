#!/usr/bin/env bash
# The .deb that `cpack -G DEB` makes (packaging/CMakeLists.txt) holds every file gitvisor installs, with
# the settings file as a conffile and a Depends line that covers every library the programs link; it
# installs with dpkg into an empty root folder, whose maintainer scripts add the `gitvisor` group there
# ($DPKG_ROOT) and never on this host; the installed programs run and the man pages render without a
# warning; removing keeps the state, purging removes it.
#
# usage: deb_test.sh BUILD_DIR
# Exit 0 when everything holds, 1 at the first check that fails, 77 (skipped) without cpack, dpkg or root,
# or for a sanitizer build.
set -euo pipefail

build=$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)

skip() {
    echo "skipped: $*"
    exit 77
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

for tool in cpack dpkg dpkg-deb; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ "$(id -u)" -eq 0 ] || skip "installing a .deb, even into another root, needs root (files owned by root)"
# Programs built with sanitizers need their runtimes, which the package does not depend on: not for hosts.
if grep -Eiqx 'GITVISOR_SANITIZE:BOOL=(on|true|yes|1)' "$build/CMakeCache.txt"; then
    skip "a sanitizer build (GITVISOR_SANITIZE=ON) is not packaged"
fi
command -v groff >/dev/null || fail "groff is not installed (Debian package groff-base): the man pages cannot be checked"
command -v readelf >/dev/null || fail "readelf is not installed (Debian package binutils): Depends cannot be checked"

work=$(mktemp -d /tmp/gitvisor-deb-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
root=$work/root
programs=(usr/bin/gitvisor usr/sbin/gitvisord usr/libexec/gitvisor/gitvisor-exec
          usr/libexec/gitvisor/gitvisor-offline)
man_pages=(usr/share/man/man1/gitvisor.1.gz usr/share/man/man8/gitvisord.8.gz
           usr/share/man/man5/gitvisor.unit.5.gz)
unit=usr/lib/systemd/system/gitvisord.service
conffile=etc/gitvisor/gitvisord.ini
completion=usr/share/bash-completion/completions/gitvisor
expected_files=("${programs[@]}" "${man_pages[@]}" "$unit" "$conffile" "$completion")

# What this host looks like before: nothing below may change it.
host_paths=(/etc/gitvisor /var/lib/gitvisor /usr/sbin/gitvisord /usr/bin/gitvisor
            /usr/lib/systemd/system/gitvisord.service /lib/systemd/system/gitvisord.service)
host_state() {
    cat /etc/group /etc/passwd | sha256sum
    [ -e /etc/gshadow ] && sha256sum </etc/gshadow
    for p in "${host_paths[@]}"; do
        if [ -e "$p" ]; then echo "$p exists"; else echo "$p absent"; fi
    done
    dpkg-query -W -f='${Status}\n' gitvisor 2>/dev/null || echo "gitvisor not known to the host's dpkg"
}
host_before=$(host_state)
host_group_before=$(grep -c '^gitvisor:' /etc/group || true)

# 1. Make the package.
echo "== cpack -G DEB"
if ! cpack -G DEB -B "$work/cpack" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1; then
    cat "$work/cpack.log" >&2
    fail "cpack -G DEB did not make a package"
fi
debs=("$work"/cpack/gitvisor_*.deb)
if [ "${#debs[@]}" -ne 1 ] || [ ! -f "${debs[0]}" ]; then
    fail "expected one gitvisor_*.deb in $work/cpack, found: ${debs[*]}"
fi
deb=${debs[0]}
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

# 2. Its files, control fields and conffiles.
echo "== dpkg-deb -c / -I"
dpkg-deb -c "$deb" >"$work/contents"
listed_files=$(awk '$1 !~ /^d/ {sub(/^\.\//, "", $6); print $6}' "$work/contents" | sort)
wanted_files=$(printf '%s\n' "${expected_files[@]}" | sort)
[ "$listed_files" = "$wanted_files" ] ||
    fail "the package's files differ from the expected ones:$(diff <(echo "$wanted_files") <(echo "$listed_files") | sed 's/^/\n  /')"
for p in "${programs[@]}"; do
    grep -q "^-rwxr-xr-x root/root .* \./$p\$" "$work/contents" || fail "$p is not an executable owned by root"
done

field() { dpkg-deb -f "$deb" "$1"; }
version=$(sed -n 's/^project(gitvisor VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
[ "$(field Package)" = gitvisor ] || fail "Package is '$(field Package)', not gitvisor"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', not the project's $version"
[ "$(field Maintainer)" = "gitvisor developers" ] || fail "Maintainer is '$(field Maintainer)'"
[ "$(field Section)" = admin ] || fail "Section is '$(field Section)', not admin"
[ "$(dpkg-deb -I "$deb" conffiles)" = "/$conffile" ] ||
    fail "conffiles is '$(dpkg-deb -I "$deb" conffiles)', not /$conffile"

depends=$(field Depends)
echo "Depends: $depends"
depends_on() { tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -Fqx "$1"; }
for p in libgit2-1.5 libinih1 libpocofoundation80 libpocojson80 libpoconet80 libpocoutil80 libsqlite3-0; do
    depends_on "$p" || fail "Depends does not name $p"
done
# Every library a program links must come from a package that Depends names.
dpkg-deb -x "$deb" "$work/extracted"
owner_of() {  # the host package that holds the library file $1 (with or without /usr: merged /usr)
    local path candidates c found
    path=$(readlink -f "$1")
    candidates=("$1" "$path" "/usr$1" "/usr$path" "${1#/usr}" "${path#/usr}")
    for c in "${candidates[@]}"; do
        found=$(dpkg -S "$c" 2>/dev/null) || continue
        found=${found%%$'\n'*}  # "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6"
        echo "${found%%:*}"
        return 0
    done
    return 1
}
for p in "${programs[@]}"; do
    ldd "$work/extracted/$p" >"$work/ldd" 2>&1 || fail "ldd $p: $(cat "$work/ldd")"
    for lib in $(readelf -d "$work/extracted/$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p'); do
        # "libx.so.1 => /path/libx.so.1 (0x...)", or "/path/ld-linux-x86-64.so.2 (0x...)" for the loader.
        path=$(awk -v lib="$lib" '$1 == lib && $2 == "=>" {print $3; exit}
                                  {n = split($1, part, "/")} n > 1 && part[n] == lib {print $1; exit}' "$work/ldd")
        if [ -z "$path" ] || [ "$path" = not ]; then fail "$p needs $lib, which this host does not have"; fi
        package=$(owner_of "$path") || fail "$p needs $lib ($path), which no Debian package holds"
        depends_on "$package" || fail "$p needs $lib from package $package, which Depends does not name"
    done
done

# 3. Install it into an empty root: a dpkg database, and copies of the host's account files without
#    a gitvisor group, so that postinst must add it there.
echo "== dpkg --root=$root -i"
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
grep -v '^gitvisor:' /etc/group >"$root/etc/group"
cp /etc/passwd "$root/etc/passwd"
if [ -e /etc/gshadow ]; then grep -v '^gitvisor:' /etc/gshadow >"$root/etc/gshadow" || true; fi
dpkg_root() {
    # --log: dpkg's log is the host's /var/log/dpkg.log whatever the root.
    dpkg --root="$root" --log=/dev/null --force-depends --force-script-chrootless "$@"
}
dpkg_root -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i into $root failed"; }

status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' gitvisor)
[ "$status" = "install ok installed" ] || fail "dpkg says '$status' for gitvisor in $root"
dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Conffiles}\n' gitvisor | grep -q "^ /$conffile " ||
    fail "/$conffile is not recorded as a conffile in $root"
for f in "${expected_files[@]}"; do
    [ -f "$root/$f" ] || fail "$f is not installed in $root"
done
for p in "${programs[@]}"; do
    [ -x "$root/$p" ] || fail "$p is not executable in $root"
done
for d in etc/gitvisor var/lib/gitvisor; do
    [ -d "$root/$d" ] || fail "postinst did not make /$d in $root"
done
grep -q '^gitvisor:' "$root/etc/group" || fail "postinst did not add the gitvisor group to $root/etc/group"
if [ -e "$root/etc/gshadow" ]; then
    grep -q '^gitvisor:' "$root/etc/gshadow" || fail "postinst did not add the gitvisor group to $root/etc/gshadow"
fi
[ "$(grep -c '^gitvisor:' /etc/group || true)" = "$host_group_before" ] ||
    fail "the gitvisor group was added to this host's /etc/group"

# The systemd unit, as installed.
for line in Type=notify NotifyAccess=main KillMode=process Delegate=yes \
            "ExecStart=/usr/sbin/gitvisord --foreground"; do
    grep -qx "$line" "$root/$unit" || fail "$unit has no line '$line'"
done

# The settings file: only comments and the [gitvisord] section (so gitvisord reads nothing from it), and a
# commented-out line for every setting that gitvisord takes (its --help), and for nothing else.
grep -Ev '^(;.*|\[gitvisord\]|)$' "$root/$conffile" && fail "/$conffile has a line that is not a comment"
"$root/usr/sbin/gitvisord" --help >"$work/gitvisord-help" || fail "gitvisord --help failed"
flags=$(sed -n 's/^--\([a-z-]*\).*/\1/p' "$work/gitvisord-help" |
        grep -Evx 'config|help|daemon|umask|pidfile|foreground' | sort)
settings=$(sed -n 's/^; \([a-z-]*\) =.*/\1/p' "$root/$conffile" | sort)
if [ -z "$settings" ] || [ "$flags" != "$settings" ]; then
    fail "/$conffile and gitvisord's flags differ:$(diff <(echo "$flags") <(echo "$settings") | sed 's/^/\n  /')"
fi

# 4. The installed programs run (with this host's libraries) and find each other.
echo "== running the installed programs"
"$root/usr/bin/gitvisor" help >"$work/help" || fail "gitvisor help failed"
head -n 1 "$work/help" | grep -q '^usage: gitvisor ' || fail "gitvisor help printed: $(head -n 3 "$work/help")"
"$root/usr/bin/gitvisor" verify --list-directives >"$work/directives" ||
    fail "gitvisor verify (through the installed gitvisor-offline) failed"
head -n 1 "$work/directives" | grep -qx '# Unit directives' ||
    fail "gitvisor verify --list-directives printed: $(head -n 3 "$work/directives")"

# 5. The man pages: compressed with gzip -9n (no name, no time stamp), rendered without a warning.
echo "== man pages"
for page in "${man_pages[@]}"; do
    [ "$(od -An -tx1 -N8 "$root/$page" | tr -d ' \n')" = 1f8b080000000000 ] ||
        fail "$page is not compressed with gzip -n (it keeps a name or a time stamp)"
    warnings=$(zcat "$root/$page" | groff -man -ww -z 2>&1)
    [ -z "$warnings" ] || fail "groff warns about $page:"$'\n'"$warnings"
    if command -v man >/dev/null; then
        warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 "$root/$page" 2>&1 >/dev/null)
        [ -z "$warnings" ] || fail "man warns about $page:"$'\n'"$warnings"
    fi
done

# 6. Removing keeps the settings and the state; purging removes the state, and /etc/gitvisor only when empty.
echo "== dpkg --root=$root -r, then -P"
echo state >"$root/var/lib/gitvisor/state.db"
mkdir -p "$root/etc/gitvisor/units"
dpkg_root -r gitvisor >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r in $root failed"; }
for f in "${programs[@]}" "${man_pages[@]}" "$unit"; do
    [ ! -e "$root/$f" ] || fail "$f is still in $root after dpkg -r"
done
[ -f "$root/$conffile" ] || fail "dpkg -r removed the conffile /$conffile"
[ -f "$root/var/lib/gitvisor/state.db" ] || fail "dpkg -r removed gitvisord's state"
dpkg_root -P gitvisor >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -P in $root failed"; }
grep -q "removing $root/var/lib/gitvisor" "$work/dpkg.log" || fail "purging did not say that it removes the state"
[ ! -e "$root/var/lib/gitvisor" ] || fail "dpkg -P left /var/lib/gitvisor"
[ ! -e "$root/$conffile" ] || fail "dpkg -P left /$conffile"
[ -d "$root/etc/gitvisor/units" ] || fail "dpkg -P removed /etc/gitvisor, which still held units/"

# 7. This host is as it was.
[ "$(host_state)" = "$host_before" ] ||
    fail "this host changed:$(diff <(echo "$host_before") <(host_state) | sed 's/^/\n  /')"
echo "ok: $(basename "$deb") ($(stat -c %s "$deb") bytes) installs into a fresh root with every file"
