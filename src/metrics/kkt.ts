/**
 * Approximate KKT residuals of adversarial-margin maximization (docs/THEORY.md §4, claim C2):
 *
 *   (P_adv)  minimize ½‖θ‖²  s.t.  q̃_i(θ) ≥ 1,  q̃_i(θ) = margin of example i at its perturbed input
 *            x_i + δ_i (δ held fixed, stop-gradient).
 *
 * At a direction θ̂ (‖θ̂‖ = 1) with unit-scale margins m̂_i > 0, rescale θ̃ = θ̂·s with s = m̂_min^{−1/L}
 * (so min_i q̃_i(θ̃) = 1). Then ∇q̃_i(θ̃) = s^{L−1} g_i with g_i = ∇q̂_i(θ̂), and the NNLS problem
 * λ* = argmin_{λ ≥ 0} ‖θ̃ − Σ λ_i ∇q̃_i(θ̃)‖ is, with μ_i = λ_i s^{L−2}, min_{μ ≥ 0} s‖θ̂ − Σ μ_i g_i‖.
 * Reported: stationarity ‖θ̃ − Gλ*‖/‖θ̃‖ = ‖θ̂ − Gμ*‖ and complementarity Σ λ*_i (q̃_i(θ̃) − 1) =
 * Σ λ*_i (m̂_i/m̂_min − 1). Both → 0 along a KKT direction.
 *
 * One refinement of docs/THEORY.md §4's plain NNLS (our reconstruction): when G has more columns than rank,
 * the NNLS minimizers form a set, and plain NNLS may return multipliers on examples far from the
 * margin, making complementarity arbitrary even at an exact KKT point (at the exact ℓ2-SVM direction of
 * a 30-point set we saw it report 8.4). We therefore
 * solve  min_{λ ≥ 0} ½‖θ̃ − Gλ‖² + Σ λ_i (q̃_i(θ̃) − 1),  the NNLS with complementarity as a linear
 * penalty; at a KKT point its optimum is 0 with both residuals 0, and elsewhere it picks the best
 * trade-off. `nnlsStationarity` reports the plain NNLS minimum as well (a lower bound on stationarity).
 *
 * Memory: G is P × n (P parameters); it is never stored whole. The Gram matrix K = GᵀG and b = Gᵀθ̂
 * are accumulated block by block (recomputing gradients), NNLS runs on (K, b), and the final residual
 * vector is formed explicitly from the gradients with μ_i > 0 (so it is not limited by the
 * cancellation in ‖θ̂‖² − 2μᵀb + μᵀKμ).
 * For K-class models the margin of an example is f_y − f_{j*} with j* the first maximizing j ≠ y; its
 * gradient is a Clarke subgradient of the min over pairs.
 *
 * Clarke residual (our reconstruction; docs/THEORY.md §4). The gradients above use the one-sided
 * convention ReLU'(0) = 0 (leaky: a). When a support example has a hidden pre-activation at a kink,
 * ∇_θ q̃_i is not unique: q̃_i's Clarke subdifferential holds the gradients for every slope
 * s ∈ [a, 1] there, and a KKT point of (P_adv) (in Clarke's sense) may need s strictly inside. For
 * models with kink methods (`Model.nearKinks`, `backwardWithSlopes`: relu-mlp, leaky-relu-mlp) the
 * units with |z_j| ≤ τ·‖w_j‖·‖a_in‖ (τ = `kinkTolerance`) are relaxed: with g⁰_i the gradient with
 * every relaxed slope at a and h_ik = g_i(slope of unit k = 1) − g⁰_i, g_i(s) = g⁰_i + Σ_k s̄_k h_ik
 * (s̄ ∈ [0, 1] the rescaled slopes) is affine in the slopes of one layer, and
 *   min_{λ ≥ 0, s̄ ∈ [0,1]^K} ½‖θ̂ − Σ_i λ_i g_i(s̄)‖² + Σ_i λ_i (m̂_i − m̂_min)
 * (bilinear) equals, with ν_ik = λ_i s̄_ik, the convex problem over {λ ≥ 0, 0 ≤ ν_ik ≤ λ_i}
 *   min ½‖θ̂ − Σ_i (λ_i g⁰_i + Σ_k ν_ik h_ik)‖² + Σ_i λ_i (m̂_i − m̂_min),
 * solved exactly by {@link coneNnlsGram}. `clarkeStationarity` is its residual norm; with no kinks it
 * is `stationarity`. An example with kinks in more than one hidden layer (depth ≥ 3) has only the
 * layer with most kinks relaxed (there g_i is multilinear, not affine, in all slopes), and the number
 * of relaxed units is capped (the closest to their kink kept; {@link clarkeBasisLimit}): both relax a
 * subset of the Clarke subdifferential, so the residual is then an upper bound on the exact one.
 */
