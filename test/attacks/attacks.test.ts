/**
 * Attacks checked against their optimality conditions (docs/THEORY.md §3, STYLE "Tests that check the
 * theory"): the steepest-ascent map, ⟨−∇_x m, δ⟩ = ε‖∇_x m‖_q for FGM/FGSM, the exact worst case on
 * linear-in-x models, scale invariance δ(cθ) = δ(θ), ε = 0, PGD feasibility and determinism, K-class
 * margins, and the validation messages.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createAttack, marginInputGradient, MarginScratch, validateAttackConfig } from '../../src/attacks/index.ts';
import type { AttackConfig } from '../../src/attacks/attack.ts';
import type { Model } from '../../src/models/model.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { createLinear } from '../../src/models/linear.ts';
import { createDeepLinear } from '../../src/models/deep-linear.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { dualExponent, lpNorm, steepestAscent } from '../../src/linalg/norms.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { InputError } from '../../src/errors.ts';
import { TOL, assertAllClose, assertClose } from '../support/tolerance.ts';

const PS = [1, 1.5, 2, 3, Infinity];
const N = 6;
const D = 5;
/** Fills δ before an attack runs, so that rows the attack must write are seen to be written. */
const SENTINEL = 7;

function makeData(seed: number, classes: number, n = N, d = D): Dataset {
  const rng = new Rng(seed);
  const X = Float64Array.from({ length: n * d }, () => rng.normal());
  const binary = classes === 2;
  const y = Int32Array.from({ length: n }, (_, i) => (binary ? (i % 2 === 0 ? 1 : -1) : i % classes));
  return { name: `test:${seed}`, n, d, X, y, binary, classes };
}

function config(kind: AttackConfig['kind'], p: number, eps: number, extra: Partial<AttackConfig> = {}): AttackConfig {
  return validateAttackConfig({ kind, p, eps, ...extra });
}

/** δ for all rows, starting from a sentinel-filled buffer. */
function perturbAll(cfg: AttackConfig, model: Model, theta: Float64Array, data: Dataset, rng: Rng | null = null): Float64Array {
  const delta = new Float64Array(data.n * data.d).fill(SENTINEL);
  createAttack(cfg).perturb(model, theta, data, null, delta, model.createWorkspace(), rng);
  return delta;
}

/**
 * Margin and its input gradient computed directly from forward/backward, independently of the
 * attack code: binary m = y f, K-class m = f_y − f_{j*} (first maximizing j ≠ y).
 */
function referenceMargin(model: Model, theta: Float64Array, x: Float64Array, label: number, binary: boolean): { m: number; g: Float64Array } {
  const ws = model.createWorkspace();
  const K = model.outputDim;
  const out = new Float64Array(K);
  model.forward(theta, x, 0, out, ws);
  const dOut = new Float64Array(K);
  let m: number;
  if (binary) {
    dOut[0] = label;
    m = label * out[0];
  } else {
    let jStar = -1;
    for (let j = 0; j < K; j++) if (j !== label && (jStar < 0 || out[j] > out[jStar])) jStar = j;
    dOut[label] = 1;
    dOut[jStar] = -1;
    m = out[label] - out[jStar];
  }
  const g = new Float64Array(x.length);
  model.backward(theta, x, 0, dOut, null, g, 0, ws);
  return { m, g };
}

