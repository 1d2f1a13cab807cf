// The browser lab: `npm run build` builds it into dist/web/ (static files), `advbias lab` serves that.
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  // 'error': the expected warnings (node:module left out of the solver packages' Emscripten glue,
  // which only imports it under Node; zod's comment annotations) would read like failures.
  logLevel: 'error',
  build: {
    outDir: new URL('../dist/web/', import.meta.url).pathname,
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    target: 'es2022',
  },
  worker: { format: 'es' },
});
