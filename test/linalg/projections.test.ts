/**
 * Projections onto ℓp balls, checked against their optimality conditions (feasibility, the
 * variational inequality, Hölder equality of the normal cone), an independent brute force for ℓ1,
 * the radial form for p = 2 and the ℓ1/ℓ∞ limits; and uniform sampling from ℓp balls.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { projectBall, projectL1, projectL2, projectLinf, projectLp, sampleBall } from '../../src/linalg/projections.ts';
import { dualExponent, lpNorm } from '../../src/linalg/norms.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { TOL, assertAllClose, assertClose, close } from '../support/tolerance.ts';

const PS = [1, 1.01, 1.5, 2, 3, 7, 50, Infinity];
/** Exact forms are a few roundings from the truth; the general-p form is a converged root find. */
function tolFor(p: number): number {
  return p === 1 || p === 2 || p === Infinity ? TOL.closedForm : TOL.rootFind;
}

/** A random projection problem: dimension, centre, point (at several scales), radius. */
const problem = fc
  .record({
    n: fc.integer({ min: 1, max: 12 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    logScale: fc.double({ min: -2, max: 2, noNaN: true }),
    logEps: fc.double({ min: -2, max: 1, noNaN: true }),
  })
  .map(({ n, seed, logScale, logEps }) => {
    const rng = new Rng(seed);
    const c = new Float64Array(n);
    const v = new Float64Array(n);
    const s = Math.pow(10, logScale);
    for (let j = 0; j < n; j++) {
      c[j] = rng.normal();
      v[j] = c[j] + s * rng.normal();
    }
    return { n, c, v, eps: Math.pow(10, logEps), rng };
  });

function diff(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((x, j) => x - b[j]);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

describe('projections onto ℓp balls', () => {
  for (const p of PS) {
    it(`p = ${p}: the result is in the ball and satisfies the optimality conditions`, () => {
      const q = dualExponent(p);
      fc.assert(
        fc.property(problem, ({ n, c, v, eps, rng }) => {
          const w = v.slice();
          projectBall(p, w, c, eps, n);
          const u = diff(w, c); // Π(v) − c
          const r = diff(v, w); // v − Π(v), a normal vector of the ball at Π(v)
          assert.ok(lpNorm(u, p) <= eps * (1 + TOL.closedForm), `‖Π(v) − c‖_p = ${lpNorm(u, p)} > ε = ${eps}`);
          // Scale of the inner products below: rounding is relative to |v| and |c|, not to |r|.
          const scale = (lpNorm(v, 2) + lpNorm(c, 2) + eps) * Math.max(lpNorm(r, 2), 1e-300);
          // v − Π(v) is in the normal cone: ⟨r, Π(v) − c⟩ = sup_{‖z‖_p ≤ ε} ⟨r, z⟩ = ε‖r‖_q (Hölder equality).
          assert.ok(Math.abs(dot(r, u) - eps * lpNorm(r, q)) <= tolFor(p) * scale, `Hölder: ${dot(r, u)} vs ${eps * lpNorm(r, q)}`);
          // Variational inequality at random points of the ball: ⟨v − Π(v), z − Π(v)⟩ ≤ 0.
          const z = new Float64Array(n);
          for (let k = 0; k < 5; k++) {
            sampleBall(rng, p, eps, z, n);
            for (let j = 0; j < n; j++) z[j] += c[j];
            assert.ok(dot(r, diff(z, w)) <= tolFor(p) * scale, `VI: ⟨v − Π, z − Π⟩ = ${dot(r, diff(z, w))}`);
          }
          // Idempotent: projecting again moves nothing beyond rounding.
          const w2 = w.slice();
          projectBall(p, w2, c, eps, n);
          for (let j = 0; j < n; j++) assert.ok(Math.abs(w2[j] - w[j]) <= tolFor(p) * (Math.abs(c[j]) + eps), `idempotence at ${j}`);
        }),
        { seed: 42, numRuns: 150 },
      );
    });

    it(`p = ${p}: points in the ball are left bit-for-bit alone; ε = 0 gives the centre`, () => {
      const rng = new Rng(5);
      for (let trial = 0; trial < 20; trial++) {
        const n = 1 + rng.int(8);
        const c = Float64Array.from({ length: n }, () => rng.normal());
        const z = new Float64Array(n);
        sampleBall(rng, p, 0.5, z, n);
        for (let j = 0; j < n; j++) z[j] = c[j] + 0.9 * z[j];
        const w = z.slice();
        projectBall(p, w, c, 0.5, n);
        assert.deepEqual(w, z);
        projectBall(p, w, c, 0, n);
        assert.deepEqual(w, c);
      }
    });
  }

  it('works on a slice of a larger buffer (offsets) with a null centre as the origin', () => {
    for (const p of [1, 2, 3, Infinity]) {
      const v = Float64Array.from([9, 9, 3, -4, 1, 9]);
      const c = Float64Array.from([7, 0, 0, 0]);
      const ref = Float64Array.from([3, -4, 1]);
      projectBall(p, ref, null, 1, 3);
      projectBall(p, v, c, 1, 3, 2, 1);
      assert.deepEqual(v.subarray(2, 5), ref);
      assert.deepEqual([v[0], v[1], v[5]], [9, 9, 9]);
    }
  });

  it('ℓ∞ clip, ℓ2 radial scaling and ℓ1 soft thresholding on hand-checked cases', () => {
    const a = Float64Array.from([2, -0.5, -3]);
    projectLinf(a, null, 1, 3);
    assert.deepEqual(a, Float64Array.from([1, -0.5, -1]));
    const b = Float64Array.from([3, 4]);
    projectL2(b, null, 1, 2);
    assertAllClose(b, [0.6, 0.8], TOL.closedForm, 'radial');
    // |u| = (3, 1, 0.5), ε = 2: τ = (3 + 1 − 2)/2 = 1 (0.5 < τ stays out), Π = (2, −0, 0).
    const c = Float64Array.from([3, -1, 0.5]);
    projectL1(c, null, 2, 3);
    assertAllClose(c, [2, 0, 0], TOL.closedForm, 'soft threshold');
  });

  it('ℓ1 agrees with a brute force over the faces of the cross-polytope', () => {
    // The projection onto a polytope is the projection onto the affine hull of the face containing it;
    // enumerate every face {w_j = 0 off S, Σ_{j∈S} σ_j w_j = ε} (support S, signs σ), keep the
    // candidates that lie on their face, and take the nearest — independent of the sort-based method.
    fc.assert(
      fc.property(problem.filter(({ n }) => n <= 5), ({ n, c, v, eps }) => {
        const u = diff(v, c);
        if (lpNorm(u, 1) <= eps) return;
        let best = Infinity;
        let bestW: Float64Array | null = null;
        const codes = Math.pow(3, n); // base-3 digit t of coordinate j: σ_j = t − 1 ∈ {−1, 0 (off S), +1}
        for (let code = 0; code < codes; code++) {
          const sigma = new Int8Array(n);
          let t = code;
          let size = 0;
          let sum = 0;
          for (let j = 0; j < n; j++) {
            sigma[j] = (t % 3) - 1;
            t = Math.floor(t / 3);
            if (sigma[j] !== 0) {
              size++;
              sum += sigma[j] * u[j];
            }
          }
          if (size === 0) continue;
          const tau = (sum - eps) / size;
          const w = new Float64Array(n);
          let onFace = true;
          for (let j = 0; j < n; j++) {
            if (sigma[j] === 0) continue;
            w[j] = u[j] - tau * sigma[j];
            if (w[j] * sigma[j] < -1e-12 * eps) onFace = false;
          }
          if (!onFace) continue;
          const dist = lpNorm(diff(u, w), 2);
          if (dist < best) {
            best = dist;
            bestW = w;
          }
        }
        assert.ok(bestW !== null);
        const got = v.slice();
        projectL1(got, c, eps, n);
        const gotU = diff(got, c);
        for (let j = 0; j < n; j++) assert.ok(Math.abs(gotU[j] - bestW[j]) <= TOL.closedForm * (lpNorm(v, 2) + lpNorm(c, 2) + eps), `coordinate ${j}: ${gotU[j]} vs ${bestW[j]}`);
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('the general-p solver at p = 2 agrees with the radial form', () => {
    fc.assert(
      fc.property(problem, ({ n, c, v, eps }) => {
        const a = v.slice();
        const b = v.slice();
        projectLp(a, c, eps, n, 2);
        projectL2(b, c, eps, n);
        for (let j = 0; j < n; j++) assert.ok(close(a[j], b[j], TOL.rootFind), `${a[j]} vs ${b[j]}`);
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('as p → 1 and p → ∞ the ℓp projection approaches the ℓ1 and ℓ∞ projections', () => {
    const seedState = new Rng(9).nextUint32();
    const at = (p: number, reference: (v: Float64Array, n: number) => void): number => {
      // The same problems for every p, so the gaps are comparable.
      const local = new Rng(seedState);
      let worst = 0;
      for (let trial = 0; trial < 50; trial++) {
        const n = 2 + local.int(8);
        const v = Float64Array.from({ length: n }, () => local.normal());
        const a = v.slice();
        const b = v.slice();
        projectLp(a, null, 0.5, n, p);
        reference(b, n);
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
      }
      return worst;
    };
    const l1 = (v: Float64Array, n: number) => projectL1(v, null, 0.5, n);
    const linf = (v: Float64Array, n: number) => projectLinf(v, null, 0.5, n);
    const toOne = [1.1, 1.01, 1.001, 1.0001].map((p) => at(p, l1));
    const toInf = [10, 100, 1000, 10000].map((p) => at(p, linf));
    for (const seq of [toOne, toInf]) {
      for (let k = 1; k < seq.length; k++) assert.ok(seq[k] < seq[k - 1], `gaps should shrink: ${seq.join(', ')}`);
      assert.ok(seq[seq.length - 1] <= TOL.normLimit, `gap at the extreme p: ${seq[seq.length - 1]}`);
    }
  });

  it('extreme data: huge and tiny offsets, large p, p near 1, zero coordinates', () => {
    for (const p of [1.0001, 1.3, 3, 300]) {
      for (const s of [1e-150, 1e-8, 1e8, 1e150]) {
        const v = Float64Array.from([s, -2 * s, 0, 0.5 * s]);
        const w = v.slice();
        projectLp(w, null, 1, 4, p);
        assert.ok(w.every(Number.isFinite), `p=${p}, s=${s}: ${w}`);
        assert.ok(lpNorm(w, p) <= 1 + TOL.closedForm, `p=${p}, s=${s}: norm ${lpNorm(w, p)}`);
        assert.equal(w[2], 0);
        if (lpNorm(v, p) > 1) assertClose(lpNorm(w, p), 1, TOL.rootFind, `on the sphere (p=${p}, s=${s})`);
      }
    }
  });
});

describe('sampleBall', () => {
  for (const p of [1, 1.5, 2, 3, Infinity]) {
    it(`p = ${p}: points are in the ball, (‖x‖_p/ε)^n is uniform on [0, 1], and the seed fixes the stream`, () => {
      const rng = new Rng(17);
      const n = 3;
      const eps = 0.7;
      const samples = 20000;
      const x = new Float64Array(n);
      let below = 0;
      for (let k = 0; k < samples; k++) {
        sampleBall(rng, p, eps, x, n);
        const r = lpNorm(x, p) / eps;
        assert.ok(r <= 1 + TOL.closedForm);
        // Uniform in a ball of dimension n ⇒ P(‖x‖_p ≤ ε t) = t^n, so (‖x‖_p/ε)^n ~ U[0, 1].
        if (Math.pow(r, n) <= 0.5) below++;
      }
      assert.ok(Math.abs(below / samples - 0.5) <= TOL.monteCarlo, `P((‖x‖/ε)^n ≤ 1/2) = ${below / samples}`);
      const a = new Float64Array(n);
      const b = new Float64Array(n);
      sampleBall(new Rng(3), p, eps, a, n);
      sampleBall(new Rng(3), p, eps, b, n);
      assert.deepEqual(a, b);
    });

    it(`p = ${p}: a non-radial statistic matches rejection sampling from the cube (n = 2)`, () => {
      // Independent reference: uniform points of [−ε, ε]² kept when inside the ℓp ball are uniform in it.
      const eps = 1.3;
      const samples = 20000;
      const rng = new Rng(23);
      const ref = new Rng(29);
      const x = new Float64Array(2);
      let hits = 0;
      let refHits = 0;
      let refCount = 0;
      for (let k = 0; k < samples; k++) {
        sampleBall(rng, p, eps, x, 2);
        if (Math.abs(x[0]) > eps / 2 && x[1] > 0) hits++;
      }
      while (refCount < samples) {
        x[0] = eps * (2 * ref.uniform() - 1);
        x[1] = eps * (2 * ref.uniform() - 1);
        if (lpNorm(x, p) > eps) continue;
        refCount++;
        if (Math.abs(x[0]) > eps / 2 && x[1] > 0) refHits++;
      }
      assert.ok(Math.abs(hits / samples - refHits / samples) <= TOL.monteCarlo, `${hits / samples} vs ${refHits / samples}`);
    });
  }

  it('ε = 0 gives the origin; the point is written at the offset only', () => {
    for (const p of [1, 1.5, 2, Infinity]) {
      const out = new Float64Array(6).fill(7);
      sampleBall(new Rng(1), p, 0, out, 4, 1);
      assert.equal(out[0], 7);
      assert.equal(out[5], 7);
      for (let j = 1; j < 5; j++) assert.equal(Math.abs(out[j]), 0);
    }
  });
});
