import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRunStore } from '../../src/node/store.ts';
import { runsCompareCommand, runsExportCommand, runsListCommand, runsShowCommand } from '../../src/cli/runs.ts';
import { CONFIG_COLUMNS } from '../../src/store/run-tables.ts';
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
const s = await openRunStore(STORE);
await s.begin({ key: 'key-a', experiment: 'c1-sweep', label: 'eps=0.25, depth 2', config: { model: 'deep-linear', eps: 0.25, steps: 100 }, seed: 7, codeVersion: 'v-test' });
await s.complete('key-a', {
  final: { step: 100, adversarialNormalizedMargin: 0.123456789, referenceAngleDeg: NaN, logLoss: -Infinity, kkt: { stationarity: 0.5 }, predictor: [0.6, 0.8] },
  history: [{ step: 0 }, { step: 10 }, { step: 100 }],
  result: { weights: new Float64Array([1.5, -0, NaN]) },
});
await s.begin({ key: 'key-b', experiment: 'c1-sweep', label: 'eps=0.5', config: { eps: 0.5 }, seed: 8, codeVersion: 'v-test' });
await s.saveCheckpoint('key-b', 40, { theta: new Float64Array([1, 2]) });
await s.begin({ key: 'key-c', experiment: 'c2-other', label: 'a "quoted", label', config: { eps: 0 }, seed: 0, codeVersion: 'v-test' });
await s.fail('key-c', 'non-finite loss at step 3');
await s.close();

/** Runs a `runs` command in this process (for the cases that need no exit code): its stdout. */
async function inProcess(f: () => Promise<number>): Promise<string> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    assert.equal(await f(), 0);
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
  const f = await inProcess(() => runsListCommand({ store: STORE, experiment: 'c1-sweep', status: 'running' }));
  assert.equal(f.trimEnd().split('\n').length, 3);
  assert.match(f, /eps=0\.5/);
  assert.match(await inProcess(() => runsListCommand({ store: STORE, experiment: 'nope' })), /no runs in .* with experiment nope/);
  await assert.rejects(runsListCommand({ store: STORE, status: 'finished' }), (e: unknown) => e instanceof InputError && /--status "finished"/.test(e.message));
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
  assert.equal(m.stderr.trim(), `advbias: no run store at ${missing} (run \`advbias reproduce\` or \`advbias train\` first)`);
  assert.ok(!existsSync(missing), 'runs never creates a store');
  const b = await inProcess(() => runsShowCommand('key-b', { store: STORE }));
  assert.match(b, /checkpoint\s+step 40/);
  assert.match(b, /history\s+none/);
  assert.match(await inProcess(() => runsShowCommand('3', { store: STORE })), /status\s+failed: non-finite loss at step 3/);
  await assert.rejects(runsShowCommand('no-such-key', { store: STORE }), (e: unknown) => e instanceof InputError && /no run with id "no-such-key"/.test(e.message));
});

test('runs export: csv with config and final values as columns, json of the full runs, --out, bad --format', async () => {
  const [, , , , , , c, j, b] = await spawned;
  assert.equal(c.code, 0, c.stderr);
  const lines = c.stdout.trimEnd().split('\n');
  const header = lines[0].split(',');
  assert.deepEqual(header.slice(0, 9), ['id', 'key', 'experiment', 'label', 'status', 'seed', 'code_version', 'started_at', 'ended_at']);
  assert.deepEqual(header.slice(9, 19), ['model', 'depth', 'width', 'p', 'eps', 'attack', 'steps', 'schedule', 'lr', 'data']);
  assert.deepEqual(header.slice(19), ['step', 'adversarialNormalizedMargin', 'referenceAngleDeg', 'logLoss', 'kkt.stationarity']);
  assert.equal(lines.length, 4);
  // Config columns the run's config lacks are empty; a running run has no final values.
  assert.match(lines[1], /^1,key-a,c1-sweep,"eps=0\.25, depth 2",done,7,v-test,[^,]+,[^,]+,deep-linear,,,,0\.25,,100,,,,100,0\.123456789,NaN,-Infinity,0\.5$/);
  assert.match(lines[2], /^2,key-b,c1-sweep,eps=0\.5,running,8,v-test,[^,]+,,,,,,0\.5,,,,,,,,,,$/);
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
  await assert.rejects(runsExportCommand({ store: STORE }), (e: unknown) => e instanceof InputError && /needs --format csv\|json/.test(e.message));
  await assert.rejects(runsExportCommand({ store: STORE, format: 'json', history: true }), (e: unknown) => e instanceof InputError && /--history writes csv/.test(e.message));
});

