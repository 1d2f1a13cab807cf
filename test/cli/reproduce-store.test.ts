import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRunStore } from '../../src/node/store.ts';
import { stringifyExact } from '../../src/util/exact-json.ts';
import type { RunResult } from '../../src/experiments/runner.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-store-'));
const EXP = join(tmp, 'experiments');
mkdirSync(EXP);

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const expectation = { id: 'dir', description: 'direction within 1° of the solver', metric: 'referenceAngleDeg', op: '<', value: 1 };
writeFileSync(
  join(EXP, 'tiny.json'),
  JSON.stringify({
    id: 'tiny',
    claim: 'C1',
    title: 'tiny',
    description: 'four short runs, two models',
    base: { data: 's2', attack: 'exact', p: 'inf', steps: 4000, seed: 3 },
    grid: { model: ['deep-linear', 'diagonal'], eps: [0, 0.25] },
    expectations: [{ ...expectation, value: 30 }],
  }),
);
writeFileSync(
  join(EXP, 'slow.json'),
  JSON.stringify({
    id: 'slow',
    claim: 'C1',
    title: 'slow',
    description: 'one run long enough to be killed mid-way',
    base: { data: 's2', model: 'deep-linear', depth: 3, width: 10, attack: 'exact', p: 'inf', eps: 0.25, steps: 1500000, seed: 1 },
    expectations: [expectation],
  }),
);

/** Every stored run's final, history and metrics, by key, as exact JSON. */
async function storedResults(path: string): Promise<Map<string, string>> {
  const store = await openRunStore(path);
  try {
    const out = new Map<string, string>();
    for (const row of await store.list()) {
      const full = await store.get(row.key);
      assert.ok(full && full.status === 'done', `${row.key} done`);
      const r = full.result as RunResult;
      out.set(row.key, stringifyExact({ final: r.final, history: r.history, metrics: r.metrics }));
    }
    return out;
  } finally {
    await store.close();
  }
}

test('reproduce: results are bit-identical for --jobs 1 and --jobs 2; a second run reuses the store; --force reruns', async () => {
  const a = cli(['reproduce', 'tiny', '--experiments', EXP, '--jobs', '1', '--out', join(tmp, 'o1'), '--store', join(tmp, 's1.sqlite')]);
  assert.equal(a.code, 0, a.stdout + a.stderr);
  const b = cli(['reproduce', 'tiny', '--experiments', EXP, '--jobs', '2', '--out', join(tmp, 'o2'), '--store', join(tmp, 's2.sqlite')]);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const r1 = await storedResults(join(tmp, 's1.sqlite'));
  const r2 = await storedResults(join(tmp, 's2.sqlite'));
  assert.equal(r1.size, 4);
  assert.deepEqual([...r1.keys()].sort(), [...r2.keys()].sort(), 'same plans, same keys');
  for (const [k, v] of r1) assert.equal(r2.get(k), v, `run ${k} differs between --jobs 1 and --jobs 2`);
  // The written results agree too (tables, figures' data).
  const t1 = JSON.parse(readFileSync(join(tmp, 'o1', 'summary.json'), 'utf8'));
  const t2 = JSON.parse(readFileSync(join(tmp, 'o2', 'summary.json'), 'utf8'));
  assert.deepEqual(t1.experiments[0].expectations, t2.experiments[0].expectations);
  assert.ok(existsSync(join(tmp, 'o1', 'report.html')));
  // Second run on the same store: everything reused, same numbers.
  const again = cli(['reproduce', 'tiny', '--experiments', EXP, '--jobs', '2', '--out', join(tmp, 'o3'), '--store', join(tmp, 's1.sqlite')]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /4 reused from/);
  assert.match(again.stderr, /0 to run/);
  const t3 = JSON.parse(readFileSync(join(tmp, 'o3', 'summary.json'), 'utf8'));
  assert.deepEqual(t3.experiments[0].expectations, t1.experiments[0].expectations);
  assert.ok(t3.experiments[0].runDetails.every((r: { reused: boolean }) => r.reused));
  const forced = cli(['reproduce', 'tiny', '--experiments', EXP, '--jobs', '2', '--force', '--out', join(tmp, 'o4'), '--store', join(tmp, 's1.sqlite')]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /0 reused from/);
  assert.deepEqual(await storedResults(join(tmp, 's1.sqlite')), r1, 'a rerun gives the same bits');
  const bad = cli(['reproduce', 'tiny', '--experiments', EXP, '--jobs', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--jobs/);
});

test('reproduce: a run killed with SIGKILL mid-way resumes from its last checkpoint and ends bit-identical to an uninterrupted run', async () => {
  const store = join(tmp, 'kill.sqlite');
  const child = spawn(process.execPath, [BIN, 'reproduce', 'slow', '--experiments', EXP, '--jobs', '1', '--out', join(tmp, 'k1'), '--store', store], { cwd: ROOT, stdio: 'ignore' });
  // Wait until a checkpoint is in the store, then kill -9.
  let step = 0;
  for (let k = 0; k < 600 && step === 0; k++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(store)) continue;
    const s = await openRunStore(store);
    try {
      for (const row of await s.list()) step = Math.max(step, (await s.loadCheckpoint(row.key))?.step ?? 0);
    } finally {
      await s.close();
    }
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(step > 0, 'a checkpoint was written before the kill');
  const s = await openRunStore(store);
  const rows = await s.list();
  await s.close();
  assert.equal(rows.length, 1);
  assert.notEqual(rows[0].status, 'done', 'killed before the end');
  // Resume.
  const resumed = cli(['reproduce', 'slow', '--experiments', EXP, '--jobs', '1', '--out', join(tmp, 'k2'), '--store', store]);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stderr, /1 resumed from a checkpoint/);
  // Uninterrupted reference run in another store.
  const ref = cli(['reproduce', 'slow', '--experiments', EXP, '--jobs', '1', '--out', join(tmp, 'k3'), '--store', join(tmp, 'ref.sqlite')]);
  assert.equal(ref.code, 0, ref.stderr);
  assert.deepEqual(await storedResults(store), await storedResults(join(tmp, 'ref.sqlite')));
  const summary = JSON.parse(readFileSync(join(tmp, 'k2', 'summary.json'), 'utf8'));
  assert.ok(summary.experiments[0].runDetails[0].resumedFromStep > 0);
});