import type { Model, Workspace } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { kernels } from '../linalg/kernels.ts';

/** Largest number of float64 gradient entries held at once (2^24 = 128 MiB). */
const MAX_GRADIENT_ENTRIES = 1 << 24;

/**
 * Default τ of the Clarke residual: a hidden unit is at a kink when |z_j| ≤ τ·‖w_j‖·‖a_in‖, i.e. its
 * weight row is within about τ radians of orthogonal to its input. Directions converge slowly (the
 * kinks of the 12-point XOR set sit at 1e-5 … 1e-3 after 3·10⁴ steps, test/metrics/kkt-clarke.test.ts), while a
 * random unit falls within 1e-2 of a given input with probability about 2τ/π ≈ 0.6%.
 */
export const DEFAULT_KINK_TOLERANCE = 1e-2;

/** Gram work (entries × P) the Clarke basis may always use, however few the examples (2^28). */
const CLARKE_MIN_GRAM_WORK = 1 << 28;
/** The Clarke basis may cost this many times the one-sided Gram matrix (n² entries). */
const CLARKE_GRAM_FACTOR = 16;

/**
 * Largest Clarke basis (n gradients g⁰_i plus relaxed kink directions h_ik) on n examples with P
 * parameters: N with N²·P ≤ max(16·n²·P, 2^28), so that the Clarke residual costs at most 16 times
 * the one-sided one, or 2^28 multiply-adds on small models.
 */
export function clarkeBasisLimit(n: number, P: number): number {
  return Math.max(n, Math.floor(Math.sqrt(Math.max(CLARKE_GRAM_FACTOR * n * n, CLARKE_MIN_GRAM_WORK / P))));
}

export interface KktResult {
  /** ‖θ̃ − Gλ*‖/‖θ̃‖. NaN when some margin is ≤ 0 (the rescaling needs q̃_min > 0). */
  stationarity: number;
  /** Σ λ*_i (q̃_i(θ̃) − 1) ≥ 0. */
  complementarity: number;
  /** Number of examples the residuals were computed on. */
  examples: number;
  /** Examples with λ*_i > 0 (the support). */
  support: number;
  /** min_{λ ≥ 0} ‖θ̃ − Gλ‖/‖θ̃‖, docs/THEORY.md's plain NNLS residual (≤ stationarity). */
  nnlsStationarity: number;
  /**
   * Models with kink methods only: ‖θ̃ − Σ λ_i g_i(s)‖/‖θ̃‖ with the slopes s ∈ [a, 1] at near-kink
   * units chosen optimally with λ (see the module TSDoc); `stationarity` when there are no kinks.
   */
  clarkeStationarity?: number;
  /** Σ λ_i (q̃_i(θ̃) − 1) for the Clarke multipliers. */
  clarkeComplementarity?: number;
  /** τ: the relative tolerance |z_j| ≤ τ·‖w_j‖·‖a_in‖ that marks a kink. */
  kinkTolerance?: number;
  /** Near-kink hidden pre-activations (every layer) of the examples with Clarke multiplier λ_i > 0. */
  kinks?: number;
}

/** Options of {@link kktResiduals}. */
export interface KktResidualOptions {
  /** Largest number of float64 gradient entries held at once (default 2^24). */
  readonly maxGradientEntries?: number;
  /** τ of the Clarke residual (default {@link DEFAULT_KINK_TOLERANCE}). */
  readonly kinkTolerance?: number;
}

/**
 * Non-negative least squares in Gram form: min_{μ ≥ 0} ½μᵀKμ − bᵀμ (K = GᵀG symmetric PSD, n×n
 * row-major), by Lawson–Hanson's active-set method on the normal equations (passive systems by
 * Cholesky, with a tiny diagonal shift when K_PP is singular). Returns μ.
 */
