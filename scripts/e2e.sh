#!/usr/bin/env bash
# Browser tests (end2end/) against the built app (ISPVM_PROFILE, release unless set), in
# Debian's headless Chromium.
#
#   scripts/e2e.sh        # after `cargo leptos build --release` (scripts/test.sh runs it for you)
#   E2E_ONLY=customers scripts/e2e.sh    # one file, end2end/tests/customers.test.mjs
#
# Creates a fresh database in the private PostgreSQL (scripts/pg.sh), migrates it, bootstraps
# the first admin with a generated password, serves the app on a free local port, waits for
# /readyz, runs `node --test` on end2end/tests/*.test.mjs and cleans up: the server is stopped
# and the database dropped whatever happens. On failure the server log is printed and
# screenshots of the failing pages are left in end2end/test-results/.
# CHROMIUM_PATH overrides /usr/bin/chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
cd "$ISPVM_ROOT"
log() { printf '[e2e] %s\n' "$*"; }
die() { printf '[e2e] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
bin="$ISPVM_BIN_DIR/ispvm"
[ -x "$bin" ] || die "no $ISPVM_PROFILE binary at $bin: build it first (cargo leptos build ${ISPVM_BUILD_FLAGS[*]})"
site=""
for dir in "$CARGO_TARGET_DIR/site" "$ISPVM_ROOT/target/site"; do
  if [ -d "$dir/pkg" ]; then site="$dir"; break; fi
done
[ -n "$site" ] || die "no built site (pkg/) in $CARGO_TARGET_DIR/site or $ISPVM_ROOT/target/site: run cargo leptos build --release"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] || die "no Chromium at $chromium (scripts/setup.sh installs Debian's chromium)"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are required (scripts/setup.sh)"
command -v curl >/dev/null || die "curl is required (scripts/setup.sh)"
psql="$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n1 || true)"
[ -n "$psql" ] || psql="$(command -v psql || true)"
[ -n "$psql" ] || die "psql not found (scripts/setup.sh installs PostgreSQL)"
# One statement on the cluster's maintenance database, quietly.
pg_admin() {
  PGOPTIONS='-c client_min_messages=warning' "$psql" "$admin_url" -v ON_ERROR_STOP=1 -qAtc "$1" >/dev/null
}

# ---------------------------------------------------------------- cleanup, whatever happens
work="$(mktemp -d "${TMPDIR:-/tmp}/ispvm-e2e.XXXXXX")"
server_log="$work/server.log"
server_pid=""
admin_url=""
db=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    log "stopping the server (pid $server_pid)"
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$server_pid" 2>/dev/null && kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ] && [ -s "$server_log" ]; then
    log "server log (last 300 lines of $server_log):"
    tail -n 300 "$server_log" | sed 's/^/  | /'
  fi
  if [ -n "$db" ]; then
    log "dropping database $db"
    pg_admin "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || log "warning: could not drop database $db"
  fi
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then log "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- a fresh database
log "private PostgreSQL"
cluster_url="$("$here/pg.sh" start)"        # postgres://ispvm:PW@127.0.0.1:PORT/ispvm
cluster_url="${cluster_url%/*}"
admin_url="$cluster_url/postgres"
name="ispvm_e2e_$$"
log "creating database $name"
pg_admin "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
pg_admin "CREATE DATABASE \"$name\""
db="$name"
DATABASE_URL="$cluster_url/$db"
export DATABASE_URL

log "ispvm migrate"
"$bin" migrate >>"$server_log" 2>&1 || die "ispvm migrate failed"

admin_password=""
while [ "${#admin_password}" -lt 20 ]; do
  admin_password="$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')"
done
admin_password="${admin_password:0:20}"
log "ispvm bootstrap (first admin: admin)"
INITIAL_ADMIN_PASSWORD="$admin_password" "$bin" bootstrap >>"$server_log" 2>&1 || die "ispvm bootstrap failed"
# An agent bearer token, with which the discovery test reports neighbours as an agent would.
ingest_token="$("$bin" agent token create --tenant default --name e2e-agent 2>>"$server_log" | sed -n 's/.*(shown once): //p')"
[ -n "$ingest_token" ] || die "ispvm agent token create printed no token"

# ---------------------------------------------------------------- the server
# A throwaway master key, so that credential profiles can be saved (docs/secrets.md).
key_file="$work/master.key"
"$bin" keys generate --out "$key_file" >>"$server_log" 2>&1 || die "ispvm keys generate failed"
free_port() { node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'; }
port="$(free_port)"
agent_port="$(free_port)"
base_url="http://127.0.0.1:$port"
log "ispvm serve on $base_url (agents on $agent_port, site $site)"
# The agent listener too, so the Agents page can make enrollment tokens.
LISTEN_ADDR="127.0.0.1:$port" PUBLIC_BASE_URL="$base_url" SITE_ROOT="$site" LOG_LEVEL=warn \
  AGENT_LISTEN="127.0.0.1:$agent_port" ENCRYPTION_MASTER_KEY_FILE="$key_file" "$bin" serve \
  >>"$server_log" 2>&1 &
server_pid=$!

log "waiting for $base_url/readyz"
deadline=$((SECONDS + 60))
while :; do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base_url/readyz" || true)"
  [ "$code" = 200 ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid" 2>/dev/null && status=0 || status=$?
    server_pid=""
    die "the server exited (status $status) before it was ready"
  fi
  [ "$SECONDS" -lt "$deadline" ] || die "$base_url/readyz did not answer 200 within 60 s (last: $code)"
  sleep 0.25
done
log "ready"

# ---------------------------------------------------------------- the tests
cd "$ISPVM_ROOT/end2end"
if node -e '
  const want = require("./package-lock.json").packages;
  let have;
  try { have = require("./node_modules/.package-lock.json").packages; } catch { process.exit(1); }
  for (const [k, v] of Object.entries(want)) {
    if (k && (!have[k] || have[k].version !== v.version)) process.exit(1);
  }' 2>/dev/null; then
  log "end2end/node_modules is up to date"
else
  log "npm ci (end2end)"
  npm ci --no-audit --no-fund
fi
rm -rf test-results

if [ -n "${E2E_ONLY:-}" ]; then
  files=("tests/$E2E_ONLY.test.mjs")
  [ -f "${files[0]}" ] || die "E2E_ONLY=$E2E_ONLY: no end2end/${files[0]}"
else
  files=(tests/*.test.mjs)
fi
log "node --test ${files[*]} in end2end/ (Chromium: $chromium)"
BASE_URL="$base_url" E2E_ADMIN_USER=admin E2E_ADMIN_PASSWORD="$admin_password" CHROMIUM_PATH="$chromium" \
  E2E_INGEST_TOKEN="$ingest_token" node --test --test-concurrency=1 --test-reporter=spec "${files[@]}" \
  || die "browser tests failed (screenshots and HTML of failing pages: end2end/test-results/)"
log "all browser tests passed"
