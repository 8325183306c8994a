#!/bin/bash
# The image's HEALTHCHECK: GET /healthz on the port of LISTEN_ADDR, with bash's /dev/tcp (the
# runtime image has no curl). Healthy when the answer is 200.
set -euo pipefail

addr="${LISTEN_ADDR:-127.0.0.1:3000}"
port="${addr##*:}"
host="${addr%:*}"
host="${host#[}"
host="${host%]}"
case "$host" in
  0.0.0.0 | "") host=127.0.0.1 ;;
  ::) host=::1 ;;
esac

exec 3<>"/dev/tcp/$host/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
read -r -t 4 _proto status _reason <&3
[ "$status" = 200 ]
