/**
 * The ℓq-SVM for any 1 < q < ∞ (docs/THEORY.md §5, the robust threshold γ_q* for p ∉ {1, 2, ∞}), and the
 * conic toolkit shared with `adversarial.ts`:
 *  - a cached loader of SCS (the Splitting Conic Solver compiled to WebAssembly, npm `scs-solver`),
 *  - a builder of conic programs "affine expression ∈ cone" in SCS's standard form,
 *  - an active-set Newton polish of the KKT system (SCS stops at ~1e-9; the references need the
 *    direction to 1e-6 degrees, so every SCS answer is polished and then verified by exact KKT
 *    residuals before it is returned),
 *  - the data checks every reference solver starts with.
 *
 * Runs in Node and in the browser: no `fs`, no `process`; the WASM module is loaded once per
 * JavaScript realm and reused.
 */
import { InputError } from '../errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { dualExponent, lpNorm, steepestAscent } from '../linalg/norms.ts';
import type { KktResiduals, SolverResult } from './types.ts';

// ---------------------------------------------------------------------------------------------
// SCS: types of the embind surface and a cached loader
// ---------------------------------------------------------------------------------------------

/** Settings object of SCS (an embind class: must be `delete()`d). Field meanings as in SCS 3. */
interface ScsSettings {
  normalize: boolean;
  scale: number;
  adaptiveScale: boolean;
  rhoX: number;
  maxIters: number;
  epsAbs: number;
  epsRel: number;
  epsInfeas: number;
  alpha: number;
  timeLimitSecs: number;
  verbose: number;
  warmStart: boolean;
  delete(): void;
}

/** Problem data: min cᵀx s.t. Ax + s = b, s ∈ K, with A (m×n) in CSC form. */
interface ScsData {
  m: number;
  n: number;
  A_x: number[];
  A_i: number[];
  A_p: number[];
  b: number[];
  c: number[];
}

/**
 * Cone K in SCS's row order: zero cone (z rows), nonnegative orthant (l rows), second-order cones
 * (sizes q, total qsize), power cones (parameters p, psize triples).
 * The counts qsize/psize must be given with the arrays: the WASM binding does not infer them.
 */
interface ScsCone {
  z: number;
  l: number;
  q: number[];
  qsize: number;
  p: number[];
  psize: number;
}

interface ScsSolution {
  x: number[];
  y: number[];
  s: number[];
  info: { iter: number; status: string; pobj: number; dobj: number; resPri: number; resDual: number; gap: number };
  /** "solved", "solved_inaccurate", "infeasible", "unbounded", … (lower case in info.status). */
  status: string;
  /** 1 solved, 2 solved inaccurate, −1 unbounded, −2 infeasible, −6/−7 inaccurate certificates, … */
  statusVal: number;
}

/** The part of the SCS WASM module used here. */
interface ScsModule {
  ScsSettings: new () => ScsSettings;
  setDefaultSettings(settings: ScsSettings): void;
  solve(data: ScsData, cone: ScsCone, settings: ScsSettings): ScsSolution;
}

/** Emscripten module options: where the C code's printf output goes. */
interface ScsModuleOptions {
  print(text: string): void;
  printErr(text: string): void;
}

/** scs-solver's factory, imported on first use (its glue costs ~60 ms of start-up a run without SCS skips). */
const createScs = async (options: ScsModuleOptions): Promise<ScsModule> => {
  // @ts-expect-error -- scs-solver ships no type declarations; the surface used here is typed by ScsModule above.
  const mod = (await import('scs-solver')) as { default: (o: ScsModuleOptions) => Promise<ScsModule> };
  return mod.default(options);
};

let scsModule: Promise<ScsModule> | null = null;

/**
 * Lines SCS printed during the current solve. SCS prints warnings ("large complementary slackness
 * residual", …) with printf even at verbose 0; sent to the console they would interleave with a
 * CLI's JSON on stdout, so they are collected here and reported in the solution instead.
 */
let scsLog: string[] = [];

/**
 * The SCS WASM module, instantiated on first use and cached for the life of the realm (compiling the
 * 100 kB module costs tens of milliseconds; every later solve reuses it). A failed load is not
 * cached, so a later call can retry.
 */
