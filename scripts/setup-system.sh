#!/usr/bin/env bash
# System packages the tests need beyond Node: PyTorch (reference values for parity tests) and
# Chromium (the playground's end-to-end test).
# Installs them with apt-get when they are missing (as root, or through sudo); does nothing
# when they are there already.
set -euo pipefail

missing=()
/usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "setup-system: please install ${missing[*]} (Debian package names): the tests compare against them" >&2
  exit 1
fi
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "setup-system: installing ${missing[*]}"
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