export function nnlsGram(K: Float64Array, b: Float64Array, n: number, maxIterations = 3 * n + 30): Float64Array {
  const mu = new Float64Array(n);
  const passive = new Uint8Array(n);
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, K[i * n + i]);
  const tol = 1e-13 * Math.max(scale, 1e-300) * n;
  const w = new Float64Array(n);
  const gradientW = (): void => {
    for (let i = 0; i < n; i++) {
      let s = b[i];
      for (let j = 0; j < n; j++) if (mu[j] !== 0) s -= K[i * n + j] * mu[j];
      w[i] = s;
    }
  };
  const solvePassive = (): Float64Array => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (passive[i]) idx.push(i);
    const k = idx.length;
    const z = new Float64Array(n);
    if (k === 0) return z;
    const A = new Float64Array(k * k);
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) A[r * k + c] = K[idx[r] * n + idx[c]];
    const rhs = Float64Array.from(idx, (i) => b[i]);
    const sol = choleskySolve(A, rhs, k, 1e-14 * Math.max(scale, 1e-300));
    for (let r = 0; r < k; r++) z[idx[r]] = sol[r];
    return z;
  };
  for (let iter = 0; iter < maxIterations; iter++) {
    gradientW();
    let best = -1;
    let bestW = tol;
    for (let i = 0; i < n; i++) {
      if (!passive[i] && w[i] > bestW) {
        bestW = w[i];
        best = i;
      }
    }
    if (best < 0) break;
    passive[best] = 1;
    // Inner loop: keep the passive solution feasible.
    for (let guard = 0; guard <= n; guard++) {
      const z = solvePassive();
      let alpha = Infinity;
      let blocking = -1;
      for (let i = 0; i < n; i++) {
        if (passive[i] && z[i] <= 0) {
          const a = mu[i] / (mu[i] - z[i]);
          if (a < alpha) {
            alpha = a;
            blocking = i;
          }
        }
      }
      if (blocking < 0) {
        mu.set(z);
        break;
      }
      for (let i = 0; i < n; i++) {
        if (!passive[i]) continue;
        mu[i] += alpha * (z[i] - mu[i]);
        if (i === blocking || mu[i] <= 0) {
          mu[i] = 0;
          passive[i] = 0;
        }
      }
    }
  }
  return mu;
}

/** Solve (A + shift·I) x = rhs for symmetric PSD A (k×k) by Cholesky; the shift is added only if needed. */
function choleskySolve(A: Float64Array, rhs: Float64Array, k: number, shift: number): Float64Array {
  for (let attempt = 0; attempt < 8; attempt++) {
    const eps = attempt === 0 ? 0 : shift * Math.pow(100, attempt - 1);
    const Lm = new Float64Array(k * k);
    let ok = true;
    for (let i = 0; i < k && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = A[i * k + j] + (i === j ? eps : 0);
        for (let t = 0; t < j; t++) s -= Lm[i * k + t] * Lm[j * k + t];
        if (i === j) {
          if (!(s > 0)) {
            ok = false;
            break;
          }
          Lm[i * k + i] = Math.sqrt(s);
        } else Lm[i * k + j] = s / Lm[j * k + j];
      }
    }
    if (!ok) continue;
    const y = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let s = rhs[i];
      for (let t = 0; t < i; t++) s -= Lm[i * k + t] * y[t];
      y[i] = s / Lm[i * k + i];
    }
    const x = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      let s = y[i];
      for (let t = i + 1; t < k; t++) s -= Lm[t * k + i] * x[t];
      x[i] = s / Lm[i * k + i];
    }
    return x;
  }
  return new Float64Array(k);
}

/**
 * Forward pass of one example at input X[row] and the seed dOut of its margin's gradient; returns the
 * margin. Binary: y·f (dOut = y); K-class: f_y − f_{j*} (dOut = e_y − e_{j*}).
 */
function marginSeed(model: Model, theta: Float64Array, X: Float64Array, row: number, data: Dataset, out: Float64Array, dOut: Float64Array, ws: Workspace): number {
  model.forward(theta, X, row * data.d, out, ws);
  const y = data.y[row];
  if (data.binary) {
    dOut[0] = y;
    return y * out[0];
  }
  let jStar = y === 0 ? 1 : 0;
  for (let j = jStar + 1; j < data.classes; j++) if (j !== y && out[j] > out[jStar]) jStar = j;
  dOut.fill(0);
  dOut[y] = 1;
  dOut[jStar] = -1;
  return out[y] - out[jStar];
}

