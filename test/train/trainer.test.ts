import test from 'node:test';
import assert from 'node:assert/strict';
import { train, type TrainOptions } from '../../src/train/trainer.ts';
import { createDeepLinear } from '../../src/models/deep-linear.ts';
import { createLinear } from '../../src/models/linear.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { s2 } from '../../src/data/builtin.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import { NonFiniteError, InputError } from '../../src/errors.ts';
import type { AttackConfig } from '../../src/attacks/attack.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import type { Measurement } from '../../src/metrics/measure.ts';
import { Rng } from '../../src/linalg/rng.ts';

const DEG = 180 / Math.PI;
/** docs/THEORY.md §8: S2, deep-linear limit for p = ∞, ε = 0.25 is atan(1/3) = 18.4349°, γ* = 0.79057. */
const U_STAR = new Float64Array([3 / Math.sqrt(10), 1 / Math.sqrt(10)]);
const GAMMA_STAR = Math.sqrt(0.75 ** 2 + 0.25 ** 2);

const exactInf: AttackConfig = { kind: 'exact', p: Infinity, eps: 0.25, steps: 1, stepSize: 1, randomStart: false };

function s2Deep(attack: AttackConfig, steps = 20_000): ReturnType<typeof train> {
  return train({
    model: createDeepLinear({ inputDim: 2, depth: 3, width: 10 }),
    data: s2(),
    attack,
    loss: 'exp',
    schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    steps,
    batchSize: 0,
    initScale: 1,
    seed: 0,
    reference: U_STAR,
  });
}

test('S2, deep-linear L = 3, exact ℓ∞, ε = 0.25, loss-scaled: direction within 0.01° of 18.4349° and alignments > 0.9999 within 2·10⁴ steps', () => {
  const r = s2Deep(exactInf);
  const f = r.final;
  assert.ok(f.referenceAngleDeg! < 0.01, `direction error ${f.referenceAngleDeg}°`);
  const angle = Math.atan2(f.predictor![1], f.predictor![0]) * DEG;
  assert.ok(Math.abs(angle - 18.4349) < 0.01, `angle ${angle}`);
  for (const a of [...f.alignment!.rank1, ...f.alignment!.adjacent, f.alignment!.predictor]) assert.ok(a > 0.9999, `alignment ${a}`);
  for (const s of f.alignment!.layerShares) assert.ok(Math.abs(s - 1 / 3) < 1e-3, `layer share ${s}`);
  // γ̄ → L^{−L/2} γ*(ε) (docs/THEORY.md §4–5).
  const predicted = Math.pow(3, -1.5) * GAMMA_STAR;
  assert.ok(Math.abs(f.adversarialNormalizedMargin - predicted) < 1e-4 * predicted, `γ̄ ${f.adversarialNormalizedMargin} vs ${predicted}`);
  // The exact attack is the worst case: no attack gap.
  assert.ok(Math.abs(f.attackGap!) < 1e-12, `attack gap ${f.attackGap}`);
});

test('the same run with FGSM (and with PGD) reaches the same direction', () => {
  const exact = s2Deep(exactInf);
  for (const kind of ['fgsm', 'pgd'] as const) {
    const r = s2Deep({ ...exactInf, kind, steps: 10, stepSize: 0.25 / 4 });
    assert.ok(r.final.referenceAngleDeg! < 0.01, `${kind}: direction error ${r.final.referenceAngleDeg}°`);
    const between = Math.acos(Math.min(1, exact.final.predictor![0] * r.final.predictor![0] + exact.final.predictor![1] * r.final.predictor![1])) * DEG;
    assert.ok(between < 1e-6, `${kind} vs exact: ${between}°`);
    assert.ok(Math.abs(r.final.attackGap!) < 1e-12, `${kind} attack gap ${r.final.attackGap}`);
  }
});

test('training keeps making progress after the margins pass 2000 (e^{−m} = 0 in float64), with no NaN', () => {
  const r = s2Deep(exactInf, 20_000);
  const firstBig = r.history.findIndex((h) => -h.logLoss > 2000);
  assert.ok(firstBig > 0 && firstBig < r.history.length - 5, `margins passed 2000 at row ${firstBig} of ${r.history.length}`);
  assert.equal(Math.exp(r.history[firstBig].logLoss), 0, 'the loss itself has underflowed');
  const later = r.history.slice(firstBig);
  for (const h of later) for (const [k, v] of Object.entries(h)) if (typeof v === 'number') assert.ok(Number.isFinite(v), `${k} = ${v} at step ${h.step}`);
  // Direction error keeps falling by orders of magnitude after the underflow point.
  const e0 = later[0].referenceOneMinusCos!;
  const e1 = later[later.length - 1].referenceOneMinusCos!;
  assert.ok(e1 < e0 / 100, `1 − cos went from ${e0} to ${e1}`);
  // log-loss keeps decreasing.
  assert.ok(later[later.length - 1].logLoss < later[0].logLoss * 100);
});