export function loadScs(): Promise<ScsModule> {
  if (scsModule === null) {
    const collect = (text: string): void => {
      scsLog.push(text);
    };
    scsModule = createScs({ print: collect, printErr: collect }).catch((error: unknown) => {
      scsModule = null;
      throw error;
    });
  }
  return scsModule;
}

/**
 * SCS tolerances. 1e-10 (absolute and relative) is about the tightest SCS reaches reliably on these
 * small, well-scaled problems in double precision; the polish below then takes the KKT residuals to
 * rounding level, so nothing depends on SCS going further.
 */
const SCS_EPS = 1e-10;
/** Iteration cap: typical solves need a few hundred to a few thousand iterations. */
const SCS_MAX_ITERS = 200_000;

// ---------------------------------------------------------------------------------------------
// Conic program builder
// ---------------------------------------------------------------------------------------------

/** An affine expression constant + Σ coef·x[col] over the program's variables. */
export interface AffineExpression {
  readonly terms: readonly (readonly [col: number, coef: number])[];
  readonly constant?: number;
}

type ConeBlock =
  | { kind: 'z'; rows: AffineExpression[] }
  | { kind: 'l'; rows: AffineExpression[] }
  | { kind: 'q'; rows: AffineExpression[] }
  | { kind: 'p'; rows: AffineExpression[]; alpha: number };

/**
 * A conic program min cᵀx s.t. "affine expression ∈ cone", built in any order and laid out in
 * SCS's row order (zero, nonnegative, second-order, power). SCS's slack is s = b − Ax, so an
 * expression e(x) = k + aᵀx ∈ K becomes the row (−a, k).
 */
export class ConeProgram {
  readonly numVars: number;
  readonly objective: Float64Array;
  private readonly zero: AffineExpression[] = [];
  private readonly nonneg: AffineExpression[] = [];
  private readonly soc: AffineExpression[][] = [];
  private readonly pow: { alpha: number; rows: AffineExpression[] }[] = [];

  constructor(numVars: number) {
    this.numVars = numVars;
    this.objective = new Float64Array(numVars);
  }

  /** e(x) = 0. Returns the index of the row among the equality rows. */
  addZero(e: AffineExpression): number {
    this.zero.push(e);
    return this.zero.length - 1;
  }

  /** e(x) ≥ 0. Returns the index of the row among the inequality rows (its dual is y[z + index]). */
  addNonneg(e: AffineExpression): number {
    this.nonneg.push(e);
    return this.nonneg.length - 1;
  }

  /** (e₀, e₁, …, e_k) ∈ SOC: ‖(e₁, …, e_k)‖₂ ≤ e₀. */
  addSoc(es: AffineExpression[]): void {
    this.soc.push(es);
  }

  /** (e_x, e_y, e_z) ∈ K_pow(α) = {(x, y, z): x^α y^{1−α} ≥ |z|, x, y ≥ 0}, 0 < α < 1. */
  addPowerCone(alpha: number, ex: AffineExpression, ey: AffineExpression, ez: AffineExpression): void {
    this.pow.push({ alpha, rows: [ex, ey, ez] });
  }

  /** Row offset of the nonnegative block in SCS's y (dual) vector. */
  get nonnegOffset(): number {
    return this.zero.length;
  }

