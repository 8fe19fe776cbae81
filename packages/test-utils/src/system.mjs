// Where the tests find the programs they compare against: a Python with PyTorch and a Chromium.
// Both can be set from outside (PYTHON, CHROMIUM_PATH), so no path is hard-coded for everyone.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const DEBIAN_PYTHON = '/usr/bin/python3';
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

let python;

/**
 * The Python interpreter for PyTorch references: `PYTHON` when set; else Debian's
 * `/usr/bin/python3` when it imports torch (apt's python3-torch installs there); else `python3`
 * on PATH (a virtualenv or conda with `pip install torch`).
 */
export function pythonPath() {
  if (process.env.PYTHON) return process.env.PYTHON;
  // find_spec looks for the module without importing it (importing torch takes seconds).
  const hasTorch = () =>
    spawnSync(DEBIAN_PYTHON, ['-c', "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"], { stdio: 'ignore' }).status === 0;
  python ??= executable(DEBIAN_PYTHON) && hasTorch() ? DEBIAN_PYTHON : 'python3';
  return python;
}

/**
 * The Chromium (or Chrome) for browser tests: `CHROMIUM_PATH` when set; else Debian's
 * `/usr/bin/chromium`; else the first of chromium, chromium-browser, google-chrome-stable,
 * google-chrome on PATH. Throws with what to do when there is none.
 */
export function chromiumPath() {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!executable(chosen)) throw new Error(`CHROMIUM_PATH=${chosen} is not an executable file`);
    return chosen;
  }
  if (executable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    const found = onPath(name);
    if (found) return found;
  }
  throw new Error('no Chromium found: run scripts/setup-system.sh (Debian), or set CHROMIUM_PATH to any Chromium or Chrome binary');
}

/**
 * Flags for a quiet, reproducible headless Chromium in a container. playwright's
 * `chromium.launch()` adds `--headless` and a fresh temporary `--user-data-dir` itself; add both
 * when starting the binary directly.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Options for playwright-core's `chromium.launch()`: the binary above and the flags above. */
export function chromiumLaunchOptions() {
  return { executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] };
}
