/**
 * Robust-accuracy curves and the attack gap (docs/THEORY.md §4): PGD against the closed-form worst case on
 * linear-in-x models, monotonicity in ε and in the number of restarts, ε = 0 = clean accuracy,
 * determinism and θ-independence of the random starts, a ReLU network whose fragile examples are
 * known by hand, subsets, and validation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attackGapCurve, robustAccuracyCurve, type RobustAccuracyOptions } from '../../src/attacks/evaluate.ts';
import type { Model } from '../../src/models/model.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { createLinear } from '../../src/models/linear.ts';
import { createDeepLinear } from '../../src/models/deep-linear.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import { dualExponent, lpNorm } from '../../src/linalg/norms.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { InputError, NonFiniteError } from '../../src/errors.ts';
import { TOL, assertClose } from '../support/tolerance.ts';

const D = 5;
const EPS = [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8];

/** Separable binary data and a linear θ = w* + noise, so clean accuracy is high but not every margin is large. */
function linearSetup(seed: number): { model: Model; theta: Float64Array; data: Dataset } {
  const data = syntheticSeparable({ n: 30, d: D, margin: 0.1, seed });
  const rng = new Rng(seed + 1000);
  const theta = Float64Array.from(data.plantedDirection, (w) => w + 0.3 * rng.normal());
  return { model: createLinear(D), theta, data };
}

function deepLinearSetup(seed: number): { model: Model; theta: Float64Array; data: Dataset } {
  const data = syntheticSeparable({ n: 30, d: D, margin: 0.1, seed });
  const model = createDeepLinear({ inputDim: D, depth: 3, width: 4 });
  return { model, theta: model.init(new Rng(seed + 2000), 1), data };
}

/** Random-weight ReLU network on random labels: many examples near the boundary. */
function reluSetup(seed: number, outputs = 1): { model: Model; theta: Float64Array; data: Dataset } {
  const rng = new Rng(seed);
  const n = 24;
  const model = createReluMlp({ inputDim: D, depth: 2, width: 8, outputs });
  const X = Float64Array.from({ length: n * D }, () => rng.normal());
  const binary = outputs === 1;
  const y = Int32Array.from({ length: n }, (_, i) => (binary ? (rng.uniform() < 0.5 ? 1 : -1) : i % outputs));
  const data: Dataset = { name: `relu-test:${seed}`, n, d: D, X, y, binary, classes: binary ? 2 : outputs };
  return { model, theta: model.init(rng, 1), data };
}

/**
 * f(x) = relu(x₁) − relu(x₂) (W₁ = I, W₂ = [1, −1]) and two positive examples:
 *  - x = (0.3, 0.1): margin 0.2, ∇_x m = (1, −1); ℓ∞ worst case 0.2 − 2ε (breaks for ε > 0.1),
 *    ℓ2 worst case 0.2 − √2·ε (breaks for ε > 0.1414…);
 *  - x = (0.3, −0.05): margin 0.3, ∇_x m = (1, 0) because ReLU′(−0.05) = 0, so PGD from the clean
 *    point never moves x₂; its ℓ∞ worst case at ε = 0.2 is (0.3 − 0.2) − (−0.05 + 0.2) = −0.05 < 0,
 *    found only by a start with x₂ + δ₂ > 0 (probability 0.375 per uniform start).
 */
function handMadeRelu(): { model: Model; theta: Float64Array; easy: Dataset; masked: Dataset } {
  const model = createReluMlp({ inputDim: 2, depth: 2, width: 2 });
  const theta = Float64Array.from([1, 0, 0, 1, 1, -1]);
  const one = (x: number[], name: string): Dataset => ({ name, n: 1, d: 2, X: Float64Array.from(x), y: Int32Array.from([1]), binary: true, classes: 2 });
  return { model, theta, easy: one([0.3, 0.1], 'easy'), masked: one([0.3, -0.05], 'masked') };
}

function options(p: number, extra: Partial<RobustAccuracyOptions> = {}): RobustAccuracyOptions {
  return { p, epsList: EPS, steps: 10, restarts: 2, seed: 7, ...extra };
}

