/**
 * `advbias measure` and `train --init-from` through the CLI: a result.json measured again gives its
 * run's `final` bit for bit, `--init-from result.json --steps 0` keeps θ̂, PyTorch exports are measured
 * with numpy's outputs, and bad input exits 2 with one line naming the flag.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOL, assertClose } from '../support/tolerance.ts';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const FIX = join(ROOT, 'test', 'fixtures', 'params');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-measure-'));

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: SCRATCH });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function trainTo(dir: string, args: string[]): Record<string, any> {
  const r = cli(['train', ...args, '--out', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  assert.equal(JSON.stringify(doc), JSON.stringify(JSON.parse(r.stdout)), 'result.json is what --json prints');
  return doc;
}

test('train → result.json → measure gives the run\'s final row bit for bit (deep-linear, PGD with random start, reference, KKT, evaluation)', () => {
  const dir = join(tmp, 'dl');
  const saved = trainTo(dir, ['--data', 's2', '--model', 'deep-linear', '--depth', '3', '--width', '4', '--attack', 'pgd', '--eps', '0.1', '--random-start', '--steps', '300', '--reference', 'auto', '--kkt', 'all', '--eval-eps', '0.05,0.1', '--seed', '5']);
  assert.deepEqual(Object.keys(saved.params), ['model', 'layout', 'thetaUnit', 'logNorm']);
  assert.equal(saved.params.thetaUnit.length, saved.run.model.numParams);
  assert.equal(saved.params.model.order, 3);
  assert.ok(saved.final.kkt && saved.final.referenceAngleDeg !== undefined && saved.final.attackGap !== undefined);
  const r = cli(['measure', '--params', join(dir, 'result.json'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  // Same text = same doubles (shortest round-trip decimals).
  assert.equal(JSON.stringify(m.final), JSON.stringify(saved.final));
  const { attackGap, ...evaluation } = m.evaluation;
  assert.equal(JSON.stringify(evaluation), JSON.stringify(saved.evaluation));
  assert.deepEqual(attackGap.eps, [0, 0.05, 0.1]);
  assert.ok(attackGap.gap.every((g: number) => Math.abs(g) <= TOL.closedForm), `PGD reaches the exact ℓ∞ worst case on a linear predictor: ${attackGap.gap}`);
  assert.equal(m.params.format, 'result.json');
  assert.equal(m.params.logNorm, saved.params.logNorm);
  assert.equal(m.config.eps, 0.1);

  // Human-readable: the same numbers, one summary.
  const h = cli(['measure', '--params', join(dir, 'result.json')]);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /^advbias measure — deep-linear \(L = 3, 28 parameters\) on s2/);
  assert.match(h.stdout, /KKT residuals .*stationarity/);
  assert.match(h.stdout, /PGD attack gap/);

  // --init-from result.json --steps 0 starts exactly at the saved θ̂ (and records where it came from).
  const again = cli(['train', '--config', join(dir, 'result.json'), '--init-from', join(dir, 'result.json'), '--steps', '0', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const doc = JSON.parse(again.stdout);
  assert.deepEqual(doc.params.thetaUnit, saved.params.thetaUnit);
  assert.equal(doc.params.logNorm, saved.params.logNorm);
  assert.equal(doc.final.adversarialNormalizedMargin, saved.final.adversarialNormalizedMargin);
  assert.equal(doc.run.initFrom.format, 'result.json');
  assert.equal(doc.run.initFrom.stepsDone, 300);
});

test('relu-mlp with PGD random starts: measure reproduces final; --init-from continues from the saved point', () => {
  const dir = join(tmp, 'mlp');
  const args = ['--data', 'synthetic:n=20,d=3,margin=0.2,seed=2', '--model', 'relu-mlp', '--width', '5', '--attack', 'pgd', '--p', '2', '--eps', '0.05', '--random-start', '--steps', '60', '--seed', '9'];
  const saved = trainTo(dir, args);
  const m = cli(['measure', '--params', join(dir, 'result.json'), '--json']);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(JSON.stringify(JSON.parse(m.stdout).final), JSON.stringify(saved.final));
  // 60 steps from the saved point are not 60 steps from the random draw.
  const cont = cli(['train', ...args, '--init-from', join(dir, 'result.json'), '--json']);
  assert.equal(cont.code, 0, cont.stderr);
  const c = JSON.parse(cont.stdout);
  assert.equal(c.history[0].logParameterNorm, saved.params.logNorm);
  assert.ok(c.final.logParameterNorm > saved.final.logParameterNorm, 'training goes on growing ‖θ‖');
});

test('measure a PyTorch export: numpy\'s outputs give the margins (relu-mlp, K = 3, float64 safetensors)', () => {
  const fx = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')).fixtures['relu-mlp-safetensors'];
  // Labels chosen so that some examples are right and some wrong.
  const y = fx.f.map((f: number[], i: number) => (i % 2 === 0 ? f.indexOf(Math.max(...f)) : f.indexOf(Math.min(...f))));
  const dataFile = join(tmp, 'k3.json');
  writeFileSync(dataFile, JSON.stringify({ X: fx.X, y }));
  const r = cli(['measure', '--params', join(FIX, 'relu-mlp.safetensors'), '--data', dataFile, '--model', 'relu-mlp', '--depth', '3', '--width', '5,4', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.deepEqual(m.params.tensors.map((t: { name: string }) => t.name), ['layers.4.weight', 'layers.0.weight', 'layers.2.weight']);
  const margins = fx.f.map((f: number[], i: number) => f[y[i]] - Math.max(...f.filter((_: number, j: number) => j !== y[i])));
  const scale = Math.exp(3 * m.params.logNorm);
  assertClose(m.final.normalizedMargin, Math.min(...margins) / scale, TOL.closedForm, 'normalized margin');
  assert.equal(m.final.trainAccuracy, margins.filter((v: number) => v > 0).length / margins.length);
  assert.ok(m.final.trainAccuracy > 0 && m.final.trainAccuracy < 1);
  assert.equal(m.final.step, 0);
  assert.equal(m.final.stepSize, null);
});

test('measure a float32 .npy: the summary says the values were widened; linear-in-x exports get the attack gap', () => {
  const r = cli(['measure', '--params', join(FIX, 'deep-linear-f32.safetensors'), '--data', 's2', '--width', '3', '--attack', 'exact', '--eps', '0.1', '--eval-eps', '0.1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /note +float32 values widened to float64/);
  assert.match(r.stdout, /robust accuracy \(exact worst case/);
  assert.match(r.stdout, /PGD attack gap/);
});

test('bad input: exit code 2 and one line naming the flag', () => {
  const dir = join(tmp, 'bad');
  trainTo(dir, ['--data', 's2', '--model', 'deep-linear', '--width', '3', '--steps', '5']);
  const result = join(dir, 'result.json');
  const cases: [string[], RegExp][] = [
    [['measure', '--data', 's2'], /required option '--params <file>'/],
    [['measure', '--params', join(tmp, 'missing.npy'), '--data', 's2'], /--params ".*missing\.npy": cannot read the file: no such file/],
    [['measure', '--params', join(tmp, 'w.pt'), '--data', 's2'], /--params ".*w\.pt": unsupported file type "\.pt"/],
    [['measure', '--params', join(FIX, 'deep-linear.safetensors')], /--data is required with --params/],
    [['measure', '--params', join(FIX, 'deep-linear.safetensors'), '--data', 's2', '--width', '4'], /--params .*tensor "0\.weight" .*\[3, 2\], the model's W1 needs \[4, 2\]/],
    [['measure', '--params', join(FIX, 'deep-linear-bias.safetensors'), '--data', 's2', '--width', '3'], /--params .*advbias models are bias-free/],
    [['measure', '--params', result, '--width', '4'], /--params .*saved parameters are for "deep-linear".*widths \[3\] in the file, \[4\] for the model/],
    [['train', '--init-from', result, '--width', '4', '--steps', '5'], /--init-from .*saved parameters are for "deep-linear"/],
    [['train', '--init-from', join(tmp, 'missing.json'), '--steps', '5'], /--init-from ".*missing\.json": cannot read the file: no such file/],
    [['train', '--init-from', join(FIX, 'relu-mlp.safetensors'), '--steps', '5'], /--init-from .*3 tensor\(s\)/],
  ];
  for (const [args, pattern] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run advbias --help'));
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], pattern, args.join(' '));
    assert.equal(r.stdout, '');
  }
});
