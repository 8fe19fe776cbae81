export function readmeExamples(packageDir: string): string[];
export function runExample(packageDir: string, code: string, index?: number): string;
