/**
 * The predictor-space reference of claim C3 (docs/THEORY.md §4–5): for diagonal and linear convolutional
 * networks of depth L, adversarial training converges in direction to a KKT point of
 *
 *   (C3)  min N(β)  s.t.  g_i(β) := z_i·β − ε‖β‖_q ≥ 1,
 *
 * with N(β) = ‖β‖_{2/L} (diagonal, both the product form u_1⊙⋯⊙u_L and the ± form u^{⊙L} − v^{⊙L})
 * or N(β) = ‖Fβ‖_{2/L} (full-width circular convolution; F the unitary DFT, complex moduli), where
 * ‖c‖_r = (Σ_k |c_k|^r)^{1/r}. Both are N(β) = ‖Tβ‖_{2/L} for a unitary T (identity or F): we work in
 * the coordinates c = Tβ throughout.
 *
 *  - L = 2: N is a norm and (C3) is convex: an ℓ1-type problem.
 *     - The linear case ({@link isLinearCase}: diagonal T with q ∈ {1, ∞}, or ε = 0) is an LP, solved
 *       exactly by HiGHS's simplex with β = β⁺ − β⁻ ({@link weightedLp}) and cross-checked by GLPK on
 *       the scale-free formulation below (another library, another formulation).
 *     - Otherwise (conv: complex moduli; q = 2 at ε > 0) a second-order-cone problem, solved by SCS
 *       in the scale-free form max γ s.t. z_i·u − ε‖u‖_q ≥ γ, N(u) ≤ 1 (β = u/γ, N(β) = 1/γ), and
 *       cross-checked by a second, unrelated method: Kelley cutting planes on HiGHS's simplex (exact
 *       linear rows where the problem is linear, tangent cuts for the cones).
 *    SCS was the only method before: on diagonal LPs of 150 × 30 it can stall at its iteration limit
 *    (synthetic seed 2, p = ∞: 200 000 iterations, ~6 s, `failed`), which the simplex does not.
 *  - L ≥ 3: N is a quasi-norm (2/L < 1) and (C3) is non-convex with several KKT points. Local
 *    solutions by iteratively reweighted ℓ1-type problems (IRL1: min Σ_k w_k|c_k| with
 *    w_k = (|c_k| + δ)^{2/L − 1}, δ ↓), each a majorize–minimize step of Σ|c_k|^{2/L}, from several
 *    starts (the first from uniform weights, i.e. the L = 2 solution; odd ones from weights that make
 *    one coordinate cheap, cycling through the coordinates, which finds sparse solutions; even ones
 *    from the weights of a seeded random point); each step is the LP on HiGHS in the linear case,
 *    else SCS. Every local solution is reported with its predictor-space KKT residual; the best
 *    (smallest N) is marked. Global optimality is not certified.
 *
 * {@link predictorKkt} is the KKT residual of (C3) at any β — a solver's or a trained network's.
 */
import { InputError } from '../errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { dualExponent, lpNorm, steepestAscent } from '../linalg/norms.ts';
import { Rng } from '../linalg/rng.ts';
import { nnlsGram } from '../metrics/kkt.ts';
import { directionError } from '../metrics/direction.ts';
import type { KktResiduals, SolverResult } from './types.ts';
import { ConeProgram, addNormEpigraph, conicInfeasible, conicSolved, emptyResult, signedExamples, solveConic, unit } from './svm-q.ts';
import { CsrBuilder, solveWithGlpk, solveWithHighs, type SvmLpSolver } from './svm.ts';
import { robustThreshold } from './threshold.ts';
import { MODELS } from '../models/registry.ts';

/** Architectures with a predictor-space interpolation norm. */
export type InterpolationArchitecture = 'diagonal' | 'conv';
export const INTERPOLATION_ARCHITECTURES: readonly InterpolationArchitecture[] = ['diagonal', 'conv'];

/** Model registry kinds → their C3 architecture (the descriptor's trait; null for models C3 does not cover). */
export function architectureOfModel(kind: string): InterpolationArchitecture | null {
  return MODELS.find(kind)?.traits.c3Architecture ?? null;
}

// ---------------------------------------------------------------------------------------------
// Predictor-space coordinates c = Tβ
// ---------------------------------------------------------------------------------------------

/**
 * The unitary map T to the coordinates in which N is an r-quasi-norm: identity (diagonal) or the
 * unitary DFT (conv), as a real d×d matrix `re` and, for conv, `im` (row k gives Re c_k and Im c_k;
 * for real β, c_{d−k} = conj(c_k)). `imZero[k]` marks rows whose imaginary part vanishes identically
 * (k = 0 and k = d/2).
 */
export interface PredictorTransform {
  readonly architecture: InterpolationArchitecture;
  readonly d: number;
  readonly re: Float64Array;
  readonly im: Float64Array | null;
  readonly imZero: Uint8Array;
}

/** T for an architecture and dimension d (conv: (Fβ)_k = d^{−1/2} Σ_n β_n e^{−2πikn/d}). */
export function predictorTransform(architecture: InterpolationArchitecture, d: number): PredictorTransform {
  const re = new Float64Array(d * d);
  const imZero = new Uint8Array(d).fill(1);
  if (architecture === 'diagonal') {
    for (let j = 0; j < d; j++) re[j * d + j] = 1;
    return { architecture, d, re, im: null, imZero };
  }
  const im = new Float64Array(d * d);
  const s = 1 / Math.sqrt(d);
  for (let k = 0; k < d; k++) {
    for (let n = 0; n < d; n++) {
      const m = (k * n) % d; // exact integer phase index: accurate twiddles for large d
      const a = (2 * Math.PI * m) / d;
      re[k * d + n] = Math.cos(a) * s;
      // sin(π) etc. are not exactly 0 in float64: use exact zeros where the phase is 0 or π.
      im[k * d + n] = m === 0 || 2 * m === d ? 0 : -Math.sin(a) * s;
    }
    for (let n = 0; n < d; n++) if (im[k * d + n] !== 0) imZero[k] = 0;
  }
  return { architecture, d, re, im, imZero };
}

/** c = Tβ: real and imaginary parts (imaginary all zero for the diagonal architecture). */
export function applyTransform(T: PredictorTransform, beta: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const d = T.d;
  const re = new Float64Array(d);
  const im = new Float64Array(d);
  if (T.im === null) {
    for (let j = 0; j < d; j++) re[j] = beta[j];
    return { re, im };
  }
  for (let k = 0; k < d; k++) {
    let sr = 0;
    let si = 0;
    for (let n = 0; n < d; n++) {
      sr += T.re[k * d + n] * beta[n];
      si += T.im[k * d + n] * beta[n];
    }
    re[k] = sr;
    im[k] = si;
  }
  return { re, im };
}

