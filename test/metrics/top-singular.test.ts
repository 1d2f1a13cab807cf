/**
 * topSingular (src/metrics/alignment.ts) against matrices built from known singular triples —
 * W = Σ σ_k u_k v_kᵀ with orthonormal u_k, v_k — tall, wide, and with σ₂/σ₁ as close as 0.995
 * (where 500 plain power iterations leave a 1e-2 error in v), and the zero matrix.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { topSingular } from '../../src/metrics/alignment.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { TOL, close } from '../support/tolerance.ts';

/** k orthonormal vectors of length n (Gram–Schmidt on seeded normals). */
function orthonormal(rng: Rng, n: number, k: number): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < k) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const w of out) {
      let d = 0;
      for (let i = 0; i < n; i++) d += v[i] * w[i];
      for (let i = 0; i < n; i++) v[i] -= d * w[i];
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i] * v[i];
    s = Math.sqrt(s);
    for (let i = 0; i < n; i++) v[i] /= s;
    out.push(v);
  }
  return out;
}

// ratio 0: rank 1 (the squaring stops early; 1×n and n×1 take the closed form); 1e-3: an aligned layer.
for (const [rows, cols, ratio] of [[50, 50, 0.5], [50, 20, 0.995], [20, 50, 0.995], [1, 50, 0], [50, 1, 0], [30, 30, 0], [40, 20, 1e-3], [50, 50, 0.999]] as const) {
  test(`topSingular ${rows}×${cols}, σ₂/σ₁ = ${ratio}: σ₁ and the singular vectors of the construction`, () => {
    const rng = new Rng(rows * 100 + cols);
    const r = Math.min(rows, cols);
    const U = orthonormal(rng, rows, r);
    const V = orthonormal(rng, cols, r);
    const sig = Array.from({ length: r }, (_, k) => (k === 0 ? 3 : 3 * ratio * Math.pow(0.9, k - 1)));
    const theta = new Float64Array(7 + rows * cols);
    for (let k = 0; k < r; k++) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) theta[7 + i * cols + j] += sig[k] * U[k][i] * V[k][j];
    const u = new Float64Array(rows);
    const v = new Float64Array(cols);
    const s = topSingular(theta, 7, rows, cols, u, v);
    assert.ok(close(s, 3, TOL.identity), `σ₁ = ${s}`);
    let du = 0;
    let dv = 0;
    for (let i = 0; i < rows; i++) du += u[i] * U[0][i];
    for (let j = 0; j < cols; j++) dv += v[j] * V[0][j];
    // Up to a common sign; the vectors' error is (σ₂/σ₁)^(2^13) — nothing — plus rounding over the gap.
    assert.ok(Math.abs(Math.abs(du) - 1) < 1e-10 && Math.abs(Math.abs(dv) - 1) < 1e-10, `|⟨u, u₁⟩| = ${du}, |⟨v, v₁⟩| = ${dv}`);
    assert.ok(du * dv > 0, 'u and v carry the same sign (W v = σ u)');
  });
}

test('topSingular of the zero matrix is 0', () => {
  const u = new Float64Array(3);
  const v = new Float64Array(4);
  assert.equal(topSingular(new Float64Array(12), 0, 3, 4, u, v), 0);
});
