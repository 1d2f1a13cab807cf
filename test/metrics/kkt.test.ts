import test from 'node:test';
import assert from 'node:assert/strict';
import { nnlsGram, kktResiduals } from '../../src/metrics/kkt.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { createLinear } from '../../src/models/linear.ts';
import { createDeepLinear } from '../../src/models/deep-linear.ts';
import { s2 } from '../../src/data/builtin.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import { solve } from '../../src/solvers/index.ts';
import { train } from '../../src/train/trainer.ts';

/** Brute force NNLS: the best feasible solution over all passive sets (n ≤ 6). */
function bruteForce(G: number[][], t: number[]): number {
  const n = G.length;
  const P = t.length;
  let best = Infinity;
  for (let mask = 0; mask < 1 << n; mask++) {
    const idx = [...Array(n).keys()].filter((i) => mask & (1 << i));
    // Normal equations on the passive set.
    const k = idx.length;
    const A = idx.map((i) => idx.map((j) => G[i].reduce((s, v, q) => s + v * G[j][q], 0)));
    const rhs = idx.map((i) => G[i].reduce((s, v, q) => s + v * t[q], 0));
    // Gaussian elimination.
    const M = A.map((row, r) => [...row, rhs[r]]);
    let ok = true;
    for (let c = 0; c < k && ok; c++) {
      let piv = c;
      for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
      if (Math.abs(M[piv][c]) < 1e-12) ok = false;
      else {
        [M[c], M[piv]] = [M[piv], M[c]];
        for (let r = 0; r < k; r++) if (r !== c) {
          const f = M[r][c] / M[c][c];
          for (let q = c; q <= k; q++) M[r][q] -= f * M[c][q];
        }
      }
    }
    if (!ok) continue;
    const mu = idx.map((_, r) => M[r][k] / M[r][r]);
    if (mu.some((v) => v < 0)) continue;
    const res = t.map((v, q) => v - idx.reduce((s, i, r) => s + mu[r] * G[i][q], 0));
    best = Math.min(best, Math.hypot(...res));
  }
  return best;
}

test('NNLS in Gram form matches brute force over active sets and satisfies its KKT conditions', () => {
  const rng = new Rng(4);
  for (let trial = 0; trial < 40; trial++) {
    const n = 1 + rng.int(6);
    const P = 2 + rng.int(8);
    const G = Array.from({ length: n }, () => Array.from({ length: P }, () => rng.normal()));
    const t = Array.from({ length: P }, () => rng.normal());
    const K = new Float64Array(n * n);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      b[i] = G[i].reduce((s, v, q) => s + v * t[q], 0);
      for (let j = 0; j < n; j++) K[i * n + j] = G[i].reduce((s, v, q) => s + v * G[j][q], 0);
    }
    const mu = nnlsGram(K, b, n);
    const res = t.map((v, q) => v - G.reduce((s, g, i) => s + mu[i] * g[q], 0));
    const got = Math.hypot(...res);
    const want = bruteForce(G, t);
    assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, want), `trial ${trial}: ${got} vs ${want}`);
    for (let i = 0; i < n; i++) {
      assert.ok(mu[i] >= 0);
      const w = G[i].reduce((s, v, q) => s + v * res[q], 0);
      assert.ok(w <= 1e-9, `dual feasibility ${w}`);
      assert.ok(Math.abs(mu[i] * w) <= 1e-9, 'complementary slackness');
    }
  }
});

test('KKT residuals vanish at the ℓ2-SVM direction of a linear model and not elsewhere', async () => {
  const data = syntheticSeparable({ n: 30, d: 5, margin: 0.2, seed: 2 });
  const svm = await solve('svm', data, { q: 2 });
  const model = createLinear(5);
  const rows = Int32Array.from(data.y, (_, i) => i);
  const at = kktResiduals(model, Float64Array.from(svm.direction!), data, data.X, rows);
  assert.ok(at.stationarity < 1e-10, `stationarity ${at.stationarity}`);
  assert.ok(Math.abs(at.complementarity) < 1e-9, `complementarity ${at.complementarity}`);
  assert.ok(at.support >= 1 && at.support <= 6);
  assert.ok(at.nnlsStationarity <= at.stationarity + 1e-15);
  const off = Float64Array.from(svm.direction!);
  off[0] += 0.05;
  const norm = Math.hypot(...off);
  for (let k = 0; k < 5; k++) off[k] /= norm;
  const away = kktResiduals(model, off, data, data.X, rows);
  assert.ok(away.stationarity > 1e-3, `away from the SVM: ${away.stationarity}`);
  // Blocked Gram accumulation (tiny blocks) gives the same numbers.
  const blocked = kktResiduals(model, off, data, data.X, rows, 7);
  assert.ok(Math.abs(blocked.stationarity - away.stationarity) < 1e-12);
  // A non-positive margin: the rescaling is undefined.
  const neg = Float64Array.from(svm.direction!, (v) => -v);
  assert.ok(Number.isNaN(kktResiduals(model, neg, data, data.X, rows).stationarity));
});

test('a trained deep linear network on S2 approaches a KKT point of (P_adv)', () => {
  const r = train({
    model: createDeepLinear({ inputDim: 2, depth: 2, width: 4 }),
    data: s2(),
    attack: { kind: 'exact', p: Infinity, eps: 0.25, steps: 1, stepSize: 1, randomStart: false },
    loss: 'exp',
    schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    steps: 20000,
    batchSize: 0,
    initScale: 1,
    seed: 0,
    kkt: { examples: 'all' },
  });
  const first = r.history.find((h) => h.kkt && Number.isFinite(h.kkt.stationarity))!;
  const k = r.final.kkt!;
  assert.ok(k.stationarity < 1e-6, `stationarity ${k.stationarity}`);
  assert.ok(k.complementarity < 1e-6, `complementarity ${k.complementarity}`);
  assert.ok(k.gradientCosine > 1 - 1e-9, `cos ${k.gradientCosine}`);
  assert.ok(first.kkt!.stationarity > 100 * k.stationarity, 'residuals fall over training');
});
