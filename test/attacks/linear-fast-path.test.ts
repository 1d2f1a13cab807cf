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
  ] as const;
  for (const spec of specs) {
    const model = createModel(spec);
    // A random θ (diagonal-pm's own init has β = 0, where every δ is 0).
    const rng = new Rng(1);
    const theta = Float64Array.from({ length: model.numParams }, () => rng.normal());
    const generic: Model = { ...model, linearInX: false, predictor: undefined };
    for (const cfg of attacks) {
      const fast = new Float64Array(data.n * data.d);
      const slow = new Float64Array(data.n * data.d);
      createAttack(cfg).perturb(model, theta, data, null, fast, model.createWorkspace(), new Rng(9));
      createAttack(cfg).perturb(generic, theta, data, null, slow, generic.createWorkspace(), new Rng(9));
      assert.deepEqual(Array.from(fast), Array.from(slow), `${spec.kind} ${cfg.kind} p=${cfg.p}`);
      assert.ok(fast.some((v) => v !== 0));
    }
  }
});
