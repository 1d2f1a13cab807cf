/**
 * The model conformance suite: every model in the registry, several shapes each, checked against
 * the identities that docs/THEORY.md §2 and STYLE.md require (gradient checks, exact homogeneity, Euler,
 * predictor probing, the conv Fourier identity, calling-convention details).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Model, Workspace } from '../../src/models/model.ts';
import { createModel, MODEL_KINDS, type ModelSpec } from '../../src/models/registry.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { createReluCnn, type ReluCnn } from '../../src/models/relu-cnn.ts';
import { createDiagonalPm } from '../../src/models/diagonal.ts';
import { dftUnitary } from '../../src/linalg/dft.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { InputError } from '../../src/errors.ts';
import { TOL, assertAllClose, assertClose } from '../support/tolerance.ts';

/** Central-difference step: truncation O(h²) ≈ 1e-10, rounding O(ε/h) ≈ 1e-11. */
const FD_STEP = 1e-5;
/**
 * Pre-activations closer than this to 0 (and max-pool windows whose two largest entries are closer
 * than this) count as "at a kink" for the gradient checks.
 */
const KINK_MARGIN = 1e-4;
/** Random directions per gradient check. */
const DIRECTIONS = 3;
/** Where x and gradX are placed in larger buffers, to exercise the offsets. */
const X_OFFSET = 3;

const CASES: ModelSpec[] = [
  { kind: 'linear', inputDim: 1 },
  { kind: 'linear', inputDim: 3 },
  { kind: 'linear', inputDim: 8 },
  { kind: 'deep-linear', inputDim: 3, depth: 1 },
  { kind: 'deep-linear', inputDim: 4, depth: 2, width: 5 },
  { kind: 'deep-linear', inputDim: 5, depth: 3, width: [4, 6] },
  { kind: 'deep-linear', inputDim: 3, depth: 4, width: 3 },
  { kind: 'diagonal', inputDim: 1, depth: 1 },
  { kind: 'diagonal', inputDim: 4, depth: 2 },
  { kind: 'diagonal', inputDim: 3, depth: 3 },
  { kind: 'diagonal', inputDim: 6, depth: 5 },
  { kind: 'diagonal-pm', inputDim: 4, depth: 1 },
  { kind: 'diagonal-pm', inputDim: 5, depth: 2 },
  { kind: 'diagonal-pm', inputDim: 3, depth: 3 },
  { kind: 'diagonal-pm', inputDim: 4, depth: 4 },
  { kind: 'conv', inputDim: 1, depth: 2 },
  { kind: 'conv', inputDim: 2, depth: 2 },
  { kind: 'conv', inputDim: 5, depth: 1 },
  { kind: 'conv', inputDim: 5, depth: 3 },
  { kind: 'conv', inputDim: 8, depth: 2 },
  { kind: 'conv', inputDim: 7, depth: 4 },
  { kind: 'relu-mlp', inputDim: 3, depth: 1 },
  { kind: 'relu-mlp', inputDim: 4, depth: 2, width: 6 },
  { kind: 'relu-mlp', inputDim: 5, depth: 3, width: [7, 4], outputs: 3 },
  { kind: 'relu-mlp', inputDim: 3, depth: 3, width: 5, outputs: 2, leak: 0.1 },
  { kind: 'relu-mlp', inputDim: 6, depth: 4, width: 5, outputs: 4 },
  { kind: 'leaky-relu-mlp', inputDim: 4, depth: 3, width: 5, outputs: 2 },
  { kind: 'leaky-relu-mlp', inputDim: 3, depth: 2, width: 4, leak: 0.3 },
  { kind: 'relu-cnn', inputDim: 36, inputShape: [1, 6, 6], conv: [{ channels: 2, kernel: 3, pool: { kind: 'max', size: 2 } }] },
  { kind: 'relu-cnn', inputDim: 50, inputShape: [2, 5, 5], conv: [{ channels: 3, kernel: 2, pool: { kind: 'avg', size: 2 } }], dense: [4], outputs: 3 },
  {
    kind: 'relu-cnn',
    inputDim: 36,
    inputShape: [1, 6, 6],
    conv: [{ channels: 2, kernel: 2, stride: 2 }, { channels: 3, kernel: 2, pool: { kind: 'max', size: 2 } }],
    dense: [5],
    outputs: 3,
  },
  { kind: 'relu-cnn', inputDim: 50, inputShape: [2, 5, 5], conv: [{ channels: 2, kernel: 3 }, { channels: 2, kernel: 2, pool: { kind: 'avg', size: 2 } }], leak: 0.1 },
  // Overlapping strided windows (k = 3, s = 2); ⌊(8 − 3)/2⌋ + 1 = 3 leaves the last row and column unread.
  { kind: 'relu-cnn', inputDim: 64, inputShape: [1, 8, 8], conv: [{ channels: 3, kernel: 3, stride: 2, pool: { kind: 'max', size: 3 } }], dense: [3, 4], outputs: 2, leak: 0.2 },
];

