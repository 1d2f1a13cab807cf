import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-c3-'));

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: SCRATCH });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('train --reference auto on diagonal and conv models: the interpolation-norm solution of C3 (S2 answers of docs/THEORY.md §8)', () => {
  const diag = cli(['train', '--data', 's2', '--model', 'diagonal', '--depth', '2', '--attack', 'exact', '--p', '2', '--eps', '0.75', '--steps', '100000', '--init-scale', '1', '--reference', 'auto', '--json']);
  assert.equal(diag.code, 0, diag.stderr);
  const doc = JSON.parse(diag.stdout);
  assert.equal(doc.run.reference.problem, 'interpolation-norm');
  const angle = (u: number[]): number => (Math.atan2(u[1], u[0]) * 180) / Math.PI;
  assert.ok(Math.abs(angle(doc.run.reference.direction) - 16.8744942979443) < 1e-6, `${angle(doc.run.reference.direction)}`);
  assert.ok(doc.final.referenceAngleDeg < 0.01, `${doc.final.referenceAngleDeg}`);
  assert.ok(Math.abs(angle(doc.final.predictor) - 16.8745) < 0.01, 'the must-show of issue 5');
  const conv = cli(['train', '--data', 's2', '--model', 'conv', '--depth', '3', '--steps', '20000', '--reference', 'auto', '--json']);
  assert.equal(conv.code, 0, conv.stderr);
  const c = JSON.parse(conv.stdout);
  assert.equal(c.run.reference.problem, 'interpolation-norm');
  assert.ok(Math.abs(angle(c.run.reference.direction) - 45) < 1e-9);
  assert.ok(c.final.referenceAngleDeg < 0.01, `${c.final.referenceAngleDeg}`);
});

test('train --reference auto, diagonal and diagonal-pm: the C3 reference is the HiGHS LP (L = 2, p = ∞, 150 × 30) and HiGHS IRL1 (L = 3, p = 1, S2)', () => {
  // synthetic 150 × 30 (seed 2), ε = ½γ_q*: the set on which the SCS solver used before ran into its iteration limit.
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/interpolation-norm/synthetic-n150-d30.lp.json'), 'utf8')) as { problems: { p: string; fraction: number; eps: number; value: number }[] };
  const pr = fixture.problems.find((x) => x.p === 'inf' && x.fraction === 0.5)!;
  for (const model of ['diagonal', 'diagonal-pm']) {
    const r = cli(['train', '--data', 'synthetic:n=150,d=30,margin=0.1,seed=2', '--model', model, '--depth', '2', '--attack', 'exact', '--p', 'inf', '--eps', String(pr.eps), '--steps', '10', '--reference', 'auto', '--no-store', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ref = JSON.parse(r.stdout).run.reference;
    assert.equal(ref.problem, 'interpolation-norm');
    assert.equal(ref.status, 'optimal');
    assert.equal(ref.solver, 'highs', model);
    assert.ok(Math.abs(1 / ref.margin - pr.value) / pr.value <= 1e-7, `${model}: 1/margin ${1 / ref.margin} vs cvxopt ${pr.value}`);
  }
  const deep = cli(['train', '--data', 's2', '--model', 'diagonal', '--depth', '3', '--attack', 'exact', '--p', '1', '--eps', '0.75', '--steps', '10', '--reference', 'auto', '--no-store', '--json']);
  assert.equal(deep.code, 0, deep.stderr);
  assert.equal(JSON.parse(deep.stdout).run.reference.solver, 'highs-irl1');
});

test('reproduce c3 --quick passes with the built-in experiments; the must-shows of issue 5 are in summary.json', () => {
  const out = join(tmp, 'quick');
  const r = cli(['reproduce', 'c3', '--quick', '--out', out, '--store', join(tmp, 'store.sqlite')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.pass, true);
  const ids = summary.experiments.map((e: { id: string }) => e.id);
  for (const id of ['c3-s2-table', 'c3-eps-path-s2', 'c3-init-scale', 'c3-kkt-points', 'c3-synthetic']) assert.ok(ids.includes(id), id);
  type Row = { expectation: string; run: string; measured: number; pass: boolean };
  const table = summary.experiments.find((e: { id: string }) => e.id === 'c3-s2-table').expectations as Row[];
  const must = table.filter((x) => x.expectation === 'diagonal-16.8745');
  assert.equal(must.length, 2);
  assert.ok(must.every((x) => x.pass && x.measured < 0.01));
  const eps0 = table.filter((x) => x.expectation === 'eps0-closed-form');
  assert.ok(eps0.some((x) => /deep-linear/.test(x.run)) && eps0.some((x) => /diagonal/.test(x.run)) && eps0.some((x) => /conv/.test(x.run)));
  // L ≥ 3: every trained run's predictor-space KKT residual is below 1e-3.
  const path = summary.experiments.find((e: { id: string }) => e.id === 'c3-eps-path-s2').expectations as Row[];
  const deep = path.filter((x) => x.expectation === 'kkt-L3');
  assert.ok(deep.length >= 6 && deep.every((x) => x.pass && x.measured < 1e-3));
});
