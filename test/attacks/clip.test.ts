/**
 * The optional input box (`clip: [lo, hi]`): perturbed points stay in [lo, hi]^d, the perturbation
 * stays in the ε-ball, FGSM/FGM equal the clamp of their unboxed δ, a box that every point of the
 * ball already satisfies changes nothing, and the exact attack refuses a box (its closed form has none).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAttack, validateAttackConfig } from '../../src/attacks/index.ts';
import type { AttackConfig } from '../../src/attacks/attack.ts';
import type { Model } from '../../src/models/model.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { createDeepLinear } from '../../src/models/deep-linear.ts';
import { lpNorm } from '../../src/linalg/norms.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { InputError } from '../../src/errors.ts';

const N = 8;
const D = 6;

/** Inputs in [0, 1] (pixel-like), half of them at the box's edges so that the box binds. */
function pixelData(seed: number): Dataset {
  const rng = new Rng(seed);
  const X = Float64Array.from({ length: N * D }, (_, k) => (k % 3 === 0 ? 0 : k % 3 === 1 ? 1 : rng.uniform()));
  const y = Int32Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 1 : -1));
  return { name: `pixels:${seed}`, n: N, d: D, X, y, binary: true, classes: 2 };
}

function perturb(cfg: AttackConfig, model: Model, theta: Float64Array, data: Dataset, rng: Rng | null = null): Float64Array {
  const delta = new Float64Array(data.n * data.d);
  createAttack(cfg).perturb(model, theta, data, null, delta, model.createWorkspace(), rng);
  return delta;
}

const models: Array<[string, Model]> = [
  ['relu-mlp', createReluMlp({ inputDim: D, depth: 3, width: 5 })],
  ['deep-linear', createDeepLinear({ inputDim: D, depth: 2, width: 4 })],
];

describe('input box (clip)', () => {
  for (const [name, model] of models) {
    const theta = model.init(new Rng(3), 1);
    const data = pixelData(1);
    for (const p of [Infinity, 2, 1]) {
      for (const kind of ['fgsm', 'fgm', 'pgd'] as const) {
        if (kind === 'fgsm' && p !== Infinity) continue;
        it(`${kind}, p = ${p}, ${name}: x + δ in [0, 1]^d and ‖δ‖_p ≤ ε`, () => {
          const eps = 0.3;
          const boxed = validateAttackConfig({ kind, p, eps, clip: [0, 1], ...(kind === 'pgd' ? { steps: 7, randomStart: true } : {}) });
          const delta = perturb(boxed, model, theta, data, kind === 'pgd' ? new Rng(9) : null);
          let binding = 0;
          for (let i = 0; i < N; i++) {
            const row = delta.subarray(i * D, i * D + D);
            assert.ok(lpNorm(row, p) <= eps * (1 + 1e-12), `row ${i}: ‖δ‖ = ${lpNorm(row, p)}`);
            for (let j = 0; j < D; j++) {
              const v = data.X[i * D + j] + row[j];
              assert.ok(v >= 0 && v <= 1, `x + δ = ${v} at (${i}, ${j})`);
            }
          }
          if (kind !== 'pgd') {
            // One-step attacks: the box is the clamp of the unboxed step, coordinate by coordinate.
            const free = perturb(validateAttackConfig({ kind, p, eps }), model, theta, data);
            for (let k = 0; k < N * D; k++) {
              const x = data.X[k];
              const want = Math.min(Math.max(free[k], 0 - x), 1 - x);
              assert.equal(delta[k], want, `entry ${k}`);
              if (want !== free[k]) binding++;
            }
            assert.ok(binding > 0, 'the box binds somewhere (else this test checks nothing)');
          }
        });
      }
    }
    it(`a box that contains every ball changes nothing (${name}, PGD)`, () => {
      const cfg = { kind: 'pgd', p: 2, eps: 0.3, steps: 5 } as const;
      const free = perturb(validateAttackConfig(cfg), model, theta, data);
      const wide = perturb(validateAttackConfig({ ...cfg, clip: [-10, 10] }), model, theta, data);
      assert.deepEqual(Array.from(wide), Array.from(free));
    });
  }

  it('exact and none refuse a box; lo < hi is required', () => {
    for (const kind of ['exact', 'none']) {
      assert.throws(() => validateAttackConfig({ kind, eps: 0.1, clip: [0, 1] }), (e: unknown) => e instanceof InputError && e.field === 'attack.clip' && e.message.includes(`does not apply to kind ${kind}`));
    }
    assert.throws(() => validateAttackConfig({ kind: 'pgd', eps: 0.1, clip: [1, 1] }), InputError);
    assert.throws(() => validateAttackConfig({ kind: 'pgd', eps: 0.1, clip: [0, Infinity] }), InputError);
  });
});
