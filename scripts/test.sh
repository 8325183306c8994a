#!/usr/bin/env bash
# Sets up and runs every test CI runs: formatting, clippy (native and wasm), the sqlx offline
# data check, the wasm dependency wall, unit and integration tests (nextest, real PostgreSQL),
# the README's run command with its demo fleet and agent (scripts/run-smoke.sh), and browser
# tests in headless Chromium against the app built with the dev profile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
cd "$ISPVM_ROOT"
step() { printf '\n[test] ==== %s (%s)\n' "$*" "$(date +%T)"; }
die() { printf '[test] FAILED: %s\n' "$*" >&2; exit 1; }

step "disk space"
# A full build with tests, the wasm app and the tools takes about 15 GB in the shared target
# directory; a full disk fails the build halfway with "No space left on device" (os error 28).
# Below the mark, the target directory is pruned (incremental data, then everything: a cold
# build is slow but passes); too little even then stops here with the reason.
need_gb=20
avail_gb() { mkdir -p "$1" && df -P -BG "$1" | awk 'NR == 2 { sub("G", "", $4); print $4 }'; }
echo "free: $(avail_gb "$CARGO_TARGET_DIR") GB beside $CARGO_TARGET_DIR (wanted: $need_gb GB)"
if [ "$(avail_gb "$CARGO_TARGET_DIR")" -lt "$need_gb" ]; then
  echo "pruning incremental build data"
  find "$CARGO_TARGET_DIR" -maxdepth 3 -type d -name incremental -prune -exec rm -rf {} +
fi
if [ "$(avail_gb "$CARGO_TARGET_DIR")" -lt "$need_gb" ]; then
  echo "pruning the whole target directory (the build starts cold)"
  rm -rf "$CARGO_TARGET_DIR"
fi
[ "$(avail_gb "$CARGO_TARGET_DIR")" -ge 8 ] \
  || die "only $(avail_gb "$CARGO_TARGET_DIR") GB free beside $CARGO_TARGET_DIR: a build needs about 15 GB"

step "toolchain"
"$here/setup.sh"

step "private PostgreSQL"
if ! "$here/pg.sh" status; then
  # Started here, so stopped here: leave no server behind (a running one, e.g. under
  # scripts/run.sh, is left alone).
  trap '"$here/pg.sh" stop >/dev/null 2>&1 || true' EXIT
fi
DATABASE_URL="$("$here/pg.sh" start)"
export DATABASE_URL
# Compile-time query checks use the committed .sqlx data; the check below compares it to the schema.
export SQLX_OFFLINE=true
# Assertion messages, not pages of async backtrace frames.
export RUST_BACKTRACE=0
# Every checkout shares the machine's target directory; incremental data would pile up per
# checkout path (tens of GB) and a one-shot CI build gains nothing from it.
export CARGO_INCREMENTAL=0

step "cargo fmt --check"
cargo fmt --all -- --check || die "run cargo fmt"

step "clippy (native, -D warnings)"
cargo clippy --all-targets --locked -- -D warnings

step "clippy (wasm32, hydrate, -D warnings)"
cargo clippy -p frontend --target wasm32-unknown-unknown --locked -Zbuild-std=std,panic_abort -- -D warnings

step "dependency wall: no server crates in the wasm graph"
for crate in sqlx axum tokio-postgres tower-sessions argon2 aes-gcm; do
  if cargo tree -p frontend --target wasm32-unknown-unknown -e normal -i "$crate" >/dev/null 2>&1; then
    die "$crate is in the wasm dependency graph of frontend"
  fi
done
echo "ok: none of sqlx axum tokio-postgres tower-sessions argon2 aes-gcm"

step "Docker files (hadolint, shellcheck, yamllint, compose schema + config; no engine)"
"$here/lint-docker.sh"

step "migrations apply to an empty database, and the sqlx offline data matches them"
scratch="${DATABASE_URL%/*}/ispvm_sqlx_check"
DATABASE_URL="$scratch" "$ISPVM_TOOLS/bin/sqlx" database drop -y >/dev/null 2>&1 || true
DATABASE_URL="$scratch" "$ISPVM_TOOLS/bin/sqlx" database create
DATABASE_URL="$scratch" "$ISPVM_TOOLS/bin/sqlx" migrate run --source migrations
DATABASE_URL="$scratch" SQLX_OFFLINE=false cargo sqlx prepare --workspace --check -- --all-targets \
  || die "the .sqlx offline data is stale: run scripts/sqlx-prepare.sh"

step "RouterOS interop: librouteros (PyPI) against the simulator"
"$here/routeros-interop.sh"

step "unit and integration tests (nextest)"
cargo nextest run --locked --no-fail-fast

# TimescaleDB mode's tests skip themselves above (plain PostgreSQL here); given a server with
# the extension preloaded, they run against it too (docs/metrics.md, "Storage modes").
if [ -n "${TIMESCALEDB_TEST_URL:-}" ]; then
  step "TimescaleDB mode tests against TIMESCALEDB_TEST_URL"
  DATABASE_URL="$TIMESCALEDB_TEST_URL" cargo nextest run --locked -p server \
    -E 'test(/timescaledb_|storage_mode/)'
fi

# The run command and the browser tests use the unoptimised build: its native part is the one
# the tests above compiled, where a release build would compile everything again (~30 min cold).
export ISPVM_PROFILE=dev
step "app build (cargo leptos build, dev profile), the simulator and the agent"
cargo leptos build
# What scripts/run.sh builds, built here, so that its own builds find nothing to do and the
# smoke test's clock measures the start, not the compiler.
cargo build --locked -p routeros --bin ispvm-sim -p agent --bin ispvm-agent

step "the README's run command: demo fleet + agent → live samples (scripts/run-smoke.sh)"
"$here/run-smoke.sh"

step "browser tests (headless Chromium)"
"$here/e2e.sh"

step "all passed"
