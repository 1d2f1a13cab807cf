/**
 * Hard-margin SVMs through the origin (no bias) on binary data, z_i = y_i x_i (docs/THEORY.md §5):
 *
 *   ℓq-SVM:  min ‖β‖_q  s.t.  z_i·β ≥ 1 (i = 1..n),   margin γ_q = 1/‖β*‖_q = max_{‖β‖_q ≤ 1} min_i z_i·β.
 *
 * - {@link svmL2}: q = 2 as the QP min ½‖β‖₂² by `quadprog` (Goldfarb–Idnani active-set dual method).
 * - {@link svmL2Dual}: q = 2 by an independent route: the dual max Σλ − ½‖Σλ_i z_i‖², λ ≥ 0, by
 *   Hildreth's exact coordinate ascent followed by an exact active-set finish.
 * - {@link svmLinf1}: q = 1 and q = ∞ as linear programs, by HiGHS or GLPK (both WebAssembly).
 * - {@link svmKkt}: the KKT residuals of a candidate (β, λ) for any q ∈ [1, ∞].
 *
 * Every solver checks its answer with {@link svmKkt} before calling it optimal; a result whose residuals
 * exceed {@link SVM_KKT_TOLERANCE} is returned as `failed`, with the numbers, never as optimal.
 * Works in Node and in browsers: no fs, no process; the WebAssembly solvers load on first use
 * (asynchronously, once; the loaded module is cached), so every solver is async.
 */
// @ts-expect-error -- quadprog (pure JS, CommonJS) ships no type declarations; its one function is typed below.
import quadprogModule from 'quadprog';
import type { Highs, InitOptions } from 'highs';
import type { GLPK } from 'glpk.js/node';
import type { Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import { dualExponent, lpNorm, steepestAscent } from '../linalg/norms.ts';
import type { KktResiduals, ProblemKind, SolverResult } from './types.ts';

/**
 * Largest KKT residual (each one as defined in {@link svmKkt}, all scale-free) accepted as `optimal`.
 * The solvers here return active-set or simplex vertices, exact up to rounding: observed residuals are
 * 1e-15…1e-13 on unit-scale data. 1e-9 leaves room for a condition number up to ~1e6 and is still far
 * below anything that changes a direction visibly (an angle error of order √1e-9 rad at worst).
 */
export const SVM_KKT_TOLERANCE = 1e-9;

/**
 * Relative width of the kinks of ‖·‖₁ and ‖·‖_∞ in {@link svmKkt}: for q = 1 a coordinate with
 * |β_j| ≤ τ‖β‖_∞ counts as zero, for q = ∞ one with |β_j| ≥ (1 − τ)‖β‖_∞ counts as maximal, τ = 1e-9.
 * LP solvers return such coordinates with rounding (e.g. 1.0000000000000002 for 1, 1e-17 for 0); the
 * check then certifies exact KKT for a β' within τ‖β‖_∞ of β, i.e. an objective within a factor 1 ± τ.
 */
export const SVM_KINK_TOLERANCE = 1e-9;

/**
 * Below this relative ℓ2 margin γ₂* / max_i ‖z_i‖₂ the dual method reports `not-separable`: the data are
 * then separable by at most a float64 rounding error (the least-distance residual it measures is about
 * γ₂* / max‖z_i‖ and is computed to ~1e-16).
 */
export const SVM_NOT_SEPARABLE_RELATIVE_MARGIN = 1e-12;

/**
 * How the multipliers λ of an ℓq-SVM are normalized (they differ by the factor ‖β‖_q):
 * - `'norm'`: of min ‖β‖_q s.t. z_i·β ≥ 1: Σλ_i z_i ∈ ∂‖β‖_q and, at the optimum, Σλ_i = ‖β‖_q.
 * - `'half-squared'`: of min ½‖β‖_q²: Σλ_i z_i ∈ ‖β‖_q ∂‖β‖_q and Σλ_i = ‖β‖_q²; for q = 2 this is
 *   β = Σλ_i z_i (quadprog's Lagrangian).
 */
export type SvmMultiplierForm = 'norm' | 'half-squared';

/** The LP solvers of {@link svmLinf1}. */
export type SvmLpSolver = 'highs' | 'glpk';

/** Options of {@link svmLinf1}. */
export interface SvmLpOptions {
  /** LP solver (default `'highs'`). Both run the simplex method and return a vertex. */
  readonly solver?: SvmLpSolver;
}

/** Options of {@link svmL2Dual}. */
export interface SvmDualOptions {
  /**
   * Sweeps of coordinate ascent before the exact active-set finish (default 30). They only choose the
   * starting support; the finish is exact whatever the number, 0 included.
   */
  readonly sweeps?: number;
}

// ---------------------------------------------------------------------------------------------------
// Input checks shared by all solvers.

/** z_i = y_i x_i as a row-major n×d array, after the boundary checks of a binary data set. */
function marginRows(data: Dataset, who: string): Float64Array {
  if (!data.binary || data.classes !== 2) {
    throw new InputError(`${who}: needs a binary data set (labels ±1), got '${data.name}' with ${data.classes} classes`, 'data');
  }
  const { n, d, X, y } = data;
  if (X.length !== n * d || y.length !== n) {
    throw new InputError(`${who}: data '${data.name}' has X.length ${X.length} and y.length ${y.length}, expected ${n * d} and ${n}`, 'data');
  }
  const Z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const yi = y[i];
    if (yi !== 1 && yi !== -1) throw new InputError(`${who}: label y[${i}] = ${yi} of '${data.name}' is not ±1`, 'data');
    for (let j = 0; j < d; j++) Z[i * d + j] = yi * X[i * d + j];
  }
  return Z;
}

const hashScratch = new Float64Array(1);
const hashWords = new Uint32Array(hashScratch.buffer);

/** FNV-1a hash of the bits of sign·z_i (+0 folds −0 into 0, which compare equal). */
function hashRow(Z: Float64Array, d: number, i: number, sign: number): number {
  let h = 0x811c9dc5;
  for (let j = 0; j < d; j++) {
    hashScratch[0] = sign * Z[i * d + j] + 0;
    h = Math.imul(h ^ hashWords[0], 0x01000193);
    h = Math.imul(h ^ hashWords[1], 0x01000193);
  }
  return h >>> 0;
}