// A second store: train-like runs whose result holds the resolved config and a history with metrics.
const STORE2 = join(tmp, 'store2', 'runs.sqlite');
const s2 = await openRunStore(STORE2);
const historyOf = (scale: number, angle: boolean): Record<string, unknown>[] =>
  [0, 1, 10, 100].map((step) => ({
    step,
    logLoss: -step * scale,
    adversarialNormalizedMargin: step === 100 ? 0.1 + 0.2 : (step * scale) / 1000,
    ...(angle ? { referenceAngleDeg: 45 / (step + 1) } : {}),
    kkt: { stationarity: step === 10 ? NaN : 1 / (step + 3) },
    alignment: { rank1: [1, 0.5], predictor: 0.25 },
  }));
const trainRun = async (key: string, label: string, config: Record<string, unknown>, angle: boolean): Promise<void> => {
  await s2.begin({ key, experiment: 'train', label, config, seed: Number(config.seed ?? 0), codeVersion: 'v-test' });
  const history = historyOf(Number(config.depth), angle);
  // The result's config is the resolved one (every default filled in), as `train` writes it.
  const resolved = { model: 'deep-linear', depth: 2, width: 10, p: 'inf', eps: 0, attack: 'none', steps: 100, schedule: 'loss-scaled', lr: 0.1, data: 's2', seed: 0, ...config };
  await s2.complete(key, { final: history[history.length - 1], history, result: { config: resolved, final: history[history.length - 1], history, run: { interrupted: false } } });
};
await trainRun('t-1', 'deep-linear L=2 exact p=inf eps=0.25', { model: 'deep-linear', depth: 2, attack: 'exact', eps: 0.25 }, true);
await trainRun('t-2', 'diagonal L=3 fgm p=2 eps=0.1', { model: 'diagonal', depth: 3, width: [10, 5], attack: 'fgm', p: 2, eps: 0.1, seed: 4 }, true);
await trainRun('t-3', 'linear L=1 clean', { model: 'linear', depth: 1 }, false);
await s2.begin({ key: 't-4', experiment: 'train', label: 'still running', config: { model: 'linear' }, seed: 0, codeVersion: 'v-test' });
await s2.close();

const svgOut = join(tmp, 'figs', 'cmp.svg');
const spawned2 = Promise.all([
  cli(['runs', 'export', '--format', 'csv', '--history', '--store', STORE2]),
  cli(['runs', 'compare', '1', '2', '--store', STORE2, '--out', svgOut]),
  cli(['runs', 'compare', '1', '42', '--store', STORE2]),
  cli(['runs', 'compare', '1', '3', '--metric', 'referenceAngleDeg', '--store', STORE2]),
]);

test('runs export --format csv: config columns from the resolved config (width list as JSON)', async () => {
  const text = await inProcess(() => runsExportCommand({ store: STORE2, format: 'csv' }));
  const lines = text.trimEnd().split('\n');
  const header = lines[0].split(',');
  assert.deepEqual(header.slice(9, 9 + CONFIG_COLUMNS.length), [...CONFIG_COLUMNS]);
  assert.equal(lines.length, 5);
  assert.match(lines[1], /^1,t-1,train,deep-linear L=2 exact p=inf eps=0\.25,done,0,v-test,[^,]+,[^,]+,deep-linear,2,10,inf,0\.25,exact,100,loss-scaled,0\.1,s2,100,/);
  assert.match(lines[2], /^2,t-2,train,diagonal L=3 fgm p=2 eps=0\.1,done,4,v-test,[^,]+,[^,]+,diagonal,3,"\[10,5\]",2,0\.1,fgm,100,loss-scaled,0\.1,s2,100,/);
  // final values after the config: the exact 0.1 + 0.2 (shortest round-trip form).
  const col = header.indexOf('adversarialNormalizedMargin');
  assert.ok(col > 9 + CONFIG_COLUMNS.length);
  assert.equal(lines[1].split(',')[col], '0.30000000000000004');
  // A running run: only what it was begun with.
  assert.match(lines[4], /^4,t-4,train,still running,running,0,v-test,[^,]+,,linear,,,,,,,,,,/);
});