  /** SCS's data and cone. */
  build(): { data: ScsData; cone: ScsCone } {
    const blocks: ConeBlock[] = [
      { kind: 'z', rows: this.zero },
      { kind: 'l', rows: this.nonneg },
      ...this.soc.map((rows): ConeBlock => ({ kind: 'q', rows })),
      ...this.pow.map((p): ConeBlock => ({ kind: 'p', rows: p.rows, alpha: p.alpha })),
    ];
    const rowsAll: AffineExpression[] = blocks.flatMap((b) => b.rows);
    const m = rowsAll.length;
    // Collect (col, row, value) triplets, then sort by column for CSC.
    const triplets: [number, number, number][] = [];
    const b = new Array<number>(m);
    rowsAll.forEach((e, r) => {
      b[r] = e.constant ?? 0;
      for (const [col, coef] of e.terms) if (coef !== 0) triplets.push([col, r, -coef]);
    });
    triplets.sort((u, v) => u[0] - v[0] || u[1] - v[1]);
    const A_x: number[] = [];
    const A_i: number[] = [];
    const A_p: number[] = [0];
    let t = 0;
    for (let col = 0; col < this.numVars; col++) {
      while (t < triplets.length && triplets[t][0] === col) {
        // Merge duplicate (row, col) entries: CSC must not repeat a row within a column.
        if (A_i.length > A_p[col] && A_i[A_i.length - 1] === triplets[t][1]) A_x[A_x.length - 1] += triplets[t][2];
        else {
          A_i.push(triplets[t][1]);
          A_x.push(triplets[t][2]);
        }
        t++;
      }
      A_p.push(A_x.length);
    }
    const cone: ScsCone = {
      z: this.zero.length,
      l: this.nonneg.length,
      q: this.soc.map((s) => s.length),
      qsize: this.soc.length,
      p: this.pow.map((p) => p.alpha),
      psize: this.pow.length,
    };
    return { data: { m, n: this.numVars, A_x, A_i, A_p, b, c: Array.from(this.objective) }, cone };
  }
}

/** Outcome of one SCS solve. */
export interface ConicSolution {
  /** "solved", "solved_inaccurate", "infeasible", … as SCS reports it (lower case). */
  status: string;
  statusVal: number;
  x: Float64Array;
  /** Dual variables, one per row in SCS's order (zero rows, then nonnegative rows, …). */
  y: Float64Array;
  iterations: number;
  residuals: { primal: number; dual: number; gap: number };
  /** What SCS printed during the solve (warnings), trimmed. */
  log: string[];
}

/** Solve a {@link ConeProgram} with SCS at tolerance {@link SCS_EPS}. */
export async function solveConic(program: ConeProgram): Promise<ConicSolution> {
  const scs = await loadScs();
  const { data, cone } = program.build();
  const settings = new scs.ScsSettings();
  try {
    scs.setDefaultSettings(settings);
    settings.epsAbs = SCS_EPS;
    settings.epsRel = SCS_EPS;
    settings.epsInfeas = 1e-9;
    settings.maxIters = SCS_MAX_ITERS;
    settings.verbose = 0;
    // The solve is synchronous, so no other solve can write to the log in between.
    scsLog = [];
    const sol = scs.solve(data, cone, settings);
    return {
      status: sol.info.status,
      statusVal: sol.statusVal,
      x: Float64Array.from(sol.x ?? []),
      y: Float64Array.from(sol.y ?? []),
      iterations: sol.info.iter,
      residuals: { primal: sol.info.resPri, dual: sol.info.resDual, gap: sol.info.gap },
      log: scsLog.map((line) => line.trim()).filter((line) => line !== ''),
    };
  } finally {
    settings.delete();
  }
}

/** SCS's status values that mean "a solution was returned" (solved, solved inaccurate). */
export function conicSolved(s: ConicSolution): boolean {
  return s.statusVal === 1 || s.statusVal === 2;
}

/** SCS's status values for a primal infeasibility certificate (exact or inaccurate). */
export function conicInfeasible(s: ConicSolution): boolean {
  return s.statusVal === -2 || s.statusVal === -7;
}

/**
 * Add t ≥ ‖β‖_q to a program (β in columns `betaCol … betaCol + d − 1`, t in column `tCol`), with
 * the auxiliary columns starting at `auxCol`; returns the number of auxiliary columns used.
 *  - q = 1: u_j ≥ ±β_j, t ≥ Σ u_j (linear);
 *  - q = ∞: t ≥ ±β_j (linear);
 *  - q = 2: (t, β) ∈ SOC;
 *  - 1 < q < ∞ otherwise: r_j with (r_j, t, β_j) ∈ K_pow(1/q), i.e. |β_j| ≤ r_j^{1/q} t^{1−1/q}, and
 *    Σ r_j ≤ t; then Σ|β_j|^q ≤ t^{q−1} Σ r_j ≤ t^q (the standard power-cone epigraph of a q-norm).
 */