function row(a: Float64Array, i: number, d: number): Float64Array {
  return a.slice(i * d, i * d + d);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

function withRow(data: Dataset, i: number, delta: Float64Array | null): Float64Array {
  const x = row(data.X, i, data.d);
  if (delta) for (let j = 0; j < data.d; j++) x[j] += delta[i * data.d + j];
  return x;
}

/** A binary ReLU net, a 3-class ReLU net and a linear model, each with fixed seeded θ. */
function nonlinearCases(): { name: string; model: Model; theta: Float64Array; data: Dataset }[] {
  const binary = createReluMlp({ inputDim: D, depth: 3, width: 7 });
  const multi = createReluMlp({ inputDim: D, depth: 3, width: [7, 4], outputs: 3 });
  const linear = createLinear(D);
  return [
    { name: 'relu-mlp binary', model: binary, theta: binary.init(new Rng(1), 1), data: makeData(11, 2) },
    { name: 'relu-mlp 3-class', model: multi, theta: multi.init(new Rng(2), 1), data: makeData(12, 3) },
    { name: 'linear', model: linear, theta: linear.init(new Rng(3), 1), data: makeData(13, 2) },
  ];
}

describe('steepest-ascent map s_p', () => {
  for (const p of PS) {
    it(`p = ${p}: ⟨g, s_p(g)⟩ = ‖g‖_q and ‖s_p(g)‖_p ≤ 1; g = 0 gives 0`, () => {
      const q = dualExponent(p);
      fc.assert(
        fc.property(
          fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: -200, max: 200 }),
          (entries, exponent) => {
            // Scales from 2^−200 to 2^200: s_p must neither overflow nor underflow.
            const g = Float64Array.from(entries, (v) => v * Math.pow(2, exponent));
            const s = new Float64Array(g.length);
            steepestAscent(g, p, s);
            assert.ok(s.every(Number.isFinite));
            assert.ok(lpNorm(s, p) <= 1 + TOL.closedForm, `‖s‖_p = ${lpNorm(s, p)}`);
            const gq = lpNorm(g, q);
            // Compare ⟨g, s⟩/‖g‖_q with 1 so that the tolerance is scale-free.
            if (gq > 0) assertClose(dot(g, s) / gq, 1, TOL.closedForm, '⟨g, s_p(g)⟩/‖g‖_q');
            else assert.ok(s.every((v) => v === 0));
          },
        ),
        { seed: 42, numRuns: 200 },
      );
      const zero = new Float64Array(4);
      const s = new Float64Array(4).fill(SENTINEL);
      steepestAscent(zero, p, s);
      assert.deepEqual(s, new Float64Array(4));
    });
  }
});

describe('FGM and FGSM are optimal one-step attacks on the margin', () => {
  for (const c of nonlinearCases()) {
    for (const p of PS) {
      for (const kind of p === Infinity ? (['fgm', 'fgsm'] as const) : (['fgm'] as const)) {
        it(`${kind}, p = ${p}, ${c.name}: ⟨−∇_x m, δ⟩ = ε‖∇_x m‖_q and ‖δ‖_p ≤ ε`, () => {
          const eps = 0.3;
          const q = dualExponent(p);
          const delta = perturbAll(config(kind, p, eps), c.model, c.theta, c.data);
          for (let i = 0; i < c.data.n; i++) {
            const { g } = referenceMargin(c.model, c.theta, row(c.data.X, i, D), c.data.y[i], c.data.binary);
            const di = row(delta, i, D);
            assert.ok(lpNorm(di, p) <= eps * (1 + TOL.closedForm), `‖δ‖_p = ${lpNorm(di, p)}`);
            assertClose(-dot(g, di), eps * lpNorm(g, q), TOL.closedForm, `row ${i}: ⟨−∇m, δ⟩`);
          }
        });
      }
    }
  }
});