/** |c_k| for c = Tβ. */
export function predictorModuli(T: PredictorTransform, beta: ArrayLike<number>): Float64Array {
  const c = applyTransform(T, beta);
  return c.re.map((v, k) => Math.hypot(v, c.im[k]));
}

/** N(β) = ‖Tβ‖_{2/L} = (Σ_k |c_k|^{2/L})^{L/2}. */
export function interpolationNorm(T: PredictorTransform, depth: number, beta: ArrayLike<number>): number {
  const r = 2 / depth;
  const mod = predictorModuli(T, beta);
  let top = 0;
  for (const v of mod) top = Math.max(top, v);
  if (top === 0) return 0;
  let s = 0;
  for (const v of mod) s += Math.pow(v / top, r);
  return top * Math.pow(s, 1 / r);
}

/** min_i g_i(β) = min_i z_i·β − ε‖β‖_q. */
function minConstraint(Z: Float64Array, n: number, d: number, q: number, eps: number, beta: ArrayLike<number>): number {
  const nq = eps > 0 ? lpNorm(beta, q) : 0;
  let m = Infinity;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Z[i * d + j] * beta[j];
    m = Math.min(m, s - eps * nq);
  }
  return m;
}

/**
 * The generalized margin of C3 (docs/THEORY.md §4): Γ(β) = (min_i z_i·β − ε‖β‖_q)/N(β). Scale-free; the
 * solution of (C3) maximizes it, with max Γ = 1/N(β*).
 */
export function c3Margin(data: Dataset, architecture: InterpolationArchitecture, depth: number, p: number, eps: number, beta: ArrayLike<number>): number {
  const ex = signedExamples(data);
  if (!ex.ok) return NaN;
  const T = predictorTransform(architecture, ex.d);
  return minConstraint(ex.Z, ex.n, ex.d, dualExponent(p), eps, beta) / interpolationNorm(T, depth, beta);
}

// ---------------------------------------------------------------------------------------------
// Predictor-space KKT residual
// ---------------------------------------------------------------------------------------------

/** {@link predictorKkt}'s answer. */
export interface PredictorKkt {
  /**
   * Relative stationarity ‖W(∇_cΦ − T Σ_i λ_i ∂g_i)‖/‖W∇_cΦ‖ ≥ 0 (see {@link predictorKkt});
   * Infinity when β does not satisfy min_i g_i(β) > 0.
   */
  stationarity: number;
  /** Σ_i λ_i (g_i(β̃) − 1) / Σ_i λ_i ≥ 0 (0 when the multipliers sit on active constraints). */
  complementarity: number;
  /** min_i g_i(β) at the β given (must be > 0). */
  minConstraint: number;
  /** N(β̃) for β̃ = β/min_i g_i(β): the objective of (C3) at the feasible rescaling of β. */
  objective: number;
  /** Γ(β) = 1/objective. */
  margin: number;
  /** λ_i ≥ 0 (multipliers of (C3) written with the objective Φ = (L/2)Σ|c_k|^{2/L}). */
  multipliers: Float64Array | null;
  /** The relative threshold used to identify the kinks of ‖·‖_q (0 where q is smooth). */
  kinkTolerance: number;
}

/**
 * Relative thresholds tried for the kinks of ‖β‖_q (q = 1: zeros; q = ∞: ties at the maximum). The
 * largest, 1e-2, is for trained networks: at a kink target, training chatters across the kink with an
 * amplitude of the order of the step (measured on S2, depth 4, p = 1, ε = 0.75: |β₁|/|β₂| − 1
 * oscillating around ±1e-3 after 10⁵ steps of η_t = 0.1/√(t+1)), so an exact tie is never seen.
 * Counting coordinates within 1 % of the maximum as tied is an approximate (ε-)subdifferential; the
 * τ used is reported with the residual.
 */
const KINK_TOLERANCES = [0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 3e-3, 1e-2] as const;

/**
 * KKT residual of (C3) at β (any positive scale; rescaled to β̃ = β/min_i g_i(β) so that the
 * tightest constraint is 1), in predictor space.
 *
 * With c = Tβ̃, r = 2/L and the objective written as Φ(β) = (L/2)Σ_k|c_k|^r (the parameter norm
 * ½‖θ‖² of the balanced factorization of β; its gradient in c is c_k|c_k|^{r−2}), stationarity is
 * ∇_cΦ = T Σ_i λ_i v_i with v_i ∈ ∂g_i(β̃) = z_i − ε∂‖β̃‖_q and λ ≥ 0. For r < 1, ∇_cΦ is unbounded as
 * c_k → 0 and the condition is void at c_k = 0, so each coordinate is weighted by
 * W_k = |c_k|^{1−r/2}: the residual ‖W(∇_cΦ − TGλ)‖/‖W∇_cΦ‖ is then exactly the parameter-space
 * residual ‖θ̃ − Σλ_i∇_θ q̃_i‖/‖θ̃‖ of docs/THEORY.md §4 at the balanced factorization (diagonal: the
 * factors |β_j|^{1/L}; conv: the same in Fourier coordinates), finite for every β and → 0 along
 * training that converges to a KKT direction, whichever KKT point it is. Our reconstruction (the
 * paper's exact residual was not available to us).
 *
 * λ minimizes ½‖W(∇_cΦ − TGλ)‖² + (1/L)Σλ_i(g_i(β̃) − 1) over λ ≥ 0 (NNLS with complementarity as
 * a penalty: the parameter-space check of `metrics/kkt.ts` in predictor units, whose quadratic is L
 * times this one because each coordinate appears in L factors — so the two stationarities coincide at
 * the balanced factorization, tested), where the subgradient of ‖·‖_q is
 * chosen optimally at its kinks: for q = ∞ any convex combination of the signed maximal coordinates,
 * for q = 1 any value in [−1, 1] at zero coordinates (identified at a relative threshold τ; the τ of
 * {@link KINK_TOLERANCES} giving the smallest residual is used and reported). The multiplier of the
 * subgradient's equality constraint is projected back exactly before the residual is formed, so the
 * residual is always that of a genuine element of the subdifferential.
 *
 * A small residual says β is (near) a KKT point; whether it is the global one is told by its
 * objective against the best solver solution ({@link interpolationNormSolve}).
 */
