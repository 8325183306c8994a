#!/usr/bin/env bash
# Installs everything this project needs on a fresh Debian 12 machine that reaches only package
# registries (apt, crates.io, npm). Idempotent: every step checks first and is skipped when done.
#
#   scripts/setup.sh                 # everything, incl. headless Chromium for browser tests
#   SKIP_BROWSER=1 scripts/setup.sh  # no Chromium
#   scripts/setup.sh --base          # all but cargo-leptos and wasm-bindgen-cli
#   scripts/setup.sh --wasm-tools    # only those two (scripts/test.sh builds them beside the
#                                    # native build, which needs neither)
#
# Machine-level tools (the longest, cargo-leptos, takes ~10 min to build on 2 cores) go to
# $ISPVM_TOOLS (default ~/.cache/ispvm/tools) so that every later checkout and CI run skips them.
# Never `rustup target add` here: it hangs without internet. The wasm32 std is built from
# Debian's rust-web-src with -Zbuild-std instead (see rust-toolchain.toml and Cargo.toml).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"

CARGO_LEPTOS_VERSION="${CARGO_LEPTOS_VERSION:-0.3.11}"
WASM_BINDGEN_VERSION="$(grep -A1 '^name = "wasm-bindgen"$' "$ISPVM_ROOT/Cargo.lock" 2>/dev/null | sed -n 's/^version = "\(.*\)"/\1/p' | head -n1 || true)"
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.130}"
BINARYEN_VERSION="${BINARYEN_VERSION:-132.0.0}"
SQLX_CLI_VERSION="${SQLX_CLI_VERSION:-0.8.6}"
DEB_CARGO=/usr/bin/cargo
DEB_RUSTC=/usr/bin/rustc

case "${1:-}" in
  "") base=1; wasm_tools=1 ;;
  --base) base=1; wasm_tools= ;;
  --wasm-tools) base=; wasm_tools=1 ;;
  *) printf '[setup] ERROR: unknown argument %s (expected --base or --wasm-tools)\n' "$1" >&2; exit 2 ;;
esac

log()  { printf '[setup] %s %s\n' "$(date +%T)" "$*"; }
die()  { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

if [ -n "$base" ]; then
# ---------------------------------------------------------------- apt packages
# rustc-web/cargo-web/rust-web-src: Debian's Rust 1.96 with std source (wasm std via build-std).
# rust-web-llvm + lld-22: /usr/bin/rust-lld is a symlink to lld-22, which nothing pulls in.
# Not Debian's binaryen: its wasm-opt 108 corrupts wasm-bindgen's externref table.
# snmpd and dnsmasq-base: the agent's SNMP poller and DNS probe are tested against them.
PKGS=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 rustfmt-web rust-web-clippy
      gcc libc6-dev pkg-config curl ca-certificates wrk snmpd dnsmasq-base)
command -v npm >/dev/null || PKGS+=(nodejs npm)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || PKGS+=(postgresql postgresql-client)
if [ -z "${SKIP_BROWSER:-}" ]; then PKGS+=(chromium chromium-driver); fi
missing=()
for p in "${PKGS[@]}"; do have_pkg "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  [ "$(id -u)" = 0 ] || die "apt packages missing (${missing[*]}) and not root; install them first"
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
else
  log "apt: all packages present"
fi

/usr/bin/rust-lld -flavor wasm --version >/dev/null 2>&1 || die "rust-lld does not run (is lld-22 installed?)"
[ -d /usr/lib/rustlib/src/rust/library/std ] || die "std source missing (rust-web-src)"

fi

mkdir -p "$ISPVM_TOOLS/bin"
# Debian's cargo (1.96) builds the tools: cargo-leptos 0.3.11's lockfile needs rustc >= 1.96.
dcargo() { env RUSTC="$DEB_RUSTC" CARGO_TARGET_DIR="$ISPVM_CACHE/tool-build" "$DEB_CARGO" "$@"; }
# cargo-leptos and sqlx-cli only orchestrate (cargo, wasm-bindgen, wasm-opt, SQL): built
# unoptimised and without debug info they take well under half the time of a release build
# and run no slower where it shows. wasm-bindgen-cli, which rewrites the wasm, stays optimised.
dcargo_debug() {
  env CARGO_PROFILE_DEV_OPT_LEVEL=0 CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_DEV_INCREMENTAL=false \
    RUSTC="$DEB_RUSTC" CARGO_TARGET_DIR="$ISPVM_CACHE/tool-build" "$DEB_CARGO" install --debug "$@"
}

