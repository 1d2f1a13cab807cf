/**
 * The deep-linear reference of adversarial training (docs/THEORY.md §5, C1):
 *
 *   (B) min ‖β‖₂  s.t.  z_i·β − ε‖β‖_q ≥ 1   (q the dual of p, 0 ≤ ε < γ_q*),
 *
 * whose solution direction u*(ε, p) is the limit of adversarial GD on linear and deep linear models,
 * with generalized margin γ*(ε) = 1/‖β_B‖₂, and the equivalent interpolation-norm SVM
 *
 *   (D) min ‖β‖₂ + μ‖β‖_q  s.t.  z_i·β ≥ 1,   μ = ε Σ λ_i,   β_D = β_B/(1 + ε‖β_B‖_q).
 *
 * Both are solved with SCS (second-order cones, with linear epigraphs for q ∈ {1, ∞} and power
 * cones for other q), then polished by an active-set Newton step on the KKT system and verified by
 * exact KKT residuals (subdifferentials for the non-smooth q = 1, ∞), so that the direction is good
 * to rounding level; an answer that does not verify is returned as 'failed', never as 'optimal'.
 */
import { InputError } from '../errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { dualExponent, lpNorm, steepestAscent } from '../linalg/norms.ts';
import type { KktResiduals, SolverResult } from './types.ts';
import {
  ACTIVE_SET_THRESHOLDS,
  ConeProgram,
  KKT_TOLERANCE,
  addNormEpigraph,
  conicSolved,
  emptyResult,
  newtonKkt,
  signedExamples,
  solveConic,
  unit,
  worstResidual,
  type KktSystem,
} from './svm-q.ts';
import { robustThreshold } from './threshold.ts';

const SOLVER = 'scs';

/**
 * Largest relative difference ‖β_D − β_D^direct‖₂/‖β_D‖₂ accepted between β_D = β_B/(1 + ε‖β_B‖_q)
 * (polished, rounding-level accurate) and (D) solved directly by SCS for the same μ, which is not
 * polished and so carries SCS's own error (~1e-9 at tolerance 1e-10, more where (D) is
 * ill-conditioned). A larger gap means one of the two answers is wrong: status 'failed'.
 */
export const INTERPOLATION_AGREEMENT_TOLERANCE = 1e-6;

/** Options of {@link adversarialSvm}. */
export interface AdversarialOptions {
  /**
   * γ_q* if the caller already has it (an ε-sweep computes it once); otherwise robustThreshold is
   * called. It must be the threshold of the same data and p: it decides 'eps-too-large'.
   */
  readonly gammaQ?: number;
}

function checkPEps(p: number, eps: number): void {
  if (typeof p !== 'number' || Number.isNaN(p) || p < 1) throw new InputError(`p must be a number in [1, ∞], got ${p}`, 'p');
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new InputError(`eps must be a finite number ≥ 0, got ${eps}`, 'eps');
}

// ---------------------------------------------------------------------------------------------
// Subdifferentials and exact KKT residuals
// ---------------------------------------------------------------------------------------------

/** Euclidean distance of v from the probability simplex {w ≥ 0, Σw = 1} (sort-based projection). */
function distanceToSimplex(v: Float64Array): number {
  const a = Float64Array.from(v).sort().reverse();
  let cum = 0;
  let tau = 0;
  for (let k = 0; k < a.length; k++) {
    cum += a[k];
    const t = (cum - 1) / (k + 1);
    // a[k] > t holds for k < ρ and fails after (Duchi et al. 2008): the last passing k gives τ.
    if (a[k] > t) tau = t;
    else break;
  }
  let s = 0;
  for (let j = 0; j < v.length; j++) {
    const e = v[j] - Math.max(v[j] - tau, 0);
    s += e * e;
  }
  return Math.sqrt(s);
}