export function addNormEpigraph(program: ConeProgram, q: number, d: number, betaCol: number, tCol: number, auxCol: number): number {
  if (q === 2) {
    program.addSoc([{ terms: [[tCol, 1]] }, ...Array.from({ length: d }, (_, j): AffineExpression => ({ terms: [[betaCol + j, 1]] }))]);
    return 0;
  }
  if (q === Infinity) {
    for (let j = 0; j < d; j++) {
      program.addNonneg({ terms: [[tCol, 1], [betaCol + j, -1]] });
      program.addNonneg({ terms: [[tCol, 1], [betaCol + j, 1]] });
    }
    return 0;
  }
  const sum: [number, number][] = [[tCol, 1]];
  for (let j = 0; j < d; j++) sum.push([auxCol + j, -1]);
  program.addNonneg({ terms: sum });
  if (q === 1) {
    for (let j = 0; j < d; j++) {
      program.addNonneg({ terms: [[auxCol + j, 1], [betaCol + j, -1]] });
      program.addNonneg({ terms: [[auxCol + j, 1], [betaCol + j, 1]] });
    }
    return d;
  }
  for (let j = 0; j < d; j++) {
    program.addPowerCone(1 / q, { terms: [[auxCol + j, 1]] }, { terms: [[tCol, 1]] }, { terms: [[betaCol + j, 1]] });
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// Data checks shared by the reference solvers
// ---------------------------------------------------------------------------------------------

/** The signed examples Z (row-major n×d, z_i = y_i x_i) or why the problem is degenerate. */
export type SignedExamples = { ok: true; Z: Float64Array; n: number; d: number } | { ok: false; message: string };

/**
 * z_i = y_i x_i for a binary data set (docs/THEORY.md §1). Throws InputError for K-class data (the
 * references are binary problems); returns `ok: false` for inputs that cannot define a max-margin
 * problem: no examples, a zero example z_i = 0 (no β has z_i·β ≥ 1), or non-finite entries.
 */
export function signedExamples(data: Dataset): SignedExamples {
  if (!data.binary) {
    throw new InputError(`data "${data.name}" has ${data.classes} classes: the reference solvers need binary labels ±1`, 'data');
  }
  const { n, d } = data;
  if (n === 0 || d === 0) return { ok: false, message: `data "${data.name}" has n = ${n}, d = ${d}: nothing to separate` };
  const Z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let nonzero = false;
    for (let j = 0; j < d; j++) {
      const v = data.y[i] * data.X[i * d + j];
      if (!Number.isFinite(v)) return { ok: false, message: `example ${i} has a non-finite entry ${v} at ${j}` };
      Z[i * d + j] = v;
      if (v !== 0) nonzero = true;
    }
    if (!nonzero) return { ok: false, message: `example ${i} is zero (z_${i} = 0): no β has z_${i}·β ≥ 1` };
  }
  return { ok: true, Z, n, d };
}

/** A result with no solution (every status other than optimal). */
export function emptyResult(problem: SolverResult['problem'], status: SolverResult['status'], message: string, solver: string, extra: Partial<SolverResult> = {}): SolverResult {
  return {
    problem,
    status,
    message,
    direction: null,
    beta: null,
    margin: NaN,
    multipliers: null,
    kkt: { primalFeasibility: NaN, dualFeasibility: NaN, complementarity: NaN, stationarity: NaN },
    solver,
    ...extra,
  };
}

/** β/‖β‖₂. */
export function unit(beta: Float64Array): Float64Array {
  const nrm = lpNorm(beta, 2);
  return beta.map((v) => v / nrm);
}

/** Largest of the four KKT residuals (NaN counts as failure). */
export function worstResidual(k: KktResiduals): number {
  const m = Math.max(k.primalFeasibility, k.dualFeasibility, k.complementarity, k.stationarity);
  return Number.isNaN(m) ? Infinity : m;
}

/**
 * Tolerance on every KKT residual of a returned 'optimal' answer. Polished answers reach ~1e-15;
 * 1e-9 still admits an unpolished SCS answer at its own 1e-10 target (whose direction is then good
 * to ~1e-9 rad ≈ 6e-8 degrees), and rejects anything worse as 'failed'.
 */
export const KKT_TOLERANCE = 1e-9;

// ---------------------------------------------------------------------------------------------
// Dense linear algebra for the polish
// ---------------------------------------------------------------------------------------------

/**
 * Solve S x = r for symmetric positive semi-definite S (m×m, row-major) by Cholesky with diagonal
 * pivoting. Pivots below `relTol`·(largest diagonal) end the factorization: the equations left out
 * are linearly dependent on the ones kept (duplicated or mirrored examples give exactly such rows),
 * and their unknowns are set to 0. Returns null for a zero matrix.
 */
export function solvePsdPivoted(S: Float64Array, r: Float64Array, m: number, relTol = 1e-13): Float64Array | null {
  const A = Float64Array.from(S);
  const perm = Int32Array.from({ length: m }, (_, i) => i);
  let maxDiag = 0;
  for (let i = 0; i < m; i++) maxDiag = Math.max(maxDiag, A[i * m + i]);
  if (!(maxDiag > 0)) return null;
  let rank = 0;
  for (let k = 0; k < m; k++) {
    let piv = k;
    for (let i = k + 1; i < m; i++) if (A[i * m + i] > A[piv * m + piv]) piv = i;
    if (!(A[piv * m + piv] > relTol * maxDiag)) break;
    if (piv !== k) {
      // Symmetric swap of rows and columns k and piv.
      for (let j = 0; j < m; j++) {
        const t = A[k * m + j];
        A[k * m + j] = A[piv * m + j];
        A[piv * m + j] = t;
      }
      for (let i = 0; i < m; i++) {
        const t = A[i * m + k];
        A[i * m + k] = A[i * m + piv];
        A[i * m + piv] = t;
      }
      const t = perm[k];
      perm[k] = perm[piv];
      perm[piv] = t;
    }
    const l = Math.sqrt(A[k * m + k]);
    A[k * m + k] = l;
    for (let i = k + 1; i < m; i++) A[i * m + k] /= l;
    // Update the whole trailing block (both triangles): the symmetric swaps of later pivots read it.
    for (let j = k + 1; j < m; j++) {
      const ljk = A[j * m + k];
      for (let i = k + 1; i < m; i++) A[i * m + j] -= A[i * m + k] * ljk;
    }
    rank++;
  }
  // Forward and back substitution on the leading rank×rank block (L in the lower triangle).
  const y = new Float64Array(rank);
  for (let i = 0; i < rank; i++) {
    let s = r[perm[i]];
    for (let k = 0; k < i; k++) s -= A[i * m + k] * y[k];
    y[i] = s / A[i * m + i];
  }
  for (let i = rank - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < rank; k++) s -= A[k * m + i] * y[k];
    y[i] = s / A[i * m + i];
  }
  const x = new Float64Array(m);
  for (let i = 0; i < rank; i++) x[perm[i]] = y[i];
  return x;
}

