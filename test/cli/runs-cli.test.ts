import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../../src/node/store.ts';
import { runsExportCommand, runsListCommand, runsShowCommand } from '../../src/cli/runs.ts';
import { InputError } from '../../src/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-runs-cli-'));
const STORE = join(tmp, 'store', 'runs.sqlite');

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `advbias ARGS` (asynchronously, so that a test's commands start together: each one spends ~1 s starting up). */
function cli(args: string[]): Promise<Out> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ADVBIAS_KERNELS: 'js' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

// Three runs: a done one (with non-finite values and a Float64Array), a running one with a checkpoint, a failed one.
const s = RunStore.open(STORE);
s.begin({ key: 'key-a', experiment: 'c1-sweep', label: 'eps=0.25, depth 2', config: { model: 'deep-linear', eps: 0.25, steps: 100 }, seed: 7, codeVersion: 'v-test' });
s.complete('key-a', {
  final: { step: 100, adversarialNormalizedMargin: 0.123456789, referenceAngleDeg: NaN, logLoss: -Infinity, kkt: { stationarity: 0.5 }, predictor: [0.6, 0.8] },
  history: [{ step: 0 }, { step: 10 }, { step: 100 }],
  result: { weights: new Float64Array([1.5, -0, NaN]) },
});
s.begin({ key: 'key-b', experiment: 'c1-sweep', label: 'eps=0.5', config: { eps: 0.5 }, seed: 8, codeVersion: 'v-test' });
s.saveCheckpoint('key-b', 40, { theta: new Float64Array([1, 2]) });
s.begin({ key: 'key-c', experiment: 'c2-other', label: 'a "quoted", label', config: { eps: 0 }, seed: 0, codeVersion: 'v-test' });
s.fail('key-c', 'non-finite loss at step 3');
s.close();

/** Runs a `runs` command in this process (for the cases that need no exit code): its stdout. */
function inProcess(f: () => number): string {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    assert.equal(f(), 0);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

// The end-to-end commands all start at once (each spends about a second starting up).
const missing = join(tmp, 'nowhere', 'runs.sqlite');
const exported = join(tmp, 'exports', 'c1.json');
const spawned = Promise.all([
  cli(['runs', 'list', '--store', STORE]),
  cli(['runs', 'list', '--store', STORE, '--json']),
  cli(['runs', 'show', '1', '--store', STORE]),
  cli(['runs', 'show', '1', '--store', STORE, '--json']),
  cli(['runs', 'show', '42', '--store', STORE]),
  cli(['runs', 'list', '--store', missing]),
  cli(['runs', 'export', '--format', 'csv', '--store', STORE]),
  cli(['runs', 'export', '--format', 'json', '--store', STORE, '--experiment', 'c1-sweep', '--out', exported]),
  cli(['runs', 'export', '--store', STORE, '--format', 'xml']),
]);

test('runs list: a table with the final values; --json; filters', async () => {
  const [r, j] = await spawned;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^id\s+experiment\s+label\s+status\s+seed\s+started \(UTC\)\s+seconds\s+adv\. margin\s+angle \(deg\)$/);
  assert.equal(lines.length, 2 + 3);
  assert.match(lines[2], /^\s*1\s+c1-sweep\s+eps=0\.25, depth 2\s+done\s+7\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\.\d\s+0\.12346\s+NaN$/);
  assert.match(lines[3], /^\s*2\s+c1-sweep\s+eps=0\.5\s+running\s+8\s/);
  assert.match(lines[4], /^\s*3\s+c2-other\s.*failed/);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.deepEqual(doc.map((x: { id: number }) => x.id), [1, 2, 3]);
  assert.equal(doc[0].final.referenceAngleDeg, null);
  assert.equal(doc[0].final.adversarialNormalizedMargin, 0.123456789);
  assert.ok(!('history' in doc[0]));
  const f = inProcess(() => runsListCommand({ store: STORE, experiment: 'c1-sweep', status: 'running' }));
  assert.equal(f.trimEnd().split('\n').length, 3);
  assert.match(f, /eps=0\.5/);
  assert.match(inProcess(() => runsListCommand({ store: STORE, experiment: 'nope' })), /no runs in .* with experiment nope/);
  assert.throws(() => runsListCommand({ store: STORE, status: 'finished' }), (e: unknown) => e instanceof InputError && /--status "finished"/.test(e.message));
});

test('runs show: text and --json; by id or key; unknown id and missing store exit 2 with one line', async () => {
  const [, , r, j, u, m] = await spawned;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^run 1: c1-sweep · eps=0\.25, depth 2/);
  assert.match(r.stdout, /key\s+key-a/);
  assert.match(r.stdout, /status\s+done/);
  assert.match(r.stdout, /history\s+3 rows/);
  assert.match(r.stdout, /config:\n\s+model\s+"deep-linear"/);
  assert.match(r.stdout, /final:[\s\S]*adversarialNormalizedMargin\s+0\.12346/);
  assert.match(r.stdout, /referenceAngleDeg\s+NaN/);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.equal(j.stdout.trim().split('\n').length, 1);
  assert.equal(doc.key, 'key-a');
  assert.equal(doc.final.referenceAngleDeg, null);
  assert.equal(doc.final.logLoss, null);
  assert.deepEqual(doc.result.weights, [1.5, 0, null]);
  assert.equal(doc.history.length, 3);
  assert.deepEqual(doc.config, { model: 'deep-linear', eps: 0.25, steps: 100 });
  assert.equal(u.code, 2);
  assert.equal(u.stderr.trim().split('\n').length, 1);
  assert.match(u.stderr, /no run with id "42"/);
  assert.equal(m.code, 2);
  assert.equal(m.stderr.trim(), `advbias: no run store at ${missing} (run \`advbias reproduce\` first)`);
  assert.ok(!existsSync(missing), 'runs never creates a store');
  const b = inProcess(() => runsShowCommand('key-b', { store: STORE }));
  assert.match(b, /checkpoint\s+step 40/);
  assert.match(b, /history\s+none/);
  assert.match(inProcess(() => runsShowCommand('3', { store: STORE })), /status\s+failed: non-finite loss at step 3/);
  assert.throws(() => runsShowCommand('no-such-key', { store: STORE }), (e: unknown) => e instanceof InputError && /no run with id "no-such-key"/.test(e.message));
});

