import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { RunStore, STORE_SCHEMA_VERSION, DEFAULT_STORE_PATH } from '../../src/node/store.ts';
import { InputError } from '../../src/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-store-'));
let n = 0;
const freshPath = (): string => join(tmp, `s${n++}`, 'runs.sqlite');

const bitsOf = (a: number): bigint => new BigUint64Array(new Float64Array([a]).buffer)[0];

function start(key: string, experiment = 'c1-test', seed = 0): Parameters<RunStore['begin']>[0] {
  return { key, experiment, label: `run ${key}`, config: { model: 'deep-linear', eps: 0.25, seed }, seed, codeVersion: 'v1-abc' };
}

test('open: creates the folder and the file, WAL mode, schema version', () => {
  const path = freshPath();
  assert.ok(!existsSync(dirname(path)));
  const store = RunStore.open(path);
  store.close();
  store.close(); // idempotent
  assert.ok(existsSync(path));
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), STORE_SCHEMA_VERSION);
  db.close();
  assert.equal(DEFAULT_STORE_PATH, 'out/runs.sqlite');
});

test('round trip bit for bit: NaN, −0, ±∞, Float64Array in config, final, history, result', () => {
  const store = RunStore.open(freshPath());
  const weights = new Float64Array([0.1, -0, NaN, Infinity, -Infinity, 5e-324, 1 / 3]);
  const final = { step: 100, logLoss: -0, adversarialNormalizedMargin: 0.1 + 0.2, referenceAngleDeg: NaN, kkt: { stationarity: Infinity }, predictor: [0.6, 0.8] };
  const history = [
    { step: 0, logLoss: NaN, weights },
    { step: 100, logLoss: -Infinity, weights: new Float64Array(0) },
  ];
  const result = { label: 'x', final, history, params: [weights], threshold: null, nested: { deep: [-0, 1e308] } };
  assert.equal(store.findDone('k1'), null);
  const id = store.begin({ ...start('k1'), config: { eps: 0.1 + 0.2, init: -0, scale: new Float64Array([NaN]) } });
  assert.equal(store.findDone('k1'), null, 'running is not done');
  store.complete('k1', { final, history, result });
  const back = store.findDone('k1');
  assert.ok(back);
  assert.equal(back.id, id);
  assert.equal(back.status, 'done');
  assert.equal(back.codeVersion, 'v1-abc');
  assert.equal(back.seed, 0);
  assert.ok(back.startedAt && back.endedAt && back.endedAt >= back.startedAt);
  const f = back.final as typeof final;
  assert.ok(Object.is(f.logLoss, -0));
  assert.equal(bitsOf(f.adversarialNormalizedMargin), bitsOf(0.1 + 0.2));
  assert.ok(Number.isNaN(f.referenceAngleDeg));
  assert.equal(f.kkt.stationarity, Infinity);
  const h = back.history as typeof history;
  assert.ok(Number.isNaN(h[0].logLoss));
  assert.equal(h[1].logLoss, -Infinity);
  assert.ok(h[0].weights instanceof Float64Array);
  assert.deepEqual(new Uint8Array(h[0].weights.buffer), new Uint8Array(weights.buffer));
  assert.equal(h[1].weights.length, 0);
  const r = back.result as typeof result;
  assert.ok(r.params[0] instanceof Float64Array);
  assert.deepEqual(new Uint8Array(r.params[0].buffer), new Uint8Array(weights.buffer));
  assert.ok(Object.is(r.nested.deep[0], -0));
  assert.equal(r.threshold, null);
  const cfg = back.config as { eps: number; init: number; scale: Float64Array };
  assert.equal(bitsOf(cfg.eps), bitsOf(0.1 + 0.2));
  assert.ok(Object.is(cfg.init, -0));
  assert.ok(Number.isNaN(cfg.scale[0]));
  // get by id and by key give the same row; unknown ones null.
  assert.deepEqual(Object.keys(store.get(id)!), Object.keys(back));
  assert.equal(store.get('k1')!.id, id);
  assert.equal(store.get(9999), null);
  assert.equal(store.get('nope'), null);
  store.close();
});