// ---------------------------------------------------------------------------------------------
// Active-set Newton polish of a KKT system
// ---------------------------------------------------------------------------------------------

/**
 * The KKT system of min Φ(w) s.t. c_i(w) = 1 (i in a fixed active set, m of them), evaluated at
 * (w, λ): F₁ = ∇Φ(w) − Σ λ_i ∇c_i(w), F₂ = c(w) − 1, the Hessian of the Lagrangian in the form
 * W = diag(D) + κ g gᵀ (every problem here has this shape: a separable part plus the rank-one
 * part of a q-norm's Hessian) and the constraint Jacobian C (m×k, row-major).
 */
export interface KktSystem {
  F1: Float64Array;
  F2: Float64Array;
  D: Float64Array;
  kappa: number;
  g: Float64Array;
  C: Float64Array;
}

/** Newton iterations of the polish: quadratic convergence from SCS's start needs 2–4. */
const POLISH_MAX_ITERS = 30;

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

/**
 * Newton's method on a {@link KktSystem} from (w₀, λ₀), by the range-space method:
 * S Δλ = C W⁻¹F₁ − F₂ with S = C W⁻¹ Cᵀ (pivoted Cholesky, dropping dependent constraints), then
 * Δw = W⁻¹(CᵀΔλ − F₁); W⁻¹ by Sherman–Morrison. Steps are halved while they do not reduce
 * max|F|; the best iterate is returned (null when the system cannot be factored).
 */