/**
 * g ← ∇_θ q̂(θ̂) of one example at input X[row] (overwrites g); returns the margin. Binary: y·f;
 * K-class: f_y − f_{j*}.
 */
function marginGradient(model: Model, theta: Float64Array, X: Float64Array, row: number, data: Dataset, out: Float64Array, dOut: Float64Array, g: Float64Array, ws: Workspace): number {
  const m = marginSeed(model, theta, X, row, data, out, dOut, ws);
  g.fill(0);
  model.backward(theta, X, row * data.d, dOut, g, null, 0, ws);
  return m;
}

/**
 * Gram matrix K = VᵀV (N×N, row-major) and b = Vᵀθ̂ of N vectors v_j ∈ R^P that `fill(buf, start,
 * count)` writes into buf (count×P row-major, v_start … v_{start+count−1}), accumulated in blocks of
 * at most `block` vectors through the hot kernels; V is never held whole.
 */
function blockGram(N: number, P: number, block: number, thetaHat: Float64Array, fill: (buf: Float64Array, start: number, count: number, first: boolean) => void, K: Float64Array, b: Float64Array): void {
  const k = kernels();
  const A = new Float64Array(block * P);
  const B = new Float64Array(block * P);
  const Kblock = new Float64Array(block * block);
  for (let a0 = 0; a0 < N; a0 += block) {
    const ca = Math.min(block, N - a0);
    fill(A, a0, ca, true);
    // b_i = ⟨v_i, θ̂⟩ for the block (A is ca×P row-major).
    k.gemv(ca, P, A, 0, thetaHat, 0, b, a0, 0);
    for (let b0 = a0; b0 < N; b0 += block) {
      const cb = Math.min(block, N - b0);
      const other = b0 === a0 ? A : B;
      if (b0 !== a0) fill(B, b0, cb, false);
      // K block = A·otherᵀ (ca×cb).
      k.gemm(false, true, ca, cb, P, 1, A, 0, other, 0, 0, Kblock, 0);
      for (let i = 0; i < ca; i++)
        for (let j = 0; j < cb; j++) {
          const v = Kblock[i * cb + j];
          K[(a0 + i) * N + b0 + j] = v;
          K[(b0 + j) * N + a0 + i] = v;
        }
    }
  }
}

/**
 * Non-negative least squares over a cone of boxes, in Gram form: with basis vectors v_0 … v_{N−1}
 * (K = VᵀV, N×N row-major, symmetric PSD) split into bases (parent[j] = −1) and children
 * (parent[j] = the base they belong to),
 *
 *   min ½xᵀKx − cᵀx  s.t.  x_i ≥ 0 for bases,  0 ≤ x_j ≤ x_{parent[j]} for children.
 *
 * The feasible set is the cone generated by the columns v_i + Σ_{j ∈ S} v_j (S any set of i's
 * children: the vertices of {1} × [0, 1]^{children}), so this is NNLS over those 2^{children}
 * columns per base; Lawson–Hanson's active-set method runs over them implicitly, adding at each step
 * the column of largest gradient w = aᵀ(c − Kx), which for base i is S = {j : w_j > 0} — found in
 * O(children), never enumerated. Exact (finite) like `nnlsGram`, which it equals when no base has
 * children. Returns x (length N).
 */