/**
 * dist(0, r + c·∂‖β‖_q) for c ≥ 0, with the exact subdifferential of the q-norm at β ≠ 0:
 *  - 1 < q < ∞: {∇‖β‖_q} = {s_p(β)};
 *  - q = 1: ∂_j = {sign β_j} where β_j ≠ 0, [−1, 1] where β_j = 0;
 *  - q = ∞: conv{sign(β_j) e_j : |β_j| = ‖β‖_∞}.
 * Exact zeros / exact ties are what the polish produces; an unpolished answer with β_j ≈ 0 gets the
 * honest (large) residual of its sign, so it can never pass as optimal by accident.
 */
export function distanceToNormSubdifferential(r: Float64Array, beta: Float64Array, q: number, c: number): number {
  const d = r.length;
  if (c === 0) return lpNorm(r, 2);
  if (q === 1) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const e = beta[j] !== 0 ? r[j] + c * Math.sign(beta[j]) : Math.max(0, Math.abs(r[j]) - c);
      s += e * e;
    }
    return Math.sqrt(s);
  }
  if (q === Infinity) {
    const top = lpNorm(beta, Infinity);
    const vM: number[] = [];
    let s = 0;
    for (let j = 0; j < d; j++) {
      if (Math.abs(beta[j]) === top) vM.push((-Math.sign(beta[j]) * r[j]) / c);
      else s += r[j] * r[j];
    }
    const dm = c * distanceToSimplex(Float64Array.from(vM));
    return Math.sqrt(s + dm * dm);
  }
  const g = new Float64Array(d);
  steepestAscent(beta, dualExponent(q), g);
  let s = 0;
  for (let j = 0; j < d; j++) s += (r[j] + c * g[j]) ** 2;
  return Math.sqrt(s);
}

/**
 * Exact KKT residuals of min ‖β‖₂ + μ‖β‖_q s.t. a_i(β) ≥ 1 with a_i(β) = z_i·β − ε‖β‖_q, multipliers λ
 * in this min ‖β‖₂-form (no ½), all scale-free:
 *  - primal max_i max(0, 1 − a_i) (the constraint is normalized at 1);
 *  - dual max_i max(0, −λ_i)/S and complementarity max_i |λ_i (a_i − 1)|/S with S = Σ|λ_i|: λ grows
 *    like ‖β‖₂ = 1/γ*(ε) as ε ↑ γ_q*, and a_i − 1 carries a rounding error of order ‖β‖·‖z_i‖·2⁻⁵³,
 *    so the unnormalized product would grow like ‖β‖² for a correct answer;
 *  - stationarity dist(0, β/‖β‖₂ + (μ + εΣλ_i)∂‖β‖_q − Σλ_i z_i) (relative by construction:
 *    β/‖β‖₂ is a unit vector).
 * (B) is μ = 0; (D) is ε = 0.
 */
export function adversarialKkt(Z: Float64Array, n: number, d: number, q: number, eps: number, mu: number, beta: Float64Array, lambda: Float64Array): KktResiduals {
  const nq = lpNorm(beta, q);
  const n2 = lpNorm(beta, 2);
  const r = beta.map((v) => v / n2);
  let primal = 0;
  let dual = 0;
  let comp = 0;
  let sumLambda = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Z[i * d + j] * beta[j];
    const a = s - eps * nq;
    primal = Math.max(primal, 1 - a);
    dual = Math.max(dual, -lambda[i]);
    comp = Math.max(comp, Math.abs(lambda[i] * (a - 1)));
    sumLambda += lambda[i];
    for (let j = 0; j < d; j++) r[j] -= lambda[i] * Z[i * d + j];
  }
  const c = mu + eps * sumLambda;
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.abs(lambda[i]);
  const S = total > 0 ? total : 1;
  return { primalFeasibility: primal, dualFeasibility: dual / S, complementarity: comp / S, stationarity: distanceToNormSubdifferential(r, beta, q, Math.max(c, 0)) };
}

// ---------------------------------------------------------------------------------------------
// Polish of (B)
// ---------------------------------------------------------------------------------------------

