#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the benchmarks need (chromium: the dashboard's
# browser test drives it through Playwright, which downloads no browser of its own).
# Idempotent: does nothing when everything is present.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in lld-14 clang-14 qemu-system-misc qemu-utils xenstore-utils libxen-dev iproute2 iputils-ping make chromium; do
  have "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "deps: installing ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "deps: missing Debian packages: ${need[*]}" >&2
    echo "deps: run as root, or: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; an old list may lack a package.
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
