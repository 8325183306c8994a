#!/usr/bin/env bash
# Foundation benchmarks (docs/benchmarks.md): wasm size raw and gzip, SSR latency of the signed-in
# home page with wrk on loopback (baseline: /healthz in the same run), and, with
# BENCH_CLEAN_BUILD=1, the clean release build time in a scratch target directory.
# Needs the release build (cargo leptos build --release).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
cd "$ISPVM_ROOT"
log() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is required (scripts/setup.sh installs it)"

if [ "${BENCH_CLEAN_BUILD:-}" = 1 ]; then
  scratch="$(mktemp -d)"
  log "clean release build in $scratch"
  start=$SECONDS
  CARGO_TARGET_DIR="$scratch" SQLX_OFFLINE=true cargo leptos build --release >/dev/null 2>&1 \
    || die "clean build failed"
  log "clean build: $((SECONDS - start)) s"
  rm -rf "$scratch"
fi

bin="$CARGO_TARGET_DIR/release/ispvm"
site="$CARGO_TARGET_DIR/site"
[ -d "$site/pkg" ] || site="$ISPVM_ROOT/target/site"
[ -x "$bin" ] && [ -f "$site/pkg/ispvm.wasm" ] || die "build first: cargo leptos build --release"
wasm_raw=$(stat -c %s "$site/pkg/ispvm.wasm")
wasm_gz=$(gzip -9 -c "$site/pkg/ispvm.wasm" | wc -c)
js_gz=$(gzip -9 -c "$site/pkg/ispvm.js" | wc -c)
log "wasm: $wasm_raw B raw, $wasm_gz B gzip -9 (JS glue $js_gz B gzip)"

cluster="$("$here/pg.sh" start)"; cluster="${cluster%/*}"
db="ispvm_bench_$$"
psql="$(ls -d /usr/lib/postgresql/*/bin/psql | sort -V | tail -n1)"
"$psql" "$cluster/postgres" -qc "create database $db" >/dev/null
work="$(mktemp -d)"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  "$psql" "$cluster/postgres" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export DATABASE_URL="$cluster/$db"
pw="bench-$(head -c 12 /dev/urandom | base64 | tr -dc A-Za-z0-9)"
"$bin" migrate >/dev/null
INITIAL_ADMIN_PASSWORD="$pw" "$bin" bootstrap >/dev/null
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
LISTEN_ADDR="127.0.0.1:$port" PUBLIC_BASE_URL="$base" SITE_ROOT="$site" LOG_LEVEL=warn "$bin" serve >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fs "$base/readyz" >/dev/null || die "server not ready: $(tail -5 "$work/log")"
curl -s -c "$work/jar" -o /dev/null -H "Origin: $base" -H 'Accept: application/json' \
  --data-urlencode username=admin --data-urlencode "password=$pw" "$base/api/login"
cookie="$(awk '$6 == "ispvm_session" { print $6 "=" $7 }' "$work/jar")"
[ -n "$cookie" ] || die "could not sign in"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base/")
[ "$code" = 200 ] || die "signed-in home answered $code"

duration="${BENCH_DURATION:-15s}"
conns="${BENCH_CONNECTIONS:-8}"
log "wrk 2 threads, $conns connections, $duration: baseline GET /healthz"
healthz=$(wrk -t2 -c"$conns" -d"$duration" -s "$here/bench/latency.lua" "$base/healthz" | tail -n1)
log "wrk 2 threads, $conns connections, $duration: GET / signed in (SSR, 3 queries)"
home=$(wrk -t2 -c"$conns" -d"$duration" -s "$here/bench/latency.lua" -H "Cookie: $cookie" "$base/" | tail -n1)
log "healthz: $healthz"
log "home:    $home"
printf '{"wasm_raw_bytes":%s,"wasm_gzip_bytes":%s,"js_gzip_bytes":%s,"healthz":%s,"home":%s}\n' \
  "$wasm_raw" "$wasm_gz" "$js_gz" "$healthz" "$home"
