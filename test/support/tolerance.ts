/**
 * The one place where test tolerances live (float64). Compare as |a − b| ≤ tol·max(1, |a|, |b|).
 * Never loosen one to make a test pass: find out why it fails.
 */
import assert from 'node:assert/strict';

export const TOL = {
  /** Exact identities evaluated in floating point (homogeneity with powers of two, Euler). */
  identity: 1e-12,
  /** Central-difference gradient checks (h ≈ 1e-5, error O(h²) plus rounding). */
  finiteDifference: 1e-6,
  /** Closed forms that agree up to a few roundings (attacks on linear predictors). */
  closedForm: 1e-12,
  /** Reproduction of the golden trace (docs/THEORY.md §8). */
  golden: 1e-9,
  /** Projections onto ℓp balls found by a 1-D root find. */
  rootFind: 1e-10,
  /**
   * ℓp projections at p = 1 + 10⁻⁴ and p = 10⁴ against the ℓ1 and ℓ∞ ones (max-abs gap, unit-scale data,
   * ε = 0.5): the gap shrinks like (p − 1) resp. 1/p; observed about 4e-4 and 3e-4.
   */
  normLimit: 1e-3,
  /**
   * Two probabilities estimated from 20000 seeded samples each: the difference has σ ≤ 0.5·√(2/20000) = 0.005,
   * so 0.02 is 4σ (and the seeds make the test deterministic).
   */
  monteCarlo: 0.02,
  /**
   * KKT residuals (svmKkt, scale-free) of the exact reference solvers — active-set (quadprog, the dual
   * method) and simplex vertices (HiGHS, GLPK) — on unit-scale test data: observed ≤ 2.3e-13 (HiGHS,
   * ℓ∞, synthetic n = 100, d = 20), most ≤ 1e-15.
   */
  solverKkt: 1e-11,
  /**
   * The same float64 sums of products in another order: the kernel backends (SIMD accumulators, gemm's
   * k in blocks) against naive loops, unit-normal data, at most 600 terms. The worst-case rounding bound
   * k·u·Σ|a_l b_l| relative to max(1, |sum|) is ≈ 1e-12 at k = 600 (Σ|a_l b_l| ≈ 0.64k, |sum| ≈ √k);
   * observed ≤ 2.6e-14. Not bit-exact by design (test/linalg/kernels-backend.test.ts).
   */
  reassociation: 1e-12,
  /** Optimal values and margins of two exact solvers, or of a solver and a committed fixture. */
  solverAgreement: 1e-9,
  /** 1 − cos (computed as ‖u − v‖²/2) between the directions of two solvers or a fixture. */
  solverDirectionCos: 1e-10,
  /** Known-answer directions of the reference sets (docs/THEORY.md §8), in degrees. */
  directionDegrees: 1e-6,
  /**
   * A trained direction against its known answer after a finite run (degrees): S2, deep linear L = 3,
   * exact ℓ∞, ε = 0.25, 20000 loss-scaled steps reaches 18.4349° within this (README; measured 7.2e-5°).
   */
  trainedDirectionDegrees: 2e-4,
  /**
   * The normalized margin of that run against its limit L^{−L/2}γ*(ε), relative: the gap is second order
   * in the angle error (≈ (2e-4° in radians)² ≈ 1.2e-11 at the bound above; measured 3e-12).
   */
  trainedMargin: 1e-10,
  /**
   * An SCS answer that was NOT polished ((D) solved directly, SCS tolerance 1e-10) against the polished
   * equivalent (β_D from (B)): coordinates relative to ‖β_D‖_∞, and margins; observed ≤ 2.2e-9
   * (coordinates, synthetic n = 100, d = 20) and ≤ 1.2e-10 (margins).
   */
  conicUnpolished: 1e-7,
  /**
   * Multipliers from cvxopt's interior-point conelp at its tightest reliable tolerance (1e-9) against
   * the polished (B) (synthetic n = 100, d = 20, λ_i ≤ 2.7): observed ≤ 3.1e-6.
   */
  interiorPointMultipliers: 1e-5,
  /**
   * A KKT residual (scale-free) at a point built by hand to be an exact KKT point: a few roundings of
   * unit-scale gradients through the Gram form (normal equations square the conditioning); observed ~1e-16.
   */
  exactKkt: 1e-8,
} as const;

/** |a − b| ≤ tol·max(1, |a|, |b|). */
export function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Assert `close`, with a message naming both values. */
export function assertClose(a: number, b: number, tol: number, what = 'value'): void {
  assert.ok(close(a, b, tol), `${what}: ${a} vs ${b} (|diff| = ${Math.abs(a - b)}, tol ${tol})`);
}

/** Element-wise `assertClose` for arrays of equal length. */
export function assertAllClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = 'array'): void {
  assert.equal(a.length, b.length, `${what}: lengths ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) assertClose(a[i], b[i], tol, `${what}[${i}]`);
}
