import { defineConfig } from 'vite';

// Cross-origin isolation (COOP + COEP) lets the page use SharedArrayBuffer, and so the threaded
// SIMD build of the wasm backend and shared-memory gradients between workers, in dev and in preview.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  // Relative asset URLs: the build works at a domain root and under any sub-path (a GitHub Pages
  // project site, a folder of a static host).
  base: './',
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
