#!/usr/bin/env bash
# Debian's own memcached, redis-server and nginx units, byte for byte as the packages ship them, deployed by
# the real gitvisord from a unit repository, then asked on loopback: memcached on 127.0.0.1:11211 ("STAT
# pid"), redis on 127.0.0.1:6379 (PONG), nginx on 127.0.0.1:80 (HTTP 200). A few lifecycle requests
# follow (reload and stop/start of nginx, which run its ExecReload= and ExecStop=; restart of memcached),
# and the directives gitvisor does not implement are printed, as `gitvisor verify` warns about them.
# docs/compatibility.md records what this test shows, unit by unit.
#
# The packages are installed when missing (their own services are kept from starting, and disabled
# again), and kept. Every process, cgroup and folder the test made is removed on every exit, also when a
# step fails. Skipped (77) when not root, when the packages cannot be installed, or when a port they
# listen on is taken.
#
# usage: debian_services.sh GITVISOR GITVISORD GITVISOR-EXEC (exit 77: skipped)
set -uo pipefail

usage="usage: debian_services.sh GITVISOR GITVISORD GITVISOR-EXEC"
gitvisor=${1:?$usage}
gitvisord=${2:?$usage}
gitvisor_exec=${3:?$usage}

readonly kUnits=(memcached.service redis-server.service nginx.service)
readonly kUnitDir=/lib/systemd/system
readonly kPolicy=/usr/sbin/policy-rc.d
readonly kWatchdogSeconds=840  # under the TIMEOUT of 900 that CTest gives this test

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
step() { echo; echo "=== $*"; }

[ "$(id -u)" -eq 0 ] || skip "this test installs packages and runs gitvisord as root (namespaces, cgroups)"
for tool in git curl python3 dpkg-query apt-get timeout; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/setup-debian.sh installs it)"
done

# --- state the clean-up needs; set as the test goes
work=          # /tmp/gitvisor-compat-XXXXXX: the unit repository, state, logs
run_dir=       # /run/gitvisor-compat-XXXXXX: gitvisord's --run-dir (see below for why not under /tmp)
cgroup_parent=
daemon=
watchdog=
policy_made=false   # whether this test wrote /usr/sbin/policy-rc.d (then it removes it)
ports_checked=false # whether the ports were free before the units ran (then they must be free after)
leftovers=()        # files the services write outside the test's folders, absent before the test

