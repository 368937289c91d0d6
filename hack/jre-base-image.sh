#!/usr/bin/env bash
# Builds a minimal JRE base image as a local tarball (docker-archive format) for Jib, with no
# registry and no Docker daemon: a jlink'ed runtime of the build JDK (>= 25, as the image's flags
# and its virtual threads want; see cli/pom.xml), the glibc libraries
# it links against, a non-root user 65532 and /tmp. Used where the usual base image
# (eclipse-temurin:25-jre) cannot be pulled. Prints the tarball's path; cached per JDK version and
# per version of this script.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/.mvn/select-jdk.sh"
ferry_select_jdk
if [ "$(ferry_java_major "$JAVA_HOME/bin/java")" -lt 25 ]; then
  echo "hack/jre-base-image.sh: the image runs Java 25; the build JDK ($JAVA_HOME) is older. Set JAVA_HOME to a JDK 25 or newer." >&2
  exit 1
fi
version=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.runtime\.version = //p')
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ferry
OUT="$CACHE/jre-base-$version-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12).tar"
if [ -s "$OUT" ]; then echo "$OUT"; exit 0; fi
mkdir -p "$CACHE"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs/opt" "$rootfs/etc" "$rootfs/tmp" "$rootfs/home/nonroot"

"$JAVA_HOME/bin/jlink" \
  --add-modules java.base,java.logging,java.naming,java.net.http,java.management,java.xml,java.desktop,java.sql,java.instrument,java.security.jgss,jdk.crypto.ec,jdk.httpserver,jdk.unsupported,jdk.management,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress=zip-6 --output "$rootfs/opt/java" >&2

# every shared library the runtime links against, plus name resolution, plus what BoringSSL's
# library (netty-tcnative, unpacked to /tmp at run time) links against beyond those: libgcc_s
libs=$( { find "$rootfs/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' \) -exec ldd {} \; 2>/dev/null || true; } |
  awk '/=> \// {print $3} /^[[:space:]]*\/lib/ {print $1}' | sort -u)
for extra in libnss_files.so.2 libnss_dns.so.2 libresolv.so.2 libgcc_s.so.1; do
  for dir in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64; do
    [ -e "$dir/$extra" ] && libs="$libs $dir/$extra" && break
  done
done
for lib in $libs; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"

python3 - "$rootfs" "$OUT" <<'PY'
import hashlib, io, json, os, sys, tarfile
rootfs, out = sys.argv[1], sys.argv[2]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
    for base, dirs, files in os.walk(rootfs):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            path = os.path.join(base, name)
            info = t.gettarinfo(path, os.path.relpath(path, rootfs))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if os.path.relpath(path, rootfs) == "tmp":
                info.mode = 0o1777
            if os.path.relpath(path, rootfs) == "home/nonroot":
                info.uid = info.gid = 65532
            if info.isfile():
                with open(path, "rb") as f:
                    t.addfile(info, f)
            else:
                t.addfile(info)
data = layer.getvalue()
diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
config = {"architecture": "amd64", "os": "linux",
          "config": {"Env": ["PATH=/opt/java/bin:/usr/bin:/bin", "JAVA_HOME=/opt/java"], "User": "65532"},
          "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
cfg = json.dumps(config).encode()
manifest = json.dumps([{"Config": "config.json", "RepoTags": ["ferry-jre-base:local"], "Layers": ["layer.tar"]}]).encode()
with tarfile.open(out, "w") as t:
    for name, blob in (("layer.tar", data), ("config.json", cfg), ("manifest.json", manifest)):
        info = tarfile.TarInfo(name)
        info.size = len(blob)
        t.addfile(info, io.BytesIO(blob))
PY
echo "$OUT"