/** Models with a ReLU: not linear in x, and their gradient checks must stay away from kinks. */
const NONLINEAR_KINDS = new Set(['relu-mlp', 'leaky-relu-mlp', 'relu-cnn']);

/** The order L a spec describes: depth (default 1 for linear, 2 otherwise), or the weight layers of a relu-cnn. */
function expectedOrder(s: ModelSpec): number {
  if (s.kind === 'relu-cnn') return s.conv!.length + (s.dense ?? []).length + 1;
  return s.depth ?? (s.kind === 'linear' ? 1 : 2);
}

function label(s: ModelSpec): string {
  return JSON.stringify(s);
}

function randn(rng: Rng, n: number, s = 1): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = s * rng.normal();
  return v;
}

function unit(rng: Rng, n: number): Float64Array {
  const v = randn(rng, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += v[i] * v[i];
  const r = 1 / Math.sqrt(s);
  for (let i = 0; i < n; i++) v[i] *= r;
  return v;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpby(a: number, x: Float64Array, b: number, y: Float64Array): Float64Array {
  const z = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) z[i] = a * x[i] + b * y[i];
  return z;
}

/** f(θ; x) with a fresh workspace. */
function evalF(model: Model, theta: Float64Array, x: Float64Array, ws: Workspace = model.createWorkspace()): Float64Array {
  const out = new Float64Array(model.outputDim);
  model.forward(theta, x, 0, out, ws);
  return out;
}

/** (Σ_k dOut_k ∇_θ f_k, Σ_k dOut_k ∇_x f_k) with a fresh workspace and zeroed gradTheta. */
function grads(model: Model, theta: Float64Array, x: Float64Array, dOut: Float64Array, ws: Workspace = model.createWorkspace()) {
  const out = new Float64Array(model.outputDim);
  model.forward(theta, x, 0, out, ws);
  const gTheta = new Float64Array(model.numParams);
  const gX = new Float64Array(model.inputDim);
  model.backward(theta, x, 0, dOut, gTheta, gX, 0, ws);
  return { out, gTheta, gX };
}

/** Hidden pre-activations of a relu-mlp at (θ, x) (empty for other kinds). */
function preActivations(model: Model, theta: Float64Array, x: Float64Array): Float64Array {
  if (model.kind !== 'relu-mlp' && model.kind !== 'leaky-relu-mlp') return new Float64Array(0);
  const ws = model.createWorkspace();
  evalF(model, theta, x, ws);
  const hidden = model.layout.slice(0, -1).reduce((n, b) => n + b.shape[0], 0);
  return ws.z.slice(0, hidden);
}

/**
 * The piece of the piecewise-linear model that (θ, x) lies on: the sign of every ReLU pre-activation,
 * and for relu-cnn also the winner of every max-pool window (empty for models without kinks).
 */
function activationPattern(model: Model, theta: Float64Array, x: Float64Array): number[] {
  if (model.kind === 'relu-cnn') {
    const ws = model.createWorkspace();
    evalF(model, theta, x, ws);
    return [...Array.from(ws.z, (v) => (v > 0 ? 1 : 0)), ...ws.arg];
  }
  return Array.from(preActivations(model, theta, x), (v) => (v > 0 ? 1 : 0));
}

/** How far (θ, x) is from a kink: min |pre-activation|, and for relu-cnn also the max-pool gaps. */
function kinkDistance(model: Model, theta: Float64Array, x: Float64Array): number {
  if (model.kind === 'relu-cnn') {
    const ws = model.createWorkspace();
    evalF(model, theta, x, ws);
    return (model as ReluCnn).kinkDistance(ws);
  }
  return preActivations(model, theta, x).reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);
}

