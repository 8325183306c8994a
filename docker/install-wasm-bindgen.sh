#!/usr/bin/env bash
# Builder-stage helper for docker/Dockerfile: installs the wasm-bindgen CLI whose version equals
# the wasm-bindgen crate in Cargo.lock (cargo-leptos refuses a mismatch) into /opt/tools/bin.
# Built once per version into a BuildKit cache dir ($WASM_BINDGEN_CACHE), so a Cargo.lock change
# that leaves wasm-bindgen alone costs a copy, not a build. Same fallback as scripts/setup.sh.
#   install-wasm-bindgen.sh path/to/Cargo.lock
set -euo pipefail

lock="${1:?usage: install-wasm-bindgen.sh Cargo.lock}"
cache="${WASM_BINDGEN_CACHE:-/cache/wasm-bindgen}"
log() { printf '[wasm-bindgen] %s\n' "$*"; }
die() { printf '[wasm-bindgen] ERROR: %s\n' "$*" >&2; exit 1; }

version="$(grep -A1 '^name = "wasm-bindgen"$' "$lock" | sed -n 's/^version = "\(.*\)"/\1/p' | head -n1 || true)"
[ -n "$version" ] || die "no wasm-bindgen entry in $lock"
root="$cache/$version"

if [ "$("$root/bin/wasm-bindgen" --version 2>/dev/null || true)" = "wasm-bindgen $version" ]; then
  log "wasm-bindgen-cli $version cached"
else
  log "cargo install wasm-bindgen-cli $version"
  if ! cargo install wasm-bindgen-cli --version "$version" --locked --root "$root"; then
    # 0.2.130's shipped Cargo.lock pins webpki-roots 1.0.11, which was yanked; rebuild from the
    # crate's own lockfile with just that entry moved to the newest non-yanked release.
    log "locked install failed; retrying with the yanked webpki-roots entry downgraded"
    crate="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/cache" -name "wasm-bindgen-cli-$version.crate" | head -n1)"
    [ -n "$crate" ] || die "wasm-bindgen-cli-$version.crate not in the cargo registry cache"
    tmp="$(mktemp -d)"
    tar xzf "$crate" -C "$tmp"
    src="$tmp/wasm-bindgen-cli-$version"
    (cd "$src" && cargo update -p webpki-roots --precise 1.0.10)
    cargo install --path "$src" --locked --root "$root" || die "wasm-bindgen-cli $version install failed"
    rm -rf "$tmp"
  fi
fi
install -D -m 0755 "$root/bin/wasm-bindgen" /opt/tools/bin/wasm-bindgen
log "$(/opt/tools/bin/wasm-bindgen --version)"
