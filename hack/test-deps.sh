#!/usr/bin/env bash
# Installs the system packages the tests talk to, when run as root; otherwise
# prints the one command that does it.
set -euo pipefail
need=()
command -v radclient >/dev/null || need+=(freeradius-utils)
command -v redis-server >/dev/null || need+=(redis-server)
command -v etcd >/dev/null || need+=(etcd-server)
command -v jq >/dev/null || need+=(jq)
# RadSec (RFC 6614) is tested with a real TLS client forwarding radclient.
command -v radsecproxy >/dev/null || need+=(radsecproxy)
# make bench also measures FreeRADIUS 3.2 beside kradius.
if [ "${1:-}" = bench ]; then
  command -v freeradius >/dev/null || need+=(freeradius)
  [ -e /usr/lib/freeradius/rlm_redis.so ] || need+=(freeradius-redis)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need: ${need[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq "${need[@]}" >/dev/null
