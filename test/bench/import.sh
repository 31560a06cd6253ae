#!/usr/bin/env bash
# Measures `kradius import` of N accounts with one DID each into Redis,
# through a real -target=accounts: make import-bench [N=1000000].
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
make -s build
go run ./test/bench/genimport -n "$N" -o "$work/accounts.json"
ls -lh "$work/accounts.json" | awk '{print "file: " $5}'
redis-server --port 36379 --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
cat >"$work/kradius.yaml" <<YAML
target: accounts
http: {listen: 127.0.0.1:39812}
grpc: {listen: 127.0.0.1:39090}
store: {backend: redis, redis: {addresses: ["127.0.0.1:36379"]}}
YAML
for _ in $(seq 50); do redis-cli -p 36379 ping >/dev/null 2>&1 && break; sleep 0.1; done
bin/kradius -config "$work/kradius.yaml" >"$work/accounts.log" 2>&1 &
for _ in $(seq 50); do grep -q "accounts service listening" "$work/accounts.log" && break; sleep 0.1; done
grep -q "accounts service listening" "$work/accounts.log" || { cat "$work/accounts.log"; exit 1; }
start=$(date +%s.%N)
bin/kradius import -admin 127.0.0.1:39090 "$work/accounts.json"
end=$(date +%s.%N)
echo "import of $N accounts and $N DIDs: $(echo "$end - $start" | bc) s wall clock"
echo "redis: $(redis-cli -p 36379 dbsize) keys, $(redis-cli -p 36379 info memory | grep '^used_memory_human' | tr -d '\r')"