export function newtonKkt(evaluate: (w: Float64Array, lambda: Float64Array) => KktSystem, w0: Float64Array, lambda0: Float64Array): { w: Float64Array; lambda: Float64Array; residual: number } | null {
  const k = w0.length;
  const m = lambda0.length;
  let w = Float64Array.from(w0);
  let lambda = Float64Array.from(lambda0);
  let sys = evaluate(w, lambda);
  let res = Math.max(maxAbs(sys.F1), maxAbs(sys.F2));
  if (!Number.isFinite(res)) return null;
  for (let it = 0; it < POLISH_MAX_ITERS && res > 0; it++) {
    const { D, kappa, g, C, F1, F2 } = sys;
    // W⁻¹v = D⁻¹v − κ D⁻¹g (gᵀD⁻¹v)/(1 + κ gᵀD⁻¹g); D_j = ∞ (a q < 2 norm's Hessian at β_j = 0) gives 0.
    const Dinv = D.map((v) => 1 / v);
    if (!Dinv.every(Number.isFinite)) return null;
    const Dg = g.map((v, j) => v * Dinv[j]);
    let gDg = 0;
    for (let j = 0; j < k; j++) gDg += g[j] * Dg[j];
    const denom = 1 + kappa * gDg;
    if (!(denom > 0)) return null;
    const winv = (v: Float64Array): Float64Array => {
      let gv = 0;
      for (let j = 0; j < k; j++) gv += Dg[j] * v[j];
      const f = (kappa * gv) / denom;
      return v.map((x, j) => x * Dinv[j] - f * Dg[j]);
    };
    const WinvCt: Float64Array[] = [];
    for (let i = 0; i < m; i++) WinvCt.push(winv(C.subarray(i * k, (i + 1) * k)));
    const S = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < m; l++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += C[i * k + j] * WinvCt[l][j];
        S[i * m + l] = s;
      }
    }
    const WinvF1 = winv(F1);
    const rhs = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += C[i * k + j] * WinvF1[j];
      rhs[i] = s - F2[i];
    }
    const dl = solvePsdPivoted(S, rhs, m);
    if (dl === null) return null;
    const dw = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      let s = -WinvF1[j];
      for (let i = 0; i < m; i++) s += WinvCt[i][j] * dl[i];
      dw[j] = s;
    }
    let step = 1;
    let improved = false;
    for (let h = 0; h < 8; h++, step /= 2) {
      const wn = w.map((v, j) => v + step * dw[j]);
      const ln = lambda.map((v, i) => v + step * dl[i]);
      const sn = evaluate(wn, ln);
      const rn = Math.max(maxAbs(sn.F1), maxAbs(sn.F2));
      if (rn < res) {
        w = wn;
        lambda = ln;
        sys = sn;
        res = rn;
        improved = true;
        break;
      }
    }
    if (!improved) break;
  }
  return { w, lambda, residual: res };
}

/**
 * Thresholds tried, in order, to identify the active set (and the zero/maximal coordinates of a
 * non-smooth norm) from an SCS solution, relative to the solution's scale. SCS's answers are
 * accurate to ~1e-9, so 1e-6 separates "zero up to SCS's error" from genuinely small values in all
 * but contrived data; the others are fallbacks whose polished answers are kept only when their
 * exact KKT residuals are the smallest.
 */
export const ACTIVE_SET_THRESHOLDS = [1e-6, 1e-4, 1e-8, 1e-3] as const;

// ---------------------------------------------------------------------------------------------
// The ℓq-SVM
// ---------------------------------------------------------------------------------------------

/** Gradient g = ∇‖β‖_q (= s_p(β), p the dual of q) and ‖β‖_q for 1 < q < ∞. */
function qNormGradient(beta: Float64Array, q: number): { g: Float64Array; norm: number } {
  const g = new Float64Array(beta.length);
  steepestAscent(beta, dualExponent(q), g);
  return { g, norm: lpNorm(beta, q) };
}