export function predictorKkt(Z: Float64Array, n: number, d: number, T: PredictorTransform, depth: number, q: number, eps: number, beta: ArrayLike<number>): PredictorKkt {
  const m0 = minConstraint(Z, n, d, q, eps, beta);
  const nrm = interpolationNorm(T, depth, beta);
  const bad: PredictorKkt = { stationarity: Infinity, complementarity: Infinity, minConstraint: m0, objective: Infinity, margin: m0 / nrm, multipliers: null, kinkTolerance: 0 };
  if (!(m0 > 0) || !(nrm > 0)) return bad;
  const bt = Float64Array.from(beta, (v) => v / m0);
  const r = 2 / depth;
  const c = applyTransform(T, bt);
  const rows = T.im === null ? d : 2 * d;
  // Target a = W ∇_cΦ = (c_k/|c_k|)|c_k|^{r/2}; weights W_k = |c_k|^{1−r/2}.
  const W = new Float64Array(d);
  const target = new Float64Array(rows);
  let targetNorm2 = 0;
  for (let k = 0; k < d; k++) {
    const a = Math.hypot(c.re[k], c.im[k]);
    if (a === 0) continue;
    W[k] = Math.pow(a, 1 - r / 2);
    const f = Math.pow(a, r / 2) / a;
    target[k] = c.re[k] * f;
    if (rows > d) target[d + k] = c.im[k] * f;
    targetNorm2 += Math.pow(a, r);
  }
  const targetNorm = Math.sqrt(targetNorm2);
  const g = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Z[i * d + j] * bt[j];
    g[i] = s - eps * lpNorm(bt, q);
  }
  // W·T·v for a vector v in β-space, written into out (rows entries).
  const mapped = (v: ArrayLike<number>, out: Float64Array, off: number): void => {
    const cv = applyTransform(T, v);
    for (let k = 0; k < d; k++) {
      out[off + k] = W[k] * cv.re[k];
      if (rows > d) out[off + d + k] = W[k] * cv.im[k];
    }
  };
  const smooth = eps === 0 || (q !== 1 && q !== Infinity);
  const taus = smooth ? [0] : KINK_TOLERANCES;
  let best: PredictorKkt = bad;
  const top = lpNorm(bt, Infinity);
  for (const tau of taus) {
    // Fixed part of the norm's subgradient, and the free coordinates at kinks.
    const vfix = new Float64Array(d);
    const kinks: number[] = [];
    if (eps > 0) {
      if (q === Infinity) {
        for (let j = 0; j < d; j++) if (Math.abs(bt[j]) >= (1 - tau) * top) kinks.push(j);
      } else if (q === 1) {
        for (let j = 0; j < d; j++) {
          if (Math.abs(bt[j]) > tau * top) vfix[j] = Math.sign(bt[j]);
          else kinks.push(j);
        }
      } else steepestAscent(bt, dualExponent(q), vfix);
    }
    // Columns: λ_i (n), then for q = ∞: ν_j ≥ 0 (j ∈ M, Σν = Σλ); q = 1: ω⁺_j, ω⁻_j, slack_j ≥ 0
    // (ω⁺ + ω⁻ + slack = Σλ, i.e. |ω| ≤ Σλ). Penalty rows enforce the equalities approximately;
    // they are then restored exactly.
    const nk = kinks.length;
    const extra = q === Infinity ? nk : 3 * nk;
    const penaltyRows = q === Infinity ? (nk > 0 ? 1 : 0) : nk;
    const cols = n + extra;
    const R = rows + penaltyRows;
    const A = new Float64Array(cols * R); // column-major: column c at c·R
    const tmp = new Float64Array(d);
    let colMax = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) tmp[j] = Z[i * d + j] - eps * vfix[j];
      mapped(tmp, A, i * R);
      let s = 0;
      for (let t = 0; t < rows; t++) s += A[i * R + t] ** 2;
      colMax = Math.max(colMax, Math.sqrt(s));
    }
    const unitCol = (j: number, sign: number, col: number): void => {
      tmp.fill(0);
      tmp[j] = sign * eps;
      mapped(tmp, A, col * R);
    };
    kinks.forEach((j, a) => {
      if (q === Infinity) unitCol(j, -Math.sign(bt[j]), n + a);
      else {
        unitCol(j, -1, n + 3 * a);
        unitCol(j, 1, n + 3 * a + 1);
      }
    });
    const rho = 100 * Math.max(colMax, 1e-300);
    if (q === Infinity && nk > 0) {
      for (let i = 0; i < n; i++) A[i * R + rows] = -rho;
      for (let a = 0; a < nk; a++) A[(n + a) * R + rows] = rho;
    } else if (q === 1) {
      for (let a = 0; a < nk; a++) {
        for (let i = 0; i < n; i++) A[i * R + rows + a] = -rho;
        for (let t = 0; t < 3; t++) A[(n + 3 * a + t) * R + rows + a] = rho;
      }
    }
    const K = new Float64Array(cols * cols);
    const b = new Float64Array(cols);
    for (let u = 0; u < cols; u++) {
      let s = 0;
      for (let t = 0; t < rows; t++) s += A[u * R + t] * target[t];
      b[u] = s - (u < n ? (g[u] - 1) / depth : 0);
      for (let v = 0; v <= u; v++) {
        let k = 0;
        for (let t = 0; t < R; t++) k += A[u * R + t] * A[v * R + t];
        K[u * cols + v] = k;
        K[v * cols + u] = k;
      }
    }
    const mu = nnlsGram(K, b, cols);
    // Restore the subgradient's constraints exactly.
    let lamSum = 0;
    for (let i = 0; i < n; i++) lamSum += mu[i];
    const coef = new Float64Array(cols);
    for (let i = 0; i < n; i++) coef[i] = mu[i];
    if (q === Infinity && nk > 0) {
      let s = 0;
      for (let a = 0; a < nk; a++) s += mu[n + a];
      for (let a = 0; a < nk; a++) coef[n + a] = s > 0 ? (mu[n + a] * lamSum) / s : a === 0 ? lamSum : 0;
    } else if (q === 1) {
      for (let a = 0; a < nk; a++) {
        const w = Math.min(lamSum, Math.max(-lamSum, mu[n + 3 * a] - mu[n + 3 * a + 1]));
        coef[n + 3 * a] = Math.max(w, 0);
        coef[n + 3 * a + 1] = Math.max(-w, 0);
      }
    }
    let res2 = 0;
    for (let t = 0; t < rows; t++) {
      let s = target[t];
      for (let u = 0; u < cols; u++) if (coef[u] !== 0) s -= coef[u] * A[u * R + t];
      res2 += s * s;
    }
    let comp = 0;
    for (let i = 0; i < n; i++) comp += mu[i] * (g[i] - 1);
    const cand: PredictorKkt = {
      stationarity: Math.sqrt(res2) / targetNorm,
      complementarity: lamSum > 0 ? comp / lamSum : 0,
      minConstraint: m0,
      objective: nrm / m0,
      margin: m0 / nrm,
      multipliers: Float64Array.from(mu.subarray(0, n)),
      kinkTolerance: tau,
    };
    if (Math.max(cand.stationarity, cand.complementarity) < Math.max(best.stationarity, best.complementarity)) best = cand;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The convex weighted problem (L = 2, and each IRL1 step) by SCS
