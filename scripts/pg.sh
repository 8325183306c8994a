#!/usr/bin/env bash
# Starts (or reuses) the project's private PostgreSQL cluster and prints its DATABASE_URL.
#
#   scripts/pg.sh start   # initdb on first use, pg_ctl start if stopped; prints DATABASE_URL
#   scripts/pg.sh stop
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
# A port per checkout (55000-55999), so two checkouts on one machine each have their own cluster.
port="${ISPVM_PG_PORT:-$((55000 + $(printf '%s' "$ISPVM_ROOT" | cksum | cut -d' ' -f1) % 1000))}"
pwfile="$state/pg-password"
log() { printf '[pg] %s\n' "$*" >&2; }
die() { printf '[pg] ERROR: %s\n' "$*" >&2; exit 1; }

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || die "PostgreSQL server binaries not found (run scripts/setup.sh)"

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  mkdir -p "$state"
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
  *) die "usage: scripts/pg.sh start|stop" ;;
esac
