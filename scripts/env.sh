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