// ---------------------------------------------------------------------------------------------

type ConvexOutcome = { ok: true; beta: Float64Array; iterations: number; note: string } | { ok: false; status: 'not-separable' | 'failed'; message: string };

/**
 * min Σ_k w_k|c_k(β)| s.t. z_i·β − ε‖β‖_q ≥ 1, in the scale-free form
 * max γ s.t. z_i·u − εs ≥ γ, s ≥ ‖u‖_q, t_k ≥ |c_k(u)|, Σ w_k t_k ≤ 1; then β = u/γ.
 * Columns: u (0..d−1), γ (d), t (d+1..2d), s (2d+1), the q-norm epigraph's auxiliaries (2d+2…).
 */
async function weightedScs(Z: Float64Array, n: number, d: number, T: PredictorTransform, q: number, eps: number, w: Float64Array): Promise<ConvexOutcome> {
  const useNorm = eps > 0;
  const numAux = useNorm && q !== 2 && q !== Infinity ? d : 0;
  const tCol = d + 1;
  const sCol = 2 * d + 1;
  const program = new ConeProgram(2 * d + 1 + (useNorm ? 1 + numAux : 0));
  program.objective[d] = -1;
  for (let i = 0; i < n; i++) {
    const terms: [number, number][] = [];
    for (let j = 0; j < d; j++) terms.push([j, Z[i * d + j]]);
    terms.push([d, -1]);
    if (useNorm) terms.push([sCol, -eps]);
    program.addNonneg({ terms });
  }
  const budget: [number, number][] = [];
  for (let k = 0; k < d; k++) budget.push([tCol + k, -w[k]]);
  program.addNonneg({ terms: budget, constant: 1 });
  for (let k = 0; k < d; k++) {
    const reTerms: [number, number][] = [];
    for (let j = 0; j < d; j++) if (T.re[k * d + j] !== 0) reTerms.push([j, T.re[k * d + j]]);
    if (T.im === null || T.imZero[k]) {
      program.addNonneg({ terms: [[tCol + k, 1], ...reTerms.map(([j, v]): [number, number] => [j, -v])] });
      program.addNonneg({ terms: [[tCol + k, 1], ...reTerms] });
    } else {
      const imTerms: [number, number][] = [];
      for (let j = 0; j < d; j++) if (T.im[k * d + j] !== 0) imTerms.push([j, T.im[k * d + j]]);
      program.addSoc([{ terms: [[tCol + k, 1]] }, { terms: reTerms }, { terms: imTerms }]);
    }
  }
  if (useNorm) addNormEpigraph(program, q, d, 0, sCol, sCol + 1);
  const sol = await solveConic(program);
  const warnings = sol.log.length > 0 ? ` (SCS printed: ${sol.log.join('; ')})` : '';
  if (conicInfeasible(sol)) return { ok: false, status: 'not-separable', message: `SCS: infeasible${warnings}` };
  if (!conicSolved(sol)) return { ok: false, status: 'failed', message: `SCS returned "${sol.status}" after ${sol.iterations} iterations${warnings}` };
  const gamma = sol.x[d];
  if (!(gamma > 0)) return { ok: false, status: 'not-separable', message: `SCS found max_u min_i z_i·u − ε‖u‖_q = ${gamma} ≤ 0 over N(u) ≤ 1` };
  return { ok: true, beta: sol.x.slice(0, d).map((v) => v / gamma), iterations: sol.iterations, note: `SCS ${sol.status} in ${sol.iterations} iterations${warnings}` };
}

// ---------------------------------------------------------------------------------------------
// The linear case (diagonal, q ∈ {1, ∞} or ε = 0) as an exact LP on HiGHS
// ---------------------------------------------------------------------------------------------

/**
 * Whether the weighted convex problem min Σ_k w_k|c_k| s.t. z_i·β − ε‖β‖_q ≥ 1 is a linear program:
 * the diagonal architecture (c = β, real moduli) with q ∈ {1, ∞} (p ∈ {∞, 1}) or ε = 0. The
 * convolutional one is not (|c_k| are complex moduli: second-order cones), nor q = 2 at ε > 0.
 */
export function isLinearCase(architecture: InterpolationArchitecture, q: number, eps: number): boolean {
  return architecture === 'diagonal' && (eps === 0 || q === 1 || q === Infinity);
}

/**
 * min Σ_j w_j|β_j| s.t. z_i·β − ε‖β‖_q ≥ 1 (diagonal; q ∈ {1, ∞} or ε = 0), w_j > 0, as the LP
 *
 *   min Σ_j w_j(β⁺_j + β⁻_j)  over β⁺, β⁻ ≥ 0 (β = β⁺ − β⁻), with
 *   q = ∞:  z_i·(β⁺ − β⁻) − εs ≥ 1,  s − β⁺_j − β⁻_j ≥ 0 (s ≥ 0, the epigraph of ‖β‖_∞);
 *   q = 1:  z_i·(β⁺ − β⁻) − ε Σ_j(β⁺_j + β⁻_j) ≥ 1 (the split itself is the epigraph of ‖β‖₁);
 *   ε = 0:  z_i·(β⁺ − β⁻) ≥ 1,
 *
 * solved by HiGHS's simplex. Exact: any feasible point gives a β feasible for (C3) (β⁺_j + β⁻_j ≥ |β_j|
 * only loosens the constraint on the norm) with Σw|β| ≤ its cost, and every β gives a split with
 * equality; at an optimum β⁺_j β⁻_j = 0, since lowering both by their minimum lowers the cost (w_j > 0)
 * and keeps every row feasible. The row duals of the margin rows are the LP multipliers λ ≥ 0, with
 * Σλ_i equal to the optimal value (strong duality: the margin rows are the only ones with a nonzero
 * bound); the note reports the relative difference.
 */