if [ -n "$wasm_tools" ]; then
# ---------------------------------------------------------------- cargo-leptos
if [ "$("$ISPVM_TOOLS/bin/cargo-leptos" --version 2>/dev/null || true)" = "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  log "cargo-leptos $CARGO_LEPTOS_VERSION already installed"
else
  log "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads, unoptimised)"
  dcargo_debug cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked \
    --features no_downloads --root "$ISPVM_TOOLS" || die "cargo-leptos install failed"
fi

# ---------------------------------------------------------------- wasm-bindgen CLI
# Must equal the wasm-bindgen crate in Cargo.lock.
if [ "$("$ISPVM_TOOLS/bin/wasm-bindgen" --version 2>/dev/null || true)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  log "wasm-bindgen-cli $WASM_BINDGEN_VERSION already installed"
else
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  if ! dcargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked --root "$ISPVM_TOOLS"; then
    # 0.2.130's shipped Cargo.lock pins webpki-roots 1.0.11, which was yanked; rebuild from the
    # crate's own lockfile with just that entry moved to the newest non-yanked release.
    log "locked install failed; retrying with the yanked webpki-roots entry downgraded"
    crate="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/wasm-bindgen-cli-"$WASM_BINDGEN_VERSION".crate | head -n1)"
    tmp="$(mktemp -d)"
    tar xzf "$crate" -C "$tmp"
    src="$tmp/wasm-bindgen-cli-$WASM_BINDGEN_VERSION"
    (cd "$src" && dcargo update -p webpki-roots --precise 1.0.10)
    dcargo install --path "$src" --locked --root "$ISPVM_TOOLS" || die "wasm-bindgen-cli install failed"
    rm -rf "$tmp"
  fi
fi

fi

if [ -n "$base" ]; then
# ---------------------------------------------------------------- sqlx-cli
if [ "$("$ISPVM_TOOLS/bin/sqlx" --version 2>/dev/null || true)" = "sqlx-cli $SQLX_CLI_VERSION" ]; then
  log "sqlx-cli $SQLX_CLI_VERSION already installed"
else
  log "cargo install sqlx-cli $SQLX_CLI_VERSION (postgres, rustls, unoptimised)"
  dcargo_debug sqlx-cli --version "$SQLX_CLI_VERSION" --locked --no-default-features \
    --features postgres,rustls --root "$ISPVM_TOOLS" || die "sqlx-cli install failed"
fi

# ---------------------------------------------------------------- cargo-nextest
if command -v cargo-nextest >/dev/null; then
  log "cargo-nextest present ($(cargo-nextest --version | head -n1))"
else
  log "cargo install cargo-nextest"
  dcargo install cargo-nextest --locked --root "$ISPVM_TOOLS" || die "cargo-nextest install failed"
fi

# ---------------------------------------------------------------- wasm-opt (npm binaryen)
if [ "$("$ISPVM_TOOLS/bin/wasm-opt" --version 2>/dev/null || true)" = "wasm-opt version ${BINARYEN_VERSION%%.*} (version_${BINARYEN_VERSION%%.*})" ]; then
  log "wasm-opt (npm binaryen $BINARYEN_VERSION) already installed"
else
  log "npm install binaryen@$BINARYEN_VERSION into $ISPVM_TOOLS"
  npm install -g --no-audit --no-fund --prefix "$ISPVM_TOOLS" "binaryen@$BINARYEN_VERSION" \
    || die "npm install binaryen failed"
fi

fi

log "done:"
if [ -n "$base" ]; then
  printf '  %-14s %s\n' rustc "$($DEB_RUSTC --version)" \
    wasm-opt "$("$ISPVM_TOOLS/bin/wasm-opt" --version)" \
    sqlx "$("$ISPVM_TOOLS/bin/sqlx" --version)"
  if command -v chromium >/dev/null; then printf '  %-14s %s\n' chromium "$(chromium --version 2>/dev/null)"; fi
fi
if [ -n "$wasm_tools" ]; then
  printf '  %-14s %s\n' cargo-leptos "$("$ISPVM_TOOLS/bin/cargo-leptos" --version)" \
    wasm-bindgen "$("$ISPVM_TOOLS/bin/wasm-bindgen" --version)"
fi
