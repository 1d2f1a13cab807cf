/**
 * Concurrent `reproduce` on one store (issue 11, part 6): a process claims a run before it starts
 * it (owner + heartbeat in the store); another process skips runs a live owner holds, takes other
 * runs, then waits for the held ones and reuses their results; a stale claim is taken over.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-claims-'));
const EXP = join(tmp, 'experiments');
mkdirSync(EXP);
writeFileSync(
  join(EXP, 'tiny.json'),
  JSON.stringify({
    id: 'tiny',
    claim: 'C1',
    title: 'tiny',
    description: 'six short runs',
    base: { data: 's2', attack: 'exact', p: 'inf', steps: 2500, seed: 3 },
    grid: { model: ['deep-linear', 'diagonal', 'conv'], eps: [0, 0.25] },
    expectations: [{ id: 'dir', description: 'direction within 30° of the solver', metric: 'referenceAngleDeg', op: '<', value: 30 }],
  }),
);
const RUNS = 6;

interface Proc {
  code: number;
  stdout: string;
  stderr: string;
}

/** `advbias reproduce tiny` on `store`, writing to `out`; `onErr` sees stderr as it comes. */
function reproduce(store: string, out: string, onErr?: (text: string) => void): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'reproduce', 'tiny', '--experiments', EXP, '--jobs', '1', '--out', out, '--store', store], { cwd: SCRATCH, env: { ...process.env, ADVBIAS_KERNELS: 'js' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      onErr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Labels of the runs a process trained itself ("  done tiny · LABEL (…)" lines). */
const ranBy = (p: Proc): string[] => [...p.stderr.matchAll(/^ {2}done tiny · (.+?) \(/gm)].map((m) => m[1]);
const expectations = (out: string): unknown => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).experiments[0].expectations;

test('two reproduce processes started together on one store: every run trained once, both exit 0 with the same results', async () => {
  const store = join(tmp, 'shared.sqlite');
  const [a, b] = await Promise.all([reproduce(store, join(tmp, 'a')), reproduce(store, join(tmp, 'b'))]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const trained = [...ranBy(a), ...ranBy(b)];
  assert.equal(trained.length, RUNS, `each run trained exactly once:\nA:\n${a.stderr}\nB:\n${b.stderr}`);
  assert.equal(new Set(trained).size, RUNS);
  assert.deepEqual(expectations(join(tmp, 'a')), expectations(join(tmp, 'b')));
  assert.match(a.stdout, /All claims reproduced/);
  assert.match(b.stdout, /All claims reproduced/);
  const db = new Database(store, { readonly: true });
  const rows = db.prepare('SELECT status, owner FROM runs').all() as { status: string; owner: string | null }[];
  db.close();
  assert.equal(rows.length, RUNS);
  assert.ok(rows.every((r) => r.status === 'done' && r.owner === null), JSON.stringify(rows));
});

test('a stale claim (no heartbeat for long) is taken over; a live one is waited for and its result reused', async () => {
  const store = join(tmp, 'stale.sqlite');
  const first = await reproduce(store, join(tmp, 's1'));
  assert.equal(first.code, 0, first.stderr);
  const db = new Database(store);
  const [x, y] = db.prepare('SELECT id, key, label, final, history, result FROM runs ORDER BY id LIMIT 2').all() as { id: number; key: string; label: string; final: string; history: string; result: string }[];
  const hourAgo = new Date(Date.now() - 3600_000).toISOString();
  const unfinish = db.prepare("UPDATE runs SET status = 'running', owner = ?, heartbeat_at = ?, final = NULL, history = NULL, result = NULL, ended_at = NULL WHERE id = ?");
  // Run x: claimed by a process on another machine that stopped an hour ago → taken over.
  unfinish.run('elsewhere:4242:0abc', hourAgo, x.id);
  // Run y: claimed by a live process on another machine (fresh heartbeat) → waited for.
  unfinish.run('elsewhere:4343:0def', new Date().toISOString(), y.id);
  db.close();
  let released = false;
  const second = await reproduce(store, join(tmp, 's2'), (err) => {
    if (released || !/waiting for 1 run\(s\) that another process is running \(elsewhere:4343:0def\)/.test(err)) return;
    released = true;
    // The other process finishes y: its documents land in the store.
    const w = new Database(store);
    w.prepare("UPDATE runs SET status = 'done', owner = NULL, heartbeat_at = NULL, final = ?, history = ?, result = ?, ended_at = ? WHERE id = ?").run(y.final, y.history, y.result, new Date().toISOString(), y.id);
    w.close();
  });
  assert.equal(second.code, 0, second.stderr);
  assert.ok(released, `it waited for the live claim:\n${second.stderr}`);
  assert.match(second.stderr, new RegExp(`${x.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: taking over from elsewhere:4242:0abc`));
  assert.deepEqual(ranBy(second), [x.label], `only the stale run was trained again:\n${second.stderr}`);
  assert.match(second.stderr, new RegExp(`${y.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: done by another process, reused`));
  assert.deepEqual(expectations(join(tmp, 's2')), expectations(join(tmp, 's1')));
});

test('reproduce on a store with a damaged row: one line naming the store, the run and --force; --force reruns it', async () => {
  const store = join(tmp, 'damaged.sqlite');
  const first = await reproduce(store, join(tmp, 'd1'));
  assert.equal(first.code, 0, first.stderr);
  const db = new Database(store);
  const row = db.prepare('SELECT id, key FROM runs ORDER BY id LIMIT 1').get() as { id: number; key: string };
  db.prepare('UPDATE runs SET result = substr(result, 1, 50) WHERE id = ?').run(row.id);
  db.close();
  const refused = await reproduce(store, join(tmp, 'd2'));
  assert.equal(refused.code, 2, refused.stderr);
  const lines = refused.stderr.trim().split('\n');
  const last = lines[lines.length - 1];
  assert.ok(last.startsWith('advbias: ') && last.includes(`"${store}"`) && last.includes(`run ${row.id} (key ${row.key}`) && last.includes('result') && last.includes('--force'), refused.stderr);
  assert.doesNotMatch(refused.stderr, /internal error|\n\s+at /);
  const forced = await new Promise<Proc>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'reproduce', 'tiny', '--experiments', EXP, '--jobs', '1', '--force', '--out', join(tmp, 'd3'), '--store', store], { cwd: SCRATCH, env: { ...process.env, ADVBIAS_KERNELS: 'js' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(ranBy(forced).length, RUNS);
});