/**
 * One polish of an SCS answer of (B), in the equivalent form min ½‖β‖₂² s.t. a_i(β) = 1 on an active
 * set (multipliers λ' = ‖β‖₂ λ), with the norm's structure identified at relative threshold τ:
 *  - ε = 0: the ℓ2-SVM, a least-norm problem (one Newton step);
 *  - q = 1: β_j = 0 off the support S and ‖β‖₁ = σ_S·β_S on it: a least-norm problem in β_S;
 *  - q = ∞: β_j = σ_j t on the maximal set M and ‖β‖_∞ = t: a least-norm problem in (t, β_{∉M})
 *    with metric diag(|M|, 1, …);
 *  - 1 < q < ∞: Newton on the smooth KKT system, Lagrangian Hessian
 *    I + εΛ'(q − 1)/‖β‖_q·(diag(|u|^{q−2}) − g gᵀ), u = β/‖β‖_q, g = ∇‖β‖_q, Λ' = Σλ'.
 * The returned answer is only a candidate: the caller verifies it with {@link adversarialKkt}.
 */
function polishAdversarial(Z: Float64Array, n: number, d: number, q: number, eps: number, beta0: Float64Array, lambda0: Float64Array, tau: number): { beta: Float64Array; lambda: Float64Array } | null {
  const nq0 = lpNorm(beta0, q);
  const n20 = lpNorm(beta0, 2);
  const lmax = lambda0.reduce((a, b) => Math.max(a, b), 0); // not Math.max(...λ): spreading ~1e5 arguments overflows the stack
  const active: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Z[i * d + j] * beta0[j];
    if (lambda0[i] > tau * lmax || s - eps * nq0 - 1 < tau) active.push(i);
  }
  const m = active.length;
  if (m === 0) return null;
  const lam0 = Float64Array.from(active, (i) => lambda0[i] * n20);

  let out: { w: Float64Array; lambda: Float64Array } | null;
  let expand: (w: Float64Array) => Float64Array;
  const smooth = eps > 0 && q !== 1 && q !== Infinity;
  if (!smooth) {
    // A least-norm problem min ½wᵀdiag(D)w s.t. C w = 1 in reduced coordinates w (β = expand(w)).
    let k: number;
    let D: Float64Array;
    let C: Float64Array;
    let w0: Float64Array;
    const top = lpNorm(beta0, Infinity);
    if (eps === 0) {
      k = d;
      D = new Float64Array(d).fill(1);
      C = new Float64Array(m * d);
      active.forEach((i, a) => C.set(Z.subarray(i * d, (i + 1) * d), a * d));
      w0 = Float64Array.from(beta0);
      expand = (w) => Float64Array.from(w);
    } else if (q === 1) {
      const S: number[] = [];
      for (let j = 0; j < d; j++) if (Math.abs(beta0[j]) > tau * top) S.push(j);
      const sigma = S.map((j) => Math.sign(beta0[j]));
      k = S.length;
      D = new Float64Array(k).fill(1);
      C = new Float64Array(m * k);
      active.forEach((i, a) => S.forEach((j, l) => (C[a * k + l] = Z[i * d + j] - eps * sigma[l])));
      w0 = Float64Array.from(S, (j) => beta0[j]);
      expand = (w) => {
        const b = new Float64Array(d);
        S.forEach((j, l) => (b[j] = w[l]));
        return b;
      };
    } else {
      const M: number[] = [];
      const N: number[] = [];
      for (let j = 0; j < d; j++) (Math.abs(beta0[j]) >= (1 - tau) * top ? M : N).push(j);
      const sigma = M.map((j) => Math.sign(beta0[j]));
      k = 1 + N.length;
      D = new Float64Array(k).fill(1);
      D[0] = M.length;
      C = new Float64Array(m * k);
      active.forEach((i, a) => {
        let s = -eps;
        M.forEach((j, l) => (s += sigma[l] * Z[i * d + j]));
        C[a * k] = s;
        N.forEach((j, l) => (C[a * k + 1 + l] = Z[i * d + j]));
      });
      w0 = new Float64Array(k);
      w0[0] = top;
      N.forEach((j, l) => (w0[1 + l] = beta0[j]));
      expand = (w) => {
        const b = new Float64Array(d);
        M.forEach((j, l) => (b[j] = sigma[l] * w[0]));
        N.forEach((j, l) => (b[j] = w[1 + l]));
        return b;
      };
    }
    if (k === 0) return null;
    const zeros = new Float64Array(k);
    const evaluate = (w: Float64Array, lam: Float64Array): KktSystem => {
      const F1 = w.map((v, j) => D[j] * v);
      const F2 = new Float64Array(m);
      for (let a = 0; a < m; a++) {
        let s = 0;
        for (let j = 0; j < k; j++) {
          F1[j] -= lam[a] * C[a * k + j];
          s += C[a * k + j] * w[j];
        }
        F2[a] = s - 1;
      }
      return { F1, F2, D, kappa: 0, g: zeros, C };
    };
    out = newtonKkt(evaluate, w0, lam0);
  } else {
    expand = (w) => w;
    const evaluate = (w: Float64Array, lam: Float64Array): KktSystem => {
      const f = lpNorm(w, q);
      const g = new Float64Array(d);
      steepestAscent(w, dualExponent(q), g);
      let big = 0;
      for (let a = 0; a < m; a++) big += lam[a];
      const C = new Float64Array(m * d);
      const F1 = w.map((v, j) => v + eps * big * g[j]);
      const F2 = new Float64Array(m);
      active.forEach((i, a) => {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const cij = Z[i * d + j] - eps * g[j];
          C[a * d + j] = cij;
          F1[j] -= lam[a] * Z[i * d + j];
          s += Z[i * d + j] * w[j];
        }
        F2[a] = s - eps * f - 1;
      });
      const c = (eps * big * (q - 1)) / f;
      // c = 0 (no multiplier mass yet) must not meet |u_j|^{q−2} = ∞ (q < 2, β_j = 0): 0·∞ is NaN.
      const D = w.map((v) => (c === 0 ? 1 : 1 + c * Math.pow(Math.abs(v) / f, q - 2)));
      return { F1, F2, D, kappa: -c, g, C };
    };
    out = newtonKkt(evaluate, beta0, lam0);
  }
  if (out === null) return null;
  const beta = expand(out.w);
  const n2 = lpNorm(beta, 2);
  if (!(n2 > 0) || !beta.every(Number.isFinite)) return null;
  const lambda = new Float64Array(n);
  active.forEach((i, a) => (lambda[i] = out.lambda[a] / n2));
  return { beta, lambda };
}

