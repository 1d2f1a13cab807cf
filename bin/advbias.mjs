#!/usr/bin/env node
// Entry point. The bundled CLI in dist/cli/ (built by `npm run build`, which `npm ci` and `npm test` run)
// starts in ~0.2 s; when dist/ is missing or older than any file under src/ (an edit since the last
// build), the TypeScript sources run through tsx instead (~2 s to start), so an edit is never masked
// by a stale build. ADVBIAS_FROM_SOURCE=1 forces the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const stamp = `${root}dist/.build-stamp`;

/** Newest modification time (ms) of the files under dir. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const built = process.env.ADVBIAS_FROM_SOURCE !== '1' && existsSync(stamp) && statSync(stamp).mtimeMs >= newest(`${root}src`);
let main;
if (built) ({ main } = await import('../dist/cli/main.js'));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
