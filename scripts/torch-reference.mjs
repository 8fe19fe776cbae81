// Runs a PyTorch reference script (JSON request on stdin, JSON answer on stdout) for tests that
// compare against PyTorch. Debian's python3-torch installs for the system interpreter, which
// .ci/run installs; a missing torch fails the test loudly rather than skipping it.
import { spawnSync } from 'node:child_process';

const PYTHON = '/usr/bin/python3';

export function runTorch(scriptPath, request) {
  const result = spawnSync(PYTHON, [scriptPath], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    throw new Error(`PyTorch reference ${scriptPath} failed (is python3-torch installed? apt-get install python3-torch): ${result.error?.message ?? result.stderr}`);
  }
  return JSON.parse(result.stdout);
}
