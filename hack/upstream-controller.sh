#!/usr/bin/env bash
# Builds the upstream service controller (k8s.io/cloud-provider/controllers/service at the cluster
# tier's Kubernetes version) wired to the simulated cloud in hack/bench/upstream-service-controller.go,
# for `ferry bench scale --compare upstream`. Built once from the Go module proxy, like the cluster
# binaries, and cached; prints the binary's path. Needs Go >= 1.24.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KUBE_VERSION=${KUBE_VERSION:-1.34.4}
staging="0.${KUBE_VERSION#1.}"
CACHE=${FERRY_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry/kube}
SRC="$ROOT/hack/bench/upstream-service-controller.go"
sum=$(sha256sum "$SRC" | cut -c1-12)
OUT="$CACHE/upstream/$KUBE_VERSION-$sum/upstream-service-controller"
if [ -x "$OUT" ]; then
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null || { echo "upstream-controller: Go is needed to build the upstream service controller" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
echo "upstream-controller: building k8s.io/cloud-provider v$staging's service controller (once; a minute or two)" >&2
start=$(date +%s)
cd "$work"
go mod init ferry.dev/upstreambench >/dev/null 2>&1
cp "$SRC" main.go
go get "k8s.io/cloud-provider@v$staging" "k8s.io/client-go@v$staging" "k8s.io/api@v$staging" \
  "k8s.io/apimachinery@v$staging" "k8s.io/component-base@v$staging" >&2
go mod tidy >&2
mkdir -p "$(dirname "$OUT")"
go build -trimpath -ldflags "-s -w" -o "$OUT" .
echo "upstream-controller: built in $(( $(date +%s) - start )) s" >&2
echo "$OUT"