export function coneNnlsGram(K: Float64Array, c: Float64Array, N: number, parent: Int32Array, maxIterations = 10 * N + 30): Float64Array {
  const children: number[][] = Array.from({ length: N }, () => []);
  for (let j = 0; j < N; j++) if (parent[j] >= 0) children[parent[j]].push(j);
  let scale = 0;
  for (let i = 0; i < N; i++) scale = Math.max(scale, K[i * N + i]);
  const tol = 1e-13 * Math.max(scale, 1e-300) * N;
  const x = new Float64Array(N);
  const w = new Float64Array(N);
  // Passive columns: index lists (base first) and their coefficients.
  let columns: Int32Array[] = [];
  let coef: number[] = [];
  const gradientW = (): void => {
    for (let i = 0; i < N; i++) {
      let s = c[i];
      for (let j = 0; j < N; j++) if (x[j] !== 0) s -= K[i * N + j] * x[j];
      w[i] = s;
    }
  };
  const syncX = (): void => {
    x.fill(0);
    for (let r = 0; r < columns.length; r++) for (const j of columns[r]) x[j] += coef[r];
  };
  const solvePassive = (): Float64Array => {
    const p = columns.length;
    const A = new Float64Array(p * p);
    const rhs = new Float64Array(p);
    for (let r = 0; r < p; r++) {
      for (const a of columns[r]) rhs[r] += c[a];
      for (let t = r; t < p; t++) {
        let v = 0;
        for (const a of columns[r]) for (const bIdx of columns[t]) v += K[a * N + bIdx];
        A[r * p + t] = v;
        A[t * p + r] = v;
      }
    }
    return choleskySolve(A, rhs, p, 1e-14 * Math.max(scale, 1e-300));
  };
  const same = (u: Int32Array, v: Int32Array): boolean => u.length === v.length && u.every((e, t) => e === v[t]);
  for (let iter = 0; iter < maxIterations; iter++) {
    gradientW();
    let best = -1;
    let bestW = tol;
    for (let i = 0; i < N; i++) {
      if (parent[i] >= 0) continue;
      let score = w[i];
      for (const j of children[i]) if (w[j] > 0) score += w[j];
      if (score > bestW) {
        bestW = score;
        best = i;
      }
    }
    if (best < 0) break;
    const column = Int32Array.from([best, ...children[best].filter((j) => w[j] > 0)]);
    // Rounding can make a passive column look improvable; adding it again would only cycle.
    if (columns.some((col) => same(col, column))) break;
    columns.push(column);
    coef.push(0);
    // Inner loop: keep the passive coefficients feasible (Lawson–Hanson).
    for (let guard = 0; guard <= columns.length; guard++) {
      const z = solvePassive();
      let alpha = Infinity;
      let blocking = -1;
      for (let r = 0; r < columns.length; r++) {
        if (z[r] <= 0) {
          const a = coef[r] / (coef[r] - z[r]);
          if (a < alpha) {
            alpha = a;
            blocking = r;
          }
        }
      }
      if (blocking < 0) {
        coef = Array.from(z);
        break;
      }
      const keptColumns: Int32Array[] = [];
      const keptCoef: number[] = [];
      for (let r = 0; r < columns.length; r++) {
        const v = coef[r] + alpha * (z[r] - coef[r]);
        if (r === blocking || v <= 0) continue;
        keptColumns.push(columns[r]);
        keptCoef.push(v);
      }
      columns = keptColumns;
      coef = keptCoef;
    }
    syncX();
  }
  return x;
}

/** The examples' kinks as `kktResiduals` relaxes them. */
interface RelaxedKinks {
  /** Per example (index into rows): hidden units relaxed (one layer), and all near-kink units found. */
  readonly units: Int32Array[];
  readonly found: Int32Array;
  readonly hiddenUnits: number;
  readonly slopeLow: number;
  readonly slopeHigh: number;
}

/**
 * Near-kink units of every example at tolerance τ, one hidden layer per example relaxed (the layer with
 * most kinks, the lowest on ties), at most `limit` units in all (those closest to their kink).
 */
function relaxedKinks(model: Model, thetaHat: Float64Array, data: Dataset, X: Float64Array, rows: Int32Array, tau: number, limit: number, out: Float64Array, ws: Workspace): RelaxedKinks {
  const n = rows.length;
  const found = new Int32Array(n);
  const candidates: { example: number; unit: number; relative: number }[] = [];
  let hiddenUnits = 0;
  let slopeLow = 0;
  let slopeHigh = 1;
  for (let t = 0; t < n; t++) {
    model.forward(thetaHat, X, rows[t] * data.d, out, ws);
    const set = model.nearKinks!(thetaHat, X, rows[t] * data.d, tau, ws);
    if (set === null) continue;
    hiddenUnits = set.hiddenUnits;
    slopeLow = set.slopeLow;
    slopeHigh = set.slopeHigh;
    found[t] = set.units.length;
    if (set.units.length === 0) continue;
    const perLayer = new Map<number, number>();
    for (const k of set.layers) perLayer.set(k, (perLayer.get(k) ?? 0) + 1);
    let layer = -1;
    let most = 0;
    for (const [k, count] of perLayer) if (count > most || (count === most && k < layer)) [layer, most] = [k, count];
    for (let u = 0; u < set.units.length; u++) if (set.layers[u] === layer) candidates.push({ example: t, unit: set.units[u], relative: set.relative[u] });
  }
  if (candidates.length > limit) {
    candidates.sort((a, b) => a.relative - b.relative || a.example - b.example || a.unit - b.unit);
    candidates.length = limit;
  }
  const lists: number[][] = Array.from({ length: n }, () => []);
  for (const cand of candidates) lists[cand.example].push(cand.unit);
  return { units: lists.map((l) => Int32Array.from(l.sort((a, b) => a - b))), found, hiddenUnits, slopeLow, slopeHigh };
}