cleanup() {
    local rc=$?
    set +e
    trap - ERR
    cd /
    [ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
    if $policy_made; then rm -f "$kPolicy"; fi
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
        # --stop-units-on-exit: gitvisord stops every unit (their ExecStop= included) before it exits.
        kill -TERM "$daemon"
        for _ in $(seq 300); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon" 2>/dev/null
    fi
    [ -n "$daemon" ] && wait "$daemon" 2>/dev/null
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$work/gitvisord.log" ]; then
        echo "--- the last lines of gitvisord.log:"
        tail -n 40 "$work/gitvisord.log"
        echo "---"
    fi
    if [ -n "$cgroup_parent" ]; then
        # Whatever a unit left in its cgroup is killed by pid, then the folders go, deepest first.
        local dirs left=()
        for _ in $(seq 50); do
            mapfile -t dirs < <(find /sys/fs/cgroup -depth -type d \( -name "$cgroup_parent" -o -path "*/$cgroup_parent/*" \) 2>/dev/null)
            [ "${#dirs[@]}" -eq 0 ] && break
            for d in "${dirs[@]}"; do
                if [ -s "$d/cgroup.procs" ]; then
                    left+=("$d: $(tr '\n' ' ' <"$d/cgroup.procs")")
                    xargs -r kill -KILL <"$d/cgroup.procs" 2>/dev/null
                fi
                rmdir "$d" 2>/dev/null
            done
            sleep 0.1
        done
        [ "${#dirs[@]}" -eq 0 ] || { echo "FAIL: cgroup folders left: ${dirs[*]}"; rc=1; }
        if [ "${#left[@]}" -gt 0 ] && [ "$rc" -eq 0 ]; then
            echo "FAIL: processes were still running after gitvisord stopped: ${left[*]}"
            rc=1
        fi
    fi
    if $ports_checked && [ "$rc" -eq 0 ]; then
        for port in 11211 6379 80; do
            port_taken "$port" && { echo "FAIL: something still listens on port $port after the test"; rc=1; }
        done
    fi
    for f in "${leftovers[@]}"; do rm -f "$f"; done
    [ -n "$work" ] && rm -rf "$work"
    [ -n "$run_dir" ] && rm -rf "$run_dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted (or over the time limit of $kWatchdogSeconds s)"; exit 1' INT TERM HUP
# CTest kills a test that overruns its TIMEOUT with SIGKILL, which leaves no chance to clean up: give up
# earlier. Every wait below is bounded, so the TERM is acted on within seconds.
(
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep "$kWatchdogSeconds" & sleeper=$!
    wait "$sleeper" && kill -TERM $$
) >/dev/null 2>&1 &
watchdog=$!

# Whether a server could not bind PORT (nginx binds 0.0.0.0:80, the others 127.0.0.1), as they bind.
port_taken() {
    local address=127.0.0.1
    [ "$1" -eq 80 ] && address=0.0.0.0
    python3 - "$address" "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.listen()
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}

# ---------------------------------------------------------------------------------------------------------
step "1. the packages: memcached, redis-server (with redis-cli), nginx"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
installed memcached || missing+=(memcached)
installed redis-server || missing+=(redis-server)
installed redis-tools || missing+=(redis-tools)
# nginx-light is Debian 12's small nginx (it pulls in nginx); any nginx with nginx-common's unit will do.
{ installed nginx-common && [ -x /usr/sbin/nginx ]; } || missing+=(nginx-light)

if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]}"
    # The packages' own services must not start: a policy-rc.d that forbids it, for the length of the
    # install, unless the machine has one (as scripts/setup-debian.sh does).
    if [ ! -e "$kPolicy" ]; then
        printf '#!/bin/sh\n# gitvisor tests/compat/debian_services.sh: no service starts while it installs packages\nexit 101\n' >"$kPolicy"
        chmod 755 "$kPolicy"
        policy_made=true
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
        apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >"$1" 2>&1
    }
    apt_log=$(mktemp /tmp/gitvisor-compat-apt-XXXXXX)
    leftovers+=("$apt_log")
    if ! apt_install "$apt_log"; then
        # Stale package lists (a 404 from the mirror) or none at all: read them once, then try again.
        apt-get update -q -o DPkg::Lock::Timeout=300 >>"$apt_log" 2>&1
        apt_install "$apt_log" || skip "the packages cannot be installed: $(grep -E '^(E|W|Err):' "$apt_log" | head -n 3 | tr '\n' ' ')"
    fi
    if $policy_made; then rm -f "$kPolicy"; policy_made=false; fi
    # Installing enabled the services for the next boot (and, had policy-rc.d allowed it, started them):
    # neither is wanted on the machine, only the programs and their unit files.
    services=()
    for p in "${missing[@]}"; do
        case $p in
            memcached) services+=(memcached.service) ;;
            redis-server) services+=(redis-server.service) ;;
            nginx-light) services+=(nginx.service) ;;
        esac
    done
    if [ -d /run/systemd/system ]; then
        for s in "${services[@]}"; do
            systemctl is-active --quiet "$s" && { echo "stopping $s, started by its package"; systemctl stop "$s"; }
        done
    fi
    if command -v systemctl >/dev/null && [ "${#services[@]}" -gt 0 ]; then
        systemctl disable --quiet "${services[@]}" >/dev/null 2>&1 || echo "note: could not disable ${services[*]}"
    fi
fi
for unit in "${kUnits[@]}"; do
    [ -f "$kUnitDir/$unit" ] || fail "$kUnitDir/$unit is missing although its package is installed"
done
command -v redis-cli >/dev/null || fail "redis-cli is missing although redis-tools is installed"

