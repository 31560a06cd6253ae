#!/usr/bin/env bash
# Provides what test/cluster needs to run a real single-node Kubernetes on
# this machine (see test/cluster/README.md), without Docker, a registry or a
# downloader of its own:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#   kube-proxy, kubectl   built from k8s.io/kubernetes ($K8S_VERSION);
#   helm                  from helm.sh/helm/v4 ($HELM_VERSION);
#   crictl                from sigs.k8s.io/cri-tools ($CRICTL_VERSION);
#   metrics-server        from sigs.k8s.io/metrics-server ($METRICS_VERSION),
#                         with its Helm chart (charts/metrics-server);
#   coredns               from github.com/coredns/coredns ($COREDNS_VERSION);
#   pause                 test/cluster/pause, the pods' sandbox process;
#   *-image.tar           OCI archives of pause, coredns and metrics-server
#                         (test/ociimage), imported into the cluster's
#                         containerd, as there is no registry to pull from;
# and, when run as root, installs the Debian packages the cluster runs on
# (containerd, runc, iptables, conntrack, iproute2, CNI plugins, etcd,
# openssl, socat) if they are missing.
# All of it lives in a cache outside the repo, ${KRADIUS_CLUSTER:-~/.cache/
# kradius/cluster/<kubernetes version>}. The directory is the last line on
# stdout, so:
#   CLUSTER=$(hack/cluster-assets.sh)
#   HELM_DIR=$(hack/cluster-assets.sh helm)   # helm alone, built first
# A cache hit returns at once. A cold build takes 30-40 minutes on 2 cores
# (measured beside other builds: the six Kubernetes binaries 524 s, helm
# 585 s, CoreDNS 549 s, metrics-server 536 s, crictl 172 s). Each tool has
# its own stamp and lock, so an interrupted build resumes with the tool it
# was building, and `helm` waits only for helm. A version bump rebuilds that
# tool, through its stamp.
set -euo pipefail

K8S_VERSION=v1.34.4
# The staging modules (k8s.io/api, k8s.io/client-go, ...) of Kubernetes v1.X.Y
# are tagged v0.X.Y.
STAGING_VERSION=v0.${K8S_VERSION#v1.}
HELM_VERSION=v4.3.2
CRICTL_VERSION=v1.34.0
METRICS_VERSION=v0.8.0
COREDNS_VERSION=v1.14.7
# The pause program is this repo's; bump when test/cluster/pause changes.
PAUSE_VERSION=1
# Every image's timestamp: fixed, so that a rebuild gives the same digest.
IMAGE_CREATED=2026-01-01T00:00:00Z

DIR=${KRADIUS_CLUSTER:-$HOME/.cache/kradius/cluster/$K8S_VERSION}
STAMP="$DIR/.stamp"
# test/cluster's Available() compares the stamp with this line.
WANT="kubernetes $K8S_VERSION helm $HELM_VERSION crictl $CRICTL_VERSION metrics-server $METRICS_VERSION coredns $COREDNS_VERSION pause $PAUSE_VERSION"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
# Debian package, and a file that shows it is installed.
PACKAGES=(
  containerd:/usr/bin/containerd
  runc:/usr/sbin/runc
  iptables:/usr/sbin/iptables
  conntrack:/usr/sbin/conntrack
  iproute2:/usr/sbin/ip
  containernetworking-plugins:/usr/lib/cni/bridge
  etcd-server:/usr/bin/etcd
  openssl:/usr/bin/openssl
  socat:/usr/bin/socat
)

die() { echo "cluster-assets: $*" >&2; exit 1; }
log() { echo "cluster-assets: $*" >&2; }

# version TOOL is the line TOOL's stamp holds when it is built.
version() {
  case $1 in
  helm) echo "helm $HELM_VERSION" ;;
  kube) echo "kubernetes $K8S_VERSION" ;;
  crictl) echo "crictl $CRICTL_VERSION" ;;
  metrics-server) echo "metrics-server $METRICS_VERSION" ;;
  coredns) echo "coredns $COREDNS_VERSION" ;;
  pause) echo "pause $PAUSE_VERSION" ;;
  *) die "unknown tool $1" ;;
  esac
}

# files TOOL lists what TOOL puts in $DIR.
files() {
  case $1 in
  helm) echo helm ;;
  kube) echo "${KUBE_CMDS[@]}" ;;
  crictl) echo crictl ;;
  metrics-server) echo metrics-server metrics-server-image.tar charts/metrics-server/Chart.yaml ;;
  coredns) echo coredns coredns-image.tar ;;
  pause) echo pause pause-image.tar ;;
  esac
}

built() {
  local f
  for f in $(files "$1"); do
    [ -e "$DIR/$f" ] || return 1
  done
  [ -f "$DIR/.stamp-$1" ] && [ "$(<"$DIR/.stamp-$1")" = "$(version "$1")" ]
}