async function weightedLp(Z: Float64Array, n: number, d: number, q: number, eps: number, w: Float64Array): Promise<ConvexOutcome> {
  const useS = eps > 0 && q === Infinity;
  const numCols = 2 * d + (useS ? 1 : 0);
  const sCol = 2 * d;
  const b = new CsrBuilder();
  for (let i = 0; i < n; i++) {
    const l1 = eps > 0 && q === 1 ? eps : 0;
    for (let j = 0; j < d; j++) b.add(j, Z[i * d + j] - l1);
    for (let j = 0; j < d; j++) b.add(d + j, -Z[i * d + j] - l1);
    if (useS) b.add(sCol, -eps);
    b.endRow(1);
  }
  if (useS) {
    for (let j = 0; j < d; j++) {
      b.add(sCol, 1);
      b.add(j, -1);
      b.add(d + j, -1);
      b.endRow(0);
    }
  }
  const cost = new Float64Array(numCols);
  for (let j = 0; j < d; j++) cost[j] = cost[d + j] = w[j];
  const out = await solveWithHighs(b.toProgram(numCols, cost, new Float64Array(numCols)));
  if (out.status === 'infeasible') return { ok: false, status: 'not-separable', message: `HiGHS: the LP is infeasible (${out.detail})` };
  if (out.status !== 'optimal' || out.x === null || out.rowDual === null) return { ok: false, status: 'failed', message: `HiGHS stopped without an optimum (${out.detail})` };
  const x = out.x;
  const beta = new Float64Array(d);
  let value = 0;
  for (let j = 0; j < d; j++) {
    beta[j] = x[j] - x[d + j];
    value += w[j] * (x[j] + x[d + j]);
  }
  let dualValue = 0;
  for (let i = 0; i < n; i++) dualValue += out.rowDual[i];
  const gap = Math.abs(dualValue - value) / Math.max(value, 1e-300);
  return { ok: true, beta, iterations: 1, note: `HiGHS LP (simplex, ${n + (useS ? d : 0)} rows × ${numCols} columns): value ${value.toPrecision(12)}, Σλ_i of its duals ${gap.toExponential(1)} (relative) from it` };
}

// ---------------------------------------------------------------------------------------------
// Second method for L = 2: cutting planes on HiGHS (one exact LP on GLPK in the linear case)
// ---------------------------------------------------------------------------------------------

/** The cross-check's answer. */
export interface CuttingPlaneResult {
  ok: boolean;
  message: string;
  /** A feasible β (rescaled so that min_i g_i = 1) and its objective N(β) (an upper bound). */
  beta: Float64Array | null;
  objective: number;
  /** The last LP's value, a lower bound on the optimal N (outer approximation). */
  lowerBound: number;
  iterations: number;
}

/**
 * (C3) at L = 2 by Kelley's cutting-plane method with HiGHS (dual simplex): the LP
 * max γ s.t. z_i·u − εs ≥ γ, Σ_k t_k ≤ 1, with t_k ≥ |c_k(u)| and s ≥ ‖u‖_q written exactly where
 * they are linear (diagonal moduli, k = 0 and d/2 of the DFT, q ∈ {1, ∞}) and otherwise as a growing
 * set of tangent cuts (8 initial directions per complex modulus, ±e_j for the ℓ2 ball), every violated
 * cone cut at each LP's solution, until the certified gap between the LP value (a lower bound) and a
 * feasible rescaling of its solution (an upper bound) is ≤ 1e-9, relative.
 * Independent of SCS: a different algorithm in a different library. In the linear case
 * ({@link isLinearCase}) every row is exact and the first LP is (C3) itself: with `lpSolver: 'glpk'`
 * it is then the cross-check of the HiGHS LP ({@link weightedLp}) — a different library and a
 * different formulation (free u, scale-free, moduli as t_k ≥ ±u_k, ‖u‖₁ with auxiliaries).
 */
export async function interpolationNormCuttingPlane(
  data: Dataset,
  architecture: InterpolationArchitecture,
  p: number,
  eps: number,
  options: { readonly maxIterations?: number; readonly lpSolver?: SvmLpSolver } = {},
): Promise<CuttingPlaneResult> {
  const maxIterations = options.maxIterations ?? 400;
  const lpSolver = options.lpSolver ?? 'highs';
  const lpName = lpSolver === 'highs' ? 'HiGHS' : 'GLPK';
  const ex = signedExamples(data);
  if (!ex.ok) return { ok: false, message: ex.message, beta: null, objective: NaN, lowerBound: NaN, iterations: 0 };
  const { Z, n, d } = ex;
  const q = dualExponent(p);
  const T = predictorTransform(architecture, d);
  const useNorm = eps > 0;
  const gCol = d;
  const tCol = d + 1;
  const sCol = 2 * d + 1;
  const auxCol = 2 * d + 2;
  const numCols = 2 * d + 1 + (useNorm ? 1 + (q === 1 ? d : 0) : 0);
  // Fixed rows, then cuts appended (each row: [col, value][] ≥ lower).
  const rows: { terms: [number, number][]; lower: number }[] = [];
  for (let i = 0; i < n; i++) {
    const terms: [number, number][] = [];
    for (let j = 0; j < d; j++) terms.push([j, Z[i * d + j]]);
    terms.push([gCol, -1]);
    if (useNorm) terms.push([sCol, -eps]);
    rows.push({ terms, lower: 0 });
  }
  rows.push({ terms: Array.from({ length: d }, (_, k): [number, number] => [tCol + k, -1]), lower: -1 });
  const modulusCut = (k: number, cr: number, ci: number): void => {
    // t_k ≥ cr·Re c_k(u) + ci·Im c_k(u) for a unit (cr, ci).
    const terms: [number, number][] = [[tCol + k, 1]];
    for (let j = 0; j < d; j++) {
      const v = cr * T.re[k * d + j] + (T.im ? ci * T.im[k * d + j] : 0);
      if (v !== 0) terms.push([j, -v]);
    }
    rows.push({ terms, lower: 0 });
  };
  const complexK: number[] = [];
  for (let k = 0; k < d; k++) {
    if (T.im === null || T.imZero[k]) {
      modulusCut(k, 1, 0);
      modulusCut(k, -1, 0);
    } else {
      complexK.push(k);
      for (let a = 0; a < 8; a++) modulusCut(k, Math.cos((a * Math.PI) / 4), Math.sin((a * Math.PI) / 4));
    }
  }
  const normCut = (v: ArrayLike<number>): void => {
    const terms: [number, number][] = [[sCol, 1]];
    for (let j = 0; j < d; j++) if (v[j] !== 0) terms.push([j, -v[j]]);
    rows.push({ terms, lower: 0 });
  };
  if (useNorm) {
    if (q === Infinity || q === 2) {
      for (let j = 0; j < d; j++) {
        const e = new Float64Array(d);
        e[j] = 1;
        normCut(e);
        e[j] = -1;
        normCut(e);
      }
    } else if (q === 1) {
      rows.push({ terms: [[sCol, 1], ...Array.from({ length: d }, (_, j): [number, number] => [auxCol + j, -1])], lower: 0 });
      for (let j = 0; j < d; j++) {
        rows.push({ terms: [[auxCol + j, 1], [j, -1]], lower: 0 });
        rows.push({ terms: [[auxCol + j, 1], [j, 1]], lower: 0 });
      }
    } else {
      return { ok: false, message: `the cutting-plane cross-check handles q ∈ {1, 2, ∞} (p ∈ {∞, 2, 1}), not q = ${q}`, beta: null, objective: NaN, lowerBound: NaN, iterations: 0 };
    }
  }
  const colLower = new Float64Array(numCols).fill(-Infinity);
  for (let k = 0; k < d; k++) colLower[tCol + k] = 0;
  if (useNorm) colLower[sCol] = 0;
  const cost = new Float64Array(numCols);
  cost[gCol] = -1;
  let lowerBound = NaN;
  for (let it = 1; it <= maxIterations; it++) {
    const b = new CsrBuilder();
    for (const row of rows) {
      for (const [col, v] of row.terms) b.add(col, v);
      b.endRow(row.lower);
    }
    const lp = b.toProgram(numCols, cost, colLower);
    const out = lpSolver === 'highs' ? await solveWithHighs(lp) : await solveWithGlpk(lp);
    if (out.status !== 'optimal' || out.x === null) return { ok: false, message: `${lpName}: ${out.detail} at cutting-plane iteration ${it}`, beta: null, objective: NaN, lowerBound, iterations: it };
    const x = out.x;
    const gamma = x[gCol];
    if (!(gamma > 0)) return { ok: false, message: `${lpName}: max γ = ${gamma} ≤ 0 (not separable at this ε)`, beta: null, objective: NaN, lowerBound, iterations: it };
    lowerBound = 1 / gamma;
    const u = x.slice(0, d);
    const c = applyTransform(T, u);
    let worst = 0;
    const scale = Math.max(lpNorm(u, 2), 1e-300);
    for (const k of complexK) {
      const a = Math.hypot(c.re[k], c.im[k]);
      const viol = (a - x[tCol + k]) / scale;
      if (viol > 1e-12) modulusCut(k, c.re[k] / a, c.im[k] / a);
      worst = Math.max(worst, viol);
    }
    if (useNorm && q === 2) {
      const a = lpNorm(u, 2);
      const viol = (a - x[sCol]) / scale;
      if (viol > 1e-12) normCut(u.map((v) => v / a));
      worst = Math.max(worst, viol);
    }
    // A feasible point (u rescaled so that the tightest true constraint is 1) bounds the optimum from
    // above; the LP (an outer approximation) from below. Stop when the certified gap is ≤ 1e−9 (HiGHS's
    // feasibility tolerance, 1e−10, keeps the LP from certifying much less).
    const m = minConstraint(Z, n, d, q, eps, u);
    if (m > 0) {
      const beta = u.map((v) => v / m);
      const objective = interpolationNorm(T, 2, beta);
      if (worst <= 1e-12 || objective - lowerBound <= 1e-9 * objective) {
        // With no cone rows (the linear case) the first LP is exact: no cutting planes.
        const exact = complexK.length === 0 && !(useNorm && q === 2);
        const what = exact ? `${lpName} LP (scale-free form, exact)` : `${lpName} cutting planes: ${it} LP${it === 1 ? '' : 's'}`;
        return { ok: true, message: `${what}, ${rows.length} rows, certified gap ${((objective - lowerBound) / objective).toExponential(1)}`, beta, objective, lowerBound, iterations: it };
      }
    }
  }
  return { ok: false, message: `cutting planes did not converge in ${maxIterations} LPs`, beta: null, objective: NaN, lowerBound, iterations: maxIterations };
}