/**
 * KKT residuals at θ̂ (‖θ̂‖ = 1) on the examples `rows` of the perturbed inputs `Xadv` (n×d; δ fixed).
 * `options` may be the largest number of gradient entries held at once (as before), or
 * {@link KktResidualOptions}. Models with kink methods get the Clarke residual as well.
 */
export function kktResiduals(model: Model, thetaHat: Float64Array, data: Dataset, Xadv: Float64Array, rows: Int32Array, options: number | KktResidualOptions = {}): KktResult {
  const o: KktResidualOptions = typeof options === 'number' ? { maxGradientEntries: options } : options;
  const maxGradientEntries = o.maxGradientEntries ?? MAX_GRADIENT_ENTRIES;
  const tau = o.kinkTolerance ?? DEFAULT_KINK_TOLERANCE;
  const clarke = typeof model.nearKinks === 'function' && typeof model.backwardWithSlopes === 'function';
  const P = model.numParams;
  const n = rows.length;
  const undefinedResult = (examples: number): KktResult => ({
    stationarity: NaN,
    complementarity: NaN,
    examples,
    support: 0,
    nnlsStationarity: NaN,
    ...(clarke ? { clarkeStationarity: NaN, clarkeComplementarity: NaN, kinkTolerance: tau, kinks: 0 } : {}),
  });
  if (n === 0) return undefinedResult(0);
  const L = model.order;
  const ws = model.createWorkspace();
  const out = new Float64Array(model.outputDim);
  const dOut = new Float64Array(model.outputDim);
  const block = Math.max(1, Math.min(n, Math.floor(maxGradientEntries / P)));
  const margins = new Float64Array(n);
  const K = new Float64Array(n * n);
  const b = new Float64Array(n);
  // The rescaling needs every margin positive: check that first (forward passes only) and skip the
  // gradients otherwise.
  for (let i = 0; i < n; i++) {
    model.forward(thetaHat, Xadv, rows[i] * data.d, out, ws);
    const y = data.y[rows[i]];
    let m: number;
    if (data.binary) m = y * out[0];
    else {
      let best = -Infinity;
      for (let j = 0; j < data.classes; j++) if (j !== y && out[j] > best) best = out[j];
      m = out[y] - best;
    }
    if (!(m > 0)) return undefinedResult(n);
  }
  blockGram(n, P, block, thetaHat, (buf, start, count, keepMargins) => {
    for (let t = 0; t < count; t++) {
      const m = marginGradient(model, thetaHat, Xadv, rows[start + t], data, out, dOut, buf.subarray(t * P, (t + 1) * P), ws);
      if (keepMargins) margins[start + t] = m;
    }
  }, K, b);
  let mmin = Infinity;
  for (let i = 0; i < n; i++) mmin = Math.min(mmin, margins[i]);
  if (!(mmin > 0)) return undefinedResult(n);
  // Plain NNLS: its minimum, from the Gram form (clamped: rounding may make it slightly negative).
  const mu0 = nnlsGram(K, b, n);
  let q0 = 1;
  for (let i = 0; i < n; i++) {
    if (mu0[i] === 0) continue;
    q0 -= 2 * mu0[i] * b[i];
    for (let j = 0; j < n; j++) q0 += mu0[i] * K[i * n + j] * mu0[j];
  }
  // Complementarity as a linear penalty: in μ units the penalty of example i is m̂_i − m̂_min.
  const bPenalized = Float64Array.from(b, (v, i) => v - (margins[i] - mmin));
  const mu = nnlsGram(K, bPenalized, n);
  // Residual r = θ̂ − Σ μ_i g_i, formed explicitly from the support's gradients.
  const r = Float64Array.from(thetaHat);
  let support = 0;
  const g = new Float64Array(P);
  for (let i = 0; i < n; i++) {
    if (mu[i] <= 0) continue;
    support++;
    marginGradient(model, thetaHat, Xadv, rows[i], data, out, dOut, g, ws);
    for (let k = 0; k < P; k++) r[k] -= mu[i] * g[k];
  }
  let rr = 0;
  for (let k = 0; k < P; k++) rr += r[k] * r[k];
  // λ_i = μ_i s^{2−L} with s = m̂_min^{−1/L}: s^{2−L} = m̂_min^{(L−2)/L}.
  const lambdaScale = Math.pow(mmin, (L - 2) / L);
  let comp = 0;
  for (let i = 0; i < n; i++) if (mu[i] > 0) comp += mu[i] * lambdaScale * (margins[i] / mmin - 1);
  const stationarity = Math.sqrt(rr);
  const result: KktResult = { stationarity, complementarity: comp, examples: n, support, nnlsStationarity: Math.min(stationarity, Math.sqrt(Math.max(0, q0))) };
  if (!clarke) return result;

  // Clarke residual: basis g⁰_t (t < n), then the kink directions h_j (n ≤ j < N).
  const kinks = relaxedKinks(model, thetaHat, data, Xadv, rows, tau, clarkeBasisLimit(n, P) - n, out, ws);
  const owner: number[] = [];
  const unitOf: number[] = [];
  for (let t = 0; t < n; t++) for (const u of kinks.units[t]) {
    owner.push(t);
    unitOf.push(u);
  }
  const N = n + owner.length;
  const countKinks = (lambda: ArrayLike<number>): number => {
    let c = 0;
    for (let t = 0; t < n; t++) if (lambda[t] > 0) c += kinks.found[t];
    return c;
  };
  if (N === n) return { ...result, clarkeStationarity: stationarity, clarkeComplementarity: comp, kinkTolerance: tau, kinks: countKinks(mu) };
  const slopes = new Float64Array(kinks.hiddenUnits).fill(NaN);
  const scratch = new Float64Array(P);
  // v_j into dst: g⁰_t (every relaxed unit of t at the low slope) or h_j = g(unit high) − g⁰.
  const basisVector = (j: number, dst: Float64Array): void => {
    const t = j < n ? j : owner[j - n];
    const row = rows[t];
    marginSeed(model, thetaHat, Xadv, row, data, out, dOut, ws);
    for (const u of kinks.units[t]) slopes[u] = kinks.slopeLow;
    dst.fill(0);
    model.backwardWithSlopes!(thetaHat, Xadv, row * data.d, dOut, slopes, dst, ws);
    if (j >= n) {
      slopes[unitOf[j - n]] = kinks.slopeHigh;
      scratch.fill(0);
      model.backwardWithSlopes!(thetaHat, Xadv, row * data.d, dOut, slopes, scratch, ws);
      for (let k = 0; k < P; k++) dst[k] = scratch[k] - dst[k];
    }
    for (const u of kinks.units[t]) slopes[u] = NaN;
  };
  const clarkeBlock = Math.max(1, Math.min(N, Math.floor(maxGradientEntries / P)));
  const Kc = new Float64Array(N * N);
  const bc = new Float64Array(N);
  blockGram(N, P, clarkeBlock, thetaHat, (buf, start, count) => {
    for (let t = 0; t < count; t++) basisVector(start + t, buf.subarray(t * P, (t + 1) * P));
  }, Kc, bc);
  // The penalty falls on λ_t only (ν_tk = λ_t·s̄_tk carries none).
  const cc = Float64Array.from(bc, (v, j) => (j < n ? v - (margins[j] - mmin) : v));
  const parent = Int32Array.from({ length: N }, (_, j) => (j < n ? -1 : owner[j - n]));
  const x = coneNnlsGram(Kc, cc, N, parent);
  const rc = Float64Array.from(thetaHat);
  for (let j = 0; j < N; j++) {
    if (!(x[j] > 0)) continue;
    basisVector(j, g);
    for (let k = 0; k < P; k++) rc[k] -= x[j] * g[k];
  }
  let rrc = 0;
  for (let k = 0; k < P; k++) rrc += rc[k] * rc[k];
  let compClarke = 0;
  for (let t = 0; t < n; t++) if (x[t] > 0) compClarke += x[t] * lambdaScale * (margins[t] / mmin - 1);
  return { ...result, clarkeStationarity: Math.sqrt(rrc), clarkeComplementarity: compClarke, kinkTolerance: tau, kinks: countKinks(x) };
}