installed() {
  local p
  for p in "${PACKAGES[@]}"; do
    [ -e "${p#*:}" ] || return 1
  done
}

ready() {
  [ -f "$STAMP" ] && [ "$(<"$STAMP")" = "$WANT" ] && installed &&
    built helm && built kube && built crictl && built metrics-server && built coredns && built pause
}

only=${1:-}
case $only in
"" | helm) ;;
*) die "usage: $0 [helm]" ;;
esac

# Fast path: nothing to do.
if { [ "$only" = helm ] && built helm; } || ready; then
  echo "$DIR"
  exit 0
fi

mkdir -p "$DIR" || die "cannot create $DIR"
command -v go >/dev/null || die "go is not on PATH"
work=$(mktemp -d "$DIR/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Wrapper modules outside the repo: the repo's go.work must not apply. The
# images are built by the repo's own test/ociimage, which unsets these.
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

# wrapper MODULE VERSION PACKAGE... makes, and enters, $work/<last element of
# MODULE>: a module that requires MODULE@VERSION and imports PACKAGEs, with
# MODULE's own replaces by other modules' versions (a dependent does not
# inherit them) and the replaces in the array extra (OLD=NEW@V); and tidies
# it. It sets src to MODULE's directory in the module cache and gomod to its
# go.mod.
extra=()
wrapper() {
  local mod=$1 version=$2 name=${1##*/}
  shift 2
  rm -rf "${work:?}/$name"
  mkdir "$work/$name"
  cd "$work/$name"
  go mod init "kradius.dev/cluster-$name" 2>/dev/null || die "go mod init failed"
  local info
  info=$(go mod download -json "$mod@$version") ||
    die "cannot download $mod@$version from the module proxy: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$info")"
  gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$info")
  src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$info")
  [ -f "$gomod" ] && [ -d "$src" ] || die "no go.mod or source for $mod@$version in the module cache"
  local edits=(-require="$mod@$version")
  # "replace OLD [V] => NEW V", alone or in a block; a replace by a local
  # directory (NEW with no version) cannot apply outside its repo.
  while read -r old new; do
    edits+=(-replace="$old=$new")
  done < <(awk '
    /^replace[[:space:]]*\($/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    block || /^replace[[:space:]]/ {
      sub(/^[[:space:]]*(replace[[:space:]]+)?/, ""); sub(/[[:space:]]*\/\/.*/, "")
      n = split($0, f, /[[:space:]]+/)
      for (i = 1; i <= n && f[i] != "=>"; i++) {}
      if (i > n || n - i != 2) next
      print (i == 3 ? f[1] "@" f[2] : f[1]), f[i + 1] "@" f[i + 2]
    }' "$gomod")
  local e
  for e in ${extra[@]+"${extra[@]}"}; do
    edits+=(-replace="$e")
  done
  go mod edit "${edits[@]}" || die "go mod edit of the $name wrapper failed"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "%s"\n' "$@"
    printf ')\n'
  } >tools.go
  # Quiet unless it fails: tidy lists every module it downloads.
  go mod tidy 2>tidy.log || { cat tidy.log >&2; die "go mod tidy of the $name wrapper failed (see above)"; }
}

# image TOOL BINARY packs $DIR/BINARY as localhost/BINARY:<TOOL's version>
# into $DIR/BINARY-image.tar, with the repo's test/ociimage (the tool `make
# image` uses), run in the repo's workspace.
image() {
  local tag=${2}:$(version "$1" | cut -d' ' -f2)
  (cd "$REPO" && env -u GOWORK -u GOFLAGS go run ./test/ociimage -binary "$DIR/$2" -entrypoint "/$2" \
    -name "localhost/$tag" -out "$DIR/$2-image.tar.new" -created "$IMAGE_CREATED" -ca-bundle "" \
    -version "$(version "$1" | cut -d' ' -f2)" >&2) || die "packing the $2 image failed (see above)"
  mv -f "$DIR/$2-image.tar.new" "$DIR/$2-image.tar"
}

# build TOOL builds TOOL unless its stamp says it is built, one builder at a
# time: whoever waited for the lock finds the work done.
build() {
  local tool=$1
  built "$tool" && return 0
  exec 9>"$DIR/.lock-$tool"
  command -v flock >/dev/null && flock 9
  if ! built "$tool"; then
    rm -f "$DIR/.stamp-$tool" "$STAMP"
    log "building $(version "$tool") into $DIR (once; several minutes on a cold build cache)"
    local start=$SECONDS
    "build_${tool//-/_}"
    cd "$DIR"
    version "$tool" >"$DIR/.stamp-$tool"
    log "built $(version "$tool") in $((SECONDS - start))s"
  fi
  exec 9>&-
}

build_helm() {
  extra=()
  wrapper helm.sh/helm/v4 "$HELM_VERSION" helm.sh/helm/v4/cmd/helm
  go build -trimpath -o helm.new \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    helm.sh/helm/v4/cmd/helm >&2 || die "building helm $HELM_VERSION failed (see above)"
  mv -f helm.new "$DIR/helm"
}

build_kube() {
  # k8s.io/kubernetes replaces its staging modules with ./staging/...
  # directories, which a dependent cannot see; point each at its tag instead.
  local gm
  gm=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p') ||
    die "cannot download k8s.io/kubernetes@$K8S_VERSION from the module proxy"
  [ -f "$gm" ] || die "no go.mod for k8s.io/kubernetes@$K8S_VERSION in the module cache"
  extra=()
  local m
  while read -r m; do
    extra+=("$m=$m@$STAGING_VERSION")
  done < <(awk '/=> *\.\/staging\// { print ($1 == "replace" ? $2 : $1) }' "$gm")
  [ ${#extra[@]} -gt 10 ] || die "found no staging replaces in $gm"
  local pkgs=() c
  for c in "${KUBE_CMDS[@]}"; do
    pkgs+=("k8s.io/kubernetes/cmd/$c")
  done
  wrapper k8s.io/kubernetes "$K8S_VERSION" "${pkgs[@]}"
  extra=()
  # What Kubernetes's own build stamps (hack/lib/version.sh): kubectl
  # reports client-go's, the rest component-base's.
  local x="" p minor
  minor=$(cut -d. -f2 <<<"$K8S_VERSION")
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  mkdir out
  # One go build for all six: they share most packages, built once.
  go build -trimpath -o out/ -ldflags "-s -w$x" "${pkgs[@]}" >&2 ||
    die "building Kubernetes $K8S_VERSION failed (see above)"
  for c in "${KUBE_CMDS[@]}"; do
    mv -f "out/$c" "$DIR/$c"
  done
}

build_crictl() {
  extra=()
  wrapper sigs.k8s.io/cri-tools "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
  go build -trimpath -o crictl.new \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
    sigs.k8s.io/cri-tools/cmd/crictl >&2 || die "building crictl $CRICTL_VERSION failed (see above)"
  mv -f crictl.new "$DIR/crictl"
}

build_metrics_server() {
  extra=()
  wrapper sigs.k8s.io/metrics-server "$METRICS_VERSION" sigs.k8s.io/metrics-server/cmd/metrics-server
  [ -f "$src/charts/metrics-server/Chart.yaml" ] || die "no charts/metrics-server in sigs.k8s.io/metrics-server@$METRICS_VERSION"
  go build -trimpath -o metrics-server.new \
    -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_VERSION -X k8s.io/client-go/pkg/version.gitTreeState=clean" \
    sigs.k8s.io/metrics-server/cmd/metrics-server >&2 || die "building metrics-server $METRICS_VERSION failed (see above)"
  mv -f metrics-server.new "$DIR/metrics-server"
  # The module cache is read-only; the copy must not be.
  rm -rf "$DIR/charts/metrics-server"
  mkdir -p "$DIR/charts"
  cp -R "$src/charts/metrics-server" "$DIR/charts/"
  chmod -R u+w "$DIR/charts/metrics-server"
  image metrics-server metrics-server
}

build_coredns() {
  extra=()
  # The main package is the module's root; its plugin list (core/plugin/
  # zplugin.go) is generated and in the module, so no go generate.
  wrapper github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns
  go build -trimpath -o coredns.new \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
    github.com/coredns/coredns >&2 || die "building coredns $COREDNS_VERSION failed (see above)"
  mv -f coredns.new "$DIR/coredns"
  image coredns coredns
}

build_pause() {
  (cd "$REPO" && env -u GOWORK -u GOFLAGS go build -trimpath -ldflags "-s -w" -o "$DIR/pause.new" ./test/cluster/pause >&2) ||
    die "building pause failed (see above)"
  mv -f "$DIR/pause.new" "$DIR/pause"
  image pause pause
}

# --- Debian packages ---------------------------------------------------------
packages() {
  installed && return 0
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    [ -e "${p#*:}" ] || missing+=("${p%%:*}")
  done
  if [ "$(id -u)" -ne 0 ]; then
    echo "The cluster tests need Debian packages that are missing. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  local start=$SECONDS
  apt-get update -qq
  # policy-rc.d or not, the cluster runs its own containerd and etcd: a
  # system one that the packages may start is not used.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
  installed || die "installed ${missing[*]}, but some files are still missing"
  log "installed ${missing[*]} in $((SECONDS - start))s"
}

# Helm first: it is the one others wait for (helm lint, helm template).
build helm
if [ "$only" = helm ]; then
  echo "$DIR"
  exit 0
fi
packages
build pause
build kube
build crictl
build coredns
build metrics-server

cd "$DIR"
echo "$WANT" >"$STAMP"
ready || die "assets in $DIR are incomplete"
echo "$DIR"
