#!/usr/bin/env bash
# Runs README.md's "Deploy, break, roll back in five minutes" as written: the ```sh blocks between
# <!-- walkthrough:begin --> and <!-- walkthrough:end -->, in one bash shell, from the top of the checkout,
# with this build's programs on PATH. Only the HTTP port (127.0.0.1:9180) is replaced by a free one.
# After each block it checks what the README says should be true. Every process, cgroup and folder the
# walk-through made is removed on every exit, also when a step fails.
#
# usage: walkthrough.sh GITVISOR GITVISORD GITVISOR-EXEC SOURCE-DIR (exit 77: skipped)
set -uo pipefail

gitvisor=${1:?usage: walkthrough.sh GITVISOR GITVISORD GITVISOR-EXEC SOURCE-DIR}
gitvisord=${2:?usage: walkthrough.sh GITVISOR GITVISORD GITVISOR-EXEC SOURCE-DIR}
gitvisor_exec=${3:?usage: walkthrough.sh GITVISOR GITVISORD GITVISOR-EXEC SOURCE-DIR}
source_dir=${4:?usage: walkthrough.sh GITVISOR GITVISORD GITVISOR-EXEC SOURCE-DIR}
readme=$source_dir/README.md
readonly kSteps=5  # the numbered steps of the README section, one sh block each

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "the walk-through runs gitvisord as root (namespaces, cgroups)"
for tool in git curl python3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/setup-debian.sh installs it)"
done
# Whether something listens on 127.0.0.1:PORT (binding as http.server does, with SO_REUSEADDR).
port_taken() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen()
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}
port_taken 8080 && skip "127.0.0.1:8080 is in use, and the example web server listens there"
http_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

work=$(mktemp -d /tmp/gitvisor-walkthrough-XXXXXX)
demo=      # set by step 1: the walk-through's temporary folder, and the name of its cgroup folders
daemon=    # set by step 1: gitvisord's pid
watchdog=

