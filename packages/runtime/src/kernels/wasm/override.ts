// A mark on the kernel configs with which the runtime replaces one of tfjs's own (Identity,
// Transpose): the registry keeps the config object, so `getKernel(name, 'wasm').overriddenBy`
// tells the runtime's kernel from the one it replaced, in a bundle as anywhere (a test of the
// production bundle checks it: src/bundle.test.ts).
export const RUNTIME_OVERRIDE = { overriddenBy: '@embedlab/runtime' } as const;