/** z_i = sign·z_k exactly. */
function rowsEqual(Z: Float64Array, d: number, i: number, k: number, sign: number): boolean {
  for (let j = 0; j < d; j++) if (Z[i * d + j] !== sign * Z[k * d + j]) return false;
  return true;
}

/**
 * Exact-equality lookup of rows: `find(i, sign)` is the first earlier-added row k with z_k = sign·z_i,
 * or −1. Hash buckets keep it O(nd) (text keys of 784-wide MNIST rows would cost far more).
 */
class RowIndex {
  private readonly buckets = new Map<number, number[]>();
  constructor(
    private readonly Z: Float64Array,
    private readonly d: number,
  ) {}
  find(i: number, sign: number): number {
    const bucket = this.buckets.get(hashRow(this.Z, this.d, i, sign));
    if (bucket) for (const k of bucket) if (rowsEqual(this.Z, this.d, i, k, sign)) return k;
    return -1;
  }
  add(i: number): void {
    const h = hashRow(this.Z, this.d, i, 1);
    const bucket = this.buckets.get(h);
    if (bucket) bucket.push(i);
    else this.buckets.set(h, [i]);
  }
}

/** Groups of identical rows z_i: `first[k]` is the first row of group k, `group[i]` the group of row i. */
interface RowGroups {
  readonly first: number[];
  readonly group: Int32Array;
  readonly count: number[];
}

function groupRows(Z: Float64Array, n: number, d: number): RowGroups {
  const index = new RowIndex(Z, d);
  const groupOfFirst = new Map<number, number>();
  const first: number[] = [];
  const count: number[] = [];
  const group = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = index.find(i, 1);
    let g: number;
    if (k < 0) {
      g = first.length;
      index.add(i);
      groupOfFirst.set(i, g);
      first.push(i);
      count.push(0);
    } else {
      g = groupOfFirst.get(k)!;
    }
    group[i] = g;
    count[g]++;
  }
  return { first, group, count };
}

/** Result without a solution (every status but optimal, and `failed` with its numbers). */
function noSolution(
  problem: ProblemKind,
  status: SolverResult['status'],
  message: string,
  solver: string,
  q: number,
  kkt: KktResiduals = { primalFeasibility: NaN, dualFeasibility: NaN, complementarity: NaN, stationarity: NaN },
): SolverResult {
  return { problem, status, message, direction: null, beta: null, margin: NaN, multipliers: null, kkt, solver, q };
}

/**
 * The checks every SVM shares, before any solver runs: n = 0 or a zero/non-finite example →
 * `degenerate`; an x with both labels (z_k = −z_i) → `not-separable`. Returns null when the input is fine.
 */
function precheck(Z: Float64Array, data: Dataset, solver: string, q: number): SolverResult | null {
  const { n, d } = data;
  if (n === 0) return noSolution('svm', 'degenerate', `svm: data '${data.name}' has no examples (n = 0)`, solver, q);
  for (let i = 0; i < n; i++) {
    let zero = true;
    for (let j = 0; j < d; j++) {
      const v = Z[i * d + j];
      if (!Number.isFinite(v)) {
        return noSolution('svm', 'degenerate', `svm: example ${i} of '${data.name}' has a non-finite entry x[${i}][${j}] = ${data.X[i * d + j]}`, solver, q);
      }
      if (v !== 0) zero = false;
    }
    if (zero) {
      return noSolution(
        'svm',
        'degenerate',
        `svm: example ${i} (row ${i} of X) of '${data.name}' is the zero vector: it has margin 0 for every β, so z_${i}·β ≥ 1 cannot hold; remove it`,
        solver,
        q,
      );
    }
  }
  // The same x with both labels gives z_k = −z_i: no β has z_i·β > 0 and z_k·β > 0.
  const index = new RowIndex(Z, d);
  for (let i = 0; i < n; i++) {
    const k = index.find(i, -1);
    if (k >= 0) {
      return noSolution(
        'svm',
        'not-separable',
        `svm: data '${data.name}' are not separable: examples ${k} and ${i} have the same x with opposite labels (z_${i} = −z_${k})`,
        solver,
        q,
      );
    }
    if (index.find(i, 1) < 0) index.add(i);
  }
  return null;
}

function duplicateNote(Z: Float64Array, n: number, d: number): string {
  const groups = groupRows(Z, n, d);
  const dups = n - groups.first.length;
  return dups > 0 ? `; ${dups} duplicate example(s): the multipliers are then not unique (any split within a group of equal z_i is optimal)` : '';
}

function maxResidual(k: KktResiduals): number {
  return Math.max(k.primalFeasibility, k.dualFeasibility, k.complementarity, k.stationarity);
}

function formatKkt(k: KktResiduals): string {
  const f = (v: number): string => v.toExponential(2);
  return `primal ${f(k.primalFeasibility)}, dual ${f(k.dualFeasibility)}, complementarity ${f(k.complementarity)}, stationarity ${f(k.stationarity)}`;
}

/**
 * Verify (β, λ) and build the result: optimal when every KKT residual is ≤ SVM_KKT_TOLERANCE, else
 * `failed` with the residuals in the message.
 */
function verified(
  data: Dataset,
  Z: Float64Array,
  q: number,
  beta: Float64Array,
  lambda: Float64Array,
  form: SvmMultiplierForm,
  solver: string,
  note: string,
): SolverResult {
  const kkt = svmKkt(data, q, beta, lambda, form);
  const norm = lpNorm(beta, q);
  const norm2 = lpNorm(beta, 2);
  if (!(maxResidual(kkt) <= SVM_KKT_TOLERANCE) || !(norm > 0) || !Number.isFinite(norm2)) {
    return noSolution(
      'svm',
      'failed',
      `svm (q = ${q}, ${solver}): the solution did not pass the KKT check (tolerance ${SVM_KKT_TOLERANCE}): ${formatKkt(kkt)}; ‖β‖_q = ${norm}`,
      solver,
      q,
      kkt,
    );
  }
  const direction = new Float64Array(beta.length);
  for (let j = 0; j < beta.length; j++) direction[j] = beta[j] / norm2;
  return {
    problem: 'svm',
    status: 'optimal',
    message: note + duplicateNote(Z, data.n, data.d),
    direction,
    beta,
    margin: 1 / norm,
    multipliers: lambda,
    kkt,
    solver,
    q,
  };
}

