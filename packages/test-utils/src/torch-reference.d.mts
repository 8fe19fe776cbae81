/** nanoGPT's model in PyTorch, written independently: the reference of mini-gpt's and the CLI's parity tests. */
export const NANOGPT_REFERENCE: string;
export function runTorch<T = unknown>(scriptPath: string, request: unknown): T;