test('checkpoints: one per run, overwritten, kept by begin and fail, deleted by complete; delete removes run and checkpoint', () => {
  const store = RunStore.open(freshPath());
  assert.throws(() => store.saveCheckpoint('ghost', 1, {}), /no run with key ghost/);
  store.begin(start('a'));
  assert.equal(store.loadCheckpoint('a'), null);
  store.saveCheckpoint('a', 10, { theta: new Float64Array([1, -0]), rng: [1, 2] });
  store.saveCheckpoint('a', 20, { theta: new Float64Array([2, NaN]), rng: [3, 4] });
  const cp = store.loadCheckpoint('a') as { step: number; state: { theta: Float64Array; rng: number[] } };
  assert.equal(cp.step, 20);
  assert.ok(cp.state.theta instanceof Float64Array && cp.state.theta[0] === 2 && Number.isNaN(cp.state.theta[1]));
  assert.deepEqual(cp.state.rng, [3, 4]);
  // A failed run keeps its checkpoint; begin (the retry) resets the row but keeps it too.
  assert.equal(store.fail('a', 'non-finite loss at step 21'), true);
  assert.equal(store.fail('missing', 'x'), false);
  let row = store.get('a')!;
  assert.equal(row.status, 'failed');
  assert.equal(row.error, 'non-finite loss at step 21');
  assert.ok(row.endedAt);
  assert.equal(store.loadCheckpoint('a')!.step, 20);
  const id = store.begin(start('a'));
  row = store.get('a')!;
  assert.equal(row.id, id, 'the same row');
  assert.equal(row.status, 'running');
  assert.equal(row.error, null);
  assert.equal(row.endedAt, null);
  assert.equal(store.loadCheckpoint('a')!.step, 20);
  store.complete('a', { final: { step: 30 }, history: [], result: { ok: true } });
  assert.equal(store.loadCheckpoint('a'), null);
  assert.throws(() => store.complete('ghost', { final: {}, history: [], result: {} }), /no run with key ghost/);
  // delete (for --force): run and checkpoint.
  store.begin(start('b'));
  store.saveCheckpoint('b', 5, { x: 1 });
  assert.equal(store.delete('b'), true);
  assert.equal(store.get('b'), null);
  assert.equal(store.loadCheckpoint('b'), null);
  assert.equal(store.delete('b'), false);
  assert.equal(store.delete('a'), true);
  assert.equal(store.findDone('a'), null);
  store.close();
});

test('a second RunStore on the same file sees committed data; list filters; list rows lack the big documents', () => {
  const path = freshPath();
  const w = RunStore.open(path);
  const r = RunStore.open(path);
  w.begin(start('x1', 'c1-a', 0));
  w.begin(start('x2', 'c1-a', 1));
  w.begin(start('x3', 'c2-b', 0));
  w.complete('x1', { final: { step: 5, adversarialNormalizedMargin: 0.5 }, history: [{ step: 5 }], result: { big: new Float64Array(100) } });
  w.fail('x3', 'boom');
  w.saveCheckpoint('x2', 3, { s: 3 });
  assert.deepEqual(r.findDone('x1')!.final, { step: 5, adversarialNormalizedMargin: 0.5 });
  assert.equal(r.loadCheckpoint('x2')!.step, 3);
  const all = r.list();
  assert.deepEqual(all.map((x) => x.key), ['x1', 'x2', 'x3']);
  for (const row of all) for (const big of ['config', 'history', 'result']) assert.ok(!(big in row), big);
  assert.deepEqual(all[0].final, { step: 5, adversarialNormalizedMargin: 0.5 });
  assert.equal(all[1].final, null);
  assert.deepEqual(r.list({ experiment: 'c1-a' }).map((x) => x.key), ['x1', 'x2']);
  assert.deepEqual(r.list({ status: 'running' }).map((x) => x.key), ['x2']);
  assert.deepEqual(r.list({ status: 'failed', experiment: 'c2-b' }).map((x) => x.key), ['x3']);
  assert.deepEqual(r.list({ status: 'done', experiment: 'c2-b' }), []);
  w.close();
  r.close();
  // Reopening keeps everything.
  const again = RunStore.open(path);
  assert.equal(again.list().length, 3);
  assert.equal(again.findDone('x1')!.status, 'done');
  again.close();
});

test('open: a corrupt or foreign file, a folder, or a newer schema → InputError naming the path', () => {
  const garbage = join(tmp, 'garbage.sqlite');
  writeFileSync(garbage, 'this is not a database, just some text '.repeat(200));
  for (const p of [garbage, tmp]) {
    assert.throws(
      () => RunStore.open(p),
      (e: unknown) => e instanceof InputError && e.message.includes(p),
    );
  }
  const newer = freshPath();
  RunStore.open(newer).close();
  const db = new Database(newer);
  db.pragma(`user_version = ${STORE_SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(
    () => RunStore.open(newer),
    (e: unknown) => e instanceof InputError && e.message.includes(newer) && /schema version/.test(e.message),
  );
});

test('kill -9 while checkpointing leaves a whole checkpoint (the old or the new one)', async () => {
  const path = freshPath();
  const s = RunStore.open(path);
  s.begin(start('k'));
  s.close();
  const storeUrl = pathToFileURL(join(ROOT, 'src', 'node', 'store.ts')).href;
  const script = join(tmp, 'writer.ts');
  writeFileSync(
    script,
    `import { RunStore } from ${JSON.stringify(storeUrl)};
const s = RunStore.open(${JSON.stringify(path)});
for (let step = 1; ; step++) {
  s.saveCheckpoint('k', step, { step, theta: new Float64Array(20000).fill(step) });
  if (step === 3) process.stdout.write('ready\\n');
}
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => resolve());
    child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
  });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const after = RunStore.open(path);
  const cp = after.loadCheckpoint('k') as { step: number; state: { step: number; theta: Float64Array } };
  assert.ok(cp && cp.step >= 3, `step ${cp?.step}`);
  assert.equal(cp.state.step, cp.step);
  assert.equal(cp.state.theta.length, 20000);
  assert.ok(cp.state.theta.every((v) => v === cp.step));
  after.close();
});
