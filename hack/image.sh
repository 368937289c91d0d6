#!/usr/bin/env bash
# Builds the controller's image with Jib (no Docker daemon), tagged with the Helm chart's
# appVersion so that the chart's default image.tag names it:
#   hack/image.sh                     docker-archive tarball cli/target/ferry-image.tar
#   hack/image.sh --local-base        the same, on a JRE base assembled here (no registry reachable)
#   hack/image.sh --push REPOSITORY   build and push straight to REPOSITORY:<appVersion>; registry
#                                     credentials from `docker login` / credential helpers, or
#                                     FERRY_REGISTRY_USER and FERRY_REGISTRY_PASSWORD
#   hack/image.sh --print-name        print the image reference and build nothing
# FERRY_IMAGE sets the repository of the tarball's reference (default ferry/controller).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
tag=$(sed -n 's/^appVersion: *//p' charts/ferry/Chart.yaml | tr -d '"' | tr -d "'")
repo=${FERRY_IMAGE:-ferry/controller}
goal=jib:buildTar
base=()
auth=()
while [ $# -gt 0 ]; do
  case "$1" in
    --local-base) base=(-Djib.from.image="tar://$(hack/jre-base-image.sh)") ;;
    --push) repo=${2:?--push needs a repository, e.g. registry.example.com/ferry/controller}; goal=jib:build; shift ;;
    --print-name) echo "$repo:$tag"; exit 0 ;;
    *) echo "hack/image.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "${FERRY_REGISTRY_USER:-}" ]; then
  auth=(-Djib.to.auth.username="$FERRY_REGISTRY_USER" -Djib.to.auth.password="${FERRY_REGISTRY_PASSWORD:-}")
fi
./mvnw -q -B -DskipTests -Dspotless.skip=true -pl cli -am install
./mvnw -q -B -pl cli "$goal" -Dimage.name="$repo:$tag" "${base[@]}" "${auth[@]}"
if [ "$goal" = jib:build ]; then
  echo "pushed $repo:$tag"
else
  ls -l cli/target/ferry-image.tar | awk -v ref="$repo:$tag" '{printf "cli/target/ferry-image.tar: %s, %.1f MiB (docker-archive)\n", ref, $5 / 1048576}'
fi
