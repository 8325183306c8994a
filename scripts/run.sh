#!/usr/bin/env bash
# Sets up and runs ISPVM on this machine: installs the toolchain (once per machine), builds the
# release (ISPVM_PROFILE=dev: the unoptimised build), starts a private PostgreSQL when
# DATABASE_URL is unset, creates the master key .ispvm/master.key when
# ENCRYPTION_MASTER_KEY_FILE is unset, migrates, creates the first admin (prints its password
# once; or set INITIAL_ADMIN_PASSWORD), loads the demo ISP into an empty database, starts the
# simulated demo fleet (`ispvm-sim`) and an edge agent (`ispvm-agent`) polling it and pushing
# to the server (NO_DEMO=1 skips all three), and serves on http://127.0.0.1:3000 (LISTEN_ADDR /
# PUBLIC_BASE_URL to change). The demo agent enrolls once with a one-time token, is assigned
# every demo site, fetches its devices and credentials from the server, and pushes over mutual
# TLS to the agent listener, AGENT_LISTEN (127.0.0.1:8443 unless set). Ctrl-C stops all of it.
# ISPVM_NO_BUILD=1 serves what is already built (scripts/test.sh builds once for all its steps).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
log() { printf '[run] %s\n' "$*"; }

log "toolchain"
"$here/setup.sh"

cd "$ISPVM_ROOT"
if [ -n "${ISPVM_NO_BUILD:-}" ]; then
  # scripts/test.sh has built all of it once (its test build and the front end).
  log "not building (ISPVM_NO_BUILD): serving what is in $ISPVM_BIN_DIR and target/site"
  exes=(ispvm)
  [ -n "${NO_DEMO:-}" ] || exes+=(ispvm-sim ispvm-agent)
  for exe in "${exes[@]}"; do
    [ -x "$ISPVM_BIN_DIR/$exe" ] || { log "ISPVM_NO_BUILD is set but $ISPVM_BIN_DIR/$exe is not built"; exit 1; }
  done
else
  log "building ($ISPVM_PROFILE profile: cargo leptos build ${ISPVM_BUILD_FLAGS[*]})"
  SQLX_OFFLINE=true cargo leptos build "${ISPVM_BUILD_FLAGS[@]}"
  if [ -z "${NO_DEMO:-}" ]; then
    log "building the simulator and the agent ($ISPVM_PROFILE)"
    cargo build "${ISPVM_BUILD_FLAGS[@]}" --locked -p routeros --bin ispvm-sim -p agent --bin ispvm-agent
  fi
fi

if [ -z "${DATABASE_URL:-}" ] && [ -z "${DATABASE_URL_FILE:-}" ]; then
  log "DATABASE_URL unset: using the private PostgreSQL in .ispvm/pg"
  DATABASE_URL="$("$here/pg.sh" start)"
  export DATABASE_URL
fi
# cargo-leptos writes the site relative to the project, not CARGO_TARGET_DIR.
export SITE_ROOT="${SITE_ROOT:-$ISPVM_ROOT/target/site}"
bin="$ISPVM_BIN_DIR/ispvm"
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

  # The simulated routers on their loopback addresses (127.0.1.x), and an agent for them.
  demo="$ISPVM_ROOT/.ispvm/demo"
  # The agent's identity and buffer belong to one database: keyed by its URL.
  db_key="$(printf '%s' "${DATABASE_URL:-}${DATABASE_URL_FILE:-}" | sha256sum | cut -c1-12)"
  agent_dir="$demo/agent-$db_key"
  mkdir -p "$agent_dir"
  # The agent listener (mutual TLS) the demo agent enrolls at and pushes to.
  export AGENT_LISTEN="${AGENT_LISTEN:-127.0.0.1:8443}"
  agent_url="https://127.0.0.1:${AGENT_LISTEN##*:}"
  pids=()
  stop_demo() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
  }
  trap stop_demo EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "simulated fleet (log: $demo/sim.log)"
  rm -rf "$demo/certs" "$demo/sim.ready"   # new certificates at every start
  "$ISPVM_BIN_DIR/ispvm-sim" --topology server/demo/isp.toml --cert-dir "$demo/certs" \
    --ready-file "$demo/sim.ready" > "$demo/sim.log" 2>&1 &
  pids+=("$!")
  # The agent pins the API-SSL routers' certificates: the ready file comes after them.
  for _ in $(seq 1 100); do
    [ -f "$demo/sim.ready" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || { log "the simulator failed:"; cat "$demo/sim.log"; exit 1; }
    sleep 0.1
  done
  [ -f "$demo/sim.ready" ] || { log "the simulator did not start within 10 s"; exit 1; }

  log "serving (agents at $agent_url); stop with Ctrl-C"
  "$bin" serve &
  server_pid=$!
  pids+=("$server_pid")
  listen="${LISTEN_ADDR:-127.0.0.1:3000}"
  for _ in $(seq 1 300); do
    curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { wait "$server_pid"; exit $?; }
    sleep 0.1
  done

  # Enrolled once, like a real POP agent: a one-time token, then its own key and a client
  # certificate from the server's agent CA, kept in $agent_dir/identity.
  if [ ! -f "$agent_dir/identity/identity.json" ]; then
    log "enrolling the demo agent (identity kept in $agent_dir/identity)"
    ISPVM_AGENT_ENROLL_TOKEN="$("$bin" agent enroll-token --tenant default --name demo-agent)" \
      "$ISPVM_BIN_DIR/ispvm-agent" enroll --server-url "$agent_url" \
      --identity-dir "$agent_dir/identity"
  fi
  # It polls what the server assigns it, like a POP agent: every demo site (their devices and
  # the demo credential profile), set again at each start.
  log "assigning every demo site to the demo agent"
  "$bin" agent assign --tenant default --agent demo-agent --all-sites
  log "edge agent (log: $demo/agent.log; status: http://127.0.0.1:9108/status)"
  "$ISPVM_BIN_DIR/ispvm-agent" --server-url "$agent_url" \
    --identity-dir "$agent_dir/identity" --name demo-agent \
    --buffer-dir "$agent_dir/buffer" --tls-pin-dir "$demo/certs" \
    > "$demo/agent.log" 2>&1 &
  pids+=("$!")
  wait "$server_pid"
  exit $?
fi
log "serving; stop with Ctrl-C"
exec "$bin" serve