// ---------------------------------------------------------------------------------------------------
// KKT residuals.

/**
 * Distance, in the dual norm ‖·‖_p (1/p + 1/q = 1), of v from the subdifferential ∂‖β‖_q.
 * Elements of ∂‖β‖_q (β ≠ 0) have ‖g‖_p = 1, so the distance is already relative.
 */
function distanceToSubdifferential(v: Float64Array, beta: ArrayLike<number>, q: number): number {
  const d = v.length;
  const p = dualExponent(q);
  const betaMax = lpNorm(beta, Infinity);
  if (betaMax === 0) {
    // ∂‖0‖_q is the unit ball of ‖·‖_p.
    return Math.max(0, lpNorm(v, p) - 1);
  }
  if (q === 1) {
    // ∂‖β‖₁ = {g : g_j = sign β_j where β_j ≠ 0, |g_j| ≤ 1 elsewhere}; ℓ∞ distance is coordinate-wise.
    let dist = 0;
    for (let j = 0; j < d; j++) {
      const b = beta[j];
      const e = Math.abs(b) <= SVM_KINK_TOLERANCE * betaMax ? Math.max(0, Math.abs(v[j]) - 1) : Math.abs(v[j] - Math.sign(b));
      if (e > dist) dist = e;
    }
    return dist;
  }
  if (q === Infinity) {
    // ∂‖β‖_∞ = {g : g_j = 0 off M, s_j g_j ≥ 0 on M, Σ_M s_j g_j = 1}, M the maximal coordinates,
    // s_j = sign β_j. Its ℓ1 distance from v: Σ_{j∉M}|v_j| plus the ℓ1 distance of a = (s_j v_j)_M from
    // the simplex, which is Σ a⁻ + |1 − Σ a⁺| (negatives must be raised to 0; the sum then fixed).
    let off = 0;
    let neg = 0;
    let pos = 0;
    for (let j = 0; j < d; j++) {
      const b = beta[j];
      if (Math.abs(b) >= (1 - SVM_KINK_TOLERANCE) * betaMax) {
        const a = Math.sign(b) * v[j];
        if (a < 0) neg -= a;
        else pos += a;
      } else {
        off += Math.abs(v[j]);
      }
    }
    return off + neg + Math.abs(1 - pos);
  }
  // 1 < q < ∞: ‖·‖_q is differentiable at β ≠ 0 with gradient sign(β)|β|^{q−1}/‖β‖_q^{q−1} = s_p(β).
  const grad = new Float64Array(d);
  steepestAscent(beta, p, grad, d);
  for (let j = 0; j < d; j++) grad[j] = v[j] - grad[j];
  return lpNorm(grad, p);
}

/**
 * KKT residuals of a candidate (β, λ) for the ℓq-SVM  min ‖β‖_q s.t. z_i·β ≥ 1, any q ∈ [1, ∞].
 *
 * With m_i = z_i·β and λ̃ the multipliers in the `'norm'` form (λ̃ = λ/‖β‖_q when `form` is
 * `'half-squared'`), and S = Σ|λ̃_i| (= ‖β‖_q at the optimum; 1 if λ̃ = 0):
 *  - primalFeasibility = max_i max(0, 1 − m_i)   (the constraint is normalized at 1);
 *  - dualFeasibility   = max_i max(0, −λ̃_i)/S;
 *  - complementarity   = max_i |λ̃_i (m_i − 1)|/S;
 *  - stationarity      = dist_p(Σλ̃_i z_i, ∂‖β‖_q)/max(1, Σ_i |λ̃_i|‖z_i‖_p), the distance in the dual
 *    norm p (elements of ∂‖β‖_q have ‖·‖_p = 1), relative to the size of the terms summed.
 * All are scale-free. At q = 1 and q = ∞ the subdifferential is used, with kinks of relative width
 * {@link SVM_KINK_TOLERANCE}. Any optimal β with any optimal λ passes (KKT holds for every pair of
 * primal and dual optima), so the check does not depend on which optimal vertex an LP returns.
 *
 * @param data binary data (n examples, d features); z_i = y_i x_i.
 * @param q norm of the SVM, 1 ≤ q ≤ ∞ (`Infinity` for ∞).
 * @param beta β ∈ R^d.
 * @param lambda λ ∈ R^n.
 * @param form normalization of λ; default `'half-squared'` for q = 2 (as {@link svmL2} and
 *   {@link svmL2Dual} return them) and `'norm'` otherwise (as {@link svmLinf1} returns them).
 */
export function svmKkt(
  data: Dataset,
  q: number,
  beta: ArrayLike<number>,
  lambda: ArrayLike<number>,
  form: SvmMultiplierForm = q === 2 ? 'half-squared' : 'norm',
): KktResiduals {
  if (typeof q !== 'number' || !(q >= 1)) throw new InputError(`svmKkt: q must be a number in [1, ∞], got ${q}`, 'q');
  const Z = marginRows(data, 'svmKkt');
  const { n, d } = data;
  if (beta.length !== d) throw new InputError(`svmKkt: beta has length ${beta.length}, expected d = ${d}`, 'beta');
  if (lambda.length !== n) throw new InputError(`svmKkt: lambda has length ${lambda.length}, expected n = ${n}`, 'lambda');
  const p = dualExponent(q);
  const normQ = lpNorm(beta, q);
  const scaleLambda = form === 'half-squared' ? (normQ > 0 ? 1 / normQ : 1) : 1;
  let sumAbs = 0;
  for (let i = 0; i < n; i++) sumAbs += Math.abs(lambda[i] * scaleLambda);
  const S = sumAbs > 0 ? sumAbs : 1;

  let primal = 0;
  let dual = 0;
  let comp = 0;
  let termSize = 0;
  const v = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const off = i * d;
    let m = 0;
    for (let j = 0; j < d; j++) m += Z[off + j] * beta[j];
    const lam = lambda[i] * scaleLambda;
    primal = Math.max(primal, 1 - m);
    dual = Math.max(dual, -lam / S);
    comp = Math.max(comp, Math.abs(lam * (m - 1)) / S);
    if (lam !== 0) {
      for (let j = 0; j < d; j++) v[j] += lam * Z[off + j];
      termSize += Math.abs(lam) * lpNorm(Z, p, d, off);
    }
  }
  const stationarity = distanceToSubdifferential(v, beta, q) / Math.max(1, termSize);
  // NaN anywhere (a non-finite β or λ) must not pass as a small residual.
  const clean = (x: number): number => (Number.isNaN(x) ? Infinity : Math.max(0, x));
  return {
    primalFeasibility: clean(primal),
    dualFeasibility: clean(dual),
    complementarity: clean(comp),
    stationarity: clean(stationarity),
  };
}