describe('on linear-in-x models every attack reaches the exact worst case y⟨β, x⟩ − ε‖β‖_q', () => {
  const linear = createLinear(D);
  const deep = createDeepLinear({ inputDim: D, depth: 3, width: 4 });
  const data = makeData(21, 2);
  const eps = 0.4;
  const attacks: { label: string; cfg: (p: number) => AttackConfig; ps: number[] }[] = [
    { label: 'exact', cfg: (p) => config('exact', p, eps), ps: PS },
    { label: 'fgsm', cfg: () => config('fgsm', Infinity, eps), ps: [Infinity] },
    { label: 'fgm', cfg: (p) => config('fgm', p, eps), ps: PS },
    // p ∈ {1, 2, ∞}: the direction s = s_p(−yβ) is constant and Π(t·s) = ε·s for t ≥ ε, so any Kα ≥ ε works.
    { label: 'pgd Kα = 1.5ε', cfg: (p) => config('pgd', p, eps, { steps: 5, stepSize: 0.3 * eps }), ps: [1, 2, Infinity] },
    // Other p: the Euclidean projection of t·s onto the ℓp ball is not ε·s (and PGD's fixed point is
    // ε·s_p(s), see below), so take Kα = ε: the iterates k·α·s stay inside and the last one is ε·s.
    { label: 'pgd Kα = ε', cfg: (p) => config('pgd', p, eps, { steps: 4, stepSize: eps / 4 }), ps: PS },
  ];
  for (const { name, model } of [
    { name: 'linear', model: linear },
    { name: 'deep-linear L = 3', model: deep },
  ]) {
    const theta = model.init(new Rng(4), 1);
    const beta = new Float64Array(D);
    model.predictor!(theta, beta, model.createWorkspace());
    for (const a of attacks) {
      for (const p of a.ps) {
        it(`${a.label}, p = ${p}, ${name}`, () => {
          const delta = perturbAll(a.cfg(p), model, theta, data);
          const penalty = eps * lpNorm(beta, dualExponent(p));
          for (let i = 0; i < data.n; i++) {
            const y = data.y[i];
            const robust = y * dot(beta, withRow(data, i, delta));
            assertClose(robust, y * dot(beta, withRow(data, i, null)) - penalty, TOL.closedForm, `row ${i}`);
          }
        });
      }
    }
  }

  it('PGD with Kα > ε for p = 3 converges to ε·s_p(s), s = s_p(−yβ): not the worst case (why Kα = ε above)', () => {
    // δ = Π(δ + α s) has the fixed point argmax_{‖δ‖_p ≤ ε} ⟨s, δ⟩ = ε s_p(s), and s_p(s_p(g)) ≠ s_p(g)
    // unless p ∈ {1, 2, ∞}. Documented in pgd.ts; this pins the behaviour down.
    const p = 3;
    const theta = linear.init(new Rng(5), 1);
    const delta = perturbAll(config('pgd', p, eps, { steps: 400, stepSize: 0.1 * eps }), linear, theta, data);
    const s = new Float64Array(D);
    const fixed = new Float64Array(D);
    for (let i = 0; i < data.n; i++) {
      const y = data.y[i];
      steepestAscent(theta.map((b) => -y * b), p, s);
      steepestAscent(s, p, fixed);
      assertAllClose(row(delta, i, D), fixed.map((v) => eps * v), TOL.rootFind, `row ${i}`);
      const worst = y * dot(theta, withRow(data, i, null)) - eps * lpNorm(theta, dualExponent(p));
      assert.ok(y * dot(theta, withRow(data, i, delta)) > worst, 'strictly weaker than the exact attack');
    }
  });
});

describe('scale invariance δ(cθ) = δ(θ)', () => {
  const kinds: { label: string; cfg: AttackConfig; random?: boolean }[] = [
    { label: 'fgsm', cfg: config('fgsm', Infinity, 0.2) },
    ...PS.map((p) => ({ label: `fgm p=${p}`, cfg: config('fgm', p, 0.2) })),
    ...[1, 2, 3, Infinity].map((p) => ({ label: `pgd p=${p}`, cfg: config('pgd', p, 0.2, { steps: 5, randomStart: true }), random: true })),
  ];
  for (const c of nonlinearCases()) {
    const exact = PS.map((p) => ({ label: `exact p=${p}`, cfg: config('exact', p, 0.2), random: false }));
    const cases = c.name === 'linear' ? [...kinds, ...exact] : kinds;
    for (const k of cases) {
      it(`${k.label}, ${c.name}: bit-exact for c = 2, to rounding for c = 3.7`, () => {
        const rng = () => (k.random ? new Rng(99) : null);
        const base = perturbAll(k.cfg, c.model, c.theta, c.data, rng());
        // f(2θ) = 2^L f(θ) exactly (powers of two are exact), so ∇_x m scales exactly and s_p, which
        // normalizes by max|g| first, returns the same bits.
        const twice = perturbAll(k.cfg, c.model, c.theta.map((v) => 2 * v), c.data, rng());
        assert.deepEqual(twice, base);
        const other = perturbAll(k.cfg, c.model, c.theta.map((v) => 3.7 * v), c.data, rng());
        assertAllClose(other, base, TOL.closedForm, 'δ(3.7θ)');
      });
    }
  }
});

