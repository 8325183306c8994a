#!/usr/bin/env bash
# Checks the RouterOS simulator (and so our reading of the API protocol) with librouteros, an
# independent, widely used Python client from PyPI. Idempotent: the venv is made once under
# $ISPVM_CACHE and reused. Starts ispvm-sim on a random loopback address, runs
# routeros/tests/interop/librouteros_check.py, and stops the simulator however it ends.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
cd "$ISPVM_ROOT"
say() { printf '[interop] %s\n' "$*"; }
die() { printf '[interop] FAILED: %s\n' "$*" >&2; exit 1; }

LIBROUTEROS_VERSION="4.2.2"
venv="$ISPVM_CACHE/venv-interop"
fixture="routeros/tests/fixtures/fleet.toml"
# The fixture's [credential].
username="monitor"
password="s3cret=pass"

if [ ! -x "$venv/bin/python" ]; then
  say "creating the Python venv at $venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (is python3-venv installed?)"
fi
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("librouteros"))' 2>/dev/null)" != "$LIBROUTEROS_VERSION" ]; then
  say "installing librouteros==$LIBROUTEROS_VERSION"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "librouteros==$LIBROUTEROS_VERSION" \
    || die "pip could not install librouteros==$LIBROUTEROS_VERSION"
fi

sim="$CARGO_TARGET_DIR/debug/ispvm-sim"
if [ -z "${ISPVM_NO_BUILD:-}" ]; then
  say "building ispvm-sim"
  cargo build --locked --quiet -p routeros --bin ispvm-sim
fi
[ -x "$sim" ] || die "no $sim (ISPVM_NO_BUILD is set: scripts/test.sh builds it)"

# Any 127.x.y.z is a loopback address on Linux; a random one keeps parallel runs apart, and
# port 0 gives each router a free port (the ready file says which).
address="127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))"
work="$(mktemp -d)"
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

say "starting ispvm-sim on $address (log: $work/sim.log)"
"$sim" --topology "$fixture" --bind "$address" --port 0 \
  --ready-file "$work/ready" --cert-dir "$work" --log-level warn 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 1 150); do
  [ -s "$work/ready" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log" >&2; die "ispvm-sim exited before it was ready"; }
  sleep 0.2
done
[ -s "$work/ready" ] || die "ispvm-sim was not ready within 30 s"
sed 's/^/[interop]   /' "$work/ready"

say "running the librouteros checks"
if "$venv/bin/python" routeros/tests/interop/librouteros_check.py \
  --ready "$work/ready" --cert-dir "$work" --username "$username" --password "$password"; then
  say "passed"
else
  say "simulator log:"; sed 's/^/[interop]   /' "$work/sim.log" >&2
  die "librouteros disagrees with the simulator (see above)"
fi
