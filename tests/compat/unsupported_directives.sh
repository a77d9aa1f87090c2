#!/usr/bin/env bash
# What to build next: the directives of real unit files that gitvisor does not implement, most used first.
# Runs `gitvisor verify` over folders of unit files (by default /lib/systemd/system: every service unit
# the packages installed on this machine ship, with their drop-ins) and prints a Markdown table of the
# directives it warns about, counted by unit file (drop-ins count for their unit) and by warning (one per
# line that uses the directive), most unit files first.
# docs/compatibility.md holds its output for one Debian 12 machine. Reads only; not a test.
#
# usage: unsupported_directives.sh GITVISOR [-n TOP] [FOLDER...]
set -euo pipefail

usage="usage: unsupported_directives.sh GITVISOR [-n TOP] [FOLDER...]"
gitvisor=${1:?$usage}
shift
top=20
if [ "${1:-}" = -n ]; then
    top=${2:?$usage}
    shift 2
fi
[ "$#" -gt 0 ] || set -- /lib/systemd/system

out=$(mktemp /tmp/gitvisor-unsupported-XXXXXX)
trap 'rm -f "$out"' EXIT
status=0
"$gitvisor" verify "$@" >"$out" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$out"; echo "gitvisor verify exited $status" >&2; exit 1; }

echo "$(tail -n 1 "$out" | sed 's/^gitvisor: //') in $*"
echo
# Each warning line is FILE[:LINE]: warning: MESSAGE. Three messages name a directive:
#   "KEY= is not supported by gitvisor..."          a directive gitvisor knows and ignores
#   "KEY=VALUE is not supported by gitvisor..."     a value of a directive it implements otherwise
#   "unknown directive 'KEY=' in [SECTION]..."      a directive gitvisor does not know at all
# The others (alias symlinks, a unit with only SuccessAction=) are about files, not directives.
awk -v top="$top" '
    {
        file = $0
        sub(/(:[0-9]+)?: warning: .*/, "", file)
        sub(/\.d\/[^\/]*\.conf$/, "", file)      # a drop-in counts for its unit
        message = $0
        sub(/^.*: warning: /, "", message)
        kind = ""
        if (match(message, /^[A-Za-z]+= is not supported/)) {
            key = substr(message, 1, index(message, "=")); kind = "ignored"
        } else if (match(message, /^[A-Za-z]+=[^ ]+ is not supported/)) {
            key = substr(message, 1, index(message, " ") - 1); kind = "value not supported"
        } else if (match(message, /^unknown directive \047[A-Za-z]+=\047/)) {
            key = substr(message, 20, RLENGTH - 20); kind = "unknown to gitvisor"
        }
        if (kind == "") next
        lines[key]++
        how[key] = kind
        if (!((key, file) in seen)) { seen[key, file] = 1; files[key]++ }
    }
    END {
        print "| # | Directive | Unit files | Warnings | gitvisor |"
        print "| ---: | --- | ---: | ---: | --- |"
        n = 0
        for (k in lines) order[++n] = k
        # By unit files (how many services need it), then warnings, then name: a stable order for the docs.
        for (i = 2; i <= n; i++) {
            for (j = i; j > 1; j--) {
                a = order[j - 1]; b = order[j]
                if (files[a] > files[b] || (files[a] == files[b] && (lines[a] > lines[b] || (lines[a] == lines[b] && a < b)))) break
                order[j - 1] = b; order[j] = a
            }
        }
        for (i = 1; i <= n && i <= top; i++) {
            k = order[i]
            printf "| %d | `%s` | %d | %d | %s |\n", i, k, files[k], lines[k], how[k]
        }
    }
' <(grep ': warning: ' "$out")