describe('ε = 0 gives the clean input', () => {
  for (const c of nonlinearCases()) {
    const kinds: AttackConfig[] = [
      config('none', 2, 0),
      config('fgsm', Infinity, 0),
      ...PS.map((p) => config('fgm', p, 0)),
      ...PS.map((p) => config('pgd', p, 0, { steps: 3, randomStart: true })),
      ...(c.name === 'linear' ? PS.map((p) => config('exact', p, 0)) : []),
    ];
    it(`${c.name}: δ = 0 (positive zeros) for none, fgsm, fgm, pgd${c.name === 'linear' ? ', exact' : ''}`, () => {
      for (const cfg of kinds) {
        const delta = perturbAll(cfg, c.model, c.theta, c.data, new Rng(1));
        assert.deepEqual(delta, new Float64Array(delta.length), `${cfg.kind} p=${cfg.p}`);
      }
    });
  }
});

describe('PGD', () => {
  const model = createReluMlp({ inputDim: D, depth: 3, width: [7, 4], outputs: 3 });
  const theta = model.init(new Rng(6), 1);
  const data = makeData(31, 3);

  for (const p of PS) {
    it(`p = ${p}: every iterate stays in the ball (random start, K = 1..6)`, () => {
      const eps = 0.25;
      for (let K = 1; K <= 6; K++) {
        // Iterate k of a K-step run is the result of a k-step run with the same seed.
        const delta = perturbAll(config('pgd', p, eps, { steps: K, stepSize: 0.2, randomStart: true }), model, theta, data, new Rng(5));
        for (let i = 0; i < data.n; i++) {
          const n = lpNorm(row(delta, i, D), p);
          assert.ok(n <= eps * (1 + TOL.closedForm), `K=${K} row ${i}: ‖δ‖_p = ${n}`);
        }
      }
    });
  }

  it('the random start is a deterministic function of the seed; rng = null with randomStart is a programming error', () => {
    const cfg = config('pgd', 2, 0.3, { steps: 3, randomStart: true });
    const a = perturbAll(cfg, model, theta, data, new Rng(7));
    const b = perturbAll(cfg, model, theta, data, new Rng(7));
    const c = perturbAll(cfg, model, theta, data, new Rng(8));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.throws(
      () => perturbAll(cfg, model, theta, data, null),
      (e: unknown) => e instanceof Error && !(e instanceof InputError) && /randomStart/.test(e.message),
    );
    // Without a random start the rng is not needed and not used.
    const plain = config('pgd', 2, 0.3, { steps: 3 });
    assert.deepEqual(perturbAll(plain, model, theta, data, null), perturbAll(plain, model, theta, data, new Rng(1)));
  });
});

