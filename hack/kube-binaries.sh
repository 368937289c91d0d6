#!/usr/bin/env bash
# Provides real kube-apiserver, kubectl and etcd binaries for the cluster tests, built from the Go
# module proxy (they are not in Debian), cached under the user's cache directory and laid out as
# fabric8's kube-api-test expects in offline mode:
#   $FERRY_KUBE_CACHE/k8s/<version>-linux-amd64/{kube-apiserver,kubectl,etcd}
# Prints that directory's parent (the kube-api-test "test directory") on stdout. A second run is a
# cache hit and takes no time. Needs Go >= 1.24 (and the Go module proxy).
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-1.34.4}
ETCD_VERSION=${ETCD_VERSION:-3.6.5}
CACHE=${FERRY_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry/kube}
OUT="$CACHE/k8s/$KUBE_VERSION-linux-amd64"

if [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kubectl" ] && [ -x "$OUT/etcd" ]; then
  echo "$CACHE"
  exit 0
fi

command -v go >/dev/null || { echo "kube-binaries: Go is needed to build kube-apiserver, kubectl and etcd" >&2; exit 1; }
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
staging="0.${KUBE_VERSION#1.}"

echo "kube-binaries: building kube-apiserver and kubectl v$KUBE_VERSION, etcd v$ETCD_VERSION into $OUT (once; several minutes)" >&2
start=$(date +%s)

# kube-apiserver, kubectl: a scratch module that requires k8s.io/kubernetes and replaces each of its
# staging modules (k8s.io/kubernetes's own go.mod points them at ./staging) with the published v0.x
mkdir -p "$work/kube" && cd "$work/kube"
go mod init ferry.dev/kubebuild >/dev/null 2>&1
gomod=$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
{
  echo "require k8s.io/kubernetes v$KUBE_VERSION"
  sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/.*#\1#p' "$gomod" | sort -u |
    while read -r m; do echo "replace $m => $m v$staging"; done
} >> go.mod
go get "k8s.io/kubernetes/cmd/kube-apiserver@v$KUBE_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$KUBE_VERSION" >&2
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${staging#0.}"
go build -trimpath -ldflags "$ldflags" -o "$OUT/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -ldflags "$ldflags" -o "$OUT/kubectl" k8s.io/kubernetes/cmd/kubectl

# etcd: the server module's etcdmain behind a two-line main
mkdir -p "$work/etcd" && cd "$work/etcd"
go mod init ferry.dev/etcdbuild >/dev/null 2>&1
cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
go mod tidy >&2
go build -trimpath -ldflags "-s -w" -o "$OUT/etcd" .

echo "kube-binaries: built in $(( $(date +%s) - start )) s" >&2
"$OUT/kube-apiserver" --version >&2
"$OUT/etcd" --version | head -n 1 >&2
echo "$CACHE"
