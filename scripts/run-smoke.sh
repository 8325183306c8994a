#!/usr/bin/env bash
# The README's first command, checked end to end: scripts/run.sh against a fresh database of the
# private PostgreSQL (scripts/pg.sh) on a free port must serve /readyz and store live samples
# from the simulated demo fleet, polled as the server assigns it and pushed by its enrolled agent
# over mutual TLS, with every router's reachability probe and the probes the demo defines on
# its devices, within 120 s. scripts/test.sh runs
# it after the build (of ISPVM_PROFILE); everything it starts is stopped and the database
# dropped at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
cd "$ISPVM_ROOT"
log() { printf '[smoke] %s\n' "$*"; }
die() { printf '[smoke] ERROR: %s\n' "$*" >&2; exit 1; }

psql="$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n1 || true)"
[ -n "$psql" ] || psql="$(command -v psql || true)"
[ -n "$psql" ] || die "psql not found (scripts/setup.sh installs PostgreSQL)"
cluster_url="$("$here/pg.sh" start)"
cluster_url="${cluster_url%/*}"
db="ispvm_smoke_$$"
sql() { PGOPTIONS='-c client_min_messages=warning' "$psql" "$1" -v ON_ERROR_STOP=1 -qAtc "$2"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/ispvm-smoke.XXXXXX")"
pid=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$pid" ]; then
    kill -TERM -- "-$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ]; then
    log "scripts/run.sh output (last 100 lines):"
    tail -n 100 "$work/run.log" | sed 's/^/  | /'
    for f in sim agent; do
      [ -f ".ispvm/demo/$f.log" ] && { log "$f log (last 30 lines):"; tail -n 30 ".ispvm/demo/$f.log" | sed 's/^/  | /'; }
    done
  fi
  sql "$cluster_url/postgres" "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

sql "$cluster_url/postgres" "CREATE DATABASE \"$db\""
free_port() { node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'; }
port="$(free_port)"
agent_port="$(free_port)"
log "scripts/run.sh on 127.0.0.1:$port (agents on $agent_port), database $db"
started=$(date +%s)
DATABASE_URL="$cluster_url/$db" LISTEN_ADDR="127.0.0.1:$port" PUBLIC_BASE_URL="http://127.0.0.1:$port" \
  AGENT_LISTEN="127.0.0.1:$agent_port" INITIAL_ADMIN_PASSWORD="smoke-test-password-$$" setsid "$here/run.sh" > "$work/run.log" 2>&1 &
pid=$!

samples=0
while :; do
  kill -0 "$pid" 2>/dev/null || die "scripts/run.sh exited"
  elapsed=$(( $(date +%s) - started ))
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    samples="$(sql "$cluster_url/$db" "select count(*) from sample")"
    [ "$samples" -gt 0 ] && break
  fi
  [ "$elapsed" -lt 300 ] || die "no sample stored within 300 s of starting scripts/run.sh"
  sleep 2
done
ready=$(( $(date +%s) - started ))
log "serving, and $samples samples stored, $ready s after start (build steps included)"
# Live from then on: within 120 s more, samples from every simulated router.
devices=0
want="$(sql "$cluster_url/$db" "select count(*) from device where vendor = 'mikrotik' and enabled")"
while :; do
  devices="$(sql "$cluster_url/$db" "select count(distinct s.device_id) from series s join sample x on x.series_id = s.id")"
  [ "$devices" -ge "$want" ] && break
  [ $(( $(date +%s) - started - ready )) -lt 120 ] || die "samples from only $devices of $want routers within 120 s"
  sleep 2
done
# Every router is also probed for reachability (ICMP echo, or TCP connect without an ICMP socket).
probed=0
while :; do
  probed="$(sql "$cluster_url/$db" "select count(distinct s.device_id) from series s join sample x on x.series_id = s.id where s.metric = 'probe_up'")"
  [ "$probed" -ge "$want" ] && break
  [ $(( $(date +%s) - started - ready )) -lt 120 ] || die "reachability probes of only $probed of $want routers within 120 s"
  sleep 2
done
# The probes defined on devices (the demo's TCP connects to the edge routers' API ports) come
# with the assignment: each has samples on its own series, `<kind>:<target>`.
defined="$(sql "$cluster_url/$db" "select count(*) from device_probe")"
[ "$defined" -gt 0 ] || die "the demo defines no probes on its devices"
while :; do
  ran="$(sql "$cluster_url/$db" "select count(*) from device_probe p where exists (select 1 from series s join sample x on x.series_id = s.id where s.device_id = p.device_id and s.metric = 'probe_up' and s.instance = p.kind || ':' || p.target)")"
  [ "$ran" -ge "$defined" ] && break
  [ $(( $(date +%s) - started - ready )) -lt 120 ] || die "samples of only $ran of the $defined probes defined on devices within 120 s"
  sleep 2
done
status="$(curl -fsS http://127.0.0.1:9108/status)" || die "the agent's status endpoint did not answer"
log "samples and reachability probes from all $devices routers, and the $defined defined probes; agent status: $status"
# Polling the server's assignment (every demo site), not a fleet file.
case "$status" in
  *'"assignment":{"revision":"'*) ;;
  *) die "the agent reports no assignment revision: it does not poll the server's assignment" ;;
esac
# Pushed by the enrolled agent over mutual TLS, none with a bearer token.
senders="$(sql "$cluster_url/$db" "select count(*) filter (where agent_id is not null), count(*) filter (where token_id is not null) from ingest_batch")"
[ "${senders#*|}" = 0 ] && [ "${senders%|*}" -gt 0 ] \
  || die "batches by enrolled agents|by bearer tokens: $senders (want some by the agent, none by tokens)"
enrolled="$(sql "$cluster_url/$db" "select name from agent where certificate_sha256 is not null and revoked_at is null")"
[ "$enrolled" = demo-agent ] || die "enrolled agents: '$enrolled' (want demo-agent)"
log "all batches came from the enrolled agent $enrolled over mutual TLS"
log "ok"