// ---------------------------------------------------------------------------------------------
// (B)
// ---------------------------------------------------------------------------------------------

/** How an answer of (B) was obtained, for the message. */
interface BSolution {
  beta: Float64Array;
  lambda: Float64Array;
  kkt: KktResiduals;
  note: string;
}

/**
 * Solve (B) given 0 ≤ ε (feasibility not checked here): SCS, then the polish at every threshold of
 * ACTIVE_SET_THRESHOLDS, keeping the answer with the smallest exact KKT residual.
 *
 * SCS solves the scale-free form max γ s.t. z_i·u − ε‖u‖_q ≥ γ, ‖u‖₂ ≤ 1, whose solution u_B = β_B/‖β_B‖₂
 * has unit norm for every ε, instead of (B) itself, whose ‖β_B‖₂ = 1/γ*(ε) grows without bound as
 * ε ↑ γ_q* (SCS then ran into its iteration cap at ε = 0.9999·γ_q* on S2). With multipliers ν_i of
 * the margin rows (Σν_i = 1), stationarity γ*(ε)·u_B ∈ Σν_i z_i − εΣν_i ∂‖u_B‖_q maps to (B) as
 * β_B = u_B ÷ γ*(ε), λ = ν ÷ γ*(ε).
 */
async function solveB(Z: Float64Array, n: number, d: number, q: number, eps: number): Promise<{ ok: true; sol: BSolution } | { ok: false; status: 'not-separable' | 'failed'; message: string; kkt?: KktResiduals }> {
  // Variables: u (0..d−1), γ (d), s ≥ ‖u‖_q (d + 1), the epigraph's auxiliaries (d + 2 …).
  // ε = 0 drops s: (B) is then the ℓ2-SVM and s would be a free, undetermined column.
  const useNorm = eps > 0;
  const numAux = useNorm && q !== 2 && q !== Infinity ? d : 0;
  const program = new ConeProgram(d + 1 + (useNorm ? 1 + numAux : 0));
  program.objective[d] = -1;
  for (let i = 0; i < n; i++) {
    const terms: [number, number][] = Array.from({ length: d }, (_, j): [number, number] => [j, Z[i * d + j]]);
    terms.push([d, -1]);
    if (useNorm) terms.push([d + 1, -eps]);
    program.addNonneg({ terms });
  }
  program.addSoc([{ terms: [], constant: 1 }, ...Array.from({ length: d }, (_, j) => ({ terms: [[j, 1]] as [number, number][] }))]);
  if (useNorm) addNormEpigraph(program, q, d, 0, d + 1, d + 2);
  const sol = await solveConic(program);
  const warnings = sol.log.length > 0 ? ` (SCS printed: ${sol.log.join('; ')})` : '';
  if (!conicSolved(sol)) return { ok: false, status: 'failed', message: `SCS returned "${sol.status}" after ${sol.iterations} iterations${warnings}` };
  const gamma = sol.x[d];
  if (!(gamma > 0)) {
    return { ok: false, status: 'not-separable', message: `SCS found max_u min_i z_i·u − ε‖u‖_q = ${gamma} ≤ 0 over ‖u‖₂ ≤ 1` };
  }
  const beta0 = sol.x.slice(0, d).map((v) => v / gamma);
  const lambda0 = sol.y.slice(program.nonnegOffset, program.nonnegOffset + n).map((v) => v / gamma);
  let best: BSolution = { beta: beta0, lambda: lambda0, kkt: adversarialKkt(Z, n, d, q, eps, 0, beta0, lambda0), note: 'unpolished' };
  for (const tau of ACTIVE_SET_THRESHOLDS) {
    const p = polishAdversarial(Z, n, d, q, eps, beta0, lambda0, tau);
    if (p === null) continue;
    const kkt = adversarialKkt(Z, n, d, q, eps, 0, p.beta, p.lambda);
    if (worstResidual(kkt) < worstResidual(best.kkt)) best = { ...p, kkt, note: `polished by active-set Newton (threshold ${tau})` };
  }
  const worst = worstResidual(best.kkt);
  if (!(worst <= KKT_TOLERANCE)) {
    return { ok: false, status: 'failed', message: `KKT residual ${worst.toExponential(2)} above ${KKT_TOLERANCE} (SCS: ${sol.status}, ${sol.iterations} iterations)${warnings}`, kkt: best.kkt };
  }
  return { ok: true, sol: { ...best, note: `SCS ${sol.status} in ${sol.iterations} iterations, ${best.note}; worst KKT residual ${worst.toExponential(2)}` } };
}