// ---------------------------------------------------------------------------------------------
// The solver
// ---------------------------------------------------------------------------------------------

/** One local solution of (C3). */
export interface LocalSolution {
  /** β with min_i g_i(β) = 1. */
  beta: Float64Array;
  direction: Float64Array;
  /** N(β) (the objective at this feasible β). */
  objective: number;
  /** Γ(β) = 1/N(β). */
  margin: number;
  kkt: PredictorKkt;
  /** The starts (0-based) that reached this solution (directions within 1e-8 of 1 − cos). */
  starts: number[];
  /** Reweighting steps of the first start that reached it (1 for L = 2). */
  iterations: number;
}

/** Options of {@link interpolationNormSolve}. */
export interface InterpolationNormOptions {
  readonly architecture: InterpolationArchitecture;
  /** L ≥ 2 (L = 1 is the linear model: the adversarial SVM (B)). */
  readonly depth: number;
  /** Perturbation norm p ∈ [1, ∞] (q its dual). */
  readonly p: number;
  readonly eps: number;
  /** L ≥ 3: number of IRL1 starts (default 8). */
  readonly starts?: number;
  /** L ≥ 3: seed of the random starting weights (default 0). */
  readonly seed?: number;
  /** γ_q* when the caller has it (an ε-sweep computes it once). */
  readonly gammaQ?: number;
  /** L = 2: skip the cross-check (GLPK or HiGHS cutting planes; default false). */
  readonly skipCrossCheck?: boolean;
}

/** The result of {@link interpolationNormSolve}: the best local solution as a SolverResult, plus all of them. */
export interface InterpolationNormResult extends SolverResult {
  architecture: InterpolationArchitecture;
  depth: number;
  /** Distinct local solutions, best (smallest N) first. Empty unless a solution was found. */
  local: LocalSolution[];
  /**
   * L = 2: the second method's solution and its agreement with the first — `glpk-lp` (the linear
   * case: GLPK against the HiGHS LP) or `highs-cutting-plane` (otherwise: against SCS).
   */
  crossCheck?: { solver: string; objective: number; lowerBound: number; relativeObjectiveGap: number; directionGap: number; message: string };
}

/**
 * Tolerance on the predictor-space KKT residual (stationarity and complementarity) of a returned
 * local solution. The SCS answers reach ~1e-9 (S2) to ~3e-8 (n = 100, d = 20) at L = 2, the HiGHS
 * vertices ~1e-8 at n = 150, d = 30 (the residual's own accuracy at ~20 kinks); IRL1's fixed
 * points are KKT points up to its final smoothing δ and SCS's accuracy (~3e-6 for conv, d = 20).
 */
export const C3_KKT_TOLERANCE = 1e-5;
/**
 * Largest relative objective gap accepted between SCS and the HiGHS cutting planes at L = 2 (measured:
 * ≤ 1e-8 on a 100 × 20 set, where SCS's own accuracy is the limit; HiGHS certifies ≤ 1e-9).
 */
export const C3_CROSS_CHECK_TOLERANCE = 1e-6;
/**
 * Largest relative objective gap accepted between the HiGHS LP and the GLPK LP in the linear case
 * ({@link isLinearCase}). Both return simplex vertices, solved from their bases: they differ by
 * rounding times the basis's conditioning, and by GLPK's feasibility tolerance (1e-7, relative) where
 * it accepts a slightly infeasible basis — the objectives compared are those of exactly feasible
 * rescalings, so either way the gap is a true difference of two upper bounds. Measured: ≤ 7e-13 on
 * 150 × 30 synthetic sets (seeds 1–3, p ∈ {∞, 1}, ε ∈ {0, ¼, ½, ¾, 9⁄10}·γ_q*) and on the committed fixtures.
 */