test('runs export: csv with final values as columns, json of the full runs, --out, bad --format', async () => {
  const [, , , , , , c, j, b] = await spawned;
  assert.equal(c.code, 0, c.stderr);
  const lines = c.stdout.trimEnd().split('\n');
  const header = lines[0].split(',');
  assert.deepEqual(header.slice(0, 9), ['id', 'key', 'experiment', 'label', 'status', 'seed', 'code_version', 'started_at', 'ended_at']);
  assert.deepEqual(header.slice(9), ['step', 'adversarialNormalizedMargin', 'referenceAngleDeg', 'logLoss', 'kkt.stationarity']);
  assert.equal(lines.length, 4);
  assert.match(lines[1], /^1,key-a,c1-sweep,"eps=0\.25, depth 2",done,7,v-test,[^,]+,[^,]+,100,0\.123456789,NaN,-Infinity,0\.5$/);
  assert.match(lines[2], /^2,key-b,c1-sweep,eps=0\.5,running,8,v-test,[^,]+,,,,,,$/);
  assert.match(lines[3], /^3,key-c,c2-other,"a ""quoted"", label",failed,0,/);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout, '');
  const doc = JSON.parse(readFileSync(exported, 'utf8'));
  assert.deepEqual(doc.map((x: { key: string }) => x.key), ['key-a', 'key-b']);
  assert.deepEqual(doc[0].result.weights, [1.5, 0, null]);
  assert.deepEqual(doc[0].history, [{ step: 0 }, { step: 10 }, { step: 100 }]);
  assert.equal(doc[1].result, null);
  assert.equal(b.code, 2);
  assert.equal(b.stderr.trim().split('\n').length, 1);
  assert.match(b.stderr, /--format "xml"/);
  assert.throws(() => runsExportCommand({ store: STORE }), (e: unknown) => e instanceof InputError && /needs --format csv\|json/.test(e.message));
});
