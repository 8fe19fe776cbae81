#!/usr/bin/env bash
# System packages the tests need beyond Node: PyTorch (reference values for parity tests), the
# threaded OpenBLAS that Debian's PyTorch should run on (without libopenblas0-pthread it falls
# back to the reference BLAS and is about 10x slower), and Chromium (the browser tests).
# Installs what is missing with apt-get (as root, or through sudo); does nothing when all is there.
#
# Without apt, point the tests at your own programs and this script checks them instead:
#   PYTHON=/path/to/python        an interpreter that can `import torch` (pip install torch);
#                                 default /usr/bin/python3 when it imports torch, else python3 on PATH
#   CHROMIUM_PATH=/path/to/chrome any Chromium or Chrome; default /usr/bin/chromium, else chromium,
#                                 chromium-browser, google-chrome-stable or google-chrome on PATH
set -euo pipefail

DEBIAN_PYTHON=/usr/bin/python3
DEBIAN_CHROMIUM=/usr/bin/chromium
missing=()
problems=()

imports_torch() { "$1" -c 'import torch' >/dev/null 2>&1; }
any_on_path() { for name in "$@"; do command -v "$name" >/dev/null && return 0; done; return 1; }
installed() { command -v dpkg-query >/dev/null && dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# PyTorch, as the tests' pythonPath() (packages/test-utils/src/system.mjs) picks the interpreter.
if [ -n "${PYTHON:-}" ]; then
  if ! imports_torch "$PYTHON"; then
    if [ "$PYTHON" = "$DEBIAN_PYTHON" ]; then missing+=(python3-torch); else problems+=("PYTHON=$PYTHON cannot import torch: pip install torch for it, or unset PYTHON to use Debian's python3-torch"); fi
  fi
elif ! imports_torch "$DEBIAN_PYTHON" && ! { command -v python3 >/dev/null && imports_torch python3; }; then
  missing+=(python3-torch)
fi

# Debian's PyTorch links the generic libblas.so.3; the threaded OpenBLAS must provide it.
if [[ " ${missing[*]} " == *" python3-torch "* ]] || installed python3-torch; then
  if ! installed libopenblas0-pthread && ! compgen -G '/usr/lib/*/openblas-pthread/libopenblas.so.0' >/dev/null; then
    missing+=(libopenblas0-pthread)
  fi
fi

# Chromium, as chromiumPath() picks it.
if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ ! -x "$CHROMIUM_PATH" ]; then
    if [ "$CHROMIUM_PATH" = "$DEBIAN_CHROMIUM" ]; then missing+=(chromium); else problems+=("CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file"); fi
  fi
elif [ ! -x "$DEBIAN_CHROMIUM" ] && ! any_on_path chromium chromium-browser google-chrome-stable google-chrome; then
  missing+=(chromium)
fi

if [ ${#problems[@]} -gt 0 ]; then
  printf 'setup-system: %s\n' "${problems[@]}" >&2
  exit 1
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "setup-system: missing ${missing[*]} (Debian package names); without apt, set PYTHON to a python with torch (pip install torch) and CHROMIUM_PATH to any Chromium or Chrome: see CONTRIBUTING.md" >&2
  exit 1
fi
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "setup-system: installing ${missing[*]}"
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
