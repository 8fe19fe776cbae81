// Runs a PyTorch reference script (JSON request on stdin, JSON answer on stdout) for tests that
// compare against PyTorch, with the interpreter pythonPath() picks (PYTHON, else Debian's
// /usr/bin/python3 with python3-torch, else python3 on PATH). A missing torch fails the test
// loudly rather than skipping it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pythonPath } from './system.mjs';

/** nanoGPT's model in PyTorch, written independently: the reference of mini-gpt's and the CLI's parity tests. */
export const NANOGPT_REFERENCE = fileURLToPath(new URL('../python/nanogpt_reference.py', import.meta.url));

export function runTorch(scriptPath, request) {
  const python = pythonPath();
  const result = spawnSync(python, [scriptPath], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    throw new Error(
      `PyTorch reference ${scriptPath} failed with ${python} (is torch installed for it? apt-get install python3-torch, or pip install torch and set PYTHON=/path/to/python): ${result.error?.message ?? result.stderr}`,
    );
  }
  return JSON.parse(result.stdout);
}
