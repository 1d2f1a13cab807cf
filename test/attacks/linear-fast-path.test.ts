/**
 * For binary linear-in-x models the attacks take ∇_x m = y·β from one predictor evaluation per call
 * instead of a forward/backward per example and PGD step. The perturbations must be bit-identical
 * to the generic path (the same model presented as not linear in x).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createAttack } from '../../src/attacks/index.ts';
import { createModel } from '../../src/models/registry.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import { Rng } from '../../src/linalg/rng.ts';
import type { Model } from '../../src/models/model.ts';
import { MarginEvaluator } from '../../src/metrics/margins.ts';
import { jsKernels } from '../../src/linalg/kernels.ts';

test('FGSM, FGM and PGD on linear-in-x models: the β shortcut gives bit-identical δ', () => {
  const data = syntheticSeparable({ n: 25, d: 6, margin: 0.1, seed: 2 });
  const specs = [
    { kind: 'linear', inputDim: 6 },
    { kind: 'deep-linear', inputDim: 6, depth: 3, width: 5 },
    { kind: 'diagonal', inputDim: 6, depth: 3 },
    { kind: 'diagonal-pm', inputDim: 6, depth: 2 },
    { kind: 'conv', inputDim: 6, depth: 3 },
  ];
  const attacks = [
    { kind: 'fgsm', p: Infinity, eps: 0.1, steps: 1, stepSize: 0.1, randomStart: false },
    { kind: 'fgm', p: 1.5, eps: 0.1, steps: 1, stepSize: 0.1, randomStart: false },
    // FGM/FGSM: δ computed once per label (±1) and copied to the rows.
    { kind: 'fgm', p: 2, eps: 0.1, steps: 1, stepSize: 0.1, randomStart: false },
    { kind: 'fgm', p: 1, eps: 0.1, steps: 1, stepSize: 0.1, randomStart: false },
    { kind: 'fgsm', p: Infinity, eps: 0.3, steps: 1, stepSize: 0.1, randomStart: false, clip: [-0.05, 0.05] },
    { kind: 'pgd', p: 2, eps: 0.1, steps: 7, stepSize: 0.03, randomStart: true },
    { kind: 'pgd', p: Infinity, eps: 0.1, steps: 5, stepSize: 0.03, randomStart: false },
    // PGD without a random start: δ computed once for y = +1 and negated for y = −1.
    { kind: 'pgd', p: 2, eps: 0.1, steps: 6, stepSize: 0.04, randomStart: false },
    { kind: 'pgd', p: 1, eps: 0.1, steps: 4, stepSize: 0.05, randomStart: false },
    { kind: 'pgd', p: 3, eps: 0.1, steps: 4, stepSize: 0.05, randomStart: false },
    { kind: 'pgd', p: Infinity, eps: 0.05, steps: 9, stepSize: 0.02, randomStart: false },
  ] as const;
  for (const spec of specs) {
    const model = createModel(spec);
    // A random θ (diagonal-pm's own init has β = 0, where every δ is 0).
    const rng = new Rng(1);
    const theta = Float64Array.from({ length: model.numParams }, () => rng.normal());
    // A zero coordinate of β (diagonal nets): its δ entries must stay +0, as in the per-row loop.
    if (spec.kind === 'diagonal') theta[2] = 0;
    const generic: Model = { ...model, linearInX: false, predictor: undefined };
    for (const cfg of attacks) {
      const fast = new Float64Array(data.n * data.d);
      const slow = new Float64Array(data.n * data.d);
      createAttack(cfg).perturb(model, theta, data, null, fast, model.createWorkspace(), new Rng(9));
      createAttack(cfg).perturb(generic, theta, data, null, slow, generic.createWorkspace(), new Rng(9));
      assert.deepEqual(Array.from(fast), Array.from(slow), `${spec.kind} ${cfg.kind} p=${cfg.p}`);
      // Signs of zeros too (deepEqual treats −0 and +0 as equal).
      for (let k = 0; k < fast.length; k++) assert.equal(Object.is(fast[k], -0), Object.is(slow[k], -0), `${spec.kind} ${cfg.kind} p=${cfg.p}: sign of zero at ${k}`);
      assert.ok(fast.some((v) => v !== 0));
    }
  }
});

test('the batched ℓ∞ FGSM and PGD paths (sign and clip without branches) match the per-example loop bit for bit', () => {
  const data = syntheticSeparable({ n: 30, d: 7, margin: 0.1, seed: 4 });
  const model = createModel({ kind: 'relu-mlp', inputDim: 7, depth: 3, width: [9, 5] });
  const rng = new Rng(3);
  const theta = Float64Array.from({ length: model.numParams }, () => rng.normal());
  // The same model without its batch methods: every example through forward/backward, one at a time.
  const perExample: Model = { ...model, forwardBatch: undefined, backwardBatch: undefined, createBatchWorkspace: undefined } as unknown as Model;
  const attacks = [
    { kind: 'fgsm', p: Infinity, eps: 0.1, steps: 1, stepSize: 0.1, randomStart: false },
    { kind: 'pgd', p: Infinity, eps: 0.1, steps: 5, stepSize: 0.03, randomStart: false },
    { kind: 'pgd', p: Infinity, eps: 0.02, steps: 8, stepSize: 0.01, randomStart: false },
  ] as const;
  for (const cfg of attacks) {
    const batch = new Float64Array(data.n * data.d);
    const loop = new Float64Array(data.n * data.d);
    createAttack(cfg).perturb(model, theta, data, null, batch, model.createWorkspace(), null);
    createAttack(cfg).perturb(perExample, theta, data, null, loop, perExample.createWorkspace(), null);
    assert.ok(batch.some((v) => v !== 0));
    for (let k = 0; k < batch.length; k++) assert.ok(Object.is(batch[k], loop[k]), `${cfg.kind} eps=${cfg.eps}: entry ${k} ${batch[k]} vs ${loop[k]}`);
  }
});

test('margins and their gradient on the β path: the inline short-row loops equal the kernels’ dot and axpy bit for bit', () => {
  const data = syntheticSeparable({ n: 40, d: 9, margin: 0.1, seed: 5 });
  const model = createModel({ kind: 'deep-linear', inputDim: 9, depth: 3, width: 4 });
  const rng = new Rng(6);
  const theta = Float64Array.from({ length: model.numParams }, () => rng.normal());
  const ev = new MarginEvaluator(model, data);
  const mhat = new Float64Array(data.n);
  ev.margins(theta, data.X, null, mhat);
  const beta = new Float64Array(data.d);
  ev.predictor(theta, beta);
  for (let i = 0; i < data.n; i++) assert.ok(Object.is(mhat[i], data.y[i] * jsKernels.dot(data.d, beta, 0, data.X, i * data.d)), `margin ${i}`);
  // The gradient: β's VJP at v = Σ w_i y_i x_i, v summed by axpy in row order.
  const w = Float64Array.from({ length: data.n }, (_, i) => (i % 7 === 3 ? 0 : 1 / (1 + i)));
  const grad = new Float64Array(model.numParams);
  ev.gradient(theta, data.X, null, w, grad);
  const v = new Float64Array(data.d);
  for (let i = 0; i < data.n; i++) if (w[i] * data.y[i] !== 0) jsKernels.axpy(data.d, w[i] * data.y[i], data.X, i * data.d, v, 0);
  const ws = model.createWorkspace();
  const out = new Float64Array(1);
  const expected = new Float64Array(model.numParams);
  model.forward(theta, v, 0, out, ws);
  model.backward(theta, v, 0, Float64Array.of(1), expected, null, 0, ws);
  for (let k = 0; k < grad.length; k++) assert.ok(Object.is(grad[k], expected[k]), `gradient entry ${k}`);
  assert.ok(grad.some((g) => g !== 0));
});
