#!/usr/bin/env bash
# Provides the binaries controller-runtime's envtest starts for the operator
# tests -- a real kube-apiserver and etcd -- without envtest's downloader:
#   kube-apiserver  built once from k8s.io/kubernetes on the Go module proxy;
#   etcd            a symlink to Debian's etcd-server (/usr/bin/etcd), which is
#                   installed with apt when run as root (otherwise: how to).
# Both live in a cache outside the repo, ${KRADIUS_ENVTEST:-~/.cache/kradius/
# envtest/<version>}. The directory is the last line on stdout, so:
#   export KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh)
# A cache hit returns at once; a cold build takes a few minutes. A version bump
# (K8S_VERSION below) rebuilds, through the stamp file.
set -euo pipefail

K8S_VERSION=v1.34.4
# The staging modules (k8s.io/api, k8s.io/client-go, ...) of Kubernetes v1.X.Y
# are tagged v0.X.Y.
STAGING_VERSION=v0.${K8S_VERSION#v1.}
DIR=${KRADIUS_ENVTEST:-$HOME/.cache/kradius/envtest/$K8S_VERSION}
STAMP="$DIR/.stamp"
WANT="kube-apiserver $K8S_VERSION"

die() { echo "envtest-assets: $*" >&2; exit 1; }
log() { echo "envtest-assets: $*" >&2; }

ready() {
  [ -x "$DIR/kube-apiserver" ] && [ -x "$DIR/etcd" ] &&
    [ -f "$STAMP" ] && [ "$(<"$STAMP")" = "$WANT" ]
}

# Fast path: nothing to do.
if ready; then
  echo "$DIR"
  exit 0
fi

mkdir -p "$DIR" || die "cannot create $DIR"
# One builder at a time; whoever waited finds the work done.
if command -v flock >/dev/null; then
  exec 9>"$DIR/.lock"
  flock 9
  if ready; then
    echo "$DIR"
    exit 0
  fi
fi

# --- etcd: Debian's etcd-server -------------------------------------------
etcd=$(command -v etcd || true)
if [ -z "$etcd" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "The operator tests need etcd (Debian package etcd-server). Install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y etcd-server" >&2
    exit 1
  fi
  log "installing etcd-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq etcd-server >/dev/null ||
    die "apt-get install etcd-server failed"
  etcd=$(command -v etcd) || die "etcd-server installed but no etcd on PATH"
fi
ln -sfn "$etcd" "$DIR/etcd"

# --- kube-apiserver: built from the Go module proxy -------------------------
if [ ! -x "$DIR/kube-apiserver" ] || [ ! -f "$STAMP" ] || [ "$(<"$STAMP")" != "$WANT" ]; then
  command -v go >/dev/null || die "go is not on PATH"
  rm -f "$STAMP"
  log "building kube-apiserver $K8S_VERSION into $DIR (once; a few minutes on a cold build cache)"
  start=$SECONDS
  work=$(mktemp -d "$DIR/.build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # A wrapper module outside the repo: the repo's go.work must not apply.
  export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
  cd "$work"
  go mod init kradius.dev/envtest-kube-apiserver 2>/dev/null || die "go mod init failed"
  # k8s.io/kubernetes replaces its staging modules with ./staging/...
  # directories, which a dependent cannot see; point each at its tag instead.
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p') ||
    die "cannot download k8s.io/kubernetes@$K8S_VERSION from the module proxy"
  [ -f "$gomod" ] || die "no go.mod for k8s.io/kubernetes@$K8S_VERSION in the module cache"
  edits=(-require="k8s.io/kubernetes@$K8S_VERSION")
  while read -r m; do
    edits+=(-replace="$m=$m@$STAGING_VERSION")
  done < <(awk '/=> *\.\/staging\// { print ($1 == "replace" ? $2 : $1) }' "$gomod")
  [ ${#edits[@]} -gt 10 ] || die "found no staging replaces in $gomod"
  go mod edit "${edits[@]}"
  cat >tools.go <<'EOF'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
EOF
  # Quiet unless it fails: tidy lists every module it downloads.
  go mod tidy 2>"$work/tidy.log" || { cat "$work/tidy.log" >&2; die "go mod tidy of the kube-apiserver wrapper failed (see above)"; }
  go build -trimpath -o kube-apiserver.new \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")" \
    k8s.io/kubernetes/cmd/kube-apiserver >&2 || die "building kube-apiserver $K8S_VERSION failed (see above)"
  cd - >/dev/null
  mv -f "$work/kube-apiserver.new" "$DIR/kube-apiserver"
  echo "$WANT" >"$STAMP"
  log "built kube-apiserver $K8S_VERSION in $((SECONDS - start))s"
fi

ready || die "assets in $DIR are incomplete"
echo "$DIR"
