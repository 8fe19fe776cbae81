/** The middle value (the upper middle for an even count); throws for none. */
export function median(values: readonly number[]): number;
/** Times `fn` (ms) `runs` times after `warmup` (default 1) calls, awaiting each; returns every timing. */
export function timeRuns(fn: () => unknown, options: { runs: number; warmup?: number }): Promise<number[]>;
/** Times a synchronous `fn` (ms) `runs` times after `warmup` (default 1) calls; returns every timing. */
export function timeRunsSync(fn: () => unknown, options: { runs: number; warmup?: number }): number[];
/** Median of `runs` (default 5) timings (ms) of a synchronous `fn`, after one warm-up call. */
export function medianMs(fn: () => unknown, runs?: number): number;
