import { defineConfig } from 'vite';

// Cross-origin isolation (COOP + COEP) lets the page use SharedArrayBuffer, and so the threaded
// SIMD build of the wasm backend, in dev and in preview.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
