import test from 'node:test';
import assert from 'node:assert/strict';
import { logLossAndWeights, smoothedMargin, logLogistic, logSigmoid } from '../../src/losses/loss.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { assertClose } from '../support/tolerance.ts';

/** Naive loss over moderate margins (no underflow), for comparison. */
function naive(kind: 'exp' | 'logistic', m: number[], g: number): { L: number; w: number[] } {
  const n = m.length / g;
  let L = 0;
  const dLdm = new Array(m.length).fill(0);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < g; j++) s += Math.exp(-m[i * g + j]);
    if (kind === 'exp') {
      L += s;
      for (let j = 0; j < g; j++) dLdm[i * g + j] = -Math.exp(-m[i * g + j]);
    } else {
      L += Math.log1p(s);
      for (let j = 0; j < g; j++) dLdm[i * g + j] = -Math.exp(-m[i * g + j]) / (1 + s);
    }
  }
  return { L, w: dLdm.map((v) => -v / L) };
}

test('log-loss and weights agree with the naive formulas on moderate margins (binary and K-class, both losses)', () => {
  const rng = new Rng(5);
  for (const kind of ['exp', 'logistic'] as const) {
    for (const g of [1, 2, 4]) {
      for (const logScale of [0, Math.log(3), -1]) {
        const n = 7;
        const mhat = new Float64Array(n * g);
        for (let k = 0; k < n * g; k++) mhat[k] = 2 * rng.normal();
        const w = new Float64Array(n * g);
        const logL = logLossAndWeights(kind, mhat, n, g, logScale, w);
        const S = Math.exp(logScale);
        const ref = naive(kind, Array.from(mhat, (v) => S * v), g);
        assertClose(logL, Math.log(ref.L), 1e-13, `${kind} g=${g} log L`);
        for (let k = 0; k < n * g; k++) assertClose(w[k], ref.w[k], 1e-13, `${kind} g=${g} w[${k}]`);
      }
    }
  }
});

test('no underflow: margins of 10⁴ give log L ≈ −10⁴ and softmax weights; S overflow gives the hard minimum with shared ties', () => {
  const w = new Float64Array(3);
  const logL = logLossAndWeights('exp', new Float64Array([1, 1.001, 2]), 3, 1, Math.log(1e4), w);
  assertClose(logL, -1e4 + Math.log(1 + Math.exp(-10)), 1e-14, 'log L');
  assert.ok(w[0] > 0.9999 && w[1] > 0 && w[2] === 0);
  for (const kind of ['exp', 'logistic'] as const) {
    const v = new Float64Array(4);
    const l = logLossAndWeights(kind, new Float64Array([0.5, 0.5, 0.7, 2]), 4, 1, 800, v);
    assert.equal(l, -Infinity);
    assert.deepEqual(Array.from(v), [0.5, 0.5, 0, 0]);
    // Logistic at huge margins equals the exponential loss.
    const a = new Float64Array(2);
    const b = new Float64Array(2);
    const la = logLossAndWeights('logistic', new Float64Array([1, 1.01]), 2, 1, Math.log(5000), a);
    const lb = logLossAndWeights('exp', new Float64Array([1, 1.01]), 2, 1, Math.log(5000), b);
    assertClose(la, lb, 1e-15, 'logistic vs exp at m = 5000');
    assertClose(a[0], b[0], 1e-15, 'weights');
  }
});

test('log-domain helpers: logLogistic and logSigmoid are accurate in both tails', () => {
  for (const s of [-800, -50, -10, 0, 3, 50, 800]) {
    const direct = Math.log(Math.log1p(Math.exp(s)));
    if (Number.isFinite(direct) && s > -700) assertClose(logLogistic(s), direct, 1e-14, `logLogistic(${s})`);
    assert.ok(Number.isFinite(logLogistic(s)), `logLogistic(${s}) finite`);
    assert.ok(logSigmoid(s) <= 0 && Number.isFinite(logSigmoid(s)), `logSigmoid(${s})`);
  }
  assertClose(logLogistic(-800), -800, 1e-15, 'left tail');
  assertClose(logSigmoid(-800), -800, 1e-15, 'left tail');
});

test('smoothed margin sandwich: γ̃ ≤ γ̄ ≤ γ̃ + log(n)/‖θ‖^L (exponential loss)', () => {
  const rng = new Rng(9);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + rng.int(20);
    const mhat = new Float64Array(n);
    for (let i = 0; i < n; i++) mhat[i] = rng.uniform() + 0.01;
    const logScale = 5 * rng.uniform();
    const logL = logLossAndWeights('exp', mhat, n, 1, logScale, new Float64Array(n));
    const g = smoothedMargin('exp', logL, logScale);
    const gbar = Math.min(...mhat);
    assert.ok(g <= gbar + 1e-15 && gbar <= g + Math.log(n) / Math.exp(logScale) + 1e-15, `γ̃ ${g}, γ̄ ${gbar}`);
  }
});

test('smoothed margin of the logistic loss stays finite for large losses and matches −log(expm1(L)) where that is finite', () => {
  for (const L of [1e-20, 0.5, 3, 25, 40, 1300, 1e5]) {
    const g = smoothedMargin('logistic', Math.log(L), 0);
    assert.ok(Number.isFinite(g), `L = ${L}: ${g}`);
    const direct = -Math.log(Math.expm1(L));
    if (Number.isFinite(direct)) assertClose(g, direct, 1e-13, `L = ${L}`);
    else assertClose(g, -L, 1e-15, `L = ${L}`);
  }
});