# The ports: a server already there would answer in the units' place.
for port in 11211 6379 80; do
    if port_taken "$port"; then
        who=$(command -v ss >/dev/null && ss -Hltnp "sport = :$port" 2>/dev/null | head -n 1)
        skip "port $port is in use on this machine (${who:-ss is not installed}), and the Debian units listen there"
    fi
done
ports_checked=true
# nginx's default site also listens on [::]:80, which needs IPv6, under any service manager.
[ -e /proc/net/if_inet6 ] || skip "this machine has no IPv6, and nginx's default site listens on [::]:80"

# Files the services write outside the test's folders, absent before: removed afterwards.
memcached_pid_file=/run/memcached/memcached.pid
memcached_pid_file_was_there=false
[ -e "$memcached_pid_file" ] && memcached_pid_file_was_there=true
for f in "$memcached_pid_file" /var/lib/redis/dump.rdb; do
    [ -e "$f" ] || leftovers+=("$f")
done

# ---------------------------------------------------------------------------------------------------------
step "2. a unit repository with the three unit files as shipped"
work=$(mktemp -d /tmp/gitvisor-compat-XXXXXX)
cgroup_parent=$(basename "$work")
# The run folder (control socket, each unit's $NOTIFY_SOCKET) is under /run, as gitvisord's default
# /run/gitvisor is: redis-server.service has PrivateTmp=yes and Type=notify, and under a private /tmp a
# socket in /tmp/... cannot be reached (docs/compatibility.md, "gitvisor defects"). 0755, as gitvisord
# makes its own: redis runs as the user redis and must reach its notify socket.
run_dir=$(mktemp -d /run/gitvisor-compat-XXXXXX)
chmod 755 "$run_dir"
repo=$work/units
socket=$run_dir/control.sock
"$gitvisor" init "$repo" >/dev/null || fail "gitvisor init $repo failed"
for unit in "${kUnits[@]}"; do
    cp "$kUnitDir/$unit" "$repo/$unit"
    cmp -s "$kUnitDir/$unit" "$repo/$unit" || fail "$unit is not as shipped"
done
git_() { git -C "$repo" -c user.name=gitvisor-test -c user.email=test@gitvisor.invalid "$@"; }
git_ add -A
echo "gitvisor verify (each warning names a directive gitvisor does not implement):"
verify_status=0
"$gitvisor" verify --repo "$repo" --staged || verify_status=$?
[ "$verify_status" -eq 0 ] || fail "gitvisor verify rejects Debian's units (exit $verify_status)"
git_ commit -qm "Debian's memcached, redis-server and nginx units, as shipped"

# ---------------------------------------------------------------------------------------------------------
step "3. gitvisord deploys them"
gv() { "$gitvisor" --socket "$socket" "$@"; }
json() {  # json EXPRESSION: a Python expression over the JSON on stdin (bound to `d`)
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" 2>/dev/null
}
state() { gv --json status "$1" 2>/dev/null | json 'd["state"] + "/" + d["sub_state"]'; }
field() { gv --json status "$1" 2>/dev/null | json "d['$2']"; }
# eventually SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds, for at most SECONDS.
eventually() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}
deploys_done() {  # deploys_done N: N deploys are recorded and none is in progress
    local summary
    summary=$(gv --json history -n 1000 2>/dev/null | json 'str(len(d)) + " " + str(sum(x["result"] == "in-progress" for x in d))')
    [ "$summary" = "$1 0" ]
}

