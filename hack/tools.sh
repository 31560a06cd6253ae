#!/usr/bin/env bash
# Installs the code generators at pinned versions into $TOOLS (default
# ~/.cache/kradius-tools, outside the repo, so a warm machine skips the build).
set -euo pipefail
TOOLS=${TOOLS:-$HOME/.cache/kradius-tools}
mkdir -p "$TOOLS"
install() { # name module@version
  if [ ! -x "$TOOLS/$1" ] || [ "$(cat "$TOOLS/$1.version" 2>/dev/null)" != "$2" ]; then
    echo "installing $2" >&2
    GOBIN="$TOOLS" go install "$2"
    echo "$2" > "$TOOLS/$1.version"
  fi
}
install buf github.com/bufbuild/buf/cmd/buf@v1.75.0
install protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
install protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
# v0.19 is the controller-tools line built on Kubernetes 0.34, the api module's.
install controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen@v0.19.0
echo "$TOOLS"
