import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { openRunStore, storeBesideOut, STORE_SCHEMA_VERSION, DEFAULT_STORE_PATH, type RunStart } from '../../src/node/store.ts';
import { parseStoreLocation } from '../../src/store/run-store.ts';
import { SqliteRunStore } from '../../src/node/sqlite-store.ts';
import { InputError } from '../../src/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-store-'));
let n = 0;
const freshPath = (): string => join(tmp, `s${n++}`, 'runs.sqlite');

const bitsOf = (a: number): bigint => new BigUint64Array(new Float64Array([a]).buffer)[0];

function start(key: string, experiment = 'c1-test', seed = 0): RunStart {
  return { key, experiment, label: `run ${key}`, config: { model: 'deep-linear', eps: 0.25, seed }, seed, codeVersion: 'v1-abc' };
}

test('open: creates the folder and the file, WAL mode, schema version', async () => {
  const path = freshPath();
  assert.ok(!existsSync(dirname(path)));
  const store = await openRunStore(path);
  await store.close();
  await store.close(); // idempotent
  assert.ok(existsSync(path));
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), STORE_SCHEMA_VERSION);
  db.close();
  assert.equal(DEFAULT_STORE_PATH, 'out/runs.sqlite');
});

test('round trip bit for bit: NaN, −0, ±∞, Float64Array in config, final, history, result', async () => {
  const store = await openRunStore(freshPath());
  const weights = new Float64Array([0.1, -0, NaN, Infinity, -Infinity, 5e-324, 1 / 3]);
  const final = { step: 100, logLoss: -0, adversarialNormalizedMargin: 0.1 + 0.2, referenceAngleDeg: NaN, kkt: { stationarity: Infinity }, predictor: [0.6, 0.8] };
  const history = [
    { step: 0, logLoss: NaN, weights },
    { step: 100, logLoss: -Infinity, weights: new Float64Array(0) },
  ];
  const result = { label: 'x', final, history, params: [weights], threshold: null, nested: { deep: [-0, 1e308] } };
  assert.equal(await store.findDone('k1'), null);
  const id = await store.begin({ ...start('k1'), config: { eps: 0.1 + 0.2, init: -0, scale: new Float64Array([NaN]) } });
  assert.equal(await store.findDone('k1'), null, 'running is not done');
  await store.complete('k1', { final, history, result });
  const back = await store.findDone('k1');
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
  assert.deepEqual(Object.keys((await store.get(id))!), Object.keys(back));
  assert.equal((await store.get('k1'))!.id, id);
  assert.equal(await store.get(9999), null);
  assert.equal(await store.get('nope'), null);
  await store.close();
});

test('checkpoints: one per run, overwritten, kept by begin and fail, deleted by complete; delete removes run and checkpoint', async () => {
  const store = await openRunStore(freshPath());
  await assert.rejects(store.saveCheckpoint('ghost', 1, {}), /no run with key ghost/);
  await store.begin(start('a'));
  assert.equal(await store.loadCheckpoint('a'), null);
  await store.saveCheckpoint('a', 10, { theta: new Float64Array([1, -0]), rng: [1, 2] });
  await store.saveCheckpoint('a', 20, { theta: new Float64Array([2, NaN]), rng: [3, 4] });
  const cp = await store.loadCheckpoint('a') as { step: number; state: { theta: Float64Array; rng: number[] } };
  assert.equal(cp.step, 20);
  assert.ok(cp.state.theta instanceof Float64Array && cp.state.theta[0] === 2 && Number.isNaN(cp.state.theta[1]));
  assert.deepEqual(cp.state.rng, [3, 4]);
  // A failed run keeps its checkpoint; begin (the retry) resets the row but keeps it too.
  assert.equal(await store.fail('a', 'non-finite loss at step 21'), true);
  assert.equal(await store.fail('missing', 'x'), false);
  let row = (await store.get('a'))!;
  assert.equal(row.status, 'failed');
  assert.equal(row.error, 'non-finite loss at step 21');
  assert.ok(row.endedAt);
  assert.equal((await store.loadCheckpoint('a'))!.step, 20);
  const id = await store.begin(start('a'));
  row = (await store.get('a'))!;
  assert.equal(row.id, id, 'the same row');
  assert.equal(row.status, 'running');
  assert.equal(row.error, null);
  assert.equal(row.endedAt, null);
  assert.equal((await store.loadCheckpoint('a'))!.step, 20);
  await store.complete('a', { final: { step: 30 }, history: [], result: { ok: true } });
  assert.equal(await store.loadCheckpoint('a'), null);
  await assert.rejects(store.complete('ghost', { final: {}, history: [], result: {} }), /no run with key ghost/);
  // delete (for --force): run and checkpoint.
  await store.begin(start('b'));
  await store.saveCheckpoint('b', 5, { x: 1 });
  assert.equal(await store.delete('b'), true);
  assert.equal(await store.get('b'), null);
  assert.equal(await store.loadCheckpoint('b'), null);
  assert.equal(await store.delete('b'), false);
  assert.equal(await store.delete('a'), true);
  assert.equal(await store.findDone('a'), null);
  await store.close();
});