failures=0
check() {  # check WHAT COMMAND...: runs COMMAND; counts and reports a failure, and goes on
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
quietly() { "$@" >/dev/null; }
new_main_pid() {  # new_main_pid UNIT OLD: the unit runs a main process other than OLD
    local now
    now=$(field "$1" main_pid)
    [[ $now =~ ^[0-9]+$ ]] && [ "$now" -gt 0 ] && [ "$now" != "$2" ]
}
unit_procs() {  # the pids in UNIT's cgroup, in every hierarchy (cgroup v2, or each v1 controller)
    find /sys/fs/cgroup -path "*/$cgroup_parent/$1/cgroup.procs" -exec cat {} + 2>/dev/null
}
# The three answers, each retried for a while: a simple service is active before it listens.
memcached_answers() {
    local reply
    reply=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211 && printf "stats\r\nquit\r\n" >&3 && cat <&3' 2>/dev/null)
    grep -q '^STAT pid ' <<<"$reply"
}
redis_answers() { [ "$(timeout 5 redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
nginx_answers() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1/)" = 200 ]; }
is_running() { [ "$(state "$1")" = active/running ]; }
answers() { eventually 30 "${1%%.*}_answers"; }
proc_status() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }  # proc_status PID KEY
mount_is() {  # mount_is PID PATH ro|rw: the mount PID sees at PATH (the topmost there) is read-only/-write
    awk -v path="$2" -v want="$3" '$5 == path { opts = $6 } END { exit !(opts ~ ("^" want "(,|$)")) }' "/proc/$1/mountinfo"
}
show() {  # the status of a unit, as a person would read it (exit 3 when it is not active)
    echo "--- gitvisor status $1"
    gv status "$1"
    echo "---"
}

"$gitvisord" --repo "$repo" --state-dir "$work/state" --run-dir "$run_dir" --exec-path "$gitvisor_exec" \
    --cgroup-parent "$cgroup_parent" --foreground --stop-units-on-exit 2>"$work/gitvisord.log" </dev/null >/dev/null &
daemon=$!
eventually 20 quietly gv list 2>/dev/null || fail "gitvisord did not answer on $socket"
eventually 120 deploys_done 1 || fail "the first deploy did not finish within 120 s"
# A unit that failed to start restarts (Restart=always) until it runs or hits its start limit.
settled() { local s; s=$(state "$1"); [ "$s" = active/running ] || [ "${s%%/*}" = failed ]; }
for unit in "${kUnits[@]}"; do eventually 60 settled "$unit"; done
gv history -n 1
echo
gv list

# ---------------------------------------------------------------------------------------------------------
step "4. memcached.service"
show memcached.service
check "memcached.service is active (running)" is_running memcached.service
check "memcached answers 'stats' on 127.0.0.1:11211 with 'STAT pid'" answers memcached
pid=$(field memcached.service main_pid)
check "gitvisor restart memcached.service succeeds" quietly gv restart memcached.service
check "the restart gives it a new main process" eventually 20 new_main_pid memcached.service "$pid"
check "memcached answers again after the restart" answers memcached
pid=$(field memcached.service main_pid)
# CapabilityBoundingSet=CAP_SETGID CAP_SETUID CAP_SYS_RESOURCE, within the bounding set gitvisord itself has
# (in a container CAP_SYS_RESOURCE may be missing from it).
bounding=$(printf '%016x' $(((1 << 6 | 1 << 7 | 1 << 24) & 16#$(proc_status $$ CapBnd))))
check "CapabilityBoundingSet= reached memcached (CapBnd $bounding)" test "$(proc_status "$pid" CapBnd)" = "$bounding"
check "NoNewPrivileges=true reached memcached" test "$(proc_status "$pid" NoNewPrivs)" = 1
check "PrivateTmp=true gives memcached a /tmp of its own" \
    test "$(stat -L -c %d:%i "/proc/$pid/root/tmp")" != "$(stat -L -c %d:%i /tmp)"
check "ProtectSystem=full: /usr is read-only for memcached" mount_is "$pid" /usr ro
check "MemoryDenyWriteExecute= and the others: memcached runs under a seccomp filter" \
    test "$(proc_status "$pid" Seccomp)" = 2
check "PrivateDevices=true: memcached's /dev has /dev/null and no kmsg" \
    sh -c "test -c /proc/$pid/root/dev/null && ! test -e /proc/$pid/root/dev/kmsg"
check "ProtectKernelTunables=true: /proc/sys is read-only for memcached" mount_is "$pid" /proc/sys ro
check "ProtectControlGroups=true: /sys/fs/cgroup is read-only for memcached" mount_is "$pid" /sys/fs/cgroup ro
check "ProtectSystem=full: /etc is read-only for memcached" mount_is "$pid" /etc ro
# memcached writes its PIDFile= itself, when its folder is there (the package's tmpfiles.d makes it).
memcached_wrote_pid_file=false
[ -e "$memcached_pid_file" ] && memcached_wrote_pid_file=true

# ---------------------------------------------------------------------------------------------------------
step "5. nginx.service (Type=forking, PIDFile=, ExecStartPre=, ExecReload=, ExecStop=)"
show nginx.service
check "nginx.service is active (running)" is_running nginx.service
check "nginx answers GET http://127.0.0.1/ with 200" answers nginx
pid=$(field nginx.service main_pid)
check "the main pid is nginx's master, read from PIDFile=/run/nginx.pid" \
    grep -q '^nginx: master process' "/proc/$pid/cmdline"
check "gitvisor reload nginx.service runs ExecReload= and succeeds" gv reload nginx.service
check "the reload keeps the master process" test "$(field nginx.service main_pid)" = "$pid"
check "nginx answers after the reload" answers nginx
check "gitvisor stop nginx.service (ExecStop= sends QUIT) succeeds" gv stop nginx.service
check "nginx.service is inactive after the stop" test "$(state nginx.service)" = inactive/dead
check "no nginx process is left in its cgroup" test -z "$(unit_procs nginx.service)"
check "nothing answers on 127.0.0.1:80 after the stop" bash -c '! curl -s -m 2 -o /dev/null http://127.0.0.1/'
check "gitvisor start nginx.service succeeds" quietly gv start nginx.service
check "nginx answers again after the start" answers nginx

# ---------------------------------------------------------------------------------------------------------
step "6. redis-server.service (Type=notify, User=redis, RuntimeDirectory=, ProtectSystem=strict)"
show redis-server.service
# LimitNOFILE=65535 as shipped; where the hard limit is lower and cannot be raised (no CAP_SYS_RESOURCE,
# as in a container), gitvisor-exec sets the hard limit instead, as systemd does.
nofile=65535
hard_nofile=$(ulimit -Hn)
if [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt 65535 ] &&
    ! (ulimit -Hn 65535) 2>/dev/null; then
    nofile=$hard_nofile
fi
if is_running redis-server.service; then
    check "redis-server.service is active (running), as shipped" true
else
    # KNOWN GITVISOR DEFECT (docs/compatibility.md): LimitNOFILE=65535 above the hard limit the service
    # manager itself has, without CAP_SYS_RESOURCE to raise it (a container). systemd then sets the
    # closest limit it can (the hard limit) and starts the service; gitvisor-exec fails at step RLIMIT.
    # This part checks the failure is that one, then works around it with a drop-in, so that the rest of
    # the unit is still checked. When the defect is fixed, redis runs as shipped above and this goes.
    hard=$(ulimit -Hn)
    error=$(gv --json history -n 1 | json '" ".join(e["message"] for e in d[0]["errors"])')
    echo "redis-server.service does not run as shipped: ${error:-no error recorded}"
    echo "--- gitvisor why redis-server.service"
    gv why redis-server.service
    echo "---"
    if [[ $error != *"at step RLIMIT: Operation not permitted"* ]] || [ "$hard" = unlimited ] || [ "$hard" -ge 65535 ]; then
        fail "redis-server.service failed for another reason than the known LimitNOFILE defect (hard limit $hard)"
    fi
    echo "KNOWN DEFECT: gitvisor fails LimitNOFILE=65535 above the hard limit ($hard) where systemd clamps it;"
    echo "working around it with redis-server.service.d/gitvisor.conf: LimitNOFILE=$hard"
    mkdir -p "$repo/redis-server.service.d"
    cat >"$repo/redis-server.service.d/gitvisor.conf" <<EOF
# Works around a gitvisor defect, not a systemd-only feature (docs/compatibility.md): systemd lowers a
# Limit*= that the manager may not grant to the hard limit it has; gitvisor-exec fails at step RLIMIT.
[Service]
# The hard limit of open files on this machine, which systemd would have set instead of 65535.
LimitNOFILE=$hard
EOF
    git_ add -A
    git_ commit -qm "redis-server: LimitNOFILE= within this machine's hard limit"
    gv sync >/dev/null
    eventually 60 deploys_done 2 || fail "the deploy of the drop-in did not finish within 60 s"
    eventually 60 settled redis-server.service
    show redis-server.service
    check "redis-server.service is active (running) with LimitNOFILE=$hard" is_running redis-server.service
    nofile=$hard
fi
check "redis answers PING on 127.0.0.1:6379 with PONG" answers redis
pid=$(field redis-server.service main_pid)
check "redis runs as the user redis (User=redis)" test "$(stat -c %U "/proc/$pid")" = redis
check "its RuntimeDirectory= /run/redis is there" test -d /run/redis
check "UMask=007 reached redis" test "$(proc_status "$pid" Umask)" = 0007
check "LimitNOFILE= reached redis ($nofile)" test "$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")" = "$nofile"
check "NoNewPrivileges=true reached redis" test "$(proc_status "$pid" NoNewPrivs)" = 1
check "ProtectSystem=strict: / is read-only for redis" mount_is "$pid" / ro
check "ReadWritePaths=-/var/lib/redis: writable for redis" mount_is "$pid" /var/lib/redis rw
check "ProtectHome=true: /home is inaccessible to redis" test "$(stat -c %a "/proc/$pid/root/home")" = 0
check "SystemCallFilter= and the others: redis runs under a seccomp filter" test "$(proc_status "$pid" Seccomp)" = 2
check "ProtectHostname=true: redis has a UTS namespace of its own" \
    test "$(readlink "/proc/$pid/ns/uts")" != "$(readlink /proc/self/ns/uts)"
check "ProtectProc=invisible: redis's /proc is mounted with hidepid=invisible" \
    awk '$5 == "/proc" { opts = $NF } END { exit !(opts ~ /hidepid=(invisible|2)/) }' "/proc/$pid/mountinfo"
# KNOWN GITVISOR DEFECT (docs/compatibility.md): systemd reads an empty CapabilityBoundingSet= as the empty
# set (every capability dropped); gitvisor reads it as "no setting" and leaves the bounding set whole. redis
# runs as the user redis with NoNewPrivileges=, so it has no capability either way. Reported, not failed:
# when the defect is fixed this says ok.
if [ "$(proc_status "$pid" CapBnd)" = 0000000000000000 ]; then
    echo "ok: CapabilityBoundingSet= (empty) dropped every capability of redis"
else
    echo "KNOWN DEFECT: CapabilityBoundingSet= (empty) did not empty redis's bounding set (CapBnd $(proc_status "$pid" CapBnd))"
fi

# ---------------------------------------------------------------------------------------------------------
step "7. gitvisord stops, and the units with it"
kill -TERM "$daemon"
stopped() { ! kill -0 "$daemon" 2>/dev/null; }
check "gitvisord exits within 30 s of SIGTERM" eventually 30 stopped
wait "$daemon" 2>/dev/null
daemon=
for port in 11211 6379 80; do
    check "nothing listens on port $port any more" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/'"$port"') 2>/dev/null'
done
check "RuntimeDirectory= /run/redis is removed" test ! -e /run/redis
# KNOWN GITVISOR DEFECT (docs/compatibility.md): systemd removes a unit's PIDFile= once the service has shut
# down; gitvisor leaves memcached's (memcached does not remove it itself). Reported, not failed.
if $memcached_wrote_pid_file && ! $memcached_pid_file_was_there; then
    if [ -e "$memcached_pid_file" ]; then
        echo "KNOWN DEFECT: PIDFile=$memcached_pid_file is left after memcached.service stopped"
    else
        echo "ok: PIDFile=$memcached_pid_file is removed after memcached.service stopped"
    fi
fi

echo
if [ "$failures" -gt 0 ]; then
    fail "$failures check(s) failed"
fi
echo "PASS: Debian's memcached, redis-server and nginx units ran under gitvisor and answered"
