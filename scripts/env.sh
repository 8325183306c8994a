# Sourced by every script: machine-level directories and PATH. Prints nothing.
# ISPVM_TOOLS: tools built once per machine; ISPVM_CACHE: build caches shared by checkouts.
ISPVM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ISPVM_ROOT
export ISPVM_CACHE="${ISPVM_CACHE:-$HOME/.cache/ispvm}"
export ISPVM_TOOLS="${ISPVM_TOOLS:-$ISPVM_CACHE/tools}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ISPVM_CACHE/target}"
# The tools must precede /usr/bin (npm's wasm-opt 132, not Debian's 108).
export PATH="$ISPVM_TOOLS/bin:$HOME/.cargo/bin:$PATH"
# Lets Debian's stable cargo accept -Zbuild-std for the wasm32 std (see rust-toolchain.toml).
export RUSTC_BOOTSTRAP=1
# The build profile scripts/run.sh builds and the smoke and browser tests run: release (the
# default) or dev, which scripts/test.sh uses so that CI reuses the test build instead of
# compiling everything a second time with optimisations.
export ISPVM_PROFILE="${ISPVM_PROFILE:-release}"
case "$ISPVM_PROFILE" in
  release) ISPVM_BUILD_FLAGS=(--release); ISPVM_BIN_DIR="$CARGO_TARGET_DIR/release" ;;
  dev) ISPVM_BUILD_FLAGS=(); ISPVM_BIN_DIR="$CARGO_TARGET_DIR/debug" ;;
  *) printf 'ISPVM_PROFILE: expected release or dev, got %s\n' "$ISPVM_PROFILE" >&2; exit 2 ;;
esac
export ISPVM_BIN_DIR
