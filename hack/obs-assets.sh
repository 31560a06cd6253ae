#!/usr/bin/env bash
# Provides the observability servers that the tests of kradius's metrics and
# traces talk to (test/obs), built from the Go module proxy, with no
# downloader of their own:
#   prometheus, promtool  from github.com/prometheus/prometheus ($PROM_VERSION);
#   jaeger                Jaeger v2, from github.com/jaegertracing/jaeger
#                         ($JAEGER_VERSION) cmd/jaeger.
# They live in a cache outside the repo, ${KRADIUS_OBS:-~/.cache/kradius/obs/
# <prometheus version>-<jaeger version>}. The directory is the last line on
# stdout, so:
#   OBS=$(hack/obs-assets.sh)
# A cache hit returns at once; a cold build takes about 20 minutes on 2
# cores. A version bump rebuilds, through the stamp file.
set -euo pipefail

PROM_VERSION=v0.316.0 # Prometheus 3.16.0: its Go module is tagged v0.3XX.Y
JAEGER_VERSION=v1.75.0
DIR=${KRADIUS_OBS:-$HOME/.cache/kradius/obs/$PROM_VERSION-$JAEGER_VERSION}
STAMP="$DIR/.stamp"
WANT="prometheus $PROM_VERSION jaeger $JAEGER_VERSION"

die() { echo "obs-assets: $*" >&2; exit 1; }
log() { echo "obs-assets: $*" >&2; }

ready() {
  [ -x "$DIR/prometheus" ] && [ -x "$DIR/promtool" ] && [ -x "$DIR/jaeger" ] &&
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

command -v go >/dev/null || die "go is not on PATH"
rm -f "$STAMP"
work=$(mktemp -d "$DIR/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Wrapper modules outside the repo: the repo's go.work must not apply.
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

# wrapper MODULE VERSION PACKAGE... makes, and enters, $work/<last element of
# MODULE>: a module that requires MODULE@VERSION and imports PACKAGEs, with
# MODULE's own replaces by other modules' versions (a dependent does not
# inherit them); and tidies it. It sets src to MODULE's directory in the
# module cache.
wrapper() {
  local mod=$1 version=$2 name=${1##*/}
  shift 2
  mkdir "$work/$name"
  cd "$work/$name"
  go mod init "kradius.dev/obs-$name" 2>/dev/null || die "go mod init failed"
  local info gomod
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
  go mod edit "${edits[@]}" || die "go mod edit of the $name wrapper failed"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "%s"\n' "$@"
    printf ')\n'
  } >tools.go
  # Quiet unless it fails: tidy lists every module it downloads.
  go mod tidy 2>tidy.log || { cat tidy.log >&2; die "go mod tidy of the $name wrapper failed (see above)"; }
}

# --- prometheus, promtool ----------------------------------------------------
log "building prometheus and promtool $PROM_VERSION into $DIR (once; several minutes on a cold build cache)"
start=$SECONDS
wrapper github.com/prometheus/prometheus "$PROM_VERSION" \
  github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool
prom_release=$(<"$src/VERSION") || die "no VERSION in $src"
# netgo as in Prometheus's own release builds (.promu.yml). builtinassets
# would embed a web UI that the module does not ship (it is built with npm);
# without it the UI is absent and the HTTP API, all that tests use, works.
# remove_all_sd leaves out the cloud service discoveries (Kubernetes, AWS,
# Azure, GCE, ...): static, file and HTTP discovery remain, and much less is
# compiled.
prom_flags=(-trimpath -tags netgo,remove_all_sd -ldflags "-s -w
  -X github.com/prometheus/common/version.Version=$prom_release
  -X github.com/prometheus/common/version.Revision=$PROM_VERSION
  -X github.com/prometheus/common/version.Branch=HEAD
  -X github.com/prometheus/common/version.BuildUser=kradius-obs-assets")
for cmd in prometheus promtool; do
  go build "${prom_flags[@]}" -o "$cmd.new" "github.com/prometheus/prometheus/cmd/$cmd" >&2 ||
    die "building $cmd $PROM_VERSION failed (see above)"
done
mv -f prometheus.new "$DIR/prometheus"
mv -f promtool.new "$DIR/promtool"
log "built prometheus and promtool $PROM_VERSION in $((SECONDS - start))s"

# --- jaeger ------------------------------------------------------------------
log "building jaeger $JAEGER_VERSION into $DIR (once; several minutes on a cold build cache)"
start=$SECONDS
wrapper github.com/jaegertracing/jaeger "$JAEGER_VERSION" github.com/jaegertracing/jaeger/cmd/jaeger
# The UI assets are a git submodule, not in the module: jaeger serves a
# placeholder page instead, and the JSON API that tests use works.
go build -trimpath -o jaeger.new \
  -ldflags "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_VERSION" \
  github.com/jaegertracing/jaeger/cmd/jaeger >&2 || die "building jaeger $JAEGER_VERSION failed (see above)"
mv -f jaeger.new "$DIR/jaeger"
log "built jaeger $JAEGER_VERSION in $((SECONDS - start))s"

cd "$DIR"
echo "$WANT" >"$STAMP"
ready || die "assets in $DIR are incomplete"
echo "$DIR"