describe('margins', () => {
  for (const classes of [2, 3]) {
    it(`${classes === 2 ? 'binary' : '3-class'}: every attack decreases the margin, m(x + δ) < m(x)`, () => {
      const model = createReluMlp({ inputDim: D, depth: 3, width: 8, outputs: classes === 2 ? 1 : classes });
      const theta = model.init(new Rng(40 + classes), 1);
      const data = makeData(50 + classes, classes, 12);
      const eps = 1e-3; // small: first order, the margin drops by ≈ ε‖∇_x m‖_q
      const cfgs = [
        config('fgsm', Infinity, eps),
        ...PS.map((p) => config('fgm', p, eps)),
        ...[1, 2, 3, Infinity].map((p) => config('pgd', p, eps, { steps: 5 })),
      ];
      for (const cfg of cfgs) {
        const delta = perturbAll(cfg, model, theta, data);
        for (let i = 0; i < data.n; i++) {
          const clean = referenceMargin(model, theta, withRow(data, i, null), data.y[i], data.binary);
          const adv = referenceMargin(model, theta, withRow(data, i, delta), data.y[i], data.binary);
          assert.ok(clean.g.some((v) => v !== 0), 'test data should have a nonzero margin gradient');
          assert.ok(adv.m < clean.m, `${cfg.kind} p=${cfg.p} row ${i}: ${adv.m} ≥ ${clean.m}`);
        }
      }
    });
  }

  it('K-class ties pick the FIRST maximizing j ≠ y', () => {
    // One linear layer W (rows = classes): f = W x. With x = (1, 1) classes 1 and 2 tie.
    const model = createReluMlp({ inputDim: 2, depth: 1, outputs: 3 });
    const theta = Float64Array.from([0, 0, 1, 0, 0, 1]);
    const s = new MarginScratch();
    s.ensure(2, 3);
    const ws = model.createWorkspace();
    const x = Float64Array.from([1, 1]);
    const m = marginInputGradient(model, theta, x, 0, 0, false, s, ws);
    assert.equal(m, -1);
    assert.deepEqual(Array.from(s.grad.subarray(0, 2)), [-1, 0]); // ∇(f_0 − f_1) = W_0 − W_1
    // With y = 1, classes 0 and 2 tie at 2: j* = 0.
    const theta2 = Float64Array.from([1, 1, 0, 0, 2, 0]);
    const m2 = marginInputGradient(model, theta2, Float64Array.from([1, 1]), 0, 1, false, s, ws);
    assert.equal(m2, -2);
    assert.deepEqual(Array.from(s.grad.subarray(0, 2)), [-1, -1]); // W_1 − W_0
  });
});

describe('rows, models and data', () => {
  const model = createReluMlp({ inputDim: D, depth: 2, width: 6 });
  const theta = model.init(new Rng(8), 1);
  const data = makeData(61, 2);

  it('only the listed rows are written, with the same values as a full pass', () => {
    for (const cfg of [config('fgm', 3, 0.2), config('pgd', Infinity, 0.2, { steps: 3 }), config('none', 2, 0)]) {
      const full = perturbAll(cfg, model, theta, data);
      const delta = new Float64Array(N * D).fill(SENTINEL);
      const indices = Int32Array.from([4, 1]);
      createAttack(cfg).perturb(model, theta, data, indices, delta, model.createWorkspace(), null);
      for (let i = 0; i < N; i++) {
        const expected = i === 4 || i === 1 ? row(full, i, D) : new Float64Array(D).fill(SENTINEL);
        assert.deepEqual(row(delta, i, D), expected, `${cfg.kind} row ${i}`);
      }
    }
  });

  it('exact rejects models that are not linear in x, naming the model', () => {
    assert.throws(
      () => perturbAll(config('exact', 2, 0.1), model, theta, data),
      (e: unknown) => e instanceof InputError && /relu-mlp/.test(e.message) && !e.message.includes('\n'),
    );
  });

  it('a model whose outputs do not fit the labels is an InputError', () => {
    const multi = createReluMlp({ inputDim: D, depth: 2, width: 6, outputs: 3 });
    assert.throws(() => perturbAll(config('fgm', 2, 0.1), multi, multi.init(new Rng(1), 1), data), InputError);
    assert.throws(() => perturbAll(config('pgd', 2, 0.1), model, theta, makeData(1, 3)), InputError);
    assert.throws(() => perturbAll(config('fgsm', Infinity, 0.1), createLinear(D + 1), new Float64Array(D + 1), data), InputError);
  });
});