export const C3_LP_CROSS_CHECK_TOLERANCE = 1e-9;

const IRL1_MAX_STEPS = 50;
/** IRL1 stops once the iterate with its small coordinates zeroed has a KKT residual below this. */
const IRL1_EARLY_STOP = 1e-7;
/** Relative thresholds below which a solver's coordinates c_k are taken as exact zeros (0: none). */
const SUPPORT_TOLERANCES = [0, 1e-10, 1e-8, 1e-6] as const;

/**
 * β with the coordinates |c_k| ≤ τ·max_k |c_k| of c = Tβ set to 0 (conv: k and d − k together, so
 * that β stays real), or null when nothing changes.
 */
export function zeroSmallCoordinates(T: PredictorTransform, beta: Float64Array, tau: number): Float64Array | null {
  const d = T.d;
  const c = applyTransform(T, beta);
  const mod = c.re.map((v, k) => Math.hypot(v, c.im[k]));
  let top = 0;
  for (const v of mod) top = Math.max(top, v);
  const zero = new Uint8Array(d);
  let any = false;
  for (let k = 0; k < d; k++) {
    const mirror = T.im === null ? k : (d - k) % d;
    if (mod[k] !== 0 && Math.min(mod[k], mod[mirror]) <= tau * top) {
      zero[k] = 1;
      any = true;
    }
  }
  if (!any) return null;
  if (T.im === null) return beta.map((v, j) => (zero[j] ? 0 : v));
  // β = Re(F^H c) = Rᵀ c_re + Iᵀ c_im.
  const out = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    if (zero[k]) continue;
    for (let j = 0; j < d; j++) out[j] += T.re[k * d + j] * c.re[k] + T.im[k * d + j] * c.im[k];
  }
  return out;
}

const oneMinusCos = (a: ArrayLike<number>, b: ArrayLike<number>): number => directionError(a, b).oneMinusCos;

/**
 * Solve (C3) — see the module comment. Statuses: 'eps-too-large' for ε ≥ γ_q*, 'not-separable',
 * 'degenerate' (zero example), 'failed' (a solver failed, the L = 2 cross-check disagreed beyond
 * {@link C3_LP_CROSS_CHECK_TOLERANCE} (linear case) or {@link C3_CROSS_CHECK_TOLERANCE}, or no local
 * solution met {@link C3_KKT_TOLERANCE}). 'optimal' at L ≥ 3 means "best local KKT point found".
 * `solver`: 'highs' or 'scs' at L = 2, 'highs-irl1' or 'scs-irl1' at L ≥ 3 (the linear case or not).
 *
 * Result fields: `beta` = the best β (min_i g_i = 1), `direction`, `margin` = Γ* = 1/N(β),
 * `multipliers` of the predictor-space KKT check, `kkt` = its residuals (primal, complementarity,
 * stationarity), `local` = every distinct local solution with its residual, best first.
 *
 * @throws InputError naming the field: unknown architecture, depth not an integer ≥ 2, p < 1, ε < 0,
 *   starts not a positive integer, non-binary data
 */