/**
 * A generic sample (θ, x, dOut): θ = init(rng, 1) + N(0, 0.5²) (so diagonal-pm is not at its β = 0
 * init), x ~ N(0, I). For relu-mlp and relu-cnn, redraws until no pre-activation is within
 * KINK_MARGIN of 0 and no max-pool window has a near-tie for its maximum.
 */
function sample(model: Model, rng: Rng) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const theta = axpby(1, model.init(rng, 1), 0.5, randn(rng, model.numParams));
    const x = randn(rng, model.inputDim);
    const dOut = randn(rng, model.outputDim);
    if (kinkDistance(model, theta, x) > KINK_MARGIN) return { theta, x, dOut };
  }
  throw new Error('could not draw a sample away from the ReLU kinks');
}

/** Asserts that f does not cross a kink between the two points (so central differences apply). */
function assertNoKinkCrossed(model: Model, t1: Float64Array, x1: Float64Array, t2: Float64Array, x2: Float64Array): void {
  assert.deepEqual(activationPattern(model, t1, x1), activationPattern(model, t2, x2), 'central difference crosses a ReLU kink or a max-pool switch');
}

function assertBitsEqual(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) assert.equal(a[i], b[i], `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

describe('model conformance', () => {
  it('covers every registered kind', () => {
    assert.deepEqual([...new Set(CASES.map((c) => c.kind))].sort(), [...MODEL_KINDS].sort());
  });

  for (const spec of CASES) {
    describe(label(spec), () => {
      const model = createModel(spec);
      const L = model.order;
      const d = model.inputDim;
      const K = model.outputDim;

      it('has a consistent description and a deterministic, finite init', () => {
        assert.equal(model.kind, spec.kind);
        assert.equal(model.order, expectedOrder(spec));
        assert.equal(model.inputDim, spec.inputDim);
        assert.equal(model.outputDim, spec.outputs ?? 1);
        assert.equal(model.linearInX, !NONLINEAR_KINDS.has(spec.kind));
        assert.equal(typeof model.predictor === 'function', model.linearInX);
        let next = 0;
        for (const b of model.layout) {
          assert.equal(b.offset, next, `block ${b.name} offset`);
          next += b.shape.reduce((p, s) => p * s, 1);
        }
        assert.equal(next, model.numParams, 'layout covers θ');
        assert.equal(new Set(model.layout.map((b) => b.name)).size, model.layout.length, 'unique block names');
        const a = model.init(new Rng(5), 0.7);
        const b = model.init(new Rng(5), 0.7);
        assert.equal(a.length, model.numParams);
        assert.ok(a.every(Number.isFinite));
        assertBitsEqual(a, b, 'init with the same seed');
        assert.ok(JSON.parse(JSON.stringify(model.spec)), 'spec is JSON data');
      });

      it('parameter gradient matches central differences', () => {
        const rng = new Rng(101);
        const { theta, x, dOut } = sample(model, rng);
        const { gTheta } = grads(model, theta, x, dOut);
        for (let r = 0; r < DIRECTIONS; r++) {
          const v = unit(rng, model.numParams);
          const tp = axpby(1, theta, FD_STEP, v);
          const tm = axpby(1, theta, -FD_STEP, v);
          assertNoKinkCrossed(model, tp, x, tm, x);
          const fd = (dot(dOut, evalF(model, tp, x)) - dot(dOut, evalF(model, tm, x))) / (2 * FD_STEP);
          assertClose(dot(gTheta, v), fd, TOL.finiteDifference, `⟨∇θ f, v⟩ direction ${r}`);
        }
      });

      it('input gradient matches central differences', () => {
        const rng = new Rng(202);
        const { theta, x, dOut } = sample(model, rng);
        const { gX } = grads(model, theta, x, dOut);
        for (let r = 0; r < DIRECTIONS; r++) {
          const v = unit(rng, d);
          const xp = axpby(1, x, FD_STEP, v);
          const xm = axpby(1, x, -FD_STEP, v);
          assertNoKinkCrossed(model, theta, xp, theta, xm);
          const fd = (dot(dOut, evalF(model, theta, xp)) - dot(dOut, evalF(model, theta, xm))) / (2 * FD_STEP);
          assertClose(dot(gX, v), fd, TOL.finiteDifference, `⟨∇x f, v⟩ direction ${r}`);
        }
      });

      it('is exactly L-homogeneous in θ and 1-homogeneous in x (powers of two, bit for bit)', () => {
        // Scaling by a power of two commutes with every rounding (barring under/overflow), so these
        // hold exactly: f(2θ) = 2^L f(θ), ∇θ f(2θ) = 2^{L−1} ∇θ f(θ), ∇x f(2θ) = 2^L ∇x f(θ), f(2x) = 2 f(x).
        const rng = new Rng(303);
        for (let r = 0; r < 3; r++) {
          const { theta, x, dOut } = sample(model, rng);
          const base = grads(model, theta, x, dOut);
          for (const c of [2, 0.5, 8]) {
            const cL = c ** L;
            const scaled = grads(model, axpby(c, theta, 0, theta), x, dOut);
            assertBitsEqual(scaled.out, base.out.map((v) => cL * v), `f(${c}θ)`);
            assertBitsEqual(scaled.gTheta, base.gTheta.map((v) => (cL / c) * v), `∇θ f(${c}θ)`);
            assertBitsEqual(scaled.gX, base.gX.map((v) => cL * v), `∇x f(${c}θ)`);
            assertBitsEqual(evalF(model, theta, axpby(c, x, 0, x)), base.out.map((v) => c * v), `f(θ; ${c}x)`);
          }
        }
      });

      it("satisfies Euler's identities ⟨θ, ∇θ f⟩ = L·f and ⟨x, ∇x f⟩ = f", () => {
        const rng = new Rng(404);
        for (let r = 0; r < 3; r++) {
          const { theta, x, dOut } = sample(model, rng);
          const { out, gTheta, gX } = grads(model, theta, x, dOut);
          const f = dot(dOut, out);
          assertClose(dot(theta, gTheta), L * f, TOL.identity, 'θ-Euler');
          assertClose(dot(x, gX), f, TOL.identity, 'x-Euler');
        }
      });

      it('backward adds into gradTheta, overwrites gradX, and honours x and gradX offsets', () => {
        const rng = new Rng(505);
        const { theta, x, dOut } = sample(model, rng);
        const ref = grads(model, theta, x, dOut);
        // x inside a larger buffer, gradX inside a larger buffer with sentinels around it.
        const xBuf = randn(rng, d + 2 * X_OFFSET);
        xBuf.set(x, X_OFFSET);
        const SENTINEL = 12345.5;
        const gxBuf = new Float64Array(d + 2 * X_OFFSET).fill(SENTINEL);
        for (let j = 0; j < d; j++) gxBuf[X_OFFSET + j] = Number.NaN; // must be overwritten, not added to
        const start = randn(rng, model.numParams);
        const gTheta = start.slice();
        const ws = model.createWorkspace();
        const out = new Float64Array(K);
        model.forward(theta, xBuf, X_OFFSET, out, ws);
        assertBitsEqual(out, ref.out, 'f with xOffset');
        model.backward(theta, xBuf, X_OFFSET, dOut, gTheta, gxBuf, X_OFFSET, ws);
        assertAllClose(gTheta, axpby(1, start, 1, ref.gTheta), TOL.identity, 'gradTheta accumulates');
        assertBitsEqual(gxBuf.subarray(X_OFFSET, X_OFFSET + d), ref.gX, 'gradX at offset');
        for (let j = 0; j < X_OFFSET; j++) {
          assert.equal(gxBuf[j], SENTINEL, 'gradX before offset untouched');
          assert.equal(gxBuf[X_OFFSET + d + j], SENTINEL, 'gradX after the d entries untouched');
        }
        // null gradTheta / null gradX give the same partial results.
        const gx2 = new Float64Array(d);
        model.forward(theta, x, 0, out, ws);
        model.backward(theta, x, 0, dOut, null, gx2, 0, ws);
        assertBitsEqual(gx2, ref.gX, 'gradX with gradTheta = null');
        const gt2 = new Float64Array(model.numParams);
        model.forward(theta, x, 0, out, ws);
        model.backward(theta, x, 0, dOut, gt2, null, 0, ws);
        assertBitsEqual(gt2, ref.gTheta, 'gradTheta with gradX = null');
      });

      it('does not depend on leftovers in the workspace', () => {
        const rng = new Rng(606);
        const s1 = sample(model, rng);
        const s2 = sample(model, rng);
        const fresh = grads(model, s2.theta, s2.x, s2.dOut);
        // Reused after another example, then poisoned with NaN: same bits as a fresh workspace.
        const ws = model.createWorkspace();
        grads(model, s1.theta, s1.x, s1.dOut, ws);
        assertBitsEqual(grads(model, s2.theta, s2.x, s2.dOut, ws).gTheta, fresh.gTheta, 'reused ws: gradTheta');
        for (const buf of Object.values(ws)) buf.fill(Number.NaN);
        const again = grads(model, s2.theta, s2.x, s2.dOut, ws);
        assertBitsEqual(again.out, fresh.out, 'NaN-filled ws: f');
        assertBitsEqual(again.gTheta, fresh.gTheta, 'NaN-filled ws: gradTheta');
        assertBitsEqual(again.gX, fresh.gX, 'NaN-filled ws: gradX');
        if (model.predictor) {
          const b1 = new Float64Array(d);
          model.predictor(s2.theta, b1, model.createWorkspace());
          for (const buf of Object.values(ws)) buf.fill(Number.NaN);
          const b2 = new Float64Array(d).fill(Number.NaN);
          model.predictor(s2.theta, b2, ws);
          assertBitsEqual(b2, b1, 'predictor with a NaN-filled ws');
        }
      });

      if (model.linearInX) {
        it('predictor β matches probing β_j = f(e_j) and ∇x f', () => {
          const rng = new Rng(707);
          const { theta, x } = sample(model, rng);
          const beta = new Float64Array(d);
          model.predictor!(theta, beta, model.createWorkspace());
          const probe = new Float64Array(d);
          for (let j = 0; j < d; j++) {
            const e = new Float64Array(d);
            e[j] = 1;
            probe[j] = evalF(model, theta, e)[0];
          }
          assertAllClose(beta, probe, TOL.identity, 'β vs f(e_j)');
          const { out, gX } = grads(model, theta, x, Float64Array.of(1));
          assertAllClose(gX, beta, TOL.identity, 'β vs ∇x f');
          assertClose(out[0], dot(beta, x), TOL.identity, 'f = ⟨β, x⟩');
        });
      }

      if (spec.kind === 'conv') {
        it('Fourier identity: Fβ = Π_l F u_l (unitary F, no conjugation, no factor)', () => {
          const rng = new Rng(808);
          for (let r = 0; r < 3; r++) {
            const { theta } = sample(model, rng);
            const beta = new Float64Array(d);
            model.predictor!(theta, beta, model.createWorkspace());
            const fb = dftUnitary(beta);
            const pr = new Float64Array(d).fill(1);
            const pi = new Float64Array(d);
            const cr = new Float64Array(d).fill(1); // the conjugated alternative
            const ci = new Float64Array(d);
            for (let l = 0; l < L; l++) {
              const fu = dftUnitary(theta.slice(l * d, (l + 1) * d));
              for (let w = 0; w < d; w++) {
                const [a, b] = [pr[w] * fu.re[w] - pi[w] * fu.im[w], pr[w] * fu.im[w] + pi[w] * fu.re[w]];
                pr[w] = a;
                pi[w] = b;
                const [e, f] = [cr[w] * fu.re[w] + ci[w] * fu.im[w], ci[w] * fu.re[w] - cr[w] * fu.im[w]];
                cr[w] = e;
                ci[w] = f;
              }
            }
            assertAllClose(fb.re, pr, TOL.identity, 'Re Fβ');
            assertAllClose(fb.im, pi, TOL.identity, 'Im Fβ');
            // The identity pins the convention: with conjugated factors it fails (d ≥ 3 has
            // non-real Fourier coefficients).
            if (d >= 3) {
              const worst = Math.max(...fb.im.map((v, w) => Math.abs(v - ci[w])));
              assert.ok(worst > 1e-3, 'conjugated form should not match');
            }
          }
        });
      }
    });
  }
});

describe('relu-mlp kink convention', () => {
  // W1 = [1, −1] (one hidden unit), W2 = [3]; at x = (1, 1) the pre-activation is exactly 0.
  const theta = Float64Array.of(1, -1, 3);
  const x = Float64Array.of(1, 1);

  it("uses ReLU'(0) = 0", () => {
    const model = createReluMlp({ inputDim: 2, depth: 2, width: 1 });
    const { out, gTheta, gX } = grads(model, theta, x, Float64Array.of(1));
    assert.equal(out[0], 0);
    assertBitsEqual(gTheta, [0, 0, 0], '∇θ f at the kink');
    assertBitsEqual(gX.map(Math.abs), [0, 0], '∇x f at the kink');
    assert.equal(dot(theta, gTheta), model.order * out[0], 'Euler at the kink');
  });

  it('uses slope `leak` at 0 for the leaky ReLU', () => {
    const model = createReluMlp({ inputDim: 2, depth: 2, width: 1, leak: 0.25 });
    const { out, gTheta, gX } = grads(model, theta, x, Float64Array.of(1));
    assert.equal(out[0], 0);
    assertBitsEqual(gTheta, [0.75, 0.75, 0], '∇θ f at the kink');
    assertBitsEqual(gX, [0.75, -0.75], '∇x f at the kink');
  });

  it('treats a positive pre-activation with slope 1 and a negative one with slope 0', () => {
    const model = createReluMlp({ inputDim: 2, depth: 2, width: 1 });
    const pos = grads(model, theta, Float64Array.of(2, 1), Float64Array.of(1));
    assertBitsEqual(pos.out, [3], 'f above the kink');
    assertBitsEqual(pos.gTheta, [6, 3, 1], '∇θ f above the kink');
    const neg = grads(model, theta, Float64Array.of(1, 2), Float64Array.of(1));
    assertBitsEqual(neg.out, [0], 'f below the kink');
    assertBitsEqual(neg.gTheta.map(Math.abs), [0, 0, 0], '∇θ f below the kink');
  });
});

describe('relu-cnn kink and tie conventions', () => {
  // One 1×1 filter w and a 2×2 max-pool over a 1×2×2 input, then one output weight v:
  // f = v·max_{i<4} σ(w·x_i), θ = [w, v] (blocks conv1 [1, 1, 1, 1] and out [1, 1]).
  const maxPool = createReluCnn({ inputShape: [1, 2, 2], conv: [{ channels: 1, kernel: 1, pool: { kind: 'max', size: 2 } }] });
  const theta = Float64Array.of(1, 1);

  it('gives a max-pool tie to the FIRST maximal entry in row-major window order', () => {
    for (const [x, winner] of [
      [[3, 3, 1, 2], 0],
      [[1, 2, 3, 3], 2],
      [[1, 3, 3, 0], 1],
      [[2, 1, 1, 2], 0],
    ] as const) {
      const xs = Float64Array.from(x);
      const { out, gTheta, gX } = grads(maxPool, theta, xs, Float64Array.of(1));
      const expectedGX = [0, 0, 0, 0];
      expectedGX[winner] = 1;
      assertBitsEqual(out, [xs[winner]], `f at ${x}`);
      assertBitsEqual(gX, expectedGX, `∇x f at ${x}`);
      assertBitsEqual(gTheta, [xs[winner], xs[winner]], `∇θ f at ${x}`);
      // Euler at the tie, and the tie is scale-invariant: the same winner at 2θ.
      assert.equal(dot(theta, gTheta), maxPool.order * out[0], 'Euler at the tie');
      const scaled = grads(maxPool, Float64Array.of(2, 2), xs, Float64Array.of(1));
      assertBitsEqual(scaled.gX, expectedGX.map((v) => 4 * v), `∇x f(2θ) at ${x}`);
    }
  });

  it("uses ReLU'(0) = 0 in a conv layer, also for the max-pool winner", () => {
    // Every pre-activation ≤ 0: all σ(z) = 0, the winner (index 0) has z = 0 exactly.
    const { out, gTheta, gX } = grads(maxPool, theta, Float64Array.of(0, -1, -2, -3), Float64Array.of(1));
    assertBitsEqual(out.map(Math.abs), [0], 'f');
    assertBitsEqual(gX.map(Math.abs), [0, 0, 0, 0], '∇x f at the kink');
    assertBitsEqual(gTheta.map(Math.abs), [0, 0], '∇θ f at the kink');
    // Without pooling, the unit at z = 0 passes nothing and the positive one passes slope 1.
    const plain = createReluCnn({ inputShape: [1, 1, 2], conv: [{ channels: 1, kernel: 1 }] });
    const r = grads(plain, Float64Array.of(1, 5, 7), Float64Array.of(0, 2), Float64Array.of(1));
    assertBitsEqual(r.out, [14], 'f = 5·σ(0) + 7·σ(2)');
    assertBitsEqual(r.gX.map(Math.abs), [0, 7], '∇x f');
    assertBitsEqual(r.gTheta, [14, 0, 2], '∇θ f');
  });

  it('uses slope `leak` at 0, and first-maximal ties among negative leaky values', () => {
    const leaky = createReluCnn({ inputShape: [1, 2, 2], conv: [{ channels: 1, kernel: 1, pool: { kind: 'max', size: 2 } }], leak: 0.25 });
    const atZero = grads(leaky, theta, Float64Array.of(0, -1, -2, -3), Float64Array.of(1));
    assertBitsEqual(atZero.gX, [0.25, 0, 0, 0], '∇x f with z = 0 winning');
    const tie = grads(leaky, theta, Float64Array.of(-1, -1, -2, -3), Float64Array.of(1));
    assertBitsEqual(tie.out, [-0.25], 'f = σ(−1)');
    assertBitsEqual(tie.gX, [0.25, 0, 0, 0], '∇x f at a negative tie');
    assertBitsEqual(tie.gTheta, [-0.25, -0.25], '∇θ f at a negative tie');
    assert.equal(dot(theta, tie.gTheta), leaky.order * tie.out[0], 'Euler');
  });

  it("uses ReLU'(0) = 0 in a dense layer", () => {
    // Conv 1×1 (w = 1) on a 1×1×2 input, dense W = [1, −1], output 3: at x = (1, 1) the dense
    // pre-activation is exactly 0.
    const model = createReluCnn({ inputShape: [1, 1, 2], conv: [{ channels: 1, kernel: 1 }], dense: [1] });
    const { out, gTheta, gX } = grads(model, Float64Array.of(1, 1, -1, 3), Float64Array.of(1, 1), Float64Array.of(1));
    assertBitsEqual(out, [0], 'f');
    assertBitsEqual(gTheta.map(Math.abs), [0, 0, 0, 0], '∇θ f at the kink');
    assertBitsEqual(gX.map(Math.abs), [0, 0], '∇x f at the kink');
  });

  it('kinkDistance sees near-zero pre-activations and near-ties, and ignores all-zero windows', () => {
    const ws = maxPool.createWorkspace();
    const out = new Float64Array(1);
    maxPool.forward(theta, Float64Array.of(3, 2.5, -1, 2), 0, out, ws);
    assert.equal(maxPool.kinkDistance(ws), 0.5, 'gap 3 − 2.5');
    maxPool.forward(theta, Float64Array.of(3, 1e-7, 1, 2), 0, out, ws);
    assert.equal(maxPool.kinkDistance(ws), 1e-7, '|z| = 1e-7');
    maxPool.forward(theta, Float64Array.of(-1, -2, -3, -4), 0, out, ws);
    assert.equal(maxPool.kinkDistance(ws), 1, 'all-zero window: only |z| counts');
  });
});

describe('diagonal-pm init', () => {
  it('starts at u = v = scale·1, so β = 0, with a non-zero gradient', () => {
    const model = createDiagonalPm({ inputDim: 3, depth: 3 });
    const theta = model.init(new Rng(1), 0.5);
    assertBitsEqual(theta, new Float64Array(6).fill(0.5), 'θ');
    const beta = new Float64Array(3);
    model.predictor!(theta, beta, model.createWorkspace());
    assertBitsEqual(beta.map(Math.abs), [0, 0, 0], 'β');
    const { gTheta } = grads(model, theta, Float64Array.of(1, 2, 3), Float64Array.of(1));
    assertBitsEqual(gTheta, [0.75, 1.5, 2.25, -0.75, -1.5, -2.25], '∇θ f = ±L u^{L−1} x');
  });
});

describe('createModel validation', () => {
  const bad: Array<[ModelSpec, string, string]> = [
    [{ kind: 'foo', inputDim: 3 }, 'kind', 'unknown model "foo" (allowed: linear, deep-linear, diagonal, diagonal-pm, conv, relu-mlp, leaky-relu-mlp, relu-cnn)'],
    [{ kind: 'linear', inputDim: 0 }, 'inputDim', '0'],
    [{ kind: 'linear', inputDim: 2.5 }, 'inputDim', '2.5'],
    [{ kind: 'linear', inputDim: 3, depth: 2 }, 'depth', '2'],
    [{ kind: 'deep-linear', inputDim: 3, depth: 0 }, 'depth', '0'],
    [{ kind: 'diagonal', inputDim: 3, depth: 0 }, 'depth', '0'],
    [{ kind: 'diagonal-pm', inputDim: 3, depth: -1 }, 'depth', '-1'],
    [{ kind: 'conv', inputDim: 3, depth: 1.5 }, 'depth', '1.5'],
    [{ kind: 'deep-linear', inputDim: 3, depth: 2, width: 0 }, 'width', '0'],
    [{ kind: 'relu-mlp', inputDim: 3, depth: 3, width: [4] }, 'width', '[4]'],
    [{ kind: 'relu-mlp', inputDim: 3, depth: 3, width: [4, 0] }, 'width', '[4, 0]'],
    [{ kind: 'deep-linear', inputDim: 3, depth: 2, width: 2.5 }, 'width', '2.5'],
    [{ kind: 'diagonal', inputDim: 3, width: 4 }, 'width', '4'],
    [{ kind: 'deep-linear', inputDim: 3, outputs: 2 }, 'outputs', '2'],
    [{ kind: 'conv', inputDim: 3, outputs: 3 }, 'outputs', '3'],
    [{ kind: 'relu-mlp', inputDim: 3, outputs: 0 }, 'outputs', '0'],
    [{ kind: 'relu-mlp', inputDim: 3, leak: -0.1 }, 'leak', '-0.1'],
    [{ kind: 'relu-mlp', inputDim: 3, leak: 1 }, 'leak', '1'],
    [{ kind: 'deep-linear', inputDim: 3, leak: 0.1 }, 'leak', '0.1'],
    [{ kind: 'relu-mlp', inputDim: 3, depth: '2' as unknown as number }, 'depth', '"2"'],
  ];
  for (const [spec, field, fragment] of bad) {
    it(`rejects ${label(spec)} naming ${field}`, () => {
      assert.throws(
        () => createModel(spec),
        (err: unknown) => {
          assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
          assert.equal(err.field, field);
          assert.ok(err.message.includes(field === 'kind' ? 'model' : field), `message names the field: ${err.message}`);
          assert.ok(err.message.includes(fragment), `message names the value: ${err.message}`);
          assert.ok(err.message.includes('allowed'), `message says what is allowed: ${err.message}`);
          assert.ok(!err.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }

  it('applies the documented defaults', () => {
    assert.equal(createModel({ kind: 'linear', inputDim: 4 }).order, 1);
    const dl = createModel({ kind: 'deep-linear', inputDim: 4 });
    assert.equal(dl.order, 2);
    assert.deepEqual(dl.spec.widths, [4]);
    const mlp = createModel({ kind: 'relu-mlp', inputDim: 4, depth: 3, width: 6 });
    assert.deepEqual(mlp.spec.widths, [6, 6]);
    assert.equal(mlp.outputDim, 1);
    assert.equal(mlp.spec.leak, 0);
    assert.equal(createModel({ kind: 'deep-linear', inputDim: 4, depth: 1, width: 9 }).numParams, 4);
  });
});
