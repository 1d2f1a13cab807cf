/**
 * The sweep queue (src/node/queue.ts, pg-boss) and `advbias worker`, against a real PostgreSQL
 * (ADVBIAS_TEST_POSTGRES, set by .ci/run; skipped, saying so, without it): three workers, one killed
 * with SIGKILL mid-run; `reproduce --enqueue` ends with every run done exactly once, the killed run
 * resumed from its checkpoint by another worker, and results bit-identical to a local run.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openRunStore } from '../../src/node/store.ts';
import { queueSchema } from '../../src/node/queue.ts';
import { stringifyExact } from '../../src/util/exact-json.ts';
import type { RunResult } from '../../src/experiments/runner.ts';

const URL_ = process.env.ADVBIAS_TEST_POSTGRES ?? '';
const skip = URL_ === '' ? 'ADVBIAS_TEST_POSTGRES is not set (.ci/run starts PostgreSQL and sets it)' : false;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-queue-'));
const EXP = join(tmp, 'experiments');
mkdirSync(EXP);
writeFileSync(
  join(EXP, 'qa.json'),
  JSON.stringify({
    id: 'qa',
    claim: 'C1',
    title: 'queue',
    description: 'three runs long enough to kill a worker mid-way',
    base: { data: 's2', model: 'deep-linear', depth: 3, width: 10, attack: 'exact', p: 'inf', steps: 400000, seed: 2 },
    grid: { eps: [0, 0.1, 0.25] },
    expectations: [{ id: 'dir', description: 'direction within 1° of the solver', metric: 'referenceAngleDeg', op: '<', value: 1 }],
  }),
);

const schema = `advbias_q${process.pid}`;
let admin: pg.Client | null = null;
after(async () => {
  if (admin) {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_queue CASCADE`);
    await admin.end();
  }
});

function storeUrl(): string {
  const u = new URL(URL_);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Proc {
  child: ChildProcess;
  out: string;
  exit: Promise<number | null>;
}
function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
  const p: Proc = { child, out: '', exit: new Promise((r) => child.on('exit', (code) => r(code))) };
  child.stdout!.on('data', (d) => (p.out += d));
  child.stderr!.on('data', (d) => (p.out += d));
  return p;
}

async function until(what: string, f: () => Promise<boolean> | boolean, ms = 60000): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function results(where: string): Promise<Map<string, string>> {
  const s = await openRunStore(where);
  try {
    const out = new Map<string, string>();
    for (const row of await s.list()) {
      const full = (await s.get(row.key))!;
      assert.equal(full.status, 'done', row.key);
      const r = full.result as RunResult;
      out.set(row.key, stringifyExact({ final: r.final, history: r.history, metrics: r.metrics }));
    }
    return out;
  } finally {
    await s.close();
  }
}

// No database needed: both refuse before connecting.
test('worker and --enqueue refuse a SQLite store, naming --store; the queue schema follows the store schema', () => {
  const w = cli(['worker', '--store', join(tmp, 'x.sqlite')]);
  assert.equal(w.code, 2);
  assert.match(w.stderr, /workers share a PostgreSQL store/);
  const r = cli(['reproduce', 'qa', '--experiments', EXP, '--out', join(tmp, 'o0'), '--store', join(tmp, 'x.sqlite'), '--enqueue']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--enqueue needs --store postgres:\/\//);
  assert.equal(queueSchema('postgres://h/d'), 'advbias_queue');
  assert.equal(queueSchema('postgres://h/d?options=-c%20search_path%3Dexp7'), 'exp7_queue');
});

test('three workers, one killed with SIGKILL mid-run: every run done once, the killed one resumed from its checkpoint, results bit-identical to a local run', { skip, timeout: 240000 }, async () => {
  admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = storeUrl();
  const workers = [0, 1, 2].map(() => start(['worker', '--store', url, '--idle-exit', '20']));
  const enq = start(['reproduce', 'qa', '--experiments', EXP, '--out', join(tmp, 'q'), '--store', url, '--enqueue']);
  // A worker that has started a run and saved a checkpoint of it: kill it.
  let victim: Proc | null = null;
  let key = '';
  const store = await openRunStore(url);
  try {
    await until('a checkpoint of a running run', async () => {
      for (const w of workers) {
        const m = /start qa · .* \[([0-9a-f]{12})\]/.exec(w.out);
        if (!m) continue;
        const row = (await store.list()).find((r) => r.key.startsWith(m[1]));
        if (row && row.status === 'running' && (await store.loadCheckpoint(row.key)) !== null) {
          victim = w;
          key = m[1];
          return true;
        }
      }
      return false;
    });
  } finally {
    await store.close();
  }
  victim!.child.kill('SIGKILL');
  assert.equal(await victim!.exit, null);
  const code = await enq.exit;
  assert.equal(code, 0, enq.out);
  assert.match(enq.out, /All claims reproduced/);
  for (const w of workers) if (w !== victim) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exit));
  const logs = workers.map((w) => w.out).join('\n');
  // Every run completed by exactly one worker; the killed one resumed (not restarted) elsewhere.
  const done = [...logs.matchAll(/done qa · .* \[([0-9a-f]{12})\]/g)].map((m) => m[1]);
  assert.equal(done.length, 3, logs);
  assert.equal(new Set(done).size, 3, logs);
  assert.ok(!new RegExp(`done qa · .* \\[${key}\\]`).test(victim!.out), 'the killed worker did not finish its run');
  assert.match(logs, new RegExp(`start qa · .* \\[${key}\\] from step [1-9]\\d*`), `resumed from a checkpoint:\n${logs}`);
  const starts = [...logs.matchAll(/start qa · .* \[([0-9a-f]{12})\](.*)/g)];
  for (const k of new Set(done)) {
    const fresh = starts.filter((m) => m[1] === k && !/from step/.test(m[2]));
    assert.equal(fresh.length, 1, `run ${k} started from scratch once:\n${logs}`);
  }
  // The same runs locally (SQLite, one process): bit-identical documents.
  const local = cli(['reproduce', 'qa', '--experiments', EXP, '--out', join(tmp, 'l'), '--store', join(tmp, 'l.sqlite'), '--jobs', '2']);
  assert.equal(local.code, 0, local.stderr);
  const a = await results(url);
  const b = await results(join(tmp, 'l.sqlite'));
  assert.equal(a.size, 3);
  assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort());
});
