/**
 * The PostgreSQL run store (src/node/postgres-store.ts) against a real server: the RunStore
 * conformance suite (test/support/run-store-conformance.ts), its own schema checks and errors, and
 * `train`, `runs` and `reproduce` with `--store postgres://…` giving the same documents, exact JSON,
 * as a local SQLite store.
 *
 * Needs ADVBIAS_TEST_POSTGRES, a URL of a database the tests may create schemas in; .ci/run starts
 * Debian's PostgreSQL on 127.0.0.1 and sets it. Without it every test here is skipped, saying so.
 * Each test works in a fresh schema of its own (search_path in the URL's options).
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openRunStore } from '../../src/node/store.ts';
import { PostgresRunStore, redactUrl } from '../../src/node/postgres-store.ts';
import { InputError } from '../../src/errors.ts';
import { stringifyExact } from '../../src/util/exact-json.ts';
import { runStoreConformance } from '../support/run-store-conformance.ts';
import type { RunResult } from '../../src/experiments/runner.ts';

const URL_ = process.env.ADVBIAS_TEST_POSTGRES ?? '';
const skip = URL_ === '' ? 'ADVBIAS_TEST_POSTGRES is not set (.ci/run starts PostgreSQL and sets it)' : false;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-pg-'));

let admin: pg.Client | null = null;
const schemas: string[] = [];
let n = 0;

async function adminClient(): Promise<pg.Client> {
  if (admin === null) {
    admin = new pg.Client({ connectionString: URL_ });
    await admin.connect();
  }
  return admin;
}

/** A new empty schema; the store URL that works in it. */
async function freshSchema(): Promise<string> {
  const name = `advbias_t${process.pid}_${n++}`;
  await (await adminClient()).query(`CREATE SCHEMA ${name}`);
  schemas.push(name);
  const u = new URL(URL_);
  u.searchParams.set('options', `-c search_path=${name}`);
  return u.toString();
}

const schemaOf = (location: string): string => /search_path=([a-z0-9_]+)/.exec(decodeURIComponent(location))![1];

