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
import { runStoreConformance } from '../support/run-store-conformance.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-store-'));
let n = 0;
const freshPath = (): string => join(tmp, `s${n++}`, 'runs.sqlite');

function start(key: string, experiment = 'c1-test', seed = 0): RunStart {
  return { key, experiment, label: `run ${key}`, config: { model: 'deep-linear', eps: 0.25, seed }, seed, codeVersion: 'v1-abc' };
}

runStoreConformance('SQLite', {
  fresh: async () => freshPath(),
  open: (location) => openRunStore(location),
  rowOf,
});

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

test('openRunStore: the interface is async (rejects, never throws); locations: path, sqlite:, sqlite://, file:, postgres://; other schemes refused naming --store', async () => {
  // A bad location is a rejected Promise, not a synchronous throw.
  const p = openRunStore('s3://bucket/x');
  assert.ok(p instanceof Promise);
  await assert.rejects(p, (e: unknown) => e instanceof InputError && e.field === 'store' && /--store "s3:\/\/bucket\/x": run stores of scheme "s3:" are not supported; allowed: a file path .* or a PostgreSQL URL postgres:\/\//.test(e.message));
  // A PostgreSQL URL nobody answers at: one line naming the store, the password hidden.
  await assert.rejects(openRunStore('postgres://u:secret@127.0.0.1:9/runs'), (e: unknown) => e instanceof InputError && e.field === 'store' && /cannot reach the run store postgres:\/\/u:\*\*\*@127\.0\.0\.1:9\/runs/.test(e.message) && !/secret/.test(e.message));
  assert.deepEqual(parseStoreLocation('postgres://h/db'), { kind: 'postgres', url: 'postgres://h/db' });
  assert.deepEqual(parseStoreLocation('postgresql://u@h:5433/db?sslmode=disable'), { kind: 'postgres', url: 'postgresql://u@h:5433/db?sslmode=disable' });
  assert.throws(() => parseStoreLocation('postgres:runs'), /a PostgreSQL store is a URL postgres:\/\/USER:PASSWORD@HOST:PORT\/DATABASE/);
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