/** Clean accuracy from forward passes: binary y·f > 0, K-class f_y > max_{j≠y} f_j (a tie is wrong). */
function cleanAccuracy(model: Model, theta: Float64Array, data: Dataset): number {
  const ws = model.createWorkspace();
  const out = new Float64Array(model.outputDim);
  let correct = 0;
  for (let i = 0; i < data.n; i++) {
    model.forward(theta, data.X, i * data.d, out, ws);
    if (data.binary) {
      if (data.y[i] * out[0] > 0) correct++;
    } else if (out.every((v, j) => j === data.y[i] || out[data.y[i]] > v)) correct++;
  }
  return correct / data.n;
}

function assertNonIncreasing(values: readonly number[], what: string): void {
  for (let k = 1; k < values.length; k++) assert.ok(values[k] <= values[k - 1], `${what}: ${values[k - 1]} then ${values[k]} at index ${k} (${values})`);
}

describe('robustAccuracyCurve on linear-in-x models', () => {
  for (const [name, setup] of [['linear', linearSetup], ['deep-linear', deepLinearSetup]] as const) {
    for (const p of [1, 1.5, 2, 3, Infinity]) {
      it(`${name}, p = ${p}: exact = closed form; PGD never finds a margin below it, nor a lower robust accuracy`, () => {
        const { model, theta, data } = setup(11);
        const exact = robustAccuracyCurve(model, theta, data, options(p));
        assert.equal(exact.attack, 'exact');
        assert.equal(exact.steps, 0);
        assert.equal(exact.restarts, 0);
        assert.equal(exact.examples, data.n);
        // Closed form computed here independently, from β read off the model.
        const beta = new Float64Array(D);
        model.predictor!(theta, beta, model.createWorkspace());
        const betaNorm = lpNorm(beta, dualExponent(p));
        EPS.forEach((eps, e) => {
          let robust = 0;
          let min = Infinity;
          for (let i = 0; i < data.n; i++) {
            let f = 0;
            for (let j = 0; j < D; j++) f += beta[j] * data.X[i * D + j];
            const m = data.y[i] * f - eps * betaNorm;
            if (m > 0) robust++;
            min = Math.min(min, m);
          }
          assert.equal(exact.robustAccuracy[e], robust / data.n, `exact RA at ε = ${eps}`);
          assertClose(exact.minMargin[e], min, TOL.closedForm, `exact min margin at ε = ${eps}`);
        });

        const pgd = robustAccuracyCurve(model, theta, data, options(p, { exactWhenLinear: false }));
        assert.equal(pgd.attack, 'pgd');
        assert.equal(pgd.steps, 10);
        assert.equal(pgd.restarts, 2);
        EPS.forEach((eps, e) => {
          assert.ok(pgd.robustAccuracy[e] >= exact.robustAccuracy[e], `ε = ${eps}: PGD ${pgd.robustAccuracy[e]} < exact ${exact.robustAccuracy[e]}`);
          assert.ok(pgd.minMargin[e] >= exact.minMargin[e] - TOL.closedForm * Math.max(1, Math.abs(exact.minMargin[e])), `ε = ${eps}: PGD margin ${pgd.minMargin[e]} below the exact worst case ${exact.minMargin[e]}`);
        });
        assertNonIncreasing(exact.robustAccuracy, 'exact RA');
        assertNonIncreasing(pgd.robustAccuracy, 'PGD RA');
      });
    }

    for (const p of [1, 2, Infinity]) {
      it(`${name}, p = ${p}: PGD with Kα ≥ ε reaches the exact curve (gap 0)`, () => {
        const { model, theta, data } = setup(12);
        const exact = robustAccuracyCurve(model, theta, data, options(p));
        const pgd = robustAccuracyCurve(model, theta, data, options(p, { exactWhenLinear: false }));
        assert.deepEqual(pgd.robustAccuracy, exact.robustAccuracy);
        const gap = attackGapCurve(model, theta, data, options(p));
        assert.deepEqual(gap.exactRobustAccuracy, exact.robustAccuracy);
        assert.deepEqual(gap.pgdRobustAccuracy, pgd.robustAccuracy);
        EPS.forEach((eps, e) => {
          assertClose(gap.pgdMinMargin[e], gap.exactMinMargin[e], TOL.closedForm, `min margins at ε = ${eps}`);
          assert.ok(Math.abs(gap.gap[e]) <= TOL.closedForm, `gap at ε = ${eps}: ${gap.gap[e]}`);
          assert.ok(Math.abs(gap.maxExampleGap[e]) <= TOL.closedForm, `max example gap at ε = ${eps}: ${gap.maxExampleGap[e]}`);
        });
      });
    }
  }

  it('p = 3: PGD falls short of the exact worst case and the gap shows it', () => {
    // PGD's fixed point for 1 < p < ∞, p ≠ 2 is ε·s_p(s_p(−yβ)) ≠ δ* (see createPgd), so the gap is > 0
    // for every ε > 0 as soon as |β_j| are not all equal.
    const { model, theta, data } = linearSetup(13);
    const gap = attackGapCurve(model, theta, data, options(3));
    assert.equal(gap.gap[0], 0, 'ε = 0: both are the clean margin');
    for (let e = 1; e < EPS.length; e++) {
      assert.ok(gap.gap[e] > 1e-6, `ε = ${EPS[e]}: gap ${gap.gap[e]}`);
      assert.ok(gap.maxExampleGap[e] >= gap.gap[e] - TOL.closedForm, `ε = ${EPS[e]}: max example gap ${gap.maxExampleGap[e]} < gap ${gap.gap[e]}`);
    }
    // The shortfall grows with the radius (both margins are affine in ε along fixed directions).
    assertNonIncreasing(gap.gap.map((g) => -g), 'gap');
  });

  it('ε = 0 gives clean accuracy, on both paths', () => {
    const { model, theta, data } = deepLinearSetup(14);
    const clean = cleanAccuracy(model, theta, data);
    assert.ok(clean > 0 && clean < 1, `want a θ with some errors, clean accuracy ${clean}`);
    for (const exactWhenLinear of [true, false]) {
      const r = robustAccuracyCurve(model, theta, data, options(2, { epsList: [0], exactWhenLinear }));
      assert.equal(r.robustAccuracy[0], clean);
    }
  });

  it('K-class data take the PGD path even for a linear model', () => {
    // Depth-1 relu-mlp is the linear map W₁x with 3 outputs: linear in x, but no binary closed form.
    const { data } = reluSetup(15, 3);
    const linear = createReluMlp({ inputDim: D, depth: 1, outputs: 3 });
    const r = robustAccuracyCurve(linear, linear.init(new Rng(3), 1), data, options(2));
    assert.equal(r.attack, 'pgd');
  });
});

