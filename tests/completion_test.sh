#!/usr/bin/env bash
# completions/gitvisor.bash against a real gitvisord: a temporary repository with two units and three
# commits, the completion function called as bash calls it (COMP_WORDS, COMP_CWORD), COMPREPLY checked.
# The daemon, its units, their cgroups and the folder are removed on every exit.
#
# usage: completion_test.sh GITVISOR GITVISORD GITVISOR-EXEC SOURCE-DIR (exit 77: skipped)
set -euo pipefail

usage="usage: completion_test.sh GITVISOR GITVISORD GITVISOR-EXEC SOURCE-DIR"
gitvisor=${1:?$usage}
gitvisord=${2:?$usage}
gitvisor_exec=${3:?$usage}
completion=${4:?$usage}/completions/gitvisor.bash

[ "$(id -u)" -eq 0 ] || { echo "SKIP: gitvisord runs its units as root here (namespaces, cgroups)"; exit 77; }

dir=$(mktemp -d /tmp/gitvisor-completion-XXXXXX)
cgroup_parent=$(basename "$dir")
socket=$dir/run/control.sock
daemon=
cleanup() {
    local rc=$?
    set +e
    if [ -n "$daemon" ]; then
        kill -TERM "$daemon" 2>/dev/null
        for _ in $(seq 150); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon" 2>/dev/null
        wait "$daemon" 2>/dev/null
    fi
    [ "$rc" -ne 0 ] && [ -f "$dir/gitvisord.log" ] && { echo "--- gitvisord.log:"; cat "$dir/gitvisord.log"; }
    local dirs
    for _ in $(seq 50); do
        mapfile -t dirs < <(find /sys/fs/cgroup -depth -type d \( -name "$cgroup_parent" -o -path "*/$cgroup_parent/*" \) 2>/dev/null)
        [ "${#dirs[@]}" -eq 0 ] && break
        for d in "${dirs[@]}"; do
            [ -f "$d/cgroup.procs" ] && xargs -r kill -KILL <"$d/cgroup.procs" 2>/dev/null
            rmdir "$d" 2>/dev/null
        done
        sleep 0.1
    done
    rm -rf "$dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --- a repository with two units, deployed
git_() { git -C "$dir/units" -c user.name=gitvisor-test -c user.email=test@gitvisor.invalid "$@"; }
"$gitvisor" init "$dir/units" >/dev/null
for unit in alpha beta; do
    printf '[Service]\nExecStart=/bin/sh -c "while :; do sleep 1; done"\n' >"$dir/units/$unit.service"
done
git_ add -A
git_ commit -qm "alpha and beta"
printf '# a comment\n' >>"$dir/units/beta.service"
git_ commit -qam "beta: a comment"
"$gitvisord" --repo "$dir/units" --state-dir "$dir/state" --run-dir "$dir/run" --exec-path "$gitvisor_exec" \
    --cgroup-parent "$cgroup_parent" --foreground --stop-units-on-exit 2>"$dir/gitvisord.log" </dev/null >/dev/null &
daemon=$!
for _ in $(seq 200); do
    [ "$("$gitvisor" --socket "$socket" --json list 2>/dev/null | grep -c '"state": "active"')" -eq 2 ] && break
    sleep 0.1
done
"$gitvisor" --socket "$socket" status alpha >/dev/null || { echo "FAIL: alpha.service did not start"; exit 1; }
# A second deploy, so that history has two commits to offer.
printf '# another comment\n' >>"$dir/units/alpha.service"
git_ commit -qam "alpha: a comment"
"$gitvisor" --socket "$socket" sync >/dev/null
short_tip=$(git_ rev-parse --short=7 HEAD)
short_first=$(git_ rev-parse --short=7 HEAD~1)

# --- the completion, called as bash does: `complete -F _gitvisor gitvisor`
# shellcheck disable=SC1090
source "$completion"
complete -p gitvisor | grep -q -- '-F _gitvisor gitvisor$' || fail "the script does not register _gitvisor for gitvisor"

# completes WORD... : COMPREPLY for the command line WORDS, the cursor at the end of the last word, sorted.
completes() {
    COMP_WORDS=("$gitvisor" "$@")
    COMP_CWORD=$(($# ))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _gitvisor 2>"$dir/stderr"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
# The completion must never write to the terminal.
quiet() { [ ! -s "$dir/stderr" ] || fail "the completion of 'gitvisor $1' wrote to stderr: $(cat "$dir/stderr")"; }
# expect "WORDS" EXPECTED: the completion of WORDS (split at spaces; a trailing "" is the empty word) is EXPECTED.
expect() {
    local -a words
    read -r -a words <<<"$1"
    [[ $1 == *" " || -z $1 ]] && words+=("")
    local got
    got=$(completes "${words[@]}")
    quiet "$1"
    [ "$got" = "$2" ] || fail "'gitvisor $1<TAB>': expected '$2', got '$got'"
}
# offers "WORDS" ITEM...: the completion of WORDS includes every ITEM.
offers() {
    local -a words
    read -r -a words <<<"$1"
    [[ $1 == *" " || -z $1 ]] && words+=("")
    local got item
    got=" $(completes "${words[@]}") "
    quiet "$1"
    shift
    for item in "$@"; do [[ $got == *" $item "* ]] || fail "'gitvisor ${words[*]}<TAB>' does not offer '$item' (got:$got)"; done
}

unset GITVISOR_SOCKET

# Commands: every one `gitvisor help` lists, and a prefix narrows them.
mapfile -t listed < <("$gitvisor" help | sed -n '/^commands:/,/^$/{s/^  \([a-z][a-z|-]*\).*/\1/p}' | tr '|' '\n' | sort -u)
[ "${#listed[@]}" -ge 15 ] || fail "could not read the command list from 'gitvisor help' (${#listed[@]} commands)"
offers "" "${listed[@]}" help
expect "st" "start status stop"
expect "re" "reload reset-failed restart"
expect "--" "--help --json --socket"
expect "--json hi" "history"

# Units, from the daemon named by --socket (either spelling) or $GITVISOR_SOCKET.
expect "--socket $socket status " "alpha.service beta.service"
expect "--socket $socket restart a" "alpha.service"
expect "--socket = $socket logs " "alpha.service beta.service"
expect "status --socket $socket " "alpha.service beta.service"
for command in start stop reload kill cat why; do expect "--socket $socket $command b" "beta.service"; done
GITVISOR_SOCKET=$socket expect "status " "alpha.service beta.service"
GITVISOR_SOCKET=$socket expect "logs alpha.service " "alpha.service beta.service"
# No daemon there: nothing, and quietly.
expect "--socket $dir/nothing.sock status " ""
# The default socket, unless a gitvisord of the host listens there.
[ -e /run/gitvisor/control.sock ] || expect "status " ""

# Commits, for rollback, diff and sync --force: the deployed ones, as short hashes.
offers "--socket $socket rollback " "$short_tip" "$short_first"
offers "--socket $socket diff " "$short_tip" "$short_first"
offers "--socket $socket sync --force " "$short_tip" "$short_first"
expect "--socket $socket rollback ${short_tip:0:5}" "$short_tip"
expect "--socket $socket rollback $short_tip " ""
expect "--socket $socket sync -" "--force"

# Flags per command.
offers "--socket $socket logs alpha.service -" -n -f --since --until --invocation
expect "--socket $socket logs alpha.service --since " ""
expect "history -" "-n"
expect "history -n " ""
offers "--socket $socket kill alpha.service -" -s
offers "--socket $socket kill alpha.service -s " KILL SIGTERM HUP
expect "--socket $socket kill alpha.service --kill-whom " "all main"
expect "rollback --u" "--unpin"

# The socket flag's own value is a file name.
expect "--socket $dir/ru" "$dir/run"

if [ "$failures" -gt 0 ]; then
    echo "FAIL: $failures check(s) failed"
    exit 1
fi
echo "PASS: bash completion offers commands, units and commits"