/**
 * Exact KKT residuals of the ℓq-SVM in the form min ‖β‖_q s.t. z_i·β ≥ 1 with multipliers λ, all
 * scale-free: primal max_i max(0, 1 − z_i·β); dual max_i max(0, −λ_i)/S and complementarity
 * max_i |λ_i (z_i·β − 1)|/S with S = Σ|λ_i| (= ‖β‖_q at the optimum, which grows as the margin
 * shrinks); stationarity ‖∇‖β‖_q − Σλ_i z_i‖₂ / ‖∇‖β‖_q‖₂.
 */
export function svmQKkt(Z: Float64Array, n: number, d: number, q: number, beta: Float64Array, lambda: Float64Array): KktResiduals {
  const { g } = qNormGradient(beta, q);
  const r = Float64Array.from(g);
  let primal = 0;
  let dual = 0;
  let comp = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Z[i * d + j] * beta[j];
    primal = Math.max(primal, 1 - s);
    dual = Math.max(dual, -lambda[i]);
    comp = Math.max(comp, Math.abs(lambda[i] * (s - 1)));
    for (let j = 0; j < d; j++) r[j] -= lambda[i] * Z[i * d + j];
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.abs(lambda[i]);
  const S = total > 0 ? total : 1;
  return { primalFeasibility: primal, dualFeasibility: dual / S, complementarity: comp / S, stationarity: lpNorm(r, 2) / lpNorm(g, 2) };
}

/**
 * Polish an SCS answer of the ℓq-SVM: on the active set A, Newton on the KKT system of the
 * equivalent min ½‖β‖_q² s.t. z_i·β = 1 (i ∈ A), whose Hessian (q − 1)·diag(|u|^{q−2}) + (2 − q)·g gᵀ
 * (u = β/‖β‖_q, g = ∇‖β‖_q) is positive definite when no β_j is 0 — unlike that of ‖β‖_q, which is
 * singular along β. Multipliers of the ½‖β‖_q² form are ‖β‖_q times those of the ‖β‖_q form.
 */
function polishSvmQ(Z: Float64Array, n: number, d: number, q: number, beta0: Float64Array, lambda0: Float64Array, threshold: number): { beta: Float64Array; lambda: Float64Array } | null {
  const f0 = lpNorm(beta0, q);
  const lmax = lambda0.reduce((a, b) => Math.max(a, b), 0); // not Math.max(...λ): spreading ~1e5 arguments overflows the stack
  const active: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Z[i * d + j] * beta0[j];
    if (lambda0[i] > threshold * lmax || s - 1 < threshold) active.push(i);
  }
  if (active.length === 0) return null;
  const m = active.length;
  const C = new Float64Array(m * d);
  active.forEach((i, a) => C.set(Z.subarray(i * d, (i + 1) * d), a * d));
  const evaluate = (w: Float64Array, lam: Float64Array): KktSystem => {
    const { g, norm } = qNormGradient(w, q);
    const F1 = g.map((v) => v * norm);
    for (let a = 0; a < m; a++) for (let j = 0; j < d; j++) F1[j] -= lam[a] * C[a * d + j];
    const F2 = new Float64Array(m);
    for (let a = 0; a < m; a++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += C[a * d + j] * w[j];
      F2[a] = s - 1;
    }
    const D = w.map((v) => (q - 1) * Math.pow(Math.abs(v) / norm, q - 2));
    return { F1, F2, D, kappa: 2 - q, g, C };
  };
  const lam0 = Float64Array.from(active, (i) => lambda0[i] * f0);
  const out = newtonKkt(evaluate, beta0, lam0);
  if (out === null) return null;
  const f = lpNorm(out.w, q);
  const lambda = new Float64Array(n);
  active.forEach((i, a) => (lambda[i] = out.lambda[a] / f));
  return { beta: out.w, lambda };
}

