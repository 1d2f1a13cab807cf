/**
 * The repository (package) root: the nearest folder above this module holding advbias's
 * package.json. Works from the TypeScript sources (src/node/) and from the bundled CLI
 * (dist/cli/, one folder less deep), where a fixed '../../' would not. Node-only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** Absolute path of the package root, with a trailing separator. */
export function packageRoot(): string {
  if (cached !== null) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'advbias') return (cached = join(dir, '/'));
      } catch {
        // not ours: keep climbing
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`advbias: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