// ---------------------------------------------------------------------------------------------------
// ℓ2 by quadprog.

/** quadprog.solveQP: min −dᵀb + ½bᵀDb s.t. Aᵀb ≥ b₀; all arrays 1-based (index 0 unused). */
type SolveQp = (
  Dmat: number[][],
  dvec: number[],
  Amat: number[][],
  bvec: number[],
  meq?: number,
) => { solution?: number[]; Lagrangian?: number[]; message: string };

const solveQP = (quadprogModule as { solveQP: SolveQp }).solveQP;

/**
 * ℓ2-SVM by quadratic programming: min ½‖β‖₂² s.t. z_i·β ≥ 1, solved by `quadprog` (Goldfarb–Idnani
 * dual active-set method, pure JS) with D = I, d = 0, A = [z_1 … z_n], b₀ = 1.
 *
 * Returns the unique β* (margin γ₂* = 1/‖β*‖₂, direction β* / ‖β*‖₂) and the multipliers of quadprog's
 * Lagrangian, the `'half-squared'` form: β* = Σλ_i z_i, λ ≥ 0, Σλ_i = ‖β*‖₂² (divide by ‖β*‖₂ for
 * the min ‖β‖₂ form). With duplicate examples λ is not unique. Statuses: `degenerate` (n = 0, a zero
 * or non-finite example), `not-separable` (an x with both labels, or quadprog finds the constraints
 * inconsistent), `failed` (KKT residuals above {@link SVM_KKT_TOLERANCE}).
 *
 * @param data binary data, n×d.
 */
export async function svmL2(data: Dataset): Promise<SolverResult> {
  const Z = marginRows(data, 'svmL2');
  const solver = 'quadprog';
  const early = precheck(Z, data, solver, 2);
  if (early) return early;
  const { n, d } = data;
  const Dmat: number[][] = [[]];
  const Amat: number[][] = [[]];
  const dvec = new Array<number>(d + 1).fill(0);
  const bvec = new Array<number>(n + 1).fill(1);
  bvec[0] = 0;
  for (let j = 1; j <= d; j++) {
    const row = new Array<number>(d + 1).fill(0);
    row[j] = 1;
    Dmat.push(row);
    const a = new Array<number>(n + 1).fill(0);
    for (let i = 1; i <= n; i++) a[i] = Z[(i - 1) * d + (j - 1)];
    Amat.push(a);
  }
  const res = solveQP(Dmat, dvec, Amat, bvec);
  if (res.message === 'constraints are inconsistent, no solution!') {
    return noSolution('svm', 'not-separable', `svm (q = 2, quadprog): data '${data.name}' are not separable through the origin (quadprog: the constraints z_i·β ≥ 1 are inconsistent)`, solver, 2);
  }
  if (res.message !== '' || !res.solution || !res.Lagrangian) {
    return noSolution('svm', 'failed', `svm (q = 2, quadprog): ${res.message || 'no solution returned'}`, solver, 2);
  }
  const beta = Float64Array.from(res.solution.slice(1, d + 1));
  const lambda = Float64Array.from(res.Lagrangian.slice(1, n + 1));
  return verified(data, Z, 2, beta, lambda, 'half-squared', solver, 'quadprog (Goldfarb–Idnani); multipliers in the ½‖β‖² form, β = Σλ_i z_i');
}

// ---------------------------------------------------------------------------------------------------
// ℓ2 by the dual: Hildreth coordinate ascent + exact active-set finish.

/**
 * Householder QR of an m×k column-major matrix (m ≥ k), in place: R above the diagonal, the
 * reflectors v_j (H_j = I − τ_j v_j v_jᵀ) on and below it, R's diagonal in `rDiag`.
 */
interface Qr {
  readonly a: Float64Array;
  readonly m: number;
  readonly k: number;
  readonly rDiag: Float64Array;
  readonly tau: Float64Array;
}

function qrFactor(a: Float64Array, m: number, k: number): Qr {
  const rDiag = new Float64Array(k);
  const tau = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const cj = j * m;
    const norm = lpNorm(a, 2, m - j, cj + j);
    if (norm === 0) continue;
    const x = a[cj + j];
    // α = −sign(x)‖x‖ avoids cancellation in v_j = x_j − α.
    const alpha = x >= 0 ? -norm : norm;
    a[cj + j] = x - alpha;
    tau[j] = 1 / (-alpha * a[cj + j]);
    rDiag[j] = alpha;
    for (let c = j + 1; c < k; c++) {
      const cc = c * m;
      let s = 0;
      for (let i = j; i < m; i++) s += a[cj + i] * a[cc + i];
      s *= tau[j];
      for (let i = j; i < m; i++) a[cc + i] -= s * a[cj + i];
    }
  }
  return { a, m, k, rDiag, tau };
}

/** Whether R is numerically non-singular (|R_jj| > 1e-12·max|R_jj|). */
function qrFullRank(qr: Qr): boolean {
  let big = 0;
  for (let j = 0; j < qr.k; j++) big = Math.max(big, Math.abs(qr.rDiag[j]));
  if (!(big > 0)) return false;
  for (let j = 0; j < qr.k; j++) if (!(Math.abs(qr.rDiag[j]) > 1e-12 * big)) return false;
  return true;
}

