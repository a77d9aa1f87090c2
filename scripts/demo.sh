#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine: build gitvisor, then run gitvisord on a temporary repository
# holding a copy of examples/units. A commit in that repository is a deploy. Ctrl-C stops the daemon and
# the example services. With --once, it shows the deployed state and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
once=false
[ "${1:-}" = "--once" ] && once=true
bash scripts/build.sh
bin=$PWD/build/src
gitvisor=$bin/cli/gitvisor

echo "== gitvisor verify examples/units"
"$gitvisor" verify examples/units

demo=$(mktemp -d /tmp/gitvisor-demo-XXXXXX)
socket=$demo/run/control.sock
cgroup_parent=$(basename "$demo")
daemon_pid=
cleanup() {
    if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
    # The units' cgroups are gone with them; the demo's parent folders are left empty: remove them too.
    find /sys/fs/cgroup -maxdepth 8 -type d -name "$cgroup_parent" -exec rmdir {} + 2>/dev/null || true
    rm -rf "$demo"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

"$gitvisor" init "$demo/units"
cp -a examples/units/. "$demo/units/"  # the units, the greeter@ instance symlinks and gitvisor.ini
# A committer for this repository, so that the commits suggested below work on a machine where git has none.
git -C "$demo/units" config user.name gitvisor-demo
git -C "$demo/units" config user.email demo@gitvisor.invalid
git -C "$demo/units" add -A
git -C "$demo/units" commit -qm "Add the example units"

"$bin/daemon/gitvisord" --repo "$demo/units" --state-dir "$demo/state" --run-dir "$demo/run" \
    --exec-path "$bin/exec/gitvisor-exec" --cgroup-parent "$cgroup_parent" --foreground --stop-units-on-exit \
    2>"$demo/gitvisord.log" &
daemon_pid=$!
# Until the first deploy is over: every unit started, and web has passed its health check.
for _ in $(seq 300); do
    "$gitvisor" --socket "$socket" history -n 1 2>/dev/null | grep -q '^#[0-9]* [0-9a-f]* applied ' && break
    sleep 0.1
done
echo "== gitvisor status web"
"$gitvisor" --socket "$socket" status web || true
echo "== gitvisor list"
"$gitvisor" --socket "$socket" list
echo "== gitvisor history"
"$gitvisor" --socket "$socket" history
if $once; then exit 0; fi
cat <<TXT

gitvisord runs on $demo/units. Try, in another shell:
  cd $demo/units && sed -i 's/8080/8081/' web.service && git commit -qam "move web" 
  $gitvisor --socket $socket status web
Ctrl-C stops the daemon and the example services.
TXT
wait "$daemon_pid"
