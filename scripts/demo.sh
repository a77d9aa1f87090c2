#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine: build gitvisor, then check the example units the way a
# deploy would: from the files, and from a commit of a temporary repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
gitvisor=$PWD/build/src/cli/gitvisor

echo "== gitvisor verify examples/units"
"$gitvisor" verify examples/units

demo=$(mktemp -d /tmp/gitvisor-demo-XXXXXX)
trap 'rm -rf "$demo"' EXIT
git init -q -b main "$demo/units"
cp examples/units/*.service "$demo/units/"
git -C "$demo/units" add -A
git -C "$demo/units" -c user.name=gitvisor-demo -c user.email=demo@gitvisor.invalid commit -qm "add example units"
echo "== gitvisor verify --repo (a commit of the examples in $demo/units)"
"$gitvisor" verify --repo "$demo/units"
echo "== gitvisor verify --print web.service"
"$gitvisor" verify --print examples/units/web.service
