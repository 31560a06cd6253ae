#!/usr/bin/env bash
# Fails when `make generate` would change checked-in generated code.
set -euo pipefail
cd "$(dirname "$0")/.."
generated=(services/nas proto/kradius api/v1alpha1 operator/config/crd deploy/dashboards charts/kradius/crds charts/kradius/files)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in "${generated[@]}"; do mkdir -p "$tmp/$d" && cp -r "$d/." "$tmp/$d"; done
make -s generate >/dev/null
for d in "${generated[@]}"; do
  if ! diff -r "$tmp/$d" "$d" >/dev/null; then
    echo "generated code in $d is stale: run 'make generate' and commit the result" >&2
    exit 1
  fi
done
