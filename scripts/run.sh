#!/usr/bin/env bash
# Sets up and runs ISPVM on this machine: installs the toolchain (once per machine), builds the
# release, starts a private PostgreSQL when DATABASE_URL is unset, creates the master key
# .ispvm/master.key when ENCRYPTION_MASTER_KEY_FILE is unset, migrates, creates the first
# admin (prints its password once; or set INITIAL_ADMIN_PASSWORD), loads the demo ISP into an
# empty database (NO_DEMO=1 to skip) and serves on
# http://127.0.0.1:3000 (LISTEN_ADDR / PUBLIC_BASE_URL to change).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
log() { printf '[run] %s\n' "$*"; }

log "toolchain"
"$here/setup.sh"

log "building the release (cargo leptos build --release)"
cd "$ISPVM_ROOT"
SQLX_OFFLINE=true cargo leptos build --release

if [ -z "${DATABASE_URL:-}" ] && [ -z "${DATABASE_URL_FILE:-}" ]; then
  log "DATABASE_URL unset: using the private PostgreSQL in .ispvm/pg"
  DATABASE_URL="$("$here/pg.sh" start)"
  export DATABASE_URL
fi
# cargo-leptos writes the site relative to the project, not CARGO_TARGET_DIR.
export SITE_ROOT="${SITE_ROOT:-$ISPVM_ROOT/target/site}"
bin="$CARGO_TARGET_DIR/release/ispvm"
if [ -z "${ENCRYPTION_MASTER_KEY_FILE:-}" ]; then
  # Created once and kept: it is the only key that opens the credentials saved with it.
  key="$ISPVM_ROOT/.ispvm/master.key"
  if [ ! -f "$key" ]; then
    log "ENCRYPTION_MASTER_KEY_FILE unset: creating the master key $key (back it up)"
    mkdir -p "$(dirname "$key")"
    "$bin" keys generate --out "$key"
  fi
  export ENCRYPTION_MASTER_KEY_FILE="$key"
fi

log "migrating"
"$bin" migrate
log "first admin"
"$bin" bootstrap
if [ -z "${NO_DEMO:-}" ]; then
  # The demo ISP (server/demo/isp.toml), once, into the default tenant while it is empty;
  # NO_DEMO=1 skips it. `ispvm-sim` serves the same fleet.
  log "demo ISP"
  "$bin" demo load
fi
log "serving; stop with Ctrl-C"
exec "$bin" serve
