#!/usr/bin/env bash
# Provides a real HAProxy for the example plugin's tests (examples/haproxy-provider): Debian's
# package, installed once when `haproxy` is missing. Prints the binary's path on stdout. Needs root
# (or sudo) and Debian's package mirror; the tests that need it skip loudly, with this script's
# message, when it fails.
set -euo pipefail
if bin=$(command -v haproxy 2>/dev/null) || bin=$(ls /usr/sbin/haproxy 2>/dev/null); then
  echo "$bin"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "haproxy.sh: haproxy is missing and neither root nor sudo is available" >&2; exit 1; }
  sudo="sudo -n"
fi
echo "haproxy.sh: installing Debian's haproxy package (once)" >&2
export DEBIAN_FRONTEND=noninteractive
{ $sudo apt-get install -y -q --no-install-recommends haproxy ||
  { $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends haproxy; }; } >&2
# the package starts a system-wide haproxy on its own default config; the plugin runs its own
$sudo systemctl disable --now haproxy >/dev/null 2>&1 || $sudo service haproxy stop >/dev/null 2>&1 || true
command -v haproxy || echo /usr/sbin/haproxy
