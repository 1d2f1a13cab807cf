/**
 * Bad input, all clean (issue 11, part 5): every case exits 2 with one line on stderr naming the
 * flag or field (no stack trace, no "internal error"), quickly, and never hangs.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, closeSync, writeFileSync, ftruncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SCRATCH } from '../support/scratch.ts';
import { openRunStore } from '../../src/node/store.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-bad-input-'));
/** Every case must answer well within this (a hang or a huge allocation would not), on 2 busy cores. */
const LIMIT_MS = 60_000;

interface Out {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[]): Promise<Out> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: SCRATCH, env: { ...process.env, ADVBIAS_KERNELS: 'js', ADVBIAS_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The commands, three at a time (each is a Node start-up on a shared machine). */
async function cliAll(list: string[][]): Promise<Out[]> {
  const out: Out[] = [];
  for (let i = 0; i < list.length; i += 3) out.push(...(await Promise.all(list.slice(i, i + 3).map((args) => cli(args)))));
  return out;
}

/** Exit 2, exactly one line on stderr that contains every fragment, no stack trace, in time. */
function assertClean(r: Out, what: string, ...fragments: (string | RegExp)[]): void {
  assert.notEqual(r.code, -1, `${what}: killed after ${LIMIT_MS} ms (a hang?)`);
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: one line expected:\n${r.stderr}`);
  assert.match(lines[0], /^advbias: /, what);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at |Error:/, `${what}: ${r.stderr}`);
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(lines[0].includes(f), `${what}: "${f}" not in: ${lines[0]}`);
    else assert.match(lines[0], f, what);
  }
}

const FILE = join(tmp, 'a-file');
writeFileSync(FILE, 'not a folder\n');
const TRAIN = ['train', '--steps', '5', '--no-progress'];

test('sizes are checked before allocation: --width 1e9, --depth 1e9, huge generated data; --steps bounded', async () => {
  const cases: [string[], string, ...(string | RegExp)[]][] = [
    [[...TRAIN, '--no-store', '--width', '1e9'], '--width 1e9', '--width 1000000000 gives 3.0·10^9 parameters', 'limit 2^28'],
    [[...TRAIN, '--no-store', '--model', 'relu-mlp', '--depth', '3', '--width', '30000'], 'relu-mlp --width 30000', '--width 30000 gives', 'parameters'],
    [[...TRAIN, '--no-store', '--data', 'sectors:n=200', '--model', 'relu-mlp', '--width', '2000000'], 'activations', '--width 2000000', 'float64 entries'],
    [[...TRAIN, '--no-store', '--depth', '1e9'], '--depth 1e9', 'invalid --depth 1000000000', 'must be ≤ 1000'],
    [[...TRAIN, '--no-store', '--model', 'diagonal', '--depth', '5000'], 'diagonal --depth 5000', '--depth 5000'],
    [[...TRAIN, '--no-store', '--data', 'synthetic:n=1000000,d=1000'], 'huge synthetic', '--data "synthetic:n=1000000,d=1000"', 'n·d'],
    [[...TRAIN, '--no-store', '--data', 'sectors:n=1000000000'], 'huge sectors', '--data "sectors:n=1000000000"'],
    [['train', '--no-store', '--steps', '1e12'], '--steps 1e12', 'invalid --steps', 'must be ≤ 1000000000'],
  ];
  const results = await cliAll(cases.map(([args]) => args));
  results.forEach((r, i) => {
    const [, what, ...fragments] = cases[i];
    assertClean(r, what, ...fragments);
    // A start-up and a check, not an allocation of gigabytes (generous: the cores are shared).
    assert.ok(r.ms < 30_000, `${what}: ${r.ms} ms`);
  });
});

test('--out that is a file, under a file, under /proc, or a folder given as a file: one line naming --out, before any work', async () => {
  const store = join(tmp, 'out-cases.sqlite');
  const cases: [string[], string, ...string[]][] = [
    [[...TRAIN, '--store', store, '--out', FILE], 'train --out FILE', '--out', 'is a file, not a folder'],
    [[...TRAIN, '--store', store, '--out', join(FILE, 'sub')], 'train --out FILE/sub', '--out', 'is a file, not a folder'],
    [[...TRAIN, '--store', store, '--out', '/proc/advbias-out'], 'train --out /proc/…', '--out "/proc/advbias-out"', 'cannot create the folder'],
    [[...TRAIN, '--store', store, '--out', '/proc/self/advbias/deeper'], 'train --out /proc/self/…', '--out'],
    [['reproduce', 'c1-s2-table', '--quick', '--out', FILE, '--store', store], 'reproduce --out FILE', '--out', 'is a file'],
    [['reproduce', 'c1-s2-table', '--quick', '--out', '/proc/advbias-r'], 'reproduce --out /proc/…', '--out "/proc/advbias-r"'],
    [['reproduce', 'c1-s2-table', '--quick', '--out', join(tmp, 'r-ok'), '--store', '/proc/advbias/runs.sqlite'], 'reproduce --store /proc/…', '--store "/proc/advbias/runs.sqlite"'],
    [['reproduce', 'c1-s2-table', '--quick', '--out', join(tmp, 'r-ok2'), '--store', join(FILE, 'runs.sqlite')], 'reproduce --store FILE/…', '--store', 'is a file, not a folder'],
    [['reproduce', 'c1-s2-table', '--quick', '--out', join(tmp, 'r-ok3'), '--store', '/proc/runs.sqlite'], 'reproduce --store /proc/x', '--store "/proc/runs.sqlite"', 'cannot write'],
    [[...TRAIN, '--store', '/proc/advbias-train.sqlite'], 'train --store /proc/x', '--store "/proc/advbias-train.sqlite"'],
    [['runs', 'export', '--format', 'csv', '--store', store, '--out', '/proc/advbias/x.csv'], 'runs export --out /proc/…', '--out "/proc/advbias/x.csv"'],
    [['runs', 'export', '--format', 'csv', '--store', store, '--out', tmp], 'runs export --out FOLDER', '--out', 'it is a folder'],
    [['runs', 'export', '--format', 'json', '--store', store, '--out', join(FILE, 'x.json')], 'runs export --out FILE/x', '--out', 'is a file, not a folder'],
    [['schema', 'train', '--out', '/proc/advbias/schema.json'], 'schema --out /proc/…', '--out'],
  ];
  // The store must exist for the runs export cases (read-only command).
  await (await openRunStore(store)).close();
  const results = await cliAll(cases.map(([args]) => args));
  results.forEach((r, i) => {
    const [, what, ...fragments] = cases[i];
    assertClean(r, what, ...fragments);
  });
  // reproduce checks --out and --store before it plans or runs anything: no store beside the file.
  assert.ok(!existsSync(join(dirname(FILE), 'runs.sqlite')), 'reproduce --out FILE created no store');
  // The train runs refused by --out were refused before the store was touched.
  const s = await openRunStore(store);
  try {
    assert.equal((await s.list()).length, 0, 'nothing recorded for a refused --out');
  } finally {
    await s.close();
  }
});

test('--out in a folder without write permission: one line naming --out', { skip: process.getuid?.() === 0 ? 'runs as root, where chmod 555 does not stop writes (the /proc cases above cover an unwritable place)' : false }, async () => {
  const ro = join(tmp, 'read-only');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  try {
    assertClean(await cli([...TRAIN, '--no-store', '--out', join(ro, 'run')]), 'train --out under 555', '--out', 'permission denied');
    assertClean(await cli([...TRAIN, '--no-store', '--out', ro]), 'train --out 555', '--out', 'permission denied');
  } finally {
    chmodSync(ro, 0o755);
  }
});

test('one-class K-class data and --batch-size > n: one line naming --data / --batch-size', async () => {
  const oneClass = join(tmp, 'one-class.json');
  writeFileSync(oneClass, JSON.stringify({ X: [[1, 0], [0, 1], [1, 1]], y: [2, 2, 2] }));
  const [a, b, c] = await cliAll([
    [...TRAIN, '--no-store', '--model', 'relu-mlp', '--data', oneClass],
    [...TRAIN, '--no-store', '--data', 's2', '--batch-size', '5'],
    [...TRAIN, '--no-store', '--data', 'sectors:n=40', '--model', 'relu-mlp', '--batch-size', '40', '--json'],
  ]);
  assertClean(a, 'one class', `--data "${oneClass}" has only one class`, 'every label is 2', 'a margin between classes cannot grow');
  assertClean(b, '--batch-size 5 on s2', '--batch-size 5 is larger than the data', 'n = 2');
  assert.equal(c.code, 0, `--batch-size n is the full batch: ${c.stderr}`);
});

/** A store with three done runs (ids 1–3), and row 2's result and row 3's final cut short. */
async function damagedStore(path: string): Promise<void> {
  const s = await openRunStore(path);
  for (const k of ['k1', 'k2', 'k3']) {
    await s.begin({ key: k, experiment: 'e', label: k, config: { model: 'deep-linear' }, seed: 0, codeVersion: 'v' });
    await s.complete(k, { final: { step: 1, logLoss: -1 }, history: [{ step: 1 }], result: { final: { step: 1 }, weights: new Float64Array([1, 2]) } });
  }
  await s.close();
  const db = new Database(path);
  db.prepare("UPDATE runs SET result = substr(result, 1, 20) WHERE key = 'k2'").run();
  db.prepare("UPDATE runs SET final = '{\"step\": ' WHERE key = 'k3'").run();
  db.close();
}

test('damaged store rows: runs list/show/export name the store and the run and offer --force; --force leaves them out', async () => {
  const store = join(tmp, 'damaged.sqlite');
  await damagedStore(store);
  const [list, listForce, show, showForce, showOk, exp, expForce] = await cliAll([
    ['runs', 'list', '--store', store],
    ['runs', 'list', '--store', store, '--force'],
    ['runs', 'show', '2', '--store', store],
    ['runs', 'show', '2', '--store', store, '--force'],
    ['runs', 'show', '1', '--store', store],
    ['runs', 'export', '--format', 'json', '--store', store],
    ['runs', 'export', '--format', 'csv', '--store', store, '--force'],
  ]);
  assertClean(list, 'runs list', `"${store}"`, 'run 3 (key k3)', 'final', '--force');
  assert.equal(listForce.code, 0, listForce.stderr);
  assert.match(listForce.stdout, /\bk1\b/);
  assert.doesNotMatch(listForce.stdout, /\bk3\b/);
  assert.match(listForce.stderr, /left out: .*run 3 \(key k3\)/);
  assertClean(show, 'runs show 2', `"${store}"`, 'run 2 (key k2)', 'result', '--force');
  assert.equal(showForce.code, 0, showForce.stderr);
  assert.match(showForce.stdout, /damaged\s+result/);
  assert.equal(showOk.code, 0, showOk.stderr);
  assertClean(exp, 'runs export', `"${store}"`, 'run 2 (key k2)', '(and 1 more)', '--force');
  assert.equal(expForce.code, 0, expForce.stderr);
  assert.equal(expForce.stdout.trim().split('\n').length, 2, 'header and run 1');
  assert.equal((expForce.stderr.match(/left out/g) ?? []).length, 2);
});

test('a store file that is not a database, or is truncated: one line naming the store file', async () => {
  const random = join(tmp, 'random.sqlite');
  const bytes = Buffer.alloc(8192);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  writeFileSync(random, bytes);
  // A real store cut in half: its header promises pages that are gone.
  const truncated = join(tmp, 'truncated.sqlite');
  const s = await openRunStore(truncated);
  for (let k = 0; k < 40; k++) {
    await s.begin({ key: `k${k}`, experiment: 'e', label: 'x', config: { pad: 'x'.repeat(2000) }, seed: 0, codeVersion: 'v' });
    await s.complete(`k${k}`, { final: { step: 1 }, history: [{ step: 1 }], result: { pad: 'y'.repeat(3000) } });
  }
  await s.close();
  const size = statSync(truncated).size;
  const fd = openSync(truncated, 'r+');
  ftruncateSync(fd, Math.floor(size / 2));
  closeSync(fd);
  const rs = await cliAll([
    ['runs', 'list', '--store', random],
    ['runs', 'export', '--format', 'json', '--store', truncated],
    [...TRAIN, '--store', random],
    ['reproduce', 'c1-s2-table', '--quick', '--out', join(tmp, 'rq'), '--store', truncated],
  ]);
  assertClean(rs[0], 'runs list random', `"${random}"`, 'is not a SQLite run store or is damaged', 'file is not a database');
  assertClean(rs[1], 'runs export truncated', `"${truncated}"`, 'is damaged', 'malformed');
  assertClean(rs[2], 'train --store random', `"${random}"`);
  assertClean(rs[3], 'reproduce --store truncated', `"${truncated}"`, 'malformed');
  assert.equal(readFileSync(random).length, 8192, 'the foreign file is left alone');
});
