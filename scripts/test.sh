#!/usr/bin/env bash
# Sets up and runs every test CI runs: formatting, clippy (native and wasm), the sqlx offline
# data check, the wasm dependency wall, unit and integration tests (nextest, real PostgreSQL),
# the README's run command with its demo fleet and agent (scripts/run-smoke.sh), and browser
# tests in headless Chromium against the app built with the dev profile. The native code is
# compiled once, in the test build; see CONTRIBUTING.md for the steps and why.
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
"$here/setup.sh" --base
# cargo-leptos and wasm-bindgen-cli (about 15 minutes to build on a new machine; nothing when
# installed) are needed only by the front end build: they build beside the native build, which
# leaves one of the two cores idle for minutes at a time (linking, the largest crates).
wasm_tools_log="$(mktemp "${TMPDIR:-/tmp}/ispvm-wasm-tools.XXXXXX")"
"$here/setup.sh" --wasm-tools > "$wasm_tools_log" 2>&1 &
wasm_tools_pid=$!
wasm_tools_ready() {
  if ! wait "$wasm_tools_pid"; then
    cat "$wasm_tools_log" >&2
    die "scripts/setup.sh --wasm-tools failed (above)"
  fi
  sed -n 's/^\[setup\]/[setup, beside the build]/p' "$wasm_tools_log"
}

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

step "dependency wall: no server crates in the wasm graph"
for crate in sqlx axum tokio-postgres tower-sessions argon2 aes-gcm; do
  if cargo tree -p frontend --target wasm32-unknown-unknown -e normal -i "$crate" >/dev/null 2>&1; then
    die "$crate is in the wasm dependency graph of frontend"
  fi
done
echo "ok: none of sqlx axum tokio-postgres tower-sessions argon2 aes-gcm"

step "Docker files (hadolint, shellcheck, yamllint, compose schema + config; no engine)"
"$here/lint-docker.sh"

step "migrations apply to an empty database"
scratch="${DATABASE_URL%/*}/ispvm_sqlx_check"
DATABASE_URL="$scratch" "$ISPVM_TOOLS/bin/sqlx" database drop -y >/dev/null 2>&1 || true
DATABASE_URL="$scratch" "$ISPVM_TOOLS/bin/sqlx" database create
DATABASE_URL="$scratch" "$ISPVM_TOOLS/bin/sqlx" migrate run --source migrations

# One native build serves clippy, the sqlx check, the tests, the run command and the browser
# tests: each separate build (clippy's check build, `cargo sqlx prepare --check`'s, a
# `cargo leptos build` of the server, a `cargo build` of the simulator) resolves its own
# features and flags and compiles the whole dependency graph again (docs/benchmarks.md, "CI on a
# fresh machine").
# - clippy: clippy-driver is the compiler of the workspace's crates (what `cargo clippy` does,
#   with the build's codegen kept), so its lints, denied, fail this build; the wasm build below
#   does the same for the wasm32 side.
# - sqlx: the query macros run against the freshly migrated scratch database and write their
#   offline data to a directory of their own, compared below with the committed .sqlx (what
#   `cargo sqlx prepare --check` does with a check build of its own).
RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver"
CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
[ -x "$RUSTC_WORKSPACE_WRAPPER" ] || die "no clippy-driver at $RUSTC_WORKSPACE_WRAPPER (scripts/setup.sh installs rust-web-clippy)"
sqlx_fresh="$CARGO_TARGET_DIR/sqlx-check"
rm -rf "$sqlx_fresh" && mkdir -p "$sqlx_fresh"

step "build: the workspace and its tests (clippy -D warnings as the lint pass, queries checked online)"
# The query macros run only in crates that compile: every crate that uses them is touched.
find app/src server/src -name '*.rs' -exec touch {} +
SQLX_OFFLINE=false DATABASE_URL="$scratch" SQLX_OFFLINE_DIR="$sqlx_fresh" \
  cargo nextest run --locked --no-run

step "the sqlx offline data (.sqlx) matches the queries and the migrations"
python3 "$here/sqlx-compare.py" "$ISPVM_ROOT/.sqlx" "$sqlx_fresh" \
  || die "the .sqlx offline data is stale: run scripts/sqlx-prepare.sh"

step "unit and integration tests (nextest)"
cargo nextest run --locked --no-fail-fast

# TimescaleDB mode's tests skip themselves above (plain PostgreSQL here); given a server with
# the extension preloaded, they run against it too (docs/metrics.md, "Storage modes").
if [ -n "${TIMESCALEDB_TEST_URL:-}" ]; then
  step "TimescaleDB mode tests against TIMESCALEDB_TEST_URL"
  DATABASE_URL="$TIMESCALEDB_TEST_URL" cargo nextest run --locked -p server \
    -E 'test(/timescaledb_|storage_mode/)'
fi

# The interop check, the run command and the browser tests run the binaries the test build
# made (cargo builds a package's binaries for its integration tests): unoptimised, where a
# release build would compile everything again (~30 min cold).
# run.sh and routeros-interop.sh stop, naming it, if one is missing.
export ISPVM_PROFILE=dev ISPVM_NO_BUILD=1

step "RouterOS interop: librouteros (PyPI) against the simulator"
"$here/routeros-interop.sh"

step "front end build (cargo leptos build --frontend-only, dev profile; clippy -D warnings on wasm32)"
wasm_tools_ready
cargo leptos build --frontend-only

step "the README's run command: demo fleet + agent → live samples (scripts/run-smoke.sh)"
"$here/run-smoke.sh"

step "browser tests (headless Chromium)"
"$here/e2e.sh"

step "all passed"
