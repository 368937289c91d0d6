#!/usr/bin/env bash
# Builds the controller's OCI image as a tarball with Jib (no Docker daemon):
#   controller/target/ferry-image.tar
# Base image: eclipse-temurin:21-jre from its registry, or with --local-base a JRE base image
# assembled on this machine by hack/jre-base-image.sh (for machines that reach no registry).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
base=()
if [ "${1:-}" = --local-base ]; then
  base=(-Djib.from.image="tar://$(hack/jre-base-image.sh)")
fi
./mvnw -q -B -DskipTests -Dspotless.skip=true -pl controller -am install
./mvnw -q -B -pl controller jib:buildTar "${base[@]}"
ls -l controller/target/ferry-image.tar | awk '{printf "controller/target/ferry-image.tar: %.1f MiB\n", $5 / 1048576}'
