/**
 * The built package (dist/) for the tests that run it with plain Node or bundle it: `npm test` builds
 * first (`npm run build`); a targeted run builds here when dist/ is missing or older than a source
 * file of the library.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(ROOT, 'dist', 'index.js');

/** Newest modification time (ms) of the library's sources (src/ minus cli/ and node/) and the build config. */
function newestSource(): number {
  let newest = statSync(join(ROOT, 'tsconfig.build.json')).mtimeMs;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (dir === join(ROOT, 'src') && (entry.name === 'cli' || entry.name === 'node')) continue;
        walk(path);
      } else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  return newest;
}

/** Builds dist/ (`tsc -p tsconfig.build.json`) unless it is there and newer than every source. */
export function ensureBuilt(): void {
  if (existsSync(ENTRY) && statSync(ENTRY).mtimeMs >= newestSource()) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
}

/** An environment for a child `node` without tsx or any other loader inherited from this process. */
export function plainNodeEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}