describe('robustAccuracyCurve with PGD on ReLU networks', () => {
  for (const outputs of [1, 3]) {
    for (const p of [2, Infinity]) {
      it(`K = ${outputs}, p = ${p}: ε = 0 is clean accuracy, RA non-increasing in ε and in the number of restarts`, () => {
        const { model, theta, data } = reluSetup(20 + outputs, outputs);
        const clean = cleanAccuracy(model, theta, data);
        let previous: number[] | null = null;
        for (let restarts = 0; restarts <= 3; restarts++) {
          const r = robustAccuracyCurve(model, theta, data, options(p, { restarts, steps: 5 }));
          assert.equal(r.attack, 'pgd');
          assert.equal(r.robustAccuracy[0], clean, 'ε = 0');
          assertNonIncreasing(r.robustAccuracy, `RA with ${restarts} restarts`);
          assertNonIncreasing(r.minMargin, `min margin with ${restarts} restarts`);
          if (previous !== null) {
            const prev = previous;
            r.robustAccuracy.forEach((a, e) => assert.ok(a <= prev[e], `ε = ${EPS[e]}: ${restarts} restarts give ${a} > ${prev[e]}`));
          }
          previous = r.robustAccuracy;
        }
        assert.ok(previous![EPS.length - 1] < clean, 'the attack breaks something at the largest ε');
      });
    }
  }

  it('monotone: false evaluates each ε alone and never reports more than clean accuracy', () => {
    const { model, theta, data } = reluSetup(30);
    const clean = cleanAccuracy(model, theta, data);
    const alone = robustAccuracyCurve(model, theta, data, options(Infinity, { monotone: false }));
    const carried = robustAccuracyCurve(model, theta, data, options(Infinity));
    alone.robustAccuracy.forEach((a, e) => {
      assert.ok(a <= clean);
      assert.ok(carried.robustAccuracy[e] <= a, `ε = ${EPS[e]}: carrying tries upward cannot raise RA`);
    });
    // A single ε alone is the same computation whichever way `monotone` is set.
    for (const eps of [0.1, 0.5]) {
      const one = robustAccuracyCurve(model, theta, data, options(Infinity, { epsList: [eps] }));
      assert.equal(one.robustAccuracy[0], alone.robustAccuracy[EPS.indexOf(eps)]);
    }
  });

  it('the ε list may come in any order; results follow it', () => {
    const { model, theta, data } = reluSetup(31);
    const sorted = robustAccuracyCurve(model, theta, data, options(2));
    const order = [3, 0, 6, 1, 5, 2, 4];
    const shuffled = robustAccuracyCurve(model, theta, data, options(2, { epsList: order.map((k) => EPS[k]) }));
    assert.deepEqual(shuffled.eps, order.map((k) => EPS[k]));
    order.forEach((k, e) => {
      assert.equal(shuffled.robustAccuracy[e], sorted.robustAccuracy[k]);
      assert.equal(shuffled.minMargin[e], sorted.minMargin[k]);
    });
  });

  it('finds the misclassification of a known fragile example (ℓ∞ and ℓ2 thresholds 0.1 and 0.1414)', () => {
    const { model, theta, easy } = handMadeRelu();
    const inf = robustAccuracyCurve(model, theta, easy, options(Infinity, { epsList: [0, 0.09, 0.11, 0.3], restarts: 0 }));
    assert.deepEqual(inf.robustAccuracy, [1, 1, 0, 0]);
    assertClose(inf.minMargin[2], 0.2 - 2 * 0.11, TOL.closedForm, 'ℓ∞ worst margin at ε = 0.11');
    const l2 = robustAccuracyCurve(model, theta, easy, options(2, { epsList: [0.14, 0.15], restarts: 0 }));
    assert.deepEqual(l2.robustAccuracy, [1, 0]);
    assertClose(l2.minMargin[1], 0.2 - Math.SQRT2 * 0.15, TOL.closedForm, 'ℓ2 worst margin at ε = 0.15');
  });

  it('random restarts find what PGD from the clean point misses (a dead ReLU masks the gradient)', () => {
    const { model, theta, masked } = handMadeRelu();
    const base = options(Infinity, { epsList: [0.2] });
    const noRestart = robustAccuracyCurve(model, theta, masked, { ...base, restarts: 0 });
    assert.deepEqual(noRestart.robustAccuracy, [1], 'PGD from the clean point cannot see x₂');
    assertClose(noRestart.minMargin[0], 0.1, TOL.closedForm, 'it only lowers x₁');
    const restarted = robustAccuracyCurve(model, theta, masked, { ...base, restarts: 8 });
    assert.deepEqual(restarted.robustAccuracy, [0]);
    assertClose(restarted.minMargin[0], -0.05, TOL.closedForm, 'the ℓ∞ worst case');
  });

  it('is deterministic, and the seed alone picks the random starts', () => {
    const { model, theta, masked } = handMadeRelu();
    const run = (seed: number) => robustAccuracyCurve(model, theta, masked, options(Infinity, { epsList: [0.2], restarts: 1, seed }));
    assert.deepEqual(run(5), run(5));
    // One start breaks the example with probability 0.375: over 16 seeds both outcomes occur.
    const outcomes = new Set(Array.from({ length: 16 }, (_, s) => run(s).robustAccuracy[0]));
    assert.deepEqual([...outcomes].sort(), [0, 1]);

    const { model: m2, theta: t2, data } = reluSetup(32);
    assert.deepEqual(robustAccuracyCurve(m2, t2, data, options(2)), robustAccuracyCurve(m2, t2, data, options(2)));
  });

  it('random starts do not depend on θ: 2θ gives the same RA and margins × 2^L exactly', () => {
    const { model, theta, data } = reluSetup(33);
    const doubled = theta.map((v) => 2 * v);
    for (const p of [1.5, 2, Infinity]) {
      const a = robustAccuracyCurve(model, theta, data, options(p));
      const b = robustAccuracyCurve(model, doubled, data, options(p));
      assert.deepEqual(b.robustAccuracy, a.robustAccuracy, `p = ${p}`);
      assert.deepEqual(b.minMargin, a.minMargin.map((m) => m * 2 ** model.order), `p = ${p}`);
    }
  });
});