test('runs export --history: a long csv, one row per (run, step, metric), exact values, config columns', async () => {
  const [h] = await spawned2;
  assert.equal(h.code, 0, h.stderr);
  const lines = h.stdout.trimEnd().split('\n');
  assert.equal(lines[0], ['id', 'experiment', 'label', 'seed', ...CONFIG_COLUMNS, 'step', 'metric', 'value'].join(','));
  const rows = lines.slice(1).map((l) => l.split(','));
  // Runs 1 and 2: 4 steps × 5 metrics (logLoss, γ̄, angle, kkt.stationarity, alignment.predictor); run 3 has no angle; run 4 no history.
  assert.equal(rows.length, 4 * 5 + 4 * 5 + 4 * 4);
  const ids = new Set(rows.map((r) => r[0]));
  assert.deepEqual([...ids], ['1', '2', '3']);
  const metricsOf = (id: string, step: string): string[] => rows.filter((r) => r[0] === id && r.at(-3) === step).map((r) => r.at(-2)!);
  assert.deepEqual(metricsOf('1', '10'), ['logLoss', 'adversarialNormalizedMargin', 'referenceAngleDeg', 'kkt.stationarity', 'alignment.predictor']);
  assert.deepEqual(metricsOf('3', '10'), ['logLoss', 'adversarialNormalizedMargin', 'kkt.stationarity', 'alignment.predictor']);
  const value = (id: string, step: string, metric: string): string => rows.find((r) => r[0] === id && r.at(-3) === step && r.at(-2) === metric)!.at(-1)!;
  assert.equal(value('1', '100', 'adversarialNormalizedMargin'), '0.30000000000000004');
  assert.equal(value('1', '10', 'kkt.stationarity'), 'NaN');
  assert.equal(value('2', '0', 'logLoss'), '-0');
  assert.equal(Number(value('2', '1', 'referenceAngleDeg')), 22.5);
  assert.equal(value('1', '1', 'kkt.stationarity'), String(1 / 4));
  // The config columns of every row of run 2 (the quoted width list is one CSV field).
  const line2 = lines.find((l) => l.startsWith('2,'))!;
  assert.match(line2, /^2,train,diagonal L=3 fgm p=2 eps=0\.1,4,diagonal,3,"\[10,5\]",2,0\.1,fgm,100,loss-scaled,0\.1,s2,0,logLoss,-0$/);
  // --history alone means csv.
  const same = await inProcess(() => runsExportCommand({ store: STORE2, history: true }));
  assert.equal(same, h.stdout);
});

/** The line marks of a vega SVG: vega draws each series as one <path> in its own line-mark container. */
function linePaths(svg: string): number {
  return (svg.match(/<path [^>]*aria-roledescription="line mark"/g) ?? []).length;
}

test('runs compare: an SVG with one line per run, labelled; default metric; PNG; --log-y', async () => {
  const [, c] = await spawned2;
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /wrote .*cmp\.svg: referenceAngleDeg of runs 1, 2/);
  const svg = readFileSync(svgOut, 'utf8');
  assert.match(svg, /^<svg/);
  assert.equal(linePaths(svg), 2);
  assert.match(svg, /#1 deep-linear L=2 exact p=inf eps=0\.25/);
  assert.match(svg, /#2 diagonal L=3 fgm p=2 eps=0\.1/);
  assert.match(svg, /referenceAngleDeg against the step t/);
  // Three runs, one without the angle: the default falls back to γ̄; default file beside the store.
  const three = await inProcess(() => runsCompareCommand(['1', '2', 't-3'], { store: STORE2 }));
  const defaultFile = join(dirname(STORE2), 'compare-1-2-3-adversarialNormalizedMargin.svg');
  assert.match(three, /adversarialNormalizedMargin of runs 1, 2, 3/);
  assert.equal(linePaths(readFileSync(defaultFile, 'utf8')), 3);
  // A nested metric on a log y axis, as PNG.
  const png = join(tmp, 'figs', 'kkt.png');
  await inProcess(() => runsCompareCommand(['3', '1'], { store: STORE2, metric: 'kkt.stationarity', logY: true, out: png }));
  assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test('runs compare: unknown id, a metric missing from a run, a run without history, a repeated id, a bad --out → exit 2 / InputError', async () => {
  const [, , u, m] = await spawned2;
  assert.equal(u.code, 2);
  assert.equal(u.stderr.trim().split('\n').length, 1);
  assert.match(u.stderr, /no run with id "42"/);
  assert.equal(m.code, 2);
  assert.equal(m.stderr.trim(), 'advbias: --metric "referenceAngleDeg": run 3 has no such metric in its history; it has logLoss, adversarialNormalizedMargin, kkt.stationarity, alignment.predictor');
  await assert.rejects(runsCompareCommand(['1', '4'], { store: STORE2 }), (e: unknown) => e instanceof InputError && /run 4 \(still running\) has no history: its status is running/.test(e.message));
  await assert.rejects(runsCompareCommand(['1', 't-1'], { store: STORE2 }), (e: unknown) => e instanceof InputError && /run 1 is given twice/.test(e.message));
  await assert.rejects(runsCompareCommand(['1'], { store: STORE2, out: join(tmp, 'x.pdf') }), (e: unknown) => e instanceof InputError && e.field === 'out' && /FILE\.svg or FILE\.png/.test(e.message));
  await assert.rejects(runsCompareCommand(['1'], { store: 'postgres://h/db' }), (e: unknown) => e instanceof InputError && e.field === 'store');
});