/** b ← Qᵀb (length m). */
function qrApplyQt(qr: Qr, b: Float64Array): void {
  for (let j = 0; j < qr.k; j++) {
    const cj = j * qr.m;
    let s = 0;
    for (let i = j; i < qr.m; i++) s += qr.a[cj + i] * b[i];
    s *= qr.tau[j];
    for (let i = j; i < qr.m; i++) b[i] -= s * qr.a[cj + i];
  }
}

/** x = R⁻¹y (first k entries of y). */
function qrSolveR(qr: Qr, y: ArrayLike<number>): Float64Array {
  const { a, m, k, rDiag } = qr;
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let c = i + 1; c < k; c++) s -= a[c * m + i] * x[c];
    x[i] = s / rDiag[i];
  }
  return x;
}

/** x = R⁻ᵀy. */
function qrSolveRt(qr: Qr, y: ArrayLike<number>): Float64Array {
  const { a, m, k, rDiag } = qr;
  const x = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = y[i];
    for (let r = 0; r < i; r++) s -= a[i * m + r] * x[r];
    x[i] = s / rDiag[i];
  }
  return x;
}

/**
 * Lawson–Hanson NNLS: min ‖Ax − b‖₂ s.t. x ≥ 0, A m×c column-major, from a feasible x0 (its positive
 * entries are the starting passive set). Exact in finitely many steps; null if a least-squares
 * subproblem is rank-deficient (cannot happen from x0 = 0 in exact arithmetic).
 */
function nnls(A: Float64Array, m: number, c: number, b: Float64Array, x0: Float64Array): Float64Array | null {
  const EPS = 2.220446049250313e-16;
  let norm1 = 0;
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += Math.abs(A[j * m + i]);
    norm1 = Math.max(norm1, s);
  }
  // Lawson & Hanson's stopping rule for the dual vector w (as in their NNLS and SciPy's port).
  const tol = 10 * EPS * norm1 * Math.max(m, c);
  const x = Float64Array.from(x0);
  const passive = new Uint8Array(c);
  for (let j = 0; j < c; j++) if (x[j] > 0) passive[j] = 1;

  const residual = (): Float64Array => {
    const r = Float64Array.from(b);
    for (let j = 0; j < c; j++) {
      const xj = x[j];
      if (xj !== 0) for (let i = 0; i < m; i++) r[i] -= A[j * m + i] * xj;
    }
    return r;
  };
  // Least squares on the passive columns; null when they are (numerically) dependent.
  const solvePassive = (): Float64Array | null => {
    const cols: number[] = [];
    for (let j = 0; j < c; j++) if (passive[j]) cols.push(j);
    const k = cols.length;
    const s = new Float64Array(c);
    if (k === 0) return s;
    if (k > m) return null;
    const sub = new Float64Array(m * k);
    for (let t = 0; t < k; t++) sub.set(A.subarray(cols[t] * m, cols[t] * m + m), t * m);
    const qr = qrFactor(sub, m, k);
    if (!qrFullRank(qr)) return null;
    const qb = Float64Array.from(b);
    qrApplyQt(qr, qb);
    const sol = qrSolveR(qr, qb);
    for (let t = 0; t < k; t++) s[cols[t]] = sol[t];
    return s;
  };
  // Inner loop: move from the feasible x towards the passive least-squares solution, dropping
  // variables that reach 0, until that solution is strictly positive.
  const inner = (): boolean => {
    for (let guard = 0; guard <= c; guard++) {
      const s = solvePassive();
      if (!s) return false;
      let alpha = Infinity;
      let blocking = -1;
      for (let j = 0; j < c; j++) {
        if (passive[j] && s[j] <= 0) {
          const a = x[j] / (x[j] - s[j]);
          if (a < alpha) {
            alpha = a;
            blocking = j;
          }
        }
      }
      if (blocking < 0) {
        x.set(s);
        return true;
      }
      for (let j = 0; j < c; j++) {
        if (!passive[j]) continue;
        x[j] += alpha * (s[j] - x[j]);
        // The blocking variable reaches 0 exactly in exact arithmetic; others may reach it together.
        if (j === blocking || x[j] <= 0) {
          x[j] = 0;
          passive[j] = 0;
        }
      }
    }
    return false;
  };

  if (!inner()) return null;
  for (let iter = 0; iter < 3 * c + 10; iter++) {
    const r = residual();
    let best = -1;
    let bestW = tol;
    for (let j = 0; j < c; j++) {
      if (passive[j]) continue;
      let w = 0;
      for (let i = 0; i < m; i++) w += A[j * m + i] * r[i];
      if (w > bestW) {
        bestW = w;
        best = j;
      }
    }
    if (best < 0) return x;
    passive[best] = 1;
    if (!inner()) return null;
  }
  return null;
}

/**
 * ℓ2-SVM by its dual, independently of quadprog (solver `'dual-cd'`):
 *
 *   max_{λ ≥ 0} Σλ_i − ½‖Σλ_i z_i‖₂²,   β = Σλ_i z_i,
 *
 * 1. identical examples are merged (their multiplier is split equally at the end: with duplicates λ
 *    is not unique);
 * 2. `sweeps` sweeps of exact coordinate ascent (Hildreth): λ_k ← max(0, λ_k + (1 − z_k·β)/‖z_k‖²);
 * 3. an exact finish from that support: Lawson–Hanson NNLS on the least-distance form of the problem
 *    (min ‖Eu − e_{d+1}‖, u ≥ 0, E = [z̃_1 … z̃_n; 1 … 1], z̃ = z/max‖z_i‖₂; λ̃ = u/(1 − Σu)), whose
 *    residual ‖Eu − e_{d+1}‖ = γ̃/√(1 + γ̃²) measures the relative margin γ̃ and so certifies
 *    non-separability when it vanishes (below {@link SVM_NOT_SEPARABLE_RELATIVE_MARGIN});
 * 4. a Newton polish on the final support S: β = min-norm solution of z_i·β = 1 (i ∈ S) and
 *    λ_S = R⁻¹R⁻ᵀ1 from a QR factorization of [z_i]_{i∈S}, without the cancellation in 1 − Σu.
 * Returns the same β* as {@link svmL2} (the ℓ2-SVM is unique) and λ in the `'half-squared'` form
 * (β = Σλ_i z_i). Reaches KKT residuals ~1e-15 on small problems (each NNLS step factors a
 * (d+1)×|S| matrix, so it is meant for small n and d).
 *
 * @param data binary data, n×d.
 * @param options `sweeps` of coordinate ascent (default 30).
 */