describe('subsets and validation', () => {
  it('indices: evaluates exactly those rows, in that order, duplicates counted', () => {
    const { model, theta, data } = reluSetup(40);
    const indices = Int32Array.from([5, 2, 17, 2, 0]);
    const X = new Float64Array(indices.length * D);
    indices.forEach((i, k) => X.set(data.X.subarray(i * D, i * D + D), k * D));
    const sub: Dataset = { ...data, name: 'sub', n: indices.length, X, y: Int32Array.from(indices, (i) => data.y[i]) };
    const viaIndices = robustAccuracyCurve(model, theta, data, options(2, { indices }));
    const viaCopy = robustAccuracyCurve(model, theta, sub, options(2));
    assert.equal(viaIndices.examples, 5);
    assert.deepEqual(viaIndices, viaCopy);

    const lin = linearSetup(41);
    const exactSub = robustAccuracyCurve(lin.model, lin.theta, lin.data, options(2, { indices: Int32Array.from([3]) }));
    assert.equal(exactSub.examples, 1);
    assert.ok(exactSub.robustAccuracy.every((a) => a === 0 || a === 1));
  });

  it('rejects bad options with an InputError naming the field', () => {
    const { model, theta, data } = reluSetup(42);
    // Raw values as parsed JSON could carry them, so typed as unknown fields.
    const cases: [Record<string, unknown>, string][] = [
      [{ p: 0.5 }, 'p'],
      [{ p: NaN }, 'p'],
      [{ epsList: [] }, 'epsList'],
      [{ epsList: [0.1, -0.1] }, 'epsList'],
      [{ epsList: [Infinity] }, 'epsList'],
      [{ steps: 0 }, 'steps'],
      [{ steps: 2.5 }, 'steps'],
      [{ stepSize: 0 }, 'stepSize'],
      [{ restarts: -1 }, 'restarts'],
      [{ restarts: 1.5 }, 'restarts'],
      [{ seed: 0.5 }, 'seed'],
      [{ indices: new Int32Array(0) }, 'indices'],
      [{ indices: Int32Array.from([0, data.n]) }, 'indices'],
      [{ indices: Int32Array.from([-1]) }, 'indices'],
      [{ exactWhenLinear: 'yes' }, 'exactWhenLinear'],
      [{ monotone: 1 }, 'monotone'],
    ];
    for (const [bad, field] of cases) {
      assert.throws(
        () => robustAccuracyCurve(model, theta, data, options(2, bad as unknown as Partial<RobustAccuracyOptions>)),
        (e: unknown) => e instanceof InputError && e.field === field && e.message.includes(field),
        `${JSON.stringify(bad)} should be rejected as ${field}`,
      );
    }
    assert.throws(() => robustAccuracyCurve(model, theta.subarray(1), data, options(2)), (e: unknown) => e instanceof InputError && e.field === 'theta');
    assert.throws(() => robustAccuracyCurve(createLinear(D + 1), new Float64Array(D + 1), data, options(2)), (e: unknown) => e instanceof InputError && e.field === 'model');
  });

  it('attackGapCurve needs a closed form; a NaN θ stops with NonFiniteError', () => {
    const { model, theta, data } = reluSetup(43);
    assert.throws(() => attackGapCurve(model, theta, data, options(2)), (e: unknown) => e instanceof InputError && e.field === 'model');
    const nanTheta = theta.slice();
    nanTheta[0] = NaN;
    assert.throws(() => robustAccuracyCurve(model, nanTheta, data, options(2)), NonFiniteError);
    const lin = linearSetup(44);
    assert.throws(() => robustAccuracyCurve(lin.model, lin.theta.map(() => NaN), lin.data, options(2)), NonFiniteError);
  });
});