describe('validateAttackConfig', () => {
  it('fills documented defaults, accepts "inf", and is idempotent', () => {
    assert.deepEqual(validateAttackConfig({ kind: 'fgsm', eps: 0.1 }), { kind: 'fgsm', p: Infinity, eps: 0.1, steps: 1, stepSize: 0.1, randomStart: false, clip: null });
    assert.deepEqual(validateAttackConfig({ kind: 'pgd', eps: 0.1 }), { kind: 'pgd', p: 2, eps: 0.1, steps: 10, stepSize: 0.025, randomStart: false, clip: null });
    assert.deepEqual(validateAttackConfig({ kind: 'none' }), { kind: 'none', p: 2, eps: 0, steps: 1, stepSize: 1, randomStart: false, clip: null });
    assert.equal(validateAttackConfig({ kind: 'fgm', p: 'inf', eps: 1 }).p, Infinity);
    assert.equal(validateAttackConfig({ kind: 'fgsm', p: '∞', eps: 1 }).p, Infinity);
    for (const raw of [{ kind: 'pgd', p: 3, eps: 0.5, steps: 7, randomStart: true }, { kind: 'exact', p: 1, eps: 0.2 }, { kind: 'fgm', eps: 0 }]) {
      const once = validateAttackConfig(raw);
      assert.deepEqual(validateAttackConfig(once), once);
    }
  });

  const bad: [unknown, string, string][] = [
    [null, 'attack', 'null'],
    [[1], 'attack', '[1]'],
    [{ eps: 0.1 }, 'attack.kind', 'undefined'],
    [{ kind: 'cw', eps: 0.1 }, 'attack.kind', '"cw"'],
    [{ kind: 'fgm', eps: -1 }, 'attack.eps', '-1'],
    [{ kind: 'fgm', eps: NaN }, 'attack.eps', 'NaN'],
    [{ kind: 'fgm', eps: Infinity }, 'attack.eps', 'Infinity'],
    [{ kind: 'fgm', eps: '0.1' }, 'attack.eps', '"0.1"'],
    [{ kind: 'fgm' }, 'attack.eps', 'undefined'],
    [{ kind: 'fgm', eps: 0.1, p: 0.5 }, 'attack.p', '0.5'],
    [{ kind: 'fgm', eps: 0.1, p: NaN }, 'attack.p', 'NaN'],
    [{ kind: 'fgm', eps: 0.1, p: 'two' }, 'attack.p', '"two"'],
    [{ kind: 'fgsm', eps: 0.1, p: 2 }, 'attack.p', '2'],
    [{ kind: 'pgd', eps: 0.1, steps: 0 }, 'attack.steps', '0'],
    [{ kind: 'pgd', eps: 0.1, steps: 2.5 }, 'attack.steps', '2.5'],
    [{ kind: 'pgd', eps: 0.1, stepSize: 0 }, 'attack.stepSize', '0'],
    [{ kind: 'pgd', eps: 0.1, stepSize: -0.1 }, 'attack.stepSize', '-0.1'],
    [{ kind: 'pgd', eps: 0.1, randomStart: 'yes' }, 'attack.randomStart', '"yes"'],
    [{ kind: 'fgm', eps: 0.1, randomStart: true }, 'attack.randomStart', 'fgm'],
    [{ kind: 'fgm', epsilon: 0.1 }, 'attack.epsilon', 'allowed'],
  ];
  for (const [raw, field, shown] of bad) {
    it(`rejects ${JSON.stringify(raw) ?? String(raw)} naming ${field}`, () => {
      assert.throws(
        () => validateAttackConfig(raw),
        (e: unknown) => {
          assert.ok(e instanceof InputError, `not an InputError: ${e}`);
          assert.equal(e.field, field);
          assert.ok(e.message.includes(field), `message does not name ${field}: ${e.message}`);
          assert.ok(e.message.includes(shown), `message does not show ${shown}: ${e.message}`);
          assert.ok(!e.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }

  it('createAttack validates too', () => {
    assert.throws(() => createAttack({ kind: 'bogus' } as unknown as AttackConfig), InputError);
    assert.throws(() => createAttack({ kind: 'fgsm', p: 2, eps: 0.1, steps: 1, stepSize: 1, randomStart: false }), InputError);
  });
});
