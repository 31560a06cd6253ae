#!/usr/bin/env bash
# Checks the protos for breaking changes against main's last commit that has
# them (on main itself that is HEAD, so a change is checked before it lands).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${TOOLS:-$HOME/.cache/kradius-tools}
ref=main
git rev-parse -q --verify "$ref" >/dev/null || ref=HEAD
if ! git cat-file -e "$ref:proto/buf.yaml" 2>/dev/null; then
  echo "buf breaking: $ref has no protos yet, nothing to compare" >&2
  exit 0
fi
cd proto
PATH=$TOOLS:$PATH buf breaking --against "../.git#ref=$ref,subdir=proto"
