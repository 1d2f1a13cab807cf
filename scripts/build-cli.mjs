// Bundles the CLI (src/cli/main.ts) and the reproduce worker (src/node/run-worker.ts) into dist/cli/
// with esbuild: ES modules, one chunk per lazily imported command, zod and commander inlined (their
// many small files cost ~0.15 s of module loading per start), every other package left to
// node_modules (native addons, WebAssembly glue). Then stamps dist/ as built from the current
// sources: bin/advbias.mjs runs the bundle only while the stamp is newer than every file under src/.
// Run by `npm run build` (and so by `npm ci` and `npm test`).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const inline = new Set(['zod', 'commander']);
const external = Object.keys(pkg.dependencies).filter((name) => !inline.has(name));
const outdir = new URL('dist/cli/', root).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: 'src/cli/main.ts', 'run-worker': 'src/node/run-worker.ts' },
  absWorkingDir: new URL('.', root).pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  external,
  sourcemap: true,
  // commander is CommonJS: give its `require` calls one inside the ES module bundle.
  banner: { js: "import { createRequire as __advbiasCreateRequire } from 'node:module'; const require = __advbiasCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
writeFileSync(new URL('dist/.build-stamp', root), `${new Date().toISOString()}\n`);