/**
 * The ℓq-SVM (docs/THEORY.md §5), 1 < q < ∞:
 *
 *   min ‖β‖_q  s.t.  z_i·β ≥ 1 (i = 1..n),  z_i = y_i x_i,
 *
 * whose optimum gives the ℓq margin γ_q = max_{‖β‖_q ≤ 1} min_i z_i·β = 1/‖β_q‖_q (= γ_p*'s robust
 * threshold for p the dual of q, reported by robustThreshold). Solved by SCS with power cones
 * (|β_j| ≤ r_j^{1/q} t^{1−1/q}, Σr_j ≤ t), then polished by Newton on the active set and verified.
 *
 * Result: problem 'svm'; `beta` = β_q (min_i z_i·β = 1); `direction` = β_q/‖β_q‖₂;
 * `margin` = 1/‖β_q‖_q; `multipliers` λ_i ≥ 0 of the min ‖β‖_q form, so that stationarity reads
 * Σ λ_i z_i = ∇‖β_q‖_q (= s_p(β_q)) and Σ λ_i = ‖β_q‖_q (Euler: ⟨∇‖β‖_q, β⟩ = ‖β‖_q); for the
 * ½‖β‖_q² form multiply by ‖β_q‖_q. KKT residuals as in {@link svmQKkt}.
 * Status 'not-separable' when no β has z_i·β > 0 for all i; 'degenerate' for a zero example or no
 * examples; 'failed' when the residuals stay above {@link KKT_TOLERANCE}.
 *
 * @param data binary data set (n examples in R^d)
 * @param q the norm exponent, 1 < q < ∞ (use svmL2 / svmLinf1 for q ∈ {1, 2, ∞})
 * @throws InputError when q is not a finite number > 1, or the data are not binary
 */
export async function svmQ(data: Dataset, q: number): Promise<SolverResult> {
  if (typeof q !== 'number' || !(q > 1) || !Number.isFinite(q)) {
    throw new InputError(`svmQ: q must be a finite number > 1, got ${q} (q = 1, ∞ are LPs: use svmLinf1)`, 'q');
  }
  const solver = 'scs';
  const ex = signedExamples(data);
  if (!ex.ok) return emptyResult('svm', 'degenerate', ex.message, solver, { q });
  const { Z, n, d } = ex;

  // Variables: β (0..d−1), t (d), r (d+1..2d). min t s.t. z_i·β ≥ 1, t ≥ ‖β‖_q.
  const program = new ConeProgram(2 * d + 1);
  program.objective[d] = 1;
  for (let i = 0; i < n; i++) {
    program.addNonneg({ terms: Array.from({ length: d }, (_, j): [number, number] => [j, Z[i * d + j]]), constant: -1 });
  }
  addNormEpigraph(program, q, d, 0, d, d + 1);
  const sol = await solveConic(program);
  if (conicInfeasible(sol)) {
    return emptyResult('svm', 'not-separable', `no β has z_i·β ≥ 1 for all ${n} examples (SCS: ${sol.status})`, solver, { q });
  }
  if (!conicSolved(sol)) return emptyResult('svm', 'failed', `SCS returned "${sol.status}" after ${sol.iterations} iterations`, solver, { q });

  const beta0 = sol.x.slice(0, d);
  const lambda0 = sol.y.slice(program.nonnegOffset, program.nonnegOffset + n);
  let best: { beta: Float64Array; lambda: Float64Array; kkt: KktResiduals; polished: boolean } = { beta: beta0, lambda: lambda0, kkt: svmQKkt(Z, n, d, q, beta0, lambda0), polished: false };
  for (const threshold of ACTIVE_SET_THRESHOLDS) {
    const p = polishSvmQ(Z, n, d, q, beta0, lambda0, threshold);
    if (p === null) continue;
    const kkt = svmQKkt(Z, n, d, q, p.beta, p.lambda);
    if (worstResidual(kkt) < worstResidual(best.kkt)) best = { ...p, kkt, polished: true };
  }
  const worst = worstResidual(best.kkt);
  if (!(worst <= KKT_TOLERANCE)) {
    return emptyResult('svm', 'failed', `KKT residual ${worst.toExponential(2)} above ${KKT_TOLERANCE} (SCS: ${sol.status}, ${sol.iterations} iterations)`, solver, { q, kkt: best.kkt });
  }
  return {
    problem: 'svm',
    status: 'optimal',
    message: `SCS ${sol.status} in ${sol.iterations} iterations${best.polished ? ', polished by active-set Newton' : ''}; worst KKT residual ${worst.toExponential(2)}`,
    direction: unit(best.beta),
    beta: best.beta,
    margin: 1 / lpNorm(best.beta, q),
    multipliers: best.lambda,
    kkt: best.kkt,
    solver,
    q,
  };
}
