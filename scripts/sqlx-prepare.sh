#!/usr/bin/env bash
# Regenerates the committed sqlx offline data (.sqlx/) after a query or migration changes:
# starts the private PostgreSQL, applies migrations to a scratch database, and runs
# `cargo sqlx prepare` against it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"
cd "$ISPVM_ROOT"
base="$("$here/pg.sh" start)"
export DATABASE_URL="${base%/*}/ispvm_sqlx"
"$ISPVM_TOOLS/bin/sqlx" database drop -y >/dev/null 2>&1 || true
"$ISPVM_TOOLS/bin/sqlx" database create
"$ISPVM_TOOLS/bin/sqlx" migrate run --source migrations
SQLX_OFFLINE=false cargo sqlx prepare --workspace -- --all-targets
