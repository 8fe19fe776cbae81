export function readmeExamples(packageDir: string): string[];
export function runExample(packageDir: string, code: string, index?: number): string;
export function readmeOutputs(packageDir: string): { code: string; printed: string[]; promised: string[] }[];
