#!/usr/bin/env bash
# Installs the code generators and linters at pinned versions into $TOOLS (default
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
# Linters of make lint. staticcheck v0.8.2 is release 2026.2.2; a release
# knows only the Go versions out before it, so move it with the go line.
# gci, unlike goimports -local, finds an import that sits in the wrong group.
install staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2
install gci github.com/daixiang0/gci@v0.14.0
echo "$TOOLS"
