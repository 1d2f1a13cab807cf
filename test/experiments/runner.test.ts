import test from 'node:test';
import assert from 'node:assert/strict';
import { expandRuns, evaluate, runExperiment, type RunResult } from '../../src/experiments/runner.ts';
import { parseExperiment } from '../../src/experiments/schema.ts';
import { s2DeepLinearAnswer } from '../../src/experiments/s2-answers.ts';
import { solve } from '../../src/solvers/index.ts';
import { s2 } from '../../src/data/builtin.ts';
import { loadData } from '../../src/node/load-data.ts';
import { InputError } from '../../src/errors.ts';

const base = {
  id: 'test-exp',
  claim: 'C1',
  title: 't',
  description: 'd',
  base: { data: 's2', model: 'deep-linear', depth: 2, width: 4, attack: 'exact', steps: 3000, lr: 0.1 },
  expectations: [{ id: 'e', description: 'direction', metric: 'referenceAngleDeg', op: '<', value: 0.5 }],
};

test('runs: grid × explicit runs; quick overrides change only the settings they name', () => {
  const exp = parseExperiment(
    { ...base, tags: ['target'], grid: { depth: [1, 2] }, runs: [{ p: 'inf', eps: 0.25, target: 'smooth' }, { p: 2, eps: 0.5 }], quick: { base: { steps: 10 }, grid: { depth: [3] } } },
    'test',
  );
  const full = expandRuns(exp, false);
  assert.deepEqual(full.map((r) => r.label), ['L=1 p=inf eps=0.25', 'L=1 p=2 eps=0.5', 'L=2 p=inf eps=0.25', 'L=2 p=2 eps=0.5']);
  assert.equal(full[0].raw.steps, 3000);
  assert.equal(full[0].raw.target, undefined, 'tags are not training settings');
  assert.equal(full[0].params.target, 'smooth');
  const quick = expandRuns(exp, true);
  assert.equal(quick.length, 2);
  assert.equal(quick[0].raw.steps, 10);
  assert.equal(quick[0].raw.data, 's2', 'quick.base must not reset data to a default');
  assert.equal(quick[0].raw.width, 4);
  assert.equal(quick[0].raw.depth, 3);
});

test('experiment configs are validated: unknown settings and fields are named', () => {
  assert.throws(() => parseExperiment({ ...base, base: { stpes: 3 } }, 'x.json'), (e: unknown) => e instanceof InputError && /stpes/.test(e.message));
  assert.throws(() => parseExperiment({ ...base, expectations: [{ id: 'e', description: 'd', metric: 'nope', op: '<', value: 1 }] }, 'x.json'), (e: unknown) => e instanceof InputError && /expectations\.0\.metric/.test(e.message));
  assert.throws(() => parseExperiment({ ...base, extra: 1 }, 'x.json'), InputError);
});

test('evaluate: operators, where-filters, unmeasured metrics and missing runs fail', () => {
  const run = (label: string, params: Record<string, number | string>, metrics: Record<string, number>): RunResult =>
    ({ label, params, metrics }) as unknown as RunResult;
  const runs = [run('a', { p: Infinity, eps: 0.25 }, { referenceAngleDeg: 0.001 }), run('b', { p: 2, eps: 0.5 }, { referenceAngleDeg: 0.3 }), run('c', { p: 1, eps: 1 }, {})];
  const rows = evaluate(
    [
      { id: 'lt', description: 'lt', metric: 'referenceAngleDeg', op: '<', value: 0.01 },
      { id: 'inf', description: 'inf', metric: 'referenceAngleDeg', op: '<', value: 0.01, where: { p: 'inf' } },
      { id: 'ge', description: 'ge', metric: 'referenceAngleDeg', op: '>=', value: 0.3, where: { eps: 0.5 } },
      { id: 'none', description: 'none', metric: 'referenceAngleDeg', op: '<', value: 1, where: { p: 3 } },
    ],
    runs,
  );
  assert.deepEqual(
    rows.map((r) => [r.expectation, r.run, r.pass]),
    [
      ['lt', 'a', true],
      ['lt', 'b', false],
      ['lt', 'c', false],
      ['inf', 'a', true],
      ['ge', 'b', true],
      ['none', '(no matching run)', false],
    ],
  );
  assert.equal(rows[2].measured, null, 'a metric that was not measured fails, it does not pass');
});

test('S2 closed-form answers agree with the adversarial SVM solver (two independent oracles)', async () => {
  for (const [p, eps] of [[2, 0.3], [Infinity, 0.25], [Infinity, 0.75], [1, 0.25], [1, 1]] as const) {
    const ans = s2DeepLinearAnswer(p, eps)!;
    const r = await solve('adversarial-svm', s2(), { p, eps });
    const angle = (Math.atan2(r.direction![1], r.direction![0]) * 180) / Math.PI;
    assert.ok(Math.abs(angle - ans.angleDeg) < 1e-6, `p=${p} ε=${eps}: ${angle} vs ${ans.angleDeg}`);
    assert.ok(Math.abs(r.margin - ans.gamma) < 1e-9, `γ*: ${r.margin} vs ${ans.gamma}`);
  }
  assert.equal(s2DeepLinearAnswer(Infinity, 1), null);
  assert.equal(s2DeepLinearAnswer(1, 1.5), null);
});

test('a small experiment end to end: references, metrics, ε fractions, pass and fail', async () => {
  const exp = parseExperiment(
    {
      ...base,
      grid: { p: ['inf'], epsFraction: [0, 0.25] },
      svmEndpoints: true,
      figures: [{ kind: 'eps-path', id: 'path', title: 'path', angle: 'l2-svm' }],
      expectations: [
        { id: 'ok', description: 'direction', metric: 'referenceAngleDeg', op: '<', value: 0.5 },
        { id: 'impossible', description: 'impossible', metric: 'referenceAngleDeg', op: '<', value: 0 },
      ],
    },
    'test',
  );
  const started: string[] = [];
  const r = await runExperiment(exp, false, { loadData: (s) => loadData(s), onRunStart: (_i, _n, label) => started.push(label) });
  assert.deepEqual(started, ['p=inf epsFraction=0', 'p=inf epsFraction=0.25']);
  assert.equal(r.runs[1].config.eps, 0.25, 'ε = 0.25 · γ₁*(S2) = 0.25');
  assert.equal(r.runs[0].reference!.problem, 'svm', 'clean run: the ℓ2-SVM');
  assert.equal(r.runs[1].reference!.problem, 'adversarial-svm');
  assert.equal(r.runs[1].threshold, 1);
  assert.ok(r.runs.every((x) => x.metrics.referenceAngleDeg! < 0.5));
  assert.ok(r.runs[1].metrics.closedFormAngleErrorDeg! < 0.5);
  assert.ok(r.solverPaths.length === 1 && r.solverPaths[0].points.length > 10);
  assert.equal(r.pass, false);
  assert.deepEqual(r.table.map((t) => t.pass), [true, true, false, false]);
});