export async function svmL2Dual(data: Dataset, options: SvmDualOptions = {}): Promise<SolverResult> {
  const sweeps = options.sweeps ?? 30;
  if (!Number.isInteger(sweeps) || sweeps < 0) throw new InputError(`svmL2Dual: sweeps must be an integer >= 0, got ${sweeps}`, 'sweeps');
  const Z = marginRows(data, 'svmL2Dual');
  const solver = 'dual-cd';
  const early = precheck(Z, data, solver, 2);
  if (early) return early;
  const { n, d } = data;
  const groups = groupRows(Z, n, d);
  const m = groups.first.length;

  // Unique rows, scaled so that max ‖z̃_k‖₂ = 1: the appended row of ones in E is then on the same scale.
  let scale = 0;
  for (const i of groups.first) scale = Math.max(scale, lpNorm(Z, 2, d, i * d));
  const U = new Float64Array(m * d);
  const sq = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const off = groups.first[k] * d;
    for (let j = 0; j < d; j++) U[k * d + j] = Z[off + j] / scale;
    sq[k] = lpNorm(U, 2, d, k * d) ** 2;
  }

  // 2. Hildreth's coordinate ascent on the scaled problem (each step maximizes the dual exactly in λ_k).
  const lam = new Float64Array(m);
  const w = new Float64Array(d);
  for (let sweep = 0; sweep < sweeps; sweep++) {
    for (let k = 0; k < m; k++) {
      let mk = 0;
      for (let j = 0; j < d; j++) mk += U[k * d + j] * w[j];
      const next = Math.max(0, lam[k] + (1 - mk) / sq[k]);
      const delta = next - lam[k];
      if (delta !== 0) {
        lam[k] = next;
        for (let j = 0; j < d; j++) w[j] += delta * U[k * d + j];
      }
    }
  }

  // 3. Exact finish: NNLS on E = [Uᵀ; 1ᵀ], warm-started at u = λ̃/(1 + Σλ̃) (the map inverse to
  // λ̃ = u/(1 − Σu)); from zero if that support is not a usable starting set.
  const rows = d + 1;
  const E = new Float64Array(rows * m);
  for (let k = 0; k < m; k++) {
    for (let j = 0; j < d; j++) E[k * rows + j] = U[k * d + j];
    E[k * rows + d] = 1;
  }
  const f = new Float64Array(rows);
  f[d] = 1;
  let sumLam = 0;
  for (let k = 0; k < m; k++) sumLam += lam[k];
  const u0 = new Float64Array(m);
  for (let k = 0; k < m; k++) u0[k] = lam[k] / (1 + sumLam);
  let u = nnls(E, rows, m, f, u0);
  if (!u) u = nnls(E, rows, m, f, new Float64Array(m));
  if (!u) return noSolution('svm', 'failed', `svm (q = 2, dual-cd): the active-set finish met a rank-deficient support (points not in general position)`, solver, 2);

  const r = Float64Array.from(f);
  let sumU = 0;
  for (let k = 0; k < m; k++) {
    sumU += u[k];
    if (u[k] !== 0) for (let i = 0; i < rows; i++) r[i] -= E[k * rows + i] * u[k];
  }
  const residual = lpNorm(r, 2);
  if (residual <= SVM_NOT_SEPARABLE_RELATIVE_MARGIN) {
    return noSolution(
      'svm',
      'not-separable',
      `svm (q = 2, dual-cd): data '${data.name}' are not separable through the origin: 0 is in the convex hull of the z_i (least-distance residual ${residual.toExponential(2)}, i.e. γ₂* ≤ ${SVM_NOT_SEPARABLE_RELATIVE_MARGIN}·max‖z_i‖₂)`,
      solver,
      2,
    );
  }

  // Unscaled multipliers (½‖β‖² form): β = Σλ_k z_k = Σλ̃_k z̃_k/scale with z̃ = z/scale, so λ = λ̃/scale².
  const lamGroup = new Float64Array(m);
  const support: number[] = [];
  for (let k = 0; k < m; k++) {
    lamGroup[k] = u[k] / (1 - sumU) / (scale * scale);
    if (u[k] > 0) support.push(k);
  }
  // 4. Newton polish on the support S: with [z_k]_{k∈S}ᵀ = QR (d×|S|), z_k·β = 1 on S and β = Σλ_k z_k
  // give β = Q R⁻ᵀ1 and λ_S = R⁻¹R⁻ᵀ1. Kept only if S has full rank and λ_S stays positive.
  const s = support.length;
  let note = 'dual coordinate ascent + exact active-set finish; multipliers in the ½‖β‖² form, β = Σλ_i z_i';
  if (s > 0 && s <= d) {
    const A = new Float64Array(d * s);
    for (let t = 0; t < s; t++) {
      const off = groups.first[support[t]] * d;
      for (let j = 0; j < d; j++) A[t * d + j] = Z[off + j];
    }
    const qr = qrFactor(A, d, s);
    if (qrFullRank(qr)) {
      const y = qrSolveRt(qr, new Float64Array(s).fill(1));
      const lamS = qrSolveR(qr, y);
      if (lamS.every((v) => v > 0)) {
        for (let t = 0; t < s; t++) lamGroup[support[t]] = lamS[t];
      } else {
        note += ' (Newton polish skipped: it left the nonnegative orthant)';
      }
    }
  }
  const beta = new Float64Array(d);
  const lambda = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = groups.group[i];
    const li = lamGroup[k] / groups.count[k];
    lambda[i] = li;
    if (li !== 0) for (let j = 0; j < d; j++) beta[j] += li * Z[i * d + j];
  }
  return verified(data, Z, 2, beta, lambda, 'half-squared', solver, note);
}

// ---------------------------------------------------------------------------------------------------
// ℓ1 and ℓ∞ as linear programs.