test('NaN or Infinity stops the run with an error naming the quantity and the step', () => {
  const base: TrainOptions = {
    model: createDeepLinear({ inputDim: 2, depth: 3, width: 4 }),
    data: s2(),
    attack: exactInf,
    loss: 'exp',
    schedule: { kind: 'loss-scaled', lr: 1e300, decay: 'none', form: 'direct' },
    steps: 10,
    batchSize: 0,
    initScale: 1,
    seed: 1,
  };
  assert.throws(() => train(base), (e: unknown) => e instanceof NonFiniteError && /non-finite parameters at step 1\b/.test(e.message));
  const bad = s2();
  const X = Float64Array.from(bad.X);
  X[0] = NaN;
  assert.throws(() => train({ ...base, schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' }, data: { ...bad, X } }), (e: unknown) => e instanceof NonFiniteError && /margin at step 0/.test(e.message));
});

test('same config and seed give bit-identical results (PGD random start, mini-batch)', () => {
  const data = syntheticSeparable({ n: 40, d: 5, margin: 0.2, seed: 3 });
  const opts: TrainOptions = {
    model: createDeepLinear({ inputDim: 5, depth: 2, width: 6 }),
    data,
    attack: { kind: 'pgd', p: 2, eps: 0.05, steps: 3, stepSize: 0.03, randomStart: true },
    loss: 'logistic',
    schedule: { kind: 'constant', lr: 0.05, decay: 'none', form: 'sphere' },
    steps: 300,
    batchSize: 8,
    initScale: 1,
    seed: 7,
  };
  const a = train(opts);
  const b = train(opts);
  assert.deepEqual(a.history, b.history);
  assert.deepEqual(Array.from(a.theta), Array.from(b.theta));
  const c = train({ ...opts, seed: 8 });
  assert.notDeepEqual(Array.from(a.theta), Array.from(c.theta));
  assert.ok(a.final.logLoss < a.history[0].logLoss, 'mini-batch training lowers the loss');
});

/** A small 3-class set that a bias-free net can fit: class k sits around angle 2πk/3. */
function threeClass(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    const a = (2 * Math.PI * k) / 3 + 0.3 * (rng.uniform() - 0.5);
    const r = 0.5 + rng.uniform();
    X[2 * i] = r * Math.cos(a);
    X[2 * i + 1] = r * Math.sin(a);
    y[i] = k;
  }
  return { name: 'three-class', n, d: 2, X, y, binary: false, classes: 3 };
}

test('K-class ReLU MLP with FGSM: fits the data, adversarial margins below clean ones, γ̄ rises', () => {
  const data = threeClass(30, 1);
  for (const loss of ['exp', 'logistic'] as const) {
    const r = train({
      model: createReluMlp({ inputDim: 2, depth: 2, width: 16, outputs: 3 }),
      data,
      attack: { kind: 'fgsm', p: Infinity, eps: 0.05, steps: 1, stepSize: 1, randomStart: false },
      loss,
      schedule: { kind: 'loss-scaled', lr: 0.2, decay: 'sqrt', form: 'sphere' },
      steps: 2000,
      batchSize: 0,
      initScale: 1,
      seed: 2,
    });
    const f = r.final;
    assert.equal(f.trainAccuracy, 1, `${loss}: accuracy ${f.trainAccuracy}`);
    assert.equal(f.robustAccuracy, 1, `${loss}: robust accuracy ${f.robustAccuracy}`);
    assert.ok(f.adversarialNormalizedMargin > 0 && f.adversarialNormalizedMargin < f.normalizedMargin, `${loss}: γ̄ ${f.adversarialNormalizedMargin} vs clean ${f.normalizedMargin}`);
    const mid = r.history[Math.floor(r.history.length / 2)];
    assert.ok(f.adversarialNormalizedMargin >= mid.adversarialNormalizedMargin, `${loss}: γ̄ rises`);
  }
});

test('loss-based schedule: rollbacks happen and the loss never rises along the accepted steps', () => {
  const rows: Measurement[] = [];
  const r = train({
    model: createLinear(5),
    data: syntheticSeparable({ n: 40, d: 5, margin: 0.1, seed: 3 }),
    attack: { kind: 'fgm', p: 2, eps: 0.02, steps: 1, stepSize: 1, randomStart: false },
    loss: 'logistic',
    schedule: { kind: 'loss-based', lr: 0.1, decay: 'none', form: 'direct' },
    steps: 400,
    batchSize: 0,
    initScale: 1,
    seed: 0,
    record: { kind: 'every', interval: 1 },
    onRecord: (m) => rows.push(m),
  });
  assert.equal(rows.length, r.history.length);
  assert.ok(r.rollbacks > 10, `rollbacks: ${r.rollbacks}`);
  // A rolled-back step is recorded at the rejected point; the accepted points form a non-increasing sequence.
  let best = Infinity;
  let accepted = 0;
  for (const row of rows) {
    if (row.logLoss <= best) {
      best = row.logLoss;
      accepted++;
    }
  }
  assert.ok(accepted > 100, `accepted steps ${accepted}`);
  assert.ok(r.final.logLoss < rows[0].logLoss - 10, `log-loss ${rows[0].logLoss} → ${r.final.logLoss}`);
});

test('bad combinations are refused with InputError naming the field', () => {
  const base: TrainOptions = {
    model: createLinear(3),
    data: s2(),
    attack: exactInf,
    loss: 'exp',
    schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    steps: 1,
    batchSize: 0,
    initScale: 1,
    seed: 0,
  };
  assert.throws(() => train(base), (e: unknown) => e instanceof InputError && e.field === 'data' && /dimension 3/.test(e.message));
  assert.throws(() => train({ ...base, model: createLinear(2), reference: new Float64Array(3) }), (e: unknown) => e instanceof InputError && e.field === 'reference');
  assert.throws(() => train({ ...base, model: createLinear(2), batchSize: 1, schedule: { ...base.schedule, kind: 'loss-based' } }), (e: unknown) => e instanceof InputError && e.field === 'schedule');
});

test('interrupting a run keeps what was computed', () => {
  let calls = 0;
  const r = train({
    model: createLinear(2),
    data: s2(),
    attack: exactInf,
    loss: 'exp',
    schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    steps: 1000,
    batchSize: 0,
    initScale: 1,
    seed: 0,
    shouldStop: () => ++calls > 123,
  });
  assert.equal(r.interrupted, true);
  assert.equal(r.stepsDone, 123);
  assert.equal(r.history[r.history.length - 1].step, 123);
  assert.equal(r.final.step, 123);
});
