#!/usr/bin/env bash
# Fuzzes the RouterOS API decoder (routeros/fuzz, target `decode`) with cargo-fuzz (libFuzzer),
# then prints the run's last status lines. Not part of scripts/test.sh: a useful run takes
# minutes to hours. Record runs in docs/fuzz.md.
#
#   scripts/fuzz.sh                      # 300 s
#   FUZZ_SECONDS=3600 scripts/fuzz.sh
#
# cargo-fuzz is installed once per machine into $ISPVM_TOOLS. It runs without a sanitizer
# (`--sanitizer none`): Debian's Rust ships no ASan runtime, and the decoder is safe Rust, so
# the fuzzer looks for panics, hangs (`-timeout`) and runaway memory (`-rss_limit_mb`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
log() { printf '[fuzz] %s\n' "$*"; }

if ! command -v cargo-fuzz >/dev/null; then
  log "cargo install cargo-fuzz (once per machine)"
  CARGO_TARGET_DIR="$ISPVM_CACHE/target-fuzz-install" cargo install cargo-fuzz --locked --root "$ISPVM_TOOLS"
fi
seconds="${FUZZ_SECONDS:-300}"
cd "$ISPVM_ROOT/routeros/fuzz"
# Its own target directory: the fuzz build's flags differ from every other build's.
export CARGO_TARGET_DIR="$ISPVM_CACHE/target-fuzz"
mkdir -p corpus/decode
log "cargo fuzz run decode for ${seconds}s"
cargo fuzz run --sanitizer none --release decode corpus/decode -- \
  -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -max_len=4096 -print_final_stats=1
