#!/usr/bin/env bash
# Starts (or reuses) the project's private PostgreSQL cluster and prints its DATABASE_URL.
#
#   scripts/pg.sh start   # initdb on first use, pg_ctl start if stopped; prints DATABASE_URL
#   scripts/pg.sh stop
#   scripts/pg.sh status  # exit 0 if running
#
# The cluster lives in .ispvm/pg of this checkout, listens on 127.0.0.1:$ISPVM_PG_PORT (default:
# a port from 55000-55999 derived from the checkout's path) and its own socket directory, with password (scram) auth for the superuser `ispvm`;
# the password is generated once into .ispvm/pg-password. PostgreSQL refuses to run as root, so
# as root the server runs as the `postgres` system user.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"

state="$ISPVM_ROOT/.ispvm"
data="$state/pg"
pwfile="$state/pg-password"
portfile="$state/pg-port"
log() { printf '[pg] %s\n' "$*" >&2; }
die() { printf '[pg] ERROR: %s\n' "$*" >&2; exit 1; }

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || die "PostgreSQL server binaries not found (run scripts/setup.sh)"

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The cluster's port: ISPVM_PG_PORT, else the one chosen the first time (.ispvm/pg-port), else
# the first free port from one derived from the checkout's path (55000-55999), so that several
# checkouts on one machine each have their own cluster.
choose_port() {
  if [ -n "${ISPVM_PG_PORT:-}" ]; then port="$ISPVM_PG_PORT"; return; fi
  if [ -s "$portfile" ]; then port="$(cat "$portfile")"; return; fi
  port=$((55000 + $(printf '%s' "$ISPVM_ROOT" | cksum | cut -d' ' -f1) % 1000))
  local tries=0
  while port_busy "$port"; do
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || die "no free port near $port for the private PostgreSQL"
    port=$((port + 1))
  done
  echo "$port" > "$portfile"
}

start() {
  mkdir -p "$state"
  if [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    # Already running: its port is line 4 of postmaster.pid.
    port="$(sed -n 4p "$data/postmaster.pid")"
  else
    choose_port
  fi
  if [ ! -s "$pwfile" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$pwfile")
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initdb $data"
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || die "no postgres system user to run the cluster as"
      chown postgres "$data"
      chmod 700 "$data"
      install -o postgres -m 600 "$pwfile" "$state/pg-password.owner"
      as_owner "$bindir/initdb" -D "$data" -U ispvm --auth=scram-sha-256 \
        --pwfile="$state/pg-password.owner" -E UTF8 --locale=C.UTF-8 >/dev/null
      rm -f "$state/pg-password.owner"
    else
      "$bindir/initdb" -D "$data" -U ispvm --auth=scram-sha-256 --pwfile="$pwfile" \
        -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
  fi
  if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if port_busy "$port"; then
      die "port $port is taken by another program: set ISPVM_PG_PORT, or delete $portfile to pick a new one"
    fi
    log "starting on 127.0.0.1:$port"
    as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=300 -c fsync=${ISPVM_PG_FSYNC:-on}" \
      start >/dev/null || { tail -n 20 "$data/server.log" >&2; die "pg_ctl start failed"; }
  fi
  local url="postgres://ispvm:$(cat "$pwfile")@127.0.0.1:$port"
  PGPASSWORD="$(cat "$pwfile")" "$bindir/psql" -h 127.0.0.1 -p "$port" -U ispvm -d postgres -tAc \
    "select 1 from pg_database where datname = 'ispvm'" | grep -q 1 \
    || PGPASSWORD="$(cat "$pwfile")" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U ispvm ispvm
  echo "$url/ispvm"
}

case "${1:-start}" in
  start) start ;;
  stop) as_owner "$bindir/pg_ctl" -D "$data" -m fast stop ;;
  status) [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 ;;
  *) die "usage: scripts/pg.sh start|stop|status" ;;
esac