/**
 * The adversarial SVM (B) of docs/THEORY.md §5 (C1), for any p ∈ [1, ∞] and 0 ≤ ε < γ_q*:
 *
 *   (B) min ‖β‖₂  s.t.  z_i·β − ε‖β‖_q ≥ 1,   1/p + 1/q = 1,
 *
 * equivalently u*(ε, p) = argmax_{‖u‖₂ ≤ 1} [min_i z_i·u − ε‖u‖_q] = β_B/‖β_B‖₂, the limit direction
 * of adversarial training of linear and deep linear models (exact worst case, FGSM, FGM or PGD, which
 * coincide on linear-in-x models). (B) is convex with a unique solution.
 *
 * First γ_q* = max_{‖β‖_q ≤ 1} min_i z_i·β is computed (robustThreshold, unless `options.gammaQ`):
 * ε ≥ γ_q* gives status 'eps-too-large' (adversarial examples are not separable, (B) is infeasible),
 * non-separable data 'not-separable', a zero example 'degenerate'.
 *
 * Result: problem 'adversarial-svm'; `beta` = β_B (min_i z_i·β_B − ε‖β_B‖_q = 1); `direction` =
 * β_B/‖β_B‖₂; `margin` = γ*(ε) = 1/‖β_B‖₂; `multipliers` λ_i ≥ 0 of (B) written as min ‖β‖₂ (no ½),
 * so that β_B/‖β_B‖₂ ∈ Σλ_i z_i − εΣλ_i ∂‖β_B‖_q, and Σλ_i = ‖β_B‖₂ (take the inner product with β_B
 * and use complementarity); for the ½‖β‖₂² form multiply by ‖β_B‖₂. `kkt`: exact residuals
 * ({@link adversarialKkt} with μ = 0), the stationarity as the distance of 0 from the subdifferential
 * (q = 1, ∞ are non-smooth). Solved by SCS (SOCP for q ∈ {1, 2, ∞}, power cones otherwise), polished
 * on the identified active set and norm structure, 'failed' unless every residual ≤ KKT_TOLERANCE.
 *
 * @param data binary data set (n examples in R^d, z_i = y_i x_i)
 * @param p perturbation norm p ∈ [1, ∞] (`Infinity` for ∞)
 * @param eps perturbation radius ε ≥ 0 (ε = 0 gives the ℓ2-SVM)
 * @throws InputError for p < 1, ε < 0 or non-finite, non-binary data
 */
