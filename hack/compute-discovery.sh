#!/usr/bin/env bash
# Writes the GCP fake's copy of Google's published Compute Engine v1 discovery document: the
# document as Google publishes it in the Go module google.golang.org/api (compute/v1/compute-api.json,
# from the Go module proxy), cut to the collections Ferry calls and the schemas they reach, every
# kept method and schema verbatim. Its "revision" field names the revision. Run again to move on.
set -euo pipefail
VERSION=${1:-v0.316.0}
OUT="$(cd "$(dirname "$0")/.." && pwd)/providers/gcp/src/test/resources/compute-v1-discovery.json"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
dir=$(GOFLAGS=-mod=mod go mod download -json "google.golang.org/api@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
python3 - "$dir/compute/v1/compute-api.json" "$OUT" "$VERSION" <<'PY'
import json, sys
src, out, version = sys.argv[1:]
d = json.load(open(src))
collections = ["addresses", "forwardingRules", "regionBackendServices", "backendServices",
               "regionHealthChecks", "firewalls", "instanceGroups", "instances", "regions",
               "regionOperations", "zoneOperations", "globalOperations", "networks", "subnetworks"]
resources = {c: d["resources"][c] for c in collections}
seen, todo = set(), []
def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                todo.append(v)
            else:
                refs(v)
    elif isinstance(node, list):
        for v in node:
            refs(v)
refs(resources)
while todo:
    name = todo.pop()
    if name in seen:
        continue
    seen.add(name)
    refs(d["schemas"][name])
keep = {k: d[k] for k in ["kind", "discoveryVersion", "id", "name", "version", "revision", "title",
                          "documentationLink", "rootUrl", "servicePath", "baseUrl"]}
keep["x-ferry-source"] = ("google.golang.org/api@" + version + " compute/v1/compute-api.json, cut to "
                          "the collections Ferry calls by hack/compute-discovery.sh")
keep["resources"] = resources
keep["schemas"] = {k: d["schemas"][k] for k in sorted(seen)}
with open(out, "w") as f:
    json.dump(keep, f, indent=1, sort_keys=False)
    f.write("\n")
print(out, "revision", d["revision"], len(seen), "schemas", file=sys.stderr)
PY
