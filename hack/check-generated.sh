#!/usr/bin/env bash
# Fails when `make generate` would change checked-in generated code.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r services/nas/faxback/fbattr "$tmp/before"
make -s generate >/dev/null
if ! diff -r "$tmp/before" services/nas/faxback/fbattr >/dev/null; then
  echo "generated code is stale: run 'make generate' and commit the result" >&2
  exit 1
fi