# Everything of the walk-through's: its daemon, the processes in its cgroups, the cgroups, the folders.
cleanup() {
    local rc=$?
    set +e
    trap - ERR
    cd /
    [ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
        kill -TERM "$daemon"
        for _ in $(seq 150); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon" 2>/dev/null
    fi
    [ -n "$daemon" ] && wait "$daemon" 2>/dev/null
    if [ "$rc" -ne 0 ] && [ -n "$demo" ] && [ -f "$demo/gitvisord.log" ]; then
        echo "--- the last lines of gitvisord.log:"
        tail -n 40 "$demo/gitvisord.log"
        echo "---"
    fi
    if [ -n "$demo" ]; then
        local name dirs
        name=$(basename "$demo")
        for _ in $(seq 50); do
            mapfile -t dirs < <(find /sys/fs/cgroup -depth -type d \( -name "$name" -o -path "*/$name/*" \) 2>/dev/null)
            [ "${#dirs[@]}" -eq 0 ] && break
            for d in "${dirs[@]}"; do
                [ -f "$d/cgroup.procs" ] && xargs -r kill -KILL <"$d/cgroup.procs" 2>/dev/null
                rmdir "$d" 2>/dev/null
            done
            sleep 0.1
        done
        [ "${#dirs[@]}" -eq 0 ] || { echo "FAIL: cgroup folders left: ${dirs[*]}"; rc=1; }
        rm -rf "$demo"
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap '{ set +v; } 2>/dev/null; echo "FAIL: interrupted (or over the time limit of 500 s)"; exit 1' INT TERM HUP
# ctest kills a test that overruns its TIMEOUT with SIGKILL, which leaves no chance to clean up: give up
# earlier, stopping what this shell started (gitvisord stops the units).
(
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep 500 & sleeper=$!
    wait "$sleeper" && kill -TERM $$ && pkill -TERM -P $$
) >/dev/null 2>&1 &
watchdog=$!

# 1. The sh blocks of the section, one file each, with the free HTTP port.
grep -q '^<!-- walkthrough:begin' "$readme" || fail "no <!-- walkthrough:begin --> marker in $readme"
grep -q '^<!-- walkthrough:end' "$readme" || fail "no <!-- walkthrough:end --> marker in $readme"
awk -v dir="$work" '
    /^<!-- walkthrough:begin/ { on = 1; next }
    /^<!-- walkthrough:end/   { on = 0 }
    on && !block && /^```sh[[:space:]]*$/ { block = 1; n++; file = sprintf("%s/step-%d.sh", dir, n); printf "" > file; next }
    on && block && /^```[[:space:]]*$/   { block = 0; close(file); next }
    on && block { print > file }
' "$readme"
steps=$(find "$work" -name 'step-*.sh' | wc -l)
[ "$steps" -eq "$kSteps" ] ||
    fail "the README walk-through has $steps sh block(s) and this test checks $kSteps steps: update both together"
grep -q '127\.0\.0\.1:9180' "$work/step-1.sh" || fail "step 1 no longer starts gitvisord with --http 127.0.0.1:9180"
sed -i "s/127\.0\.0\.1:9180/127.0.0.1:$http_port/g" "$work"/step-*.sh

# 2. This build's programs first on PATH, as the README's `export PATH=...` would put them.
export PATH=$(dirname "$gitvisor"):$(dirname "$gitvisord"):$PATH
export GITVISOR_EXEC=$gitvisor_exec
unset GITVISOR_SOCKET
cd "$source_dir"

# --- helpers for the checks
json() {  # json EXPRESSION: evaluates a Python expression over the JSON on stdin (bound to `d`)
    python3 -c 'import json, sys; d = json.load(sys.stdin); r = eval(sys.argv[1]); print(r if not isinstance(r, bool) else str(r).lower())' "$1"
}
expect() {  # expect WHAT ACTUAL EXPECTED
    [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
}
ready_code() { curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$http_port/v1/units/$1/ready"; }
unit_field() { gitvisor --json status "$1" | json "d['$2']"; }

check_step_1() {
    [ -n "$demo" ] && [ -d "$demo/units/.git" ] || fail "step 1 made no repository in \$demo"
    [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null || fail "gitvisord is not running after step 1"
    expect "GITVISOR_SOCKET" "${GITVISOR_SOCKET:-}" "$demo/run/control.sock"
}

good_commit=
web_spec=
check_step_2() {
    local units
    units=$(gitvisor --json list | json '" ".join(sorted(u["name"] + "=" + u["state"] for u in d))')
    expect "units after the first deploy" "$units" \
        "cruncher.service=active greeter@alice.service=active greeter@bob.service=active migrate.service=active web.service=active worker.service=active"
    expect "GET /v1/units/web/ready" "$(ready_code web)" 200
    expect "web's health" "$(unit_field web health)" healthy
    good_commit=$(git rev-parse HEAD)
    web_spec=$(unit_field web spec_hash)
    # The memory limit of the example that has limits reached its cgroup (v2, else the v1 memory controller).
    local cgroup limit=
    cgroup=$(unit_field cruncher.service cgroup)
    [ -n "$cgroup" ] || fail "cruncher.service has no cgroup"
    if [ -f "/sys/fs/cgroup$cgroup/memory.max" ]; then
        limit=$(cat "/sys/fs/cgroup$cgroup/memory.max")
    elif [ -f "/sys/fs/cgroup/memory$cgroup/memory.limit_in_bytes" ]; then
        limit=$(cat "/sys/fs/cgroup/memory$cgroup/memory.limit_in_bytes")
    fi
    [ -z "$limit" ] || expect "cruncher.service's memory limit (MemoryMax=64M)" "$limit" 67108864
}

check_step_3() {
    local broken history
    broken=$(git rev-parse HEAD~1)
    [ "$broken" != "$good_commit" ] || fail "step 3 made no commit"
    history=$(gitvisor --json history -n 10)
    expect "the newest deploy" "$(json '[d[0]["result"], d[0]["trigger"]]' <<<"$history")" "['applied', 'auto-rollback']"
    expect "the broken commit's deploy" \
        "$(json "[x['result'] for x in d if x['commit'] == '$broken']" <<<"$history")" "['rolled-back']"
    expect "the rollback commit's subject" "$(git log -1 --format=%s | cut -c1-20)" "Roll back to ${good_commit:0:7}"
    expect "the rollback commit's tree" "$(git rev-parse 'HEAD^{tree}')" "$(git rev-parse "$good_commit^{tree}")"
    expect "GET /v1/units/web/ready after the rollback" "$(ready_code web)" 200
    expect "web's state after the rollback" "$(unit_field web state)/$(unit_field web health)" active/healthy
    expect "web's spec after the rollback" "$(unit_field web spec_hash)" "$web_spec"
    grep -q 'http.server 8080' web.service || fail "the work tree's web.service was not rolled back"
    gitvisor list | grep -q "^quarantined: ${broken:0:7} " || fail "gitvisor list does not say ${broken:0:7} is quarantined"
}

check_step_4() {
    local units
    units=$(gitvisor --json list | json '" ".join(sorted(u["name"] for u in d if u["name"].startswith("greeter@")))')
    expect "greeters after the manual rollback" "$units" "greeter@alice.service greeter@bob.service"
    expect "the newest deploy" "$(gitvisor --json history -n 1 | json '[d[0]["result"], d[0]["trigger"]]')" \
        "['applied', 'rollback']"
    expect "the manual rollback's tree" "$(git rev-parse 'HEAD^{tree}')" "$(git rev-parse "$good_commit^{tree}")"
    [ ! -e greeter@carol.service ] || fail "the work tree still has greeter@carol.service"
}

check_step_5() {
    ! kill -0 "$daemon" 2>/dev/null || fail "gitvisord still runs after the clean-up"
    [ ! -e "$demo" ] || fail "$demo is still there after the clean-up"
    local left
    left=$(find /sys/fs/cgroup -type d -name "$(basename "$demo")" 2>/dev/null)
    [ -z "$left" ] || fail "cgroup folders left after the clean-up: $left"
}

# 3. Each step in this shell, as typed: set -e stops at the first command that fails.
for i in $(seq "$kSteps"); do
    echo "=== README walk-through, step $i"
    trap '{ set +v; } 2>/dev/null; fail "step $i of the README walk-through failed at: $BASH_COMMAND"' ERR
    set -e -v
    # shellcheck disable=SC1090
    source "$work/step-$i.sh"
    set +e +v
    trap - ERR
    "check_step_$i"
    echo "=== step $i: ok"
done
echo "PASS: the README walk-through ran as written"