after(async () => {
  if (admin) {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE; DROP SCHEMA IF EXISTS ${s}_queue CASCADE`);
    await admin.end();
  }
});

runStoreConformance(
  'PostgreSQL',
  {
    fresh: freshSchema,
    open: (location) => openRunStore(location),
    rowOf: async (location, key) =>
      (await (await adminClient()).query(`SELECT owner, heartbeat_at FROM ${schemaOf(location)}.advbias_runs WHERE key = $1`, [key])).rows[0] as { owner: string | null; heartbeat_at: string | null },
  },
  { skip },
);

test('PostgreSQL: a new database gets the tables and the schema version; a newer version is refused naming the store', { skip }, async () => {
  const loc = await freshSchema();
  const s = await openRunStore(loc);
  assert.ok(s instanceof PostgresRunStore);
  await s.close();
  await s.close(); // idempotent
  const c = await adminClient();
  const schema = schemaOf(loc);
  assert.deepEqual((await c.query(`SELECT schema_version FROM ${schema}.advbias_store`)).rows, [{ schema_version: 2 }]);
  // Opening again (and from two processes at once) creates nothing twice.
  await Promise.all([openRunStore(loc), openRunStore(loc)].map(async (p) => (await p).close()));
  assert.equal((await c.query(`SELECT count(*)::int AS k FROM ${schema}.advbias_store`)).rows[0].k, 1);
  await c.query(`UPDATE ${schema}.advbias_store SET schema_version = 99`);
  await assert.rejects(openRunStore(loc), (e: unknown) => e instanceof InputError && e.field === 'store' && /has schema version 99, newer than this advbias reads \(2\)/.test(e.message));
});

test('PostgreSQL: a wrong password or database is one line naming the store, the password hidden; a damaged document is reported, not thrown', { skip }, async () => {
  const u = new URL(URL_);
  u.password = 'definitely-wrong';
  await assert.rejects(openRunStore(u.toString()), (e: unknown) => e instanceof InputError && e.field === 'store' && /cannot open the run store/.test(e.message) && !/definitely-wrong/.test(e.message) && /\*\*\*/.test(e.message));
  const v = new URL(URL_);
  v.pathname = '/no_such_database_here';
  await assert.rejects(openRunStore(v.toString()), (e: unknown) => e instanceof InputError && /no_such_database_here/.test(e.message));
  assert.equal(redactUrl('postgres://me:pw@h:1/d'), 'postgres://me:***@h:1/d');
  assert.equal(redactUrl('postgres://h/d'), 'postgres://h/d');
  // A damaged row: the rest stays readable and the damage is named.
  const loc = await freshSchema();
  const s = await openRunStore(loc);
  await s.begin({ key: 'd', experiment: 'e', label: 'l', config: { a: 1 }, seed: 0, codeVersion: 'v' });
  await s.complete('d', { final: { step: 1 }, history: [], result: { ok: true } });
  await (await adminClient()).query(`UPDATE ${schemaOf(loc)}.advbias_runs SET result = '{"ok": tru' WHERE key = 'd'`);
  const back = (await s.get('d'))!;
  assert.equal(back.result, null);
  assert.match(back.damaged!, /^result \(/);
  assert.deepEqual(back.final, { step: 1 });
  assert.ok(!s.location.includes(`:${new URL(URL_).password}@`) || new URL(URL_).password === '', 'password hidden in location');
  await s.close();
});

function cli(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('train and runs with --store postgres://…: the same documents, exact JSON, as with a SQLite store', { skip }, async () => {
  const loc = await freshSchema();
  const args = ['train', '--data', 's2', '--model', 'deep-linear', '--depth', '2', '--attack', 'exact', '--p', 'inf', '--eps', '0.25', '--steps', '300', '--seed', '4'];
  const a = cli([...args, '--out', join(tmp, 'ta'), '--store', loc]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /stored as run 1 in postgres:\/\//);
  assert.ok(!a.stdout.includes(`:${new URL(URL_).password}@`) || new URL(URL_).password === '', 'password hidden');
  const b = cli([...args, '--out', join(tmp, 'tb'), '--store', join(tmp, 'tb.sqlite')]);
  assert.equal(b.code, 0, b.stderr);
  const pgStore = await openRunStore(loc);
  const sqlite = await openRunStore(join(tmp, 'tb.sqlite'));
  try {
    const [x] = await pgStore.list();
    const [y] = await sqlite.list();
    const fx = (await pgStore.get(x.id))!;
    const fy = (await sqlite.get(y.id))!;
    assert.equal(fx.status, 'done');
    assert.equal(stringifyExact(fx.final), stringifyExact(fy.final));
    assert.equal(stringifyExact(fx.history), stringifyExact(fy.history));
    assert.equal(stringifyExact(fx.config), stringifyExact(fy.config));
  } finally {
    await pgStore.close();
    await sqlite.close();
  }
  const list = cli(['runs', 'list', '--store', loc]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /deep-linear/);
  const show = cli(['runs', 'show', '1', '--store', loc]);
  assert.equal(show.code, 0, show.stderr);
  const exported = cli(['runs', 'export', '--format', 'json', '--store', loc]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(JSON.parse(exported.stdout).length, 1);
  // Nobody at the address: exit 2, one line naming --store's location.
  const down = cli(['runs', 'list', '--store', 'postgres://x:y@127.0.0.1:9/none']);
  assert.equal(down.code, 2);
  assert.match(down.stderr, /^advbias: cannot reach the run store postgres:\/\/x:\*\*\*@127\.0\.0\.1:9\/none/);
});

test('reproduce --store postgres://…: the runs are stored there, bit-identical to a SQLite store, and reused on a second run', { skip }, async () => {
  const exp = join(tmp, 'experiments');
  mkdirSync(exp, { recursive: true });
  writeFileSync(
    join(exp, 'tiny.json'),
    JSON.stringify({
      id: 'tiny',
      claim: 'C1',
      title: 'tiny',
      description: 'two short runs',
      base: { data: 's2', model: 'deep-linear', attack: 'exact', p: 'inf', steps: 2000, seed: 3 },
      grid: { eps: [0, 0.25] },
      expectations: [{ id: 'dir', description: 'direction within 30° of the solver', metric: 'referenceAngleDeg', op: '<', value: 30 }],
    }),
  );
  const loc = await freshSchema();
  const a = cli(['reproduce', 'tiny', '--experiments', exp, '--jobs', '2', '--out', join(tmp, 'ra'), '--store', loc]);
  assert.equal(a.code, 0, a.stderr + a.stdout);
  const b = cli(['reproduce', 'tiny', '--experiments', exp, '--jobs', '1', '--out', join(tmp, 'rb'), '--store', join(tmp, 'rb.sqlite')]);
  assert.equal(b.code, 0, b.stderr + b.stdout);
  const results = async (where: string): Promise<Map<string, string>> => {
    const s = await openRunStore(where);
    try {
      const out = new Map<string, string>();
      for (const row of await s.list()) {
        const r = (await s.get(row.key))!.result as RunResult;
        out.set(row.key, stringifyExact({ final: r.final, history: r.history, metrics: r.metrics }));
      }
      return out;
    } finally {
      await s.close();
    }
  };
  const x = await results(loc);
  const y = await results(join(tmp, 'rb.sqlite'));
  assert.equal(x.size, 2);
  assert.deepEqual([...x.entries()].sort(), [...y.entries()].sort());
  const summary = JSON.parse(readFileSync(join(tmp, 'ra', 'summary.json'), 'utf8')) as { store: string };
  assert.match(summary.store, /^postgres(ql)?:\/\//);
  assert.ok(!summary.store.includes(`:${new URL(URL_).password}@`) || new URL(URL_).password === '');
  const again = cli(['reproduce', 'tiny', '--experiments', exp, '--out', join(tmp, 'rc'), '--store', loc]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout + again.stderr, /2 reused from postgres/);
});
