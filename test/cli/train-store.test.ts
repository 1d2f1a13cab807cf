import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRunStore, type StoredRun } from '../../src/node/store.ts';
import { toJson } from '../../src/cli/output.ts';
import { trainLabel, trainStoreLocation } from '../../src/cli/train-store.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-train-store-'));

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** `advbias ARGS` in `cwd`, asynchronously (the commands of this file start together). */
function cli(args: string[], cwd = ROOT): Promise<Out> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ADVBIAS_KERNELS: 'js' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function storedRuns(path: string): Promise<StoredRun[]> {
  const store = await openRunStore(path);
  try {
    const out: StoredRun[] = [];
    for (const r of await store.list()) out.push((await store.get(r.id))!);
    return out;
  } finally {
    await store.close();
  }
}

const RUN = ['train', '--data', 's2', '--model', 'deep-linear', '--depth', '2', '--attack', 'exact', '--p', 'inf', '--eps', '0.25', '--steps', '300', '--reference', 'auto'];
const cwdDefault = join(tmp, 'cwd');
mkdirSync(cwdDefault);
const spawned = Promise.all([
  cli([...RUN, '--out', join(tmp, 'exp', 'run1')]),
  cli([...RUN, '--no-store', '--out', join(tmp, 'nostore', 'run1')]),
  cli([...RUN, '--json', '--store', join(tmp, 'json', 'mine.sqlite')]),
  cli(['train', '--data', join(tmp, 'missing.json'), '--steps', '10', '--out', join(tmp, 'failed', 'run1')]),
  cli(['train', '--steps', '10', '--store', 'postgres://db.example/runs']),
  cli(['train', '--steps', '20', '--json'], cwdDefault),
]);

test('train --out DIR records the run in DIR/../runs.sqlite: the whole result document, exactly; runs list shows it', async () => {
  const [r] = await spawned;
  assert.equal(r.code, 0, r.stderr);
  const storePath = join(tmp, 'exp', 'runs.sqlite');
  assert.match(r.stdout, new RegExp(`stored as run 1 in ${storePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const runs = await storedRuns(storePath);
  assert.equal(runs.length, 1);
  const run = runs[0];
  assert.equal(run.status, 'done');
  assert.equal(run.experiment, 'train');
  assert.equal(run.label, 'deep-linear L=2 exact p=inf eps=0.25');
  assert.equal(run.seed, 0);
  assert.match(run.codeVersion ?? '', /^sha256:[0-9a-f]{16}$/);
  assert.match(run.key, /^train:[0-9a-f-]{36}$/);
  // The stored result is the document result.json holds (there with non-finite numbers as null).
  const written = readFileSync(join(tmp, 'exp', 'run1', 'result.json'), 'utf8');
  assert.equal(toJson(run.result, 2) + '\n', written);
  const doc = run.result as { config: Record<string, unknown>; final: { step: number }; history: unknown[]; run: { interrupted: boolean } };
  assert.deepEqual(run.config, doc.config);
  assert.deepEqual(run.final, doc.final);
  assert.deepEqual(run.history, doc.history);
  assert.equal(doc.final.step, 300);
  assert.equal(doc.run.interrupted, false);
  const list = await cli(['runs', 'list', '--store', storePath]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^\s*1\s+train\s+deep-linear L=2 exact p=inf eps=0\.25\s+done\s+0\s/m);
});

test('train --no-store writes no store; --json with --store keeps stdout one JSON object, the stored document', async () => {
  const [, n, j] = await spawned;
  assert.equal(n.code, 0, n.stderr);
  assert.ok(existsSync(join(tmp, 'nostore', 'run1', 'result.json')));
  assert.ok(!existsSync(join(tmp, 'nostore', 'runs.sqlite')), '--no-store');
  assert.doesNotMatch(n.stdout, /stored as run/);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout.split('\n').length, 2, 'one line and its newline');
  const runs = await storedRuns(join(tmp, 'json', 'mine.sqlite'));
  assert.equal(runs.length, 1);
  assert.equal(toJson(runs[0].result) + '\n', j.stdout);
});

test('train: a run that fails is stored as failed with its message; a bad --store exits 2 before training', async () => {
  const [, , , f, p] = await spawned;
  assert.equal(f.code, 2);
  const runs = await storedRuns(join(tmp, 'failed', 'runs.sqlite'));
  assert.equal(runs.length, 1);
  assert.equal(runs[0].status, 'failed');
  assert.match(runs[0].error ?? '', /missing\.json/);
  assert.ok(f.stderr.includes(runs[0].error!), 'the stored message is the one printed');
  assert.equal(p.code, 2);
  assert.equal(p.stderr.trim().split('\n').length, 1);
  // A PostgreSQL store nobody answers for: one line naming it, before any training.
  assert.match(p.stderr, /^advbias: cannot reach the run store postgres:\/\/db\.example\/runs: /);
});

test('train without --out records in out/runs.sqlite of the working folder', async () => {
  const [, , , , , d] = await spawned;
  assert.equal(d.code, 0, d.stderr);
  const runs = await storedRuns(join(cwdDefault, 'out', 'runs.sqlite'));
  assert.equal(runs.length, 1);
  assert.equal(runs[0].label, 'deep-linear L=2 clean');
  assert.equal((runs[0].final as { step: number }).step, 20);
});

test('train interrupted with Ctrl-C (SIGINT): what was computed is stored as done with run.interrupted = true', async () => {
  const out = join(tmp, 'int', 'run1');
  const child = spawn(process.execPath, [BIN, ...RUN.slice(0, -4), '--steps', '100000000', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ADVBIAS_KERNELS: 'js' } });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  // Wait until a few history rows are on disk (steps 0…4 at least), then interrupt.
  const csv = join(out, 'history.csv');
  for (let k = 0; k < 600; k++) {
    await new Promise((r) => setTimeout(r, 100));
    if (existsSync(csv) && readFileSync(csv, 'utf8').split('\n').length > 6) break;
  }
  child.kill('SIGINT');
  assert.equal(await exited, 130, stdout);
  const runs = await storedRuns(join(tmp, 'int', 'runs.sqlite'));
  assert.equal(runs.length, 1);
  assert.equal(runs[0].status, 'done');
  const doc = runs[0].result as { final: { step: number }; history: { step: number }[]; run: { interrupted: boolean; stepsDone: number } };
  assert.equal(doc.run.interrupted, true);
  assert.ok(doc.run.stepsDone > 0 && doc.run.stepsDone < 100000000, `stepsDone ${doc.run.stepsDone}`);
  assert.equal(doc.final.step, doc.run.stepsDone);
  assert.ok(doc.history.length >= 5);
});

test('trainStoreLocation and trainLabel', () => {
  assert.equal(trainStoreLocation(undefined, 'results/exp1'), join('results', 'runs.sqlite'));
  assert.equal(trainStoreLocation(undefined, null), 'out/runs.sqlite');
  assert.equal(trainStoreLocation('a/b.sqlite', 'results/exp1'), 'a/b.sqlite');
  assert.equal(trainStoreLocation(false, 'results/exp1'), null);
  assert.equal(trainLabel({ model: 'relu-mlp', depth: 2, attack: 'pgd', p: 2, eps: 0.05 }), 'relu-mlp L=2 pgd p=2 eps=0.05');
  assert.equal(trainLabel({ model: 'linear', depth: 2, attack: 'none', p: 'inf', eps: 0 }), 'linear clean');
  assert.equal(trainLabel({ model: 'deep-linear', depth: 3, attack: 'fgsm', p: 2, eps: 0.1 }), 'deep-linear L=3 fgsm eps=0.1');
});
