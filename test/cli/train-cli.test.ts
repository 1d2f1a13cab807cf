import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../../src/cli/version.ts';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const REF = join(ROOT, 'examples', 's2-pinf-eps0.25.reference.json');

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: SCRATCH });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'advbias-cli-'));

test('--json prints exactly one JSON object with config, final and history', () => {
  const r = cli(['train', '--data', 's2', '--model', 'deep-linear', '--depth', '3', '--width', '5', '--attack', 'exact', '--p', 'inf', '--eps', '0.25', '--steps', '3000', '--reference', REF, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc).slice(0, 3), ['config', 'final', 'history']);
  assert.equal(doc.config.p, 'inf');
  assert.equal(doc.config.eps, 0.25);
  for (const row of [doc.final, ...doc.history]) {
    for (const k of ['step', 'logLoss', 'normalizedMargin', 'adversarialNormalizedMargin', 'smoothedMargin', 'trainAccuracy', 'robustAccuracy', 'referenceAngleDeg', 'referenceOneMinusCos'])
      assert.equal(typeof row[k], 'number', `${k} in row ${row.step}`);
    assert.equal(row.alignment.rank1.length, 3);
    assert.equal(row.alignment.adjacent.length, 2);
    assert.equal(row.alignment.layerShares.length, 3);
  }
  assert.equal(doc.final.step, 3000);
  assert.equal(doc.final.predictor.length, 2);
  assert.ok(doc.history.every((h: { predictor?: unknown }) => h.predictor === undefined), 'predictor in final only');
  assert.ok(doc.final.referenceAngleDeg < 0.1, `direction error ${doc.final.referenceAngleDeg}`);
  // Log-spaced history: 0, 1, 2, …, 3000.
  assert.deepEqual(doc.history.slice(0, 3).map((h: { step: number }) => h.step), [0, 1, 2]);
  assert.equal(doc.run.version, VERSION);
});

test('the same command twice gives byte-identical output', () => {
  const args = ['train', '--data', 'synthetic:n=30,d=4,margin=0.2,seed=1', '--model', 'relu-mlp', '--width', '6', '--attack', 'pgd', '--eps', '0.05', '--random-start', '--batch-size', '10', '--steps', '200', '--seed', '4', '--json'];
  const a = cli(args);
  const b = cli(args);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
});

test('bad input: exit code 2 and one clear line naming the field, never a stack trace', () => {
  const ragged = join(tmp, 'ragged.json');
  writeFileSync(ragged, JSON.stringify({ X: [[1, 2], [3]], y: [1, -1] }));
  const unknownField = join(tmp, 'bad-config.json');
  writeFileSync(unknownField, JSON.stringify({ stpes: 10 }));
  const wrongRef = join(tmp, 'ref3.json');
  writeFileSync(wrongRef, JSON.stringify({ direction: [1, 2, 3] }));
  const cases: [string[], RegExp][] = [
    [['--eps', '-1'], /--eps -1: must be ≥ 0/],
    [['--p', '0.5'], /--p "0\.5"/],
    [['--model', 'foo'], /--model "foo".*deep-linear/],
    [['--depth', '0'], /--depth 0: must be ≥ 1/],
    [['--steps', 'many'], /--steps "many": expected a number/],
    [['--attack', 'fgsm', '--p', '2', '--eps', '0.1'], /fgsm/i],
    [['--data', join(tmp, 'missing.json')], /cannot read data file .*missing\.json.*no such file/],
    [['--data', ragged], /ragged\.json.*row 2/],
    [['--config', unknownField], /unknown field "stpes"/],
    [['--reference', wrongRef, '--model', 'linear'], /direction has 3 entries.*d = 2/],
    [['--model', 'relu-mlp', '--reference', REF], /reference/],
  ];
  for (const [args, pattern] of cases) {
    // A flag may be given once: cases about --steps give their own.
    const r = cli(['train', ...(args.includes('--steps') ? [] : ['--steps', '5']), ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.equal(r.stdout, '');
  }
  const unknownFlag = cli(['train', '--bogus']);
  assert.equal(unknownFlag.code, 2);
  assert.match(unknownFlag.stderr, /unknown option '--bogus'/);
});

test('--config supplies settings, flags override them; --out writes result.json and history.csv', () => {
  const config = join(tmp, 'run.json');
  // loss-scaled: on S1 it lands on (1,1)/√2 to rounding within 2000 steps (the default `normalized`
  // schedule is 1/t-close there: |β₁ − β₂| ≈ 2e-3, 1 − cos ≈ 2e-6), so the check below stays strict.
  writeFileSync(config, JSON.stringify({ data: 's1', model: 'linear', attack: 'fgm', p: 2, eps: 0.5, steps: 50, record: 'every:1000', schedule: 'loss-scaled' }));
  const out = join(tmp, 'out');
  const r = cli(['train', '--config', config, '--steps', '2000', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /linear .* on s1/);
  const doc = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  assert.equal(doc.config.steps, 2000);
  assert.equal(doc.config.attack, 'fgm');
  assert.deepEqual(doc.history.map((h: { step: number }) => h.step), [0, 1000, 2000]);
  const csv = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 3);
  assert.match(csv[0], /^step,logLoss,/);
  // result.json reruns the same run when given as --config.
  const again = cli(['train', '--config', join(out, 'result.json'), '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).final, doc.final);
  // S1: every p and admissible ε gives the direction (1,1)/√2 (docs/THEORY.md §8).
  assert.ok(Math.abs(doc.final.predictor[0] - doc.final.predictor[1]) < 1e-3, JSON.stringify(doc.final.predictor));
});

test('an interrupted run (SIGINT) writes what it computed and exits 130', async () => {
  const out = join(tmp, 'interrupted');
  const child = spawn(process.execPath, [BIN, 'train', '--data', 's2', '--steps', '100000000', '--record', 'every:1000', '--out', out], { cwd: SCRATCH });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  // Wait until training has recorded a few rows, then interrupt.
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const path = join(out, 'history.csv');
      if (existsSync(path) && readFileSync(path, 'utf8').split('\n').length > 4) {
        clearInterval(poll);
        resolve();
      }
    }, 50);
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  const doc = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  assert.equal(doc.run.interrupted, true);
  assert.ok(doc.final.step > 0 && doc.final.step < 100000000);
  assert.match(stderr, /interrupted/);
});

test('package.json version matches the recorded VERSION', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.version, VERSION);
});
