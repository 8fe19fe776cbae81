export function runTorch<T = unknown>(scriptPath: string, request: unknown): T;