test('a second RunStore on the same file sees committed data; list filters; list rows lack the big documents', async () => {
  const path = freshPath();
  const w = await openRunStore(path);
  const r = await openRunStore(path);
  await w.begin(start('x1', 'c1-a', 0));
  await w.begin(start('x2', 'c1-a', 1));
  await w.begin(start('x3', 'c2-b', 0));
  await w.complete('x1', { final: { step: 5, adversarialNormalizedMargin: 0.5 }, history: [{ step: 5 }], result: { big: new Float64Array(100) } });
  await w.fail('x3', 'boom');
  await w.saveCheckpoint('x2', 3, { s: 3 });
  assert.deepEqual((await r.findDone('x1'))!.final, { step: 5, adversarialNormalizedMargin: 0.5 });
  assert.equal((await r.loadCheckpoint('x2'))!.step, 3);
  const all = await r.list();
  assert.deepEqual(all.map((x) => x.key), ['x1', 'x2', 'x3']);
  for (const row of all) for (const big of ['config', 'history', 'result']) assert.ok(!(big in row), big);
  assert.deepEqual(all[0].final, { step: 5, adversarialNormalizedMargin: 0.5 });
  assert.equal(all[1].final, null);
  assert.deepEqual((await r.list({ experiment: 'c1-a' })).map((x) => x.key), ['x1', 'x2']);
  assert.deepEqual((await r.list({ status: 'running' })).map((x) => x.key), ['x2']);
  assert.deepEqual((await r.list({ status: 'failed', experiment: 'c2-b' })).map((x) => x.key), ['x3']);
  assert.deepEqual(await r.list({ status: 'done', experiment: 'c2-b' }), []);
  await w.close();
  await r.close();
  // Reopening keeps everything.
  const again = await openRunStore(path);
  assert.equal((await again.list()).length, 3);
  assert.equal((await again.findDone('x1'))!.status, 'done');
  await again.close();
});

test('open: a corrupt or foreign file, a folder, or a newer schema → InputError naming the path', async () => {
  const garbage = join(tmp, 'garbage.sqlite');
  writeFileSync(garbage, 'this is not a database, just some text '.repeat(200));
  for (const p of [garbage, tmp]) {
    await assert.rejects(
      openRunStore(p),
      (e: unknown) => e instanceof InputError && e.message.includes(p),
    );
  }
  const newer = freshPath();
  await (await openRunStore(newer)).close();
  const db = new Database(newer);
  db.pragma(`user_version = ${STORE_SCHEMA_VERSION + 1}`);
  db.close();
  await assert.rejects(
    openRunStore(newer),
    (e: unknown) => e instanceof InputError && e.message.includes(newer) && e.message.includes(`schema version ${STORE_SCHEMA_VERSION + 1}, newer than this advbias reads (${STORE_SCHEMA_VERSION})`),
  );
});