/** An LP  min cᵀx  s.t.  rowLower_r ≤ a_rᵀx (rows, CSR),  colLower ≤ x ≤ colUpper (±Infinity allowed). */
export interface LinearProgram {
  readonly numCols: number;
  readonly numRows: number;
  readonly cost: Float64Array;
  readonly colLower: Float64Array;
  readonly colUpper: Float64Array;
  readonly rowLower: Float64Array;
  readonly starts: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

/** LP solution: status, primal x, and the row duals y ≥ 0 of the ≥ rows (min problem). */
export interface LpOutcome {
  readonly status: 'optimal' | 'infeasible' | 'other';
  readonly detail: string;
  readonly x: Float64Array | null;
  readonly rowDual: Float64Array | null;
}

export class CsrBuilder {
  readonly starts: number[] = [0];
  readonly indices: number[] = [];
  readonly values: number[] = [];
  readonly rowLower: number[] = [];
  add(col: number, value: number): void {
    // Exact zeros carry no information, and GLPK/HiGHS would store them or drop them differently.
    if (value !== 0) {
      this.indices.push(col);
      this.values.push(value);
    }
  }
  endRow(lower: number): void {
    this.starts.push(this.indices.length);
    this.rowLower.push(lower);
  }
  /** The LP min costᵀx over these rows, with colLower ≤ x (no upper bounds). */
  toProgram(numCols: number, cost: Float64Array, colLower: Float64Array): LinearProgram {
    return {
      numCols,
      numRows: this.rowLower.length,
      cost,
      colLower,
      colUpper: new Float64Array(numCols).fill(Infinity),
      rowLower: Float64Array.from(this.rowLower),
      starts: Int32Array.from(this.starts),
      indices: Int32Array.from(this.indices),
      values: Float64Array.from(this.values),
    };
  }
}

/**
 * q = 1: β = u − v, u, v ≥ 0: min Σ(u_j + v_j) s.t. z_i·(u − v) ≥ 1 (columns u_0…u_{d−1}, v_0…v_{d−1}).
 * q = ∞: min t s.t. z_i·β ≥ 1, t − β_j ≥ 0, t + β_j ≥ 0 (columns β_0…β_{d−1} free, t ≥ 0).
 * The first n rows are the margin constraints in both.
 */
function buildLp(Z: Float64Array, n: number, d: number, q: number): LinearProgram {
  const b = new CsrBuilder();
  let numCols: number;
  let cost: Float64Array;
  let colLower: Float64Array;
  if (q === 1) {
    numCols = 2 * d;
    cost = new Float64Array(numCols).fill(1);
    colLower = new Float64Array(numCols);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) b.add(j, Z[i * d + j]);
      for (let j = 0; j < d; j++) b.add(d + j, -Z[i * d + j]);
      b.endRow(1);
    }
  } else {
    numCols = d + 1;
    cost = new Float64Array(numCols);
    cost[d] = 1;
    colLower = new Float64Array(numCols).fill(-Infinity);
    colLower[d] = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) b.add(j, Z[i * d + j]);
      b.endRow(1);
    }
    for (const sign of [-1, 1]) {
      for (let j = 0; j < d; j++) {
        b.add(j, sign);
        b.add(d, 1);
        b.endRow(0);
      }
    }
  }
  return b.toProgram(numCols, cost, colLower);
}

let highsPromise: Promise<Highs> | null = null;
let glpkPromise: Promise<GLPK> | null = null;

/** The HiGHS WebAssembly module, loaded once (dynamic import: nothing is fetched until an LP is solved). */
function loadHighs(): Promise<Highs> {
  // highs' declarations are typed as CommonJS (default = the module object), but its ESM build's
  // default export is the loader function itself.
  highsPromise ??= import('highs')
    .then((mod) => (mod.default as unknown as (options?: InitOptions) => Promise<Highs>)())
    .catch((err: unknown) => {
    highsPromise = null; // a later call may retry (e.g. after a network error in a browser)
    throw err;
  });
  return highsPromise;
}

/**
 * GLPK, loaded once. The `glpk.js/node` entry is the one that works in Node and in browsers (it reads
 * glpk.wasm with fs in Node and fetches it beside the module elsewhere, and solves synchronously);
 * the package's main entry needs a global Worker, which Node does not have.
 */
function loadGlpk(): Promise<GLPK> {
  glpkPromise ??= import('glpk.js/node').then((mod) => mod.default()).catch((err: unknown) => {
    glpkPromise = null;
    throw err;
  });
  return glpkPromise;
}

/**
 * Solve a {@link LinearProgram} with HiGHS (simplex; feasibility tolerances 1e-10, no matrix entry
 * dropped above 1e-12). `rowDual` holds y ≥ 0 for the ≥ rows of the min problem.
 */
export async function solveWithHighs(lp: LinearProgram): Promise<LpOutcome> {
  const highs = await loadHighs();
  const inf = highs.infinity;
  const finite = (v: Float64Array): Float64Array => v.map((x) => (x === Infinity ? inf : x === -Infinity ? -inf : x));
  const model = {
    numCols: lp.numCols,
    numRows: lp.numRows,
    colCost: lp.cost,
    colLower: finite(lp.colLower),
    colUpper: finite(lp.colUpper),
    rowLower: lp.rowLower,
    rowUpper: new Float64Array(lp.numRows).fill(inf),
    matrix: { format: 'csr' as const, numRows: lp.numRows, numCols: lp.numCols, starts: lp.starts, indices: lp.indices, values: lp.values },
  };
  return highs.withModel(model, (m): LpOutcome => {
    m.options.set({
      output_flag: false,
      // HiGHS drops matrix entries with |a| ≤ small_matrix_value (default 1e-9) — that would change
      // the data; 1e-12 is the smallest it accepts (the KKT check on the original data catches the rest).
      small_matrix_value: 1e-12,
      primal_feasibility_tolerance: 1e-10,
      dual_feasibility_tolerance: 1e-10,
    });
    const run = m.run();
    const codes = highs.constants.modelStatus;
    const status = run.modelStatus;
    if (status === codes.optimal) {
      const sol = m.getSolution();
      return { status: 'optimal', detail: 'optimal', x: Float64Array.from(sol.colValue), rowDual: Float64Array.from(sol.rowDual) };
    }
    // Both LPs are bounded below by 0, so "infeasible or unbounded" means infeasible.
    if (status === codes.infeasible || status === codes.unboundedOrInfeasible) {
      return { status: 'infeasible', detail: `HiGHS model status ${status}`, x: null, rowDual: null };
    }
    return { status: 'other', detail: `HiGHS model status ${status}`, x: null, rowDual: null };
  });
}