export async function adversarialSvm(data: Dataset, p: number, eps: number, options: AdversarialOptions = {}): Promise<SolverResult> {
  checkPEps(p, eps);
  const q = dualExponent(p);
  const extra = { p, q, eps };
  const ex = signedExamples(data);
  if (!ex.ok) return emptyResult('adversarial-svm', 'degenerate', ex.message, SOLVER, extra);
  const { Z, n, d } = ex;

  let gammaQ = options.gammaQ;
  if (gammaQ === undefined) {
    const threshold = await robustThreshold(data, p);
    if (threshold.status !== 'optimal') {
      return emptyResult('adversarial-svm', threshold.status, `robust threshold γ_q* (q = ${q}): ${threshold.message}`, SOLVER, extra);
    }
    gammaQ = threshold.margin;
  }
  if (eps >= gammaQ) {
    return emptyResult(
      'adversarial-svm',
      'eps-too-large',
      `ε = ${eps} ≥ γ_q* = ${gammaQ} (q = ${q}): the adversarial examples are not separable and (B) is infeasible; adversarial training has no margin-driven bias`,
      SOLVER,
      extra,
    );
  }
  const out = await solveB(Z, n, d, q, eps);
  if (!out.ok) {
    // γ_q* says (B) is feasible; an infeasibility report then means ε is within solver accuracy of γ_q*.
    const message = out.status === 'not-separable' ? `${out.message} although ε = ${eps} < γ_q* = ${gammaQ}: ε is too close to γ_q* for the solver` : out.message;
    return emptyResult('adversarial-svm', 'failed', message, SOLVER, { ...extra, ...(out.kkt ? { kkt: out.kkt } : {}) });
  }
  const { beta, lambda, kkt, note } = out.sol;
  const n2 = lpNorm(beta, 2);
  return {
    problem: 'adversarial-svm',
    status: 'optimal',
    message: `${note}; multipliers of (B) as min ‖β‖₂ (Σλ_i = ‖β_B‖₂; ×‖β_B‖₂ for the ½‖β‖₂² form); γ_q* = ${gammaQ}`,
    direction: unit(beta),
    beta,
    margin: 1 / n2,
    multipliers: lambda,
    kkt,
    solver: SOLVER,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// (D)
// ---------------------------------------------------------------------------------------------

/**
 * (D) solved directly by SCS for a given μ ≥ 0 (no polish: this is the independent check of
 * {@link interpolationSvm}):
 *
 *   (D) min ‖β‖₂ + μ‖β‖_q  s.t.  z_i·β ≥ 1.
 *
 * Result: problem 'interpolation'; `beta` = β_D; `margin` = 1/(‖β_D‖₂ + μ‖β_D‖_q); `multipliers`
 * λ_i of the form above (stationarity β/‖β‖₂ + μ∂‖β‖_q ∋ Σλ_i z_i); `kkt` exact
 * ({@link adversarialKkt} with ε = 0), which at SCS's accuracy is ~1e-9 for smooth q and can be
 * large for q = 1, ∞ (exact subdifferential of an unpolished point), so status 'optimal' only
 * means that SCS reports "solved".
 *
 * @param p perturbation norm p ∈ [1, ∞] (q its dual); @param mu weight μ ≥ 0 of ‖β‖_q
 */
export async function interpolationSvmDirect(data: Dataset, p: number, mu: number): Promise<SolverResult> {
  checkPEps(p, 0);
  if (typeof mu !== 'number' || !Number.isFinite(mu) || mu < 0) throw new InputError(`mu must be a finite number ≥ 0, got ${mu}`, 'mu');
  const q = dualExponent(p);
  const extra = { p, q, mu };
  const ex = signedExamples(data);
  if (!ex.ok) return emptyResult('interpolation', 'degenerate', ex.message, SOLVER, extra);
  const { Z, n, d } = ex;
  // Scale-free form, as for (B): max γ s.t. z_i·u ≥ γ, ‖u‖₂ + μ‖u‖_q ≤ 1 + μ (the 1 + μ keeps u of
  // unit size for any μ); then β_D = u/γ and, with ν the multipliers of the margin rows (Σν = 1),
  // λ = ν(1 + μ)/γ (stationarity Σν_i z_i ∈ γ/(1 + μ)·∂N(u), and ∂N(β) = ∂N(u) for N = ‖·‖₂ + μ‖·‖_q).
  // Variables: u (0..d−1), γ (d), t ≥ ‖u‖₂ (d + 1), s ≥ ‖u‖_q (d + 2), auxiliaries (d + 3 …).
  const numAux = q !== 2 && q !== Infinity ? d : 0;
  const program = new ConeProgram(d + 3 + numAux);
  program.objective[d] = -1;
  for (let i = 0; i < n; i++) {
    const terms = Array.from({ length: d }, (_, j): [number, number] => [j, Z[i * d + j]]);
    terms.push([d, -1]);
    program.addNonneg({ terms });
  }
  program.addNonneg({ terms: [[d + 1, -1], [d + 2, -mu]], constant: 1 + mu });
  program.addSoc([{ terms: [[d + 1, 1]] }, ...Array.from({ length: d }, (_, j) => ({ terms: [[j, 1]] as [number, number][] }))]);
  addNormEpigraph(program, q, d, 0, d + 2, d + 3);
  const sol = await solveConic(program);
  if (sol.statusVal !== 1) return emptyResult('interpolation', 'failed', `SCS returned "${sol.status}" after ${sol.iterations} iterations`, SOLVER, extra);
  const gamma = sol.x[d];
  if (!(gamma > 0)) return emptyResult('interpolation', 'not-separable', `max_u min_i z_i·u = ${gamma} ≤ 0: no β has z_i·β ≥ 1 for all ${n} examples`, SOLVER, extra);
  const beta = sol.x.slice(0, d).map((v) => v / gamma);
  const lambda = sol.y.slice(program.nonnegOffset, program.nonnegOffset + n).map((v) => (v * (1 + mu)) / gamma);
  return {
    problem: 'interpolation',
    status: 'optimal',
    message: `SCS ${sol.status} in ${sol.iterations} iterations (unpolished)`,
    direction: unit(beta),
    beta,
    margin: 1 / (lpNorm(beta, 2) + mu * lpNorm(beta, q)),
    multipliers: lambda,
    kkt: adversarialKkt(Z, n, d, q, 0, mu, beta, lambda),
    solver: SOLVER,
    ...extra,
  };
}

/**
 * The interpolation-norm SVM (D) of docs/THEORY.md §5 (C1) equivalent to (B):
 *
 *   (D) argmin ‖β‖₂ + μ‖β‖_q  s.t.  z_i·β ≥ 1,   μ = ε Σ λ_i (λ of (B) as min ‖β‖₂) = ε‖β_B‖₂,
 *   β_D = β_B/(1 + ε‖β_B‖_q).
 *
 * Why: with c = 1/(1 + ε‖β_B‖_q), z_i·β_D = c·z_i·β_B ≥ c(1 + ε‖β_B‖_q) = 1 with the same active
 * set, ∂‖·‖_q and β/‖β‖₂ are scale-invariant, so (β_D, λ) satisfies (D)'s KKT conditions with the
 * multipliers λ of (B) unchanged. Hence also 1/(‖β_D‖₂ + μ‖β_D‖_q) = 1/‖β_B‖₂ = γ*(ε).
 *
 * Computed from (B) ({@link adversarialSvm}), then verified by solving (D) directly with SCS for
 * that μ ({@link interpolationSvmDirect}); the agreement ‖β_D − β_D^direct‖₂/‖β_D‖₂ and 1 − cos are
 * reported in `message`, and a gap above INTERPOLATION_AGREEMENT_TOLERANCE gives status 'failed'.
 *
 * Result: problem 'interpolation'; `beta` = β_D; `direction` = β_B/‖β_B‖₂; `margin` =
 * 1/(‖β_D‖₂ + μ‖β_D‖_q); `mu`; `multipliers` λ of (B) = those of (D) in the form above (no ½);
 * `kkt` exact residuals of (D) ({@link adversarialKkt} with ε = 0). Statuses as for (B).
 *
 * @param data binary data set; @param p perturbation norm p ∈ [1, ∞]; @param eps radius 0 ≤ ε < γ_q*
 */
export async function interpolationSvm(data: Dataset, p: number, eps: number, options: AdversarialOptions = {}): Promise<SolverResult> {
  const b = await adversarialSvm(data, p, eps, options);
  if (b.status !== 'optimal' || b.beta === null || b.multipliers === null) {
    return { ...b, problem: 'interpolation', message: `(B) ${b.status}: ${b.message}` };
  }
  const q = dualExponent(p);
  const lambda = b.multipliers;
  let sumLambda = 0;
  for (let i = 0; i < lambda.length; i++) sumLambda += lambda[i];
  const mu = eps * sumLambda;
  const scale = 1 / (1 + eps * lpNorm(b.beta, q));
  const betaD = b.beta.map((v) => v * scale);
  const ex = signedExamples(data);
  if (!ex.ok) throw new Error('unreachable: (B) solved on degenerate data');
  const kkt = adversarialKkt(ex.Z, ex.n, ex.d, q, 0, mu, betaD, lambda);

  const direct = await interpolationSvmDirect(data, p, mu);
  const extra = { p, q, eps, mu };
  if (direct.status !== 'optimal' || direct.beta === null) {
    return emptyResult('interpolation', 'failed', `(D) solved directly for μ = ${mu}: ${direct.status}: ${direct.message}`, SOLVER, { ...extra, kkt });
  }
  const nD = lpNorm(betaD, 2);
  let diff2 = 0;
  for (let j = 0; j < betaD.length; j++) diff2 += (betaD[j] - direct.beta[j]) ** 2;
  const relative = Math.sqrt(diff2) / nD;
  let chord2 = 0;
  const u = unit(betaD);
  for (let j = 0; j < u.length; j++) chord2 += (u[j] - direct.direction![j]) ** 2;
  const agreement = `(D) solved directly by SCS for μ = ${mu}: ‖β_D − β_D^direct‖₂/‖β_D‖₂ = ${relative.toExponential(2)}, 1 − cos = ${(chord2 / 2).toExponential(2)}`;
  const worst = worstResidual(kkt);
  if (!(relative <= INTERPOLATION_AGREEMENT_TOLERANCE) || !(worst <= KKT_TOLERANCE)) {
    return emptyResult('interpolation', 'failed', `${agreement} (tolerance ${INTERPOLATION_AGREEMENT_TOLERANCE}); worst KKT residual of β_D ${worst.toExponential(2)}`, SOLVER, { ...extra, kkt });
  }
  return {
    problem: 'interpolation',
    status: 'optimal',
    message: `β_D = β_B/(1 + ε‖β_B‖_q) from (B) [${b.message}]; ${agreement}`,
    direction: b.direction,
    beta: betaD,
    margin: 1 / (nD + mu * lpNorm(betaD, q)),
    multipliers: lambda,
    kkt,
    solver: SOLVER,
    ...extra,
  };
}