export async function interpolationNormSolve(data: Dataset, options: InterpolationNormOptions): Promise<InterpolationNormResult> {
  const { architecture, depth, p, eps } = options;
  if (!INTERPOLATION_ARCHITECTURES.includes(architecture)) throw new InputError(`unknown architecture ${JSON.stringify(architecture)} (allowed: ${INTERPOLATION_ARCHITECTURES.join(', ')})`, 'architecture');
  if (!Number.isInteger(depth) || depth < 2)
    throw new InputError(`invalid depth ${String(depth)}: must be an integer ≥ 2 (depth 1 is the linear model: use --problem adversarial-svm)`, 'depth');
  if (typeof p !== 'number' || Number.isNaN(p) || p < 1) throw new InputError(`invalid p ${String(p)}: must be a number in [1, ∞]`, 'p');
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new InputError(`invalid eps ${String(eps)}: must be a finite number ≥ 0`, 'eps');
  const numStarts = options.starts ?? 8;
  if (!Number.isInteger(numStarts) || numStarts < 1) throw new InputError(`invalid starts ${String(numStarts)}: must be an integer ≥ 1`, 'starts');
  const q = dualExponent(p);
  const linear = isLinearCase(architecture, q, eps);
  const method = linear ? 'highs' : 'scs';
  const solverName = depth === 2 ? method : `${method}-irl1`;
  const extra = { p, q, eps, architecture, depth, local: [] as LocalSolution[] };
  const fail = (status: SolverResult['status'], message: string): InterpolationNormResult => ({ ...emptyResult('interpolation-norm', status, message, solverName), ...extra });
  const ex = signedExamples(data);
  if (!ex.ok) return fail('degenerate', ex.message);
  const { Z, n, d } = ex;
  let gammaQ = options.gammaQ;
  if (gammaQ === undefined) {
    const th = await robustThreshold(data, p);
    if (th.status !== 'optimal') return fail(th.status, `robust threshold γ_q* (q = ${q}): ${th.message}`);
    gammaQ = th.margin;
  }
  if (eps >= gammaQ) {
    return fail('eps-too-large', `ε = ${eps} ≥ γ_q* = ${gammaQ} (q = ${q}): the adversarial examples are not separable and (C3) is infeasible; adversarial training has no margin-driven bias`);
  }
  const T = predictorTransform(architecture, d);
  const r = 2 / depth;
  const convex = (w: Float64Array): Promise<ConvexOutcome> => (linear ? weightedLp(Z, n, d, q, eps, w) : weightedScs(Z, n, d, T, q, eps, w));
  const found: LocalSolution[] = [];
  const add = (raw: Float64Array, start: number, iterations: number): void => {
    // The numerical solvers leave the zeros of a sparse solution at ~1e−10 (relative); the weighted
    // residual sees them at |c_k|^{1/L} (e.g. 1e−5 at L = 2). Candidates with the coordinates below
    // τ·max set to exactly 0 (then rescaled to feasibility) are kept when they do not raise the
    // objective by more than 1e−9 (relative): the one with the smallest KKT residual is the answer.
    let pick: { beta: Float64Array; objective: number; kkt: PredictorKkt } | null = null;
    let baseObjective = Infinity;
    for (const tau of SUPPORT_TOLERANCES) {
      const cand = tau === 0 ? raw : zeroSmallCoordinates(T, raw, tau);
      if (cand === null) continue;
      const m = minConstraint(Z, n, d, q, eps, cand);
      if (!(m > 0)) continue;
      const b = cand.map((v) => v / m);
      const objective = interpolationNorm(T, depth, b);
      if (tau === 0) baseObjective = objective;
      else if (!(objective <= baseObjective * (1 + 1e-9))) continue;
      const kkt = predictorKkt(Z, n, d, T, depth, q, eps, b);
      if (pick === null || Math.max(kkt.stationarity, kkt.complementarity) < Math.max(pick.kkt.stationarity, pick.kkt.complementarity)) pick = { beta: b, objective, kkt };
    }
    if (pick === null) return;
    const direction = unit(pick.beta);
    const same = found.find((s) => oneMinusCos(s.direction, direction) < 1e-8);
    if (same) {
      same.starts.push(start);
      return;
    }
    found.push({ beta: pick.beta, direction, objective: pick.objective, margin: 1 / pick.objective, kkt: pick.kkt, starts: [start], iterations });
  };

  const cleanResidual = (beta: Float64Array): number => {
    const cand = zeroSmallCoordinates(T, beta, 1e-6) ?? beta;
    const k = predictorKkt(Z, n, d, T, depth, q, eps, cand);
    return Math.max(k.stationarity, k.complementarity);
  };
  let firstNote = '';
  if (depth === 2) {
    const out = await convex(new Float64Array(d).fill(1));
    if (!out.ok) return fail('failed', out.status === 'not-separable' ? `${out.message} although ε = ${eps} < γ_q* = ${gammaQ}: ε is too close to γ_q* for the solver` : out.message);
    firstNote = out.note;
    add(out.beta, 0, 1);
  } else {
    const rng = new Rng(options.seed ?? 0);
    for (let s = 0; s < numStarts; s++) {
      const w = new Float64Array(d);
      if (s === 0) w.fill(1);
      else if (s % 2 === 1) {
        // Axis starts: one coordinate (conv: one frequency and its mirror) made cheap, so that the
        // sparse local solutions — which IRL1 from the dense L = 2 solution does not reach — are found.
        const k = ((s - 1) / 2) % d;
        w.fill(1);
        w[k] = 1e-2;
        if (T.im !== null) w[(d - k) % d] = 1e-2;
      } else {
        // Weights of a random point v ~ N(0, I): w_k = |c_k(v)|^{r−1} (an IRL1 step taken from v).
        const v = Float64Array.from({ length: d }, () => rng.normal());
        const mod = predictorModuli(T, v);
        const top = Math.max(...mod);
        for (let k = 0; k < d; k++) w[k] = Math.pow(mod[k] + 1e-3 * top, r - 1);
      }
      let beta: Float64Array | null = null;
      let delta = NaN;
      let steps = 0;
      for (; steps < IRL1_MAX_STEPS; steps++) {
        // Normalize the weights (max 1): the problem's scale-free form is unchanged, the solvers' scaling is better.
        let wmax = 0;
        for (const v of w) wmax = Math.max(wmax, v);
        for (let k = 0; k < d; k++) w[k] /= wmax;
        const out = await convex(w);
        if (!out.ok) {
          if (s === 0) return fail('failed', `IRL1 step ${steps + 1}: ${out.message}`);
          break;
        }
        const mod = predictorModuli(T, out.beta);
        let top = 0;
        for (const v of mod) top = Math.max(top, v);
        // The uniform start smooths broadly at first; the others start sharp, to stay near their start.
        delta = Number.isNaN(delta) ? (s === 0 ? 0.1 : 1e-3) * top : Math.max(delta / 4, 1e-8 * top);
        const change = beta === null ? Infinity : Math.sqrt(oneMinusCos(beta, out.beta) * 2);
        beta = out.beta;
        for (let k = 0; k < d; k++) w[k] = Math.pow(mod[k] + delta, r - 1);
        if (change < 1e-10 && delta <= 1e-8 * top) break;
        // Once the support is identified, the cleaned iterate is already a KKT point: stop there.
        if (steps >= 2 && cleanResidual(beta) <= IRL1_EARLY_STOP) break;
      }
      if (beta !== null) add(beta, s, steps + 1);
    }
    firstNote = `IRL1 from ${numStarts} starts (seed ${options.seed ?? 0})`;
  }
  found.sort((a, b) => a.objective - b.objective);
  const good = found.filter((s) => Math.max(s.kkt.stationarity, s.kkt.complementarity) <= C3_KKT_TOLERANCE);
  const best = good[0] ?? found[0];
  if (!best) return fail('failed', 'no local solution found');
  const kkt: KktResiduals = { primalFeasibility: Math.max(0, 1 - minConstraint(Z, n, d, q, eps, best.beta)), dualFeasibility: 0, complementarity: best.kkt.complementarity, stationarity: best.kkt.stationarity };
  const result: InterpolationNormResult = {
    problem: 'interpolation-norm',
    status: 'optimal',
    message: '',
    direction: best.direction,
    beta: best.beta,
    margin: best.margin,
    multipliers: best.kkt.multipliers,
    kkt,
    solver: solverName,
    ...extra,
    local: found,
  };
  const notes = [firstNote, `${found.length} distinct local solution(s), ${good.length} with KKT residual ≤ ${C3_KKT_TOLERANCE}`];
  if (depth >= 3) notes.push('non-convex (L ≥ 3): the best local KKT point found, global optimality not certified');
  if (good.length === 0) {
    result.status = 'failed';
    notes.push(`best KKT residual ${Math.max(best.kkt.stationarity, best.kkt.complementarity).toExponential(2)} above ${C3_KKT_TOLERANCE}`);
  }
  if (depth === 2 && !options.skipCrossCheck && (q === 1 || q === 2 || q === Infinity || eps === 0)) {
    // The linear case: the same problem in another formulation on GLPK (exact, one LP); otherwise
    // Kelley cutting planes on HiGHS against SCS.
    const cp = await interpolationNormCuttingPlane(data, architecture, p, eps, { lpSolver: linear ? 'glpk' : 'highs' });
    const tolerance = linear ? C3_LP_CROSS_CHECK_TOLERANCE : C3_CROSS_CHECK_TOLERANCE;
    if (!cp.ok || cp.beta === null) {
      result.status = 'failed';
      notes.push(`cross-check failed: ${cp.message}`);
    } else {
      const gap = Math.abs(cp.objective - best.objective) / best.objective;
      const dirGap = Math.sqrt(2 * oneMinusCos(cp.beta, best.direction));
      result.crossCheck = { solver: linear ? 'glpk-lp' : 'highs-cutting-plane', objective: cp.objective, lowerBound: cp.lowerBound, relativeObjectiveGap: gap, directionGap: dirGap, message: cp.message };
      notes.push(`cross-check (${cp.message}): objective gap ${gap.toExponential(2)}, direction gap ${dirGap.toExponential(2)}`);
      if (!(gap <= tolerance)) {
        result.status = 'failed';
        notes.push(`objective gap above ${tolerance}: the two solvers disagree`);
      }
    }
  }
  result.message = notes.join('; ');
  return result;
}
