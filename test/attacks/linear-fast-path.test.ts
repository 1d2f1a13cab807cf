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
