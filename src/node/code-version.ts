/**
 * The code version a stored run was computed with: a SHA-256 over every source file of the library
 * and CLI (src/), the experiment configs are hashed separately (they are part of each run's plan).
 * Any edit to the code gives a new version, so stored results are never reused across code changes.
 * Node-only.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from './package-root.ts';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(ts|mjs|js|json)$/.test(e.name)) out.push(p);
  }
  return out;
}

let cached: string | null = null;

/** "sha256:<first 16 hex>" of src/** and package-lock.json (dependency versions), sorted by path. */
export function codeVersion(): string {
  if (cached !== null) return cached;
  const h = createHash('sha256');
  const ROOT = packageRoot();
  const list = [...files(join(ROOT, 'src')), join(ROOT, 'package-lock.json')].sort();
  for (const f of list) {
    h.update(relative(ROOT, f));
    h.update('\0');
    try {
      h.update(readFileSync(f));
    } catch {
      h.update('(missing)');
    }
    h.update('\0');
  }
  cached = `sha256:${h.digest('hex').slice(0, 16)}`;
  return cached;
}