/**
 * Solve a {@link LinearProgram} with GLPK's simplex (presolve off, default tolerances). Row duals in
 * the same convention as {@link solveWithHighs}: y ≥ 0 on active ≥ rows of the min problem.
 */
export async function solveWithGlpk(lp: LinearProgram): Promise<LpOutcome> {
  const glpk = await loadGlpk();
  const col = (j: number): string => `c${j}`;
  const vars: { name: string; coef: number }[] = [];
  for (let j = 0; j < lp.numCols; j++) vars.push({ name: col(j), coef: lp.cost[j] });
  const subjectTo = [];
  for (let r = 0; r < lp.numRows; r++) {
    const rowVars: { name: string; coef: number }[] = [];
    for (let t = lp.starts[r]; t < lp.starts[r + 1]; t++) rowVars.push({ name: col(lp.indices[t]), coef: lp.values[t] });
    subjectTo.push({ name: `r${r}`, vars: rowVars, bnds: { type: glpk.GLP_LO, lb: lp.rowLower[r], ub: 0 } });
  }
  const bounds = [];
  for (let j = 0; j < lp.numCols; j++) {
    const lo = lp.colLower[j];
    const hi = lp.colUpper[j];
    const type = lo === -Infinity ? (hi === Infinity ? glpk.GLP_FR : glpk.GLP_UP) : hi === Infinity ? glpk.GLP_LO : glpk.GLP_DB;
    bounds.push({ name: col(j), type, lb: lo === -Infinity ? 0 : lo, ub: hi === Infinity ? 0 : hi });
  }
  // Presolve off: with it GLPK reports an infeasible LP as "undefined" instead of "no feasible solution".
  const out = glpk.solve(
    { name: 'svm', objective: { direction: glpk.GLP_MIN, name: 'obj', vars }, subjectTo, bounds },
    { msglev: glpk.GLP_MSG_OFF, presol: false },
  );
  const { status } = out.result;
  if (status === glpk.GLP_OPT) {
    const x = new Float64Array(lp.numCols);
    for (let j = 0; j < lp.numCols; j++) x[j] = out.result.vars[col(j)] ?? 0;
    const rowDual = new Float64Array(lp.numRows);
    const duals = out.result.dual ?? {};
    for (let r = 0; r < lp.numRows; r++) rowDual[r] = duals[`r${r}`] ?? NaN;
    return { status: 'optimal', detail: 'optimal', x, rowDual };
  }
  if (status === glpk.GLP_NOFEAS) return { status: 'infeasible', detail: `GLPK status ${status}`, x: null, rowDual: null };
  return { status: 'other', detail: `GLPK status ${status}`, x: null, rowDual: null };
}

/**
 * ℓ1- or ℓ∞-SVM as a linear program:
 *
 *   q = 1:  min ‖β‖₁ s.t. z_i·β ≥ 1, with β = u − v, u, v ≥ 0 (min Σ(u_j + v_j));
 *   q = ∞:  min t s.t. z_i·β ≥ 1, −t ≤ β_j ≤ t (β free, t ≥ 0).
 *
 * margin γ_q = 1/‖β*‖_q; direction β* / ‖β*‖₂. The multipliers are the LP duals of the margin rows, in
 * the `'norm'` form of min ‖β‖_q: λ ≥ 0, Σλ_i z_i ∈ ∂‖β*‖_q and Σλ_i = ‖β*‖_q = 1/γ_q (strong duality).
 *
 * The ℓ1/ℓ∞ SVM can have many optimal β (a face of the polytope), and then also many λ: what is
 * returned is the optimal vertex the simplex method stops at, which may differ between solvers and
 * versions. Only the optimal value (hence the margin) is unique; the KKT check accepts every optimal
 * vertex. Statuses as in {@link svmL2}; an infeasible LP is `not-separable`.
 *
 * @param data binary data, n×d.
 * @param q 1 or ∞ (`Infinity`).
 * @param options `solver`: `'highs'` (default) or `'glpk'`.
 */
export async function svmLinf1(data: Dataset, q: number, options: SvmLpOptions = {}): Promise<SolverResult> {
  if (q !== 1 && q !== Infinity) throw new InputError(`svmLinf1: q must be 1 or Infinity, got ${q}`, 'q');
  const solver = options.solver ?? 'highs';
  if (solver !== 'highs' && solver !== 'glpk') throw new InputError(`svmLinf1: solver must be 'highs' or 'glpk', got '${String(solver)}'`, 'solver');
  const Z = marginRows(data, 'svmLinf1');
  const early = precheck(Z, data, solver, q);
  if (early) return early;
  const { n, d } = data;
  const lp = buildLp(Z, n, d, q);
  const out = solver === 'highs' ? await solveWithHighs(lp) : await solveWithGlpk(lp);
  if (out.status === 'infeasible') {
    return noSolution('svm', 'not-separable', `svm (q = ${q}, ${solver}): data '${data.name}' are not separable through the origin (the LP z_i·β ≥ 1 is infeasible: ${out.detail})`, solver, q);
  }
  if (out.status !== 'optimal' || !out.x || !out.rowDual) {
    return noSolution('svm', 'failed', `svm (q = ${q}, ${solver}): the LP solver stopped without an optimum (${out.detail})`, solver, q);
  }
  const beta = new Float64Array(d);
  for (let j = 0; j < d; j++) beta[j] = q === 1 ? out.x[j] - out.x[d + j] : out.x[j];
  const lambda = Float64Array.from(out.rowDual.subarray(0, n));
  return verified(
    data,
    Z,
    q,
    beta,
    lambda,
    'norm',
    solver,
    `LP (simplex, ${solver}); β is the optimal vertex returned (the ℓ${q === 1 ? '1' : '∞'}-SVM solution may be non-unique); multipliers in the min ‖β‖_q form, Σλ_i = ‖β‖_q`,
  );
}
