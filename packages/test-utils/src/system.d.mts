/** `PYTHON`; else `/usr/bin/python3` when it imports torch; else `python3` (from PATH). */
export function pythonPath(): string;
/** `CHROMIUM_PATH`; else `/usr/bin/chromium`; else chromium, chromium-browser, google-chrome(-stable) on PATH; throws when none. */
export function chromiumPath(): string;
/** Headless-friendly flags (playwright adds `--headless` and a fresh `--user-data-dir` itself). */
export const CHROMIUM_ARGS: readonly string[];
/** `{ executablePath, args }` for playwright-core's `chromium.launch()`. */
export function chromiumLaunchOptions(): { executablePath: string; args: string[] };