test('kill -9 while checkpointing leaves a whole checkpoint (the old or the new one)', async () => {
  const path = freshPath();
  const s = await openRunStore(path);
  await s.begin(start('k'));
  await s.close();
  const storeUrl = pathToFileURL(join(ROOT, 'src', 'node', 'store.ts')).href;
  const script = join(tmp, 'writer.mts');
  writeFileSync(
    script,
    `import { openRunStore } from ${JSON.stringify(storeUrl)};
const s = await openRunStore(${JSON.stringify(path)});
for (let step = 1; ; step++) {
  await s.saveCheckpoint('k', step, { step, theta: new Float64Array(20000).fill(step) });
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
  const after = await openRunStore(path);
  const cp = (await after.loadCheckpoint('k')) as { step: number; state: { step: number; theta: Float64Array } };
  assert.ok(cp && cp.step >= 3, `step ${cp?.step}`);
  assert.equal(cp.state.step, cp.step);
  assert.equal(cp.state.theta.length, 20000);
  assert.ok(cp.state.theta.every((v) => v === cp.step));
  await after.close();
});

test('openRunStore: the interface is async (rejects, never throws); locations: path, sqlite:, sqlite://, file:; other schemes refused naming --store', async () => {
  // A bad location is a rejected Promise, not a synchronous throw.
  const p = openRunStore('postgres://db.example/runs');
  assert.ok(p instanceof Promise);
  await assert.rejects(p, (e: unknown) => e instanceof InputError && e.field === 'store' && /--store "postgres:\/\/db\.example\/runs": run stores of scheme "postgres:" are not supported; allowed: a file path/.test(e.message));
  await assert.rejects(openRunStore('s3://bucket/x'), /scheme "s3:"/);
  await assert.rejects(openRunStore(''), (e: unknown) => e instanceof InputError && /--store ""/.test(e.message));
  assert.deepEqual(parseStoreLocation('out/runs.sqlite'), { kind: 'sqlite', path: 'out/runs.sqlite' });
  assert.deepEqual(parseStoreLocation('sqlite:out/runs.sqlite'), { kind: 'sqlite', path: 'out/runs.sqlite' });
  assert.deepEqual(parseStoreLocation('sqlite://out/runs.sqlite'), { kind: 'sqlite', path: 'out/runs.sqlite' });
  assert.deepEqual(parseStoreLocation('sqlite:///tmp/r.sqlite'), { kind: 'sqlite', path: '/tmp/r.sqlite' });
  assert.deepEqual(parseStoreLocation('file:/tmp/r.sqlite'), { kind: 'sqlite', path: '/tmp/r.sqlite' });
  assert.deepEqual(parseStoreLocation('C:\\runs\\r.sqlite'), { kind: 'sqlite', path: 'C:\\runs\\r.sqlite' }, 'a drive letter is not a scheme');
  assert.deepEqual(parseStoreLocation(':memory:'), { kind: 'sqlite', path: ':memory:' });
  // The same file through a URL form and a plain path.
  const path = freshPath();
  const a = await openRunStore(`sqlite:${path}`);
  assert.ok(a instanceof SqliteRunStore);
  await a.begin(start('u1'));
  await a.close();
  const b = await openRunStore(path);
  assert.equal((await b.get('u1'))!.label, 'run u1');
  await b.close();
  // Every method of the interface returns a Promise.
  const m = await openRunStore(':memory:');
  const calls: unknown[] = [m.begin(start('m')), m.saveCheckpoint('m', 1, { x: 1 }), m.loadCheckpoint('m'), m.findDone('m'), m.list(), m.get('m'), m.complete('m', { final: {}, history: [], result: {} }), m.fail('m', 'x'), m.delete('m'), m.close()];
  for (const c of calls) assert.ok(c instanceof Promise);
  await Promise.all(calls);
});

test('storeBesideOut: runs.sqlite in the parent folder of the output folder', () => {
  assert.equal(storeBesideOut('out/reproduce-quick'), join('out', 'runs.sqlite'));
  assert.equal(storeBesideOut('results/exp1/'), join('results', 'runs.sqlite'));
  assert.equal(storeBesideOut('/tmp/a/b'), '/tmp/a/runs.sqlite');
  assert.equal(storeBesideOut('exp1'), 'runs.sqlite');
});

test('claims: one owner at a time; busy while its heartbeat is recent; taken over when stale or released; done runs left alone', async () => {
  const path = freshPath();
  const a = await openRunStore(path);
  const b = await openRunStore(path); // a second process, as far as SQLite is concerned
  const recent = (): string => new Date(Date.now() - 60_000).toISOString(); // stale = older than a minute
  try {
    const first = await a.claim(start('k'), 'host-a:1:aa', recent());
    assert.equal(first.outcome, 'claimed');
    assert.deepEqual(await b.claim(start('k'), 'host-b:2:bb', recent()), { outcome: 'busy', owner: 'host-a:1:aa', heartbeatAt: (await rowOf(path, 'k')).heartbeat_at });
    // The owner claiming again (a restart of its own run) keeps it; the heartbeat is its own only.
    assert.equal((await a.claim(start('k'), 'host-a:1:aa', recent())).outcome, 'claimed');
    assert.equal(await a.heartbeat('k', 'host-a:1:aa'), true);
    assert.equal(await b.heartbeat('k', 'host-b:2:bb'), false);
    await a.saveCheckpoint('k', 7, { step: 7 });
    // A stale heartbeat (older than staleBefore) is taken over, checkpoint kept, and the old owner learns it.
    const future = new Date(Date.now() + 1000).toISOString();
    const taken = await b.claim(start('k'), 'host-b:2:bb', future);
    assert.deepEqual(taken, { outcome: 'claimed', id: first.outcome === 'claimed' ? first.id : -1, takenOver: 'host-a:1:aa' });
    assert.equal((await b.loadCheckpoint('k'))?.step, 7);
    assert.equal(await a.heartbeat('k', 'host-a:1:aa'), false, 'the old owner lost it');
    // Released: the next claim takes it at once.
    assert.equal(await a.release('k', 'host-a:1:aa'), false, 'only the owner releases');
    assert.equal(await b.release('k', 'host-b:2:bb'), true);
    assert.deepEqual(await a.claim(start('k'), 'host-a:1:aa', recent()), { outcome: 'claimed', id: taken.outcome === 'claimed' ? taken.id : -1, takenOver: null });
    // Done: nobody claims it again; failed: claimable.
    await a.complete('k', { final: { step: 1 }, history: [], result: { ok: true } });
    assert.deepEqual(await b.claim(start('k'), 'host-b:2:bb', future), { outcome: 'done' });
    assert.equal((await rowOf(path, 'k')).owner, null, 'complete clears the claim');
    assert.equal((await b.claim(start('f'), 'host-b:2:bb', recent())).outcome, 'claimed');
    await b.fail('f', 'boom');
    assert.equal((await a.claim(start('f'), 'host-a:1:aa', recent())).outcome, 'claimed');
    // begin (train's runs) leaves a run without owner: a claim takes it.
    await a.begin(start('t'));
    assert.equal((await b.claim(start('t'), 'host-b:2:bb', recent())).outcome, 'claimed');
  } finally {
    await a.close();
    await b.close();
  }
});

test('claims from six connections to one file: exactly one wins, the others see it busy', async () => {
  const path = freshPath();
  const stores = await Promise.all(Array.from({ length: 6 }, () => openRunStore(path)));
  try {
    const staleBefore = new Date(Date.now() - 60_000).toISOString();
    const outcomes = await Promise.all(stores.map((s, i) => s.claim(start('race'), `h:${i}:0${i}`, staleBefore)));
    assert.equal(outcomes.filter((o) => o.outcome === 'claimed').length, 1);
    assert.equal(outcomes.filter((o) => o.outcome === 'busy').length, 5);
  } finally {
    for (const s of stores) await s.close();
  }
});

test('schema 1 → 2: a version-1 store is migrated when opened (its runs kept, claimable); a damaged document is reported, not thrown', async () => {
  const path = freshPath();
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, experiment TEXT, label TEXT, config TEXT, seed INTEGER,
    code_version TEXT, status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')), started_at TEXT, ended_at TEXT,
    final TEXT, history TEXT, result TEXT, error TEXT);
    CREATE TABLE checkpoints (key TEXT PRIMARY KEY REFERENCES runs (key), step INTEGER NOT NULL, state TEXT NOT NULL, saved_at TEXT NOT NULL);`);
  db.prepare("INSERT INTO runs (key, experiment, status, config, final, result) VALUES ('old', 'e', 'running', '{}', NULL, NULL), ('bad', 'e', 'done', '{}', '{\"a\":', '[1,')").run();
  db.pragma('user_version = 1');
  db.close();
  const s = await openRunStore(path);
  try {
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), 2);
    raw.close();
    assert.equal((await s.claim(start('old'), 'h:1:01', new Date().toISOString())).outcome, 'claimed', 'a v1 running row has no owner');
    const bad = await s.get('bad');
    assert.ok(bad && bad.damaged && /final/.test(bad.damaged) && /result/.test(bad.damaged), bad?.damaged);
    assert.equal(bad.result, null);
    const listed = await s.list();
    assert.equal(listed.find((r) => r.key === 'bad')?.damaged?.startsWith('final'), true);
    assert.equal(listed.find((r) => r.key === 'old')?.damaged, undefined);
  } finally {
    await s.close();
  }
});

async function rowOf(path: string, key: string): Promise<{ owner: string | null; heartbeat_at: string | null }> {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT owner, heartbeat_at FROM runs WHERE key = ?').get(key) as { owner: string | null; heartbeat_at: string | null };
  } finally {
    db.close();
  }
}
