import test from 'node:test';
import assert from 'node:assert/strict';
import { marginConstant, runExperiment } from '../../src/experiments/runner.ts';
import { parseExperiment } from '../../src/experiments/schema.ts';
import { experimentFigures } from '../../src/experiments/figures.ts';
import { s2C3Answer } from '../../src/experiments/s2-answers.ts';
import { loadData } from '../../src/node/load-data.ts';
import { s2 } from '../../src/data/builtin.ts';
import { interpolationNormSolve } from '../../src/solvers/interpolation-norm.ts';

const base = {
  id: 'c3-test',
  claim: 'C3',
  title: 't',
  description: 'd',
  base: { data: 's2', attack: 'exact', p: 2, schedule: 'loss-scaled', lr: 0.1, steps: 100000, initScale: 1 },
  expectations: [{ id: 'kkt', description: 'kkt', metric: 'predictorKktResidual', op: '<', value: 1e-3 }],
};

test('marginConstant: L^{−L/2} for product forms (deep linear, diagonal, conv), 1 for linear and the ± form', () => {
  assert.equal(marginConstant('linear', 1), 1);
  assert.equal(marginConstant('diagonal-pm', 3), 1);
  assert.equal(marginConstant('diagonal', 2), 0.5);
  assert.equal(marginConstant('conv', 4), 1 / 16);
  assert.equal(marginConstant('deep-linear', 3), Math.pow(3, -1.5));
});

test('S2 C3 answers agree with the interpolation-norm solver (two independent oracles)', async () => {
  for (const [arch, depth, p, eps] of [['diagonal', 2, 2, 0.75], ['diagonal', 3, 2, 0], ['conv', 2, 2, 0], ['conv', 4, Infinity, 0]] as const) {
    const r = await interpolationNormSolve(s2(), { architecture: arch, depth, p, eps });
    const ans = s2C3Answer(arch, depth, p, eps);
    assert.ok(ans !== null && r.direction);
    assert.ok(Math.abs((Math.atan2(r.direction[1], r.direction[0]) * 180) / Math.PI - ans) < 1e-6, `${arch} L=${depth} ε=${eps}`);
  }
  assert.equal(s2C3Answer('conv', 2, 2, 0.5), null, 'no stated answer');
});

test('a C3 experiment end to end: per-depth references, predictor-space KKT, margins, kernel and bias angles, sweep figure', async () => {
  const exp = parseExperiment(
    {
      ...base,
      grid: { model: ['diagonal-pm', 'conv'], depth: [2, 3] },
      runs: [{ eps: 0 }, { eps: 0.75 }],
      kernelReference: true,
      figures: [{ kind: 'sweep', id: 's', title: 'sweep', x: 'eps', metrics: ['referenceAngleDeg', 'angleToKernelDeg'], groupBy: ['model'], yTitle: 'angle (°)' }],
      expectations: [
        { id: 'kkt', description: 'kkt', metric: 'predictorKktResidual', op: '<', value: 1e-3 },
        { id: 'ratio', description: 'ratio', metric: 'predictorMarginRatio', op: '<=', value: 1.000001 },
        { id: 'impossible', description: 'impossible', metric: 'predictorKktResidual', op: '<', value: 0 },
      ],
    },
    'test',
  );
  const r = await runExperiment(exp, false, { loadData: (s) => loadData(s) });
  assert.equal(r.runs.length, 8);
  for (const run of r.runs) {
    assert.equal(run.reference?.problem, 'interpolation-norm', run.label);
    assert.ok(run.reference?.local && run.reference.local.length >= 1);
    const m = run.metrics;
    assert.ok(m.predictorKktResidual! < 1e-3, `${run.label}: ${m.predictorKktResidual}`);
    assert.ok(Math.abs(m.predictorMarginRatio! - 1) < 1e-3, `${run.label}: ${m.predictorMarginRatio}`);
    assert.ok(Number.isFinite(m.angleToKernelDeg) && Number.isFinite(m.angleToArchitectureBiasDeg) && Number.isFinite(m.finalLogLoss));
    // ± form: γ̄ → Γ* (constant 1); conv: γ̄ → L^{−L/2}Γ*.
    assert.ok(Math.abs(m.marginRatio! - 1) < 1e-2, `${run.label}: marginRatio ${m.marginRatio}`);
  }
  // The reference depends on the depth (diagonal, ε = 0.75: L = 2 → 16.87°, L = 3 → 0°).
  const pick = (model: string, depth: number, eps: number) => r.runs.find((x) => x.params.model === model && x.params.depth === depth && x.params.eps === eps)!;
  const a2 = pick('diagonal-pm', 2, 0.75).reference!.direction;
  const a3 = pick('diagonal-pm', 3, 0.75).reference!.direction;
  assert.ok(Math.abs((Math.atan2(a2[1], a2[0]) * 180) / Math.PI - 16.8745) < 1e-3);
  assert.ok(Math.abs(Math.atan2(a3[1], a3[0])) < 1e-9);
  assert.ok(pick('diagonal-pm', 2, 0.75).metrics.closedFormAngleErrorDeg! < 0.05);
  // ε = 0: the run is at its own bias, and the kernel predictor is the ℓ2-SVM (26.57° from 0°, 18.43° from 45°).
  assert.ok(pick('diagonal-pm', 2, 0).metrics.angleToArchitectureBiasDeg! < 1e-3);
  assert.ok(Math.abs(pick('diagonal-pm', 2, 0).metrics.angleToKernelDeg! - 26.5651) < 1e-2);
  assert.ok(Math.abs(pick('conv', 3, 0).metrics.angleToKernelDeg! - 18.4349) < 1e-2);
  assert.equal(r.pass, false, 'the impossible expectation fails');
  const figs = experimentFigures(exp, r);
  assert.equal(figs.length, 1);
  const names = new Set((figs[0].figure.spec as unknown as { layer: { data: { values: { series: string }[] } }[] }).layer[0].data.values.map((v) => v.series));
  assert.ok(names.size === 4, [...names].join(' | '));
});
