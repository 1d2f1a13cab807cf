import type { Model } from '../models/model.ts';
import { kernels } from '../linalg/kernels.ts';

/** Layer alignment of a deep linear network (docs/THEORY.md §4). */
export interface Alignment {
  /** σ₁(W_k)/‖W_k‖_F per layer k = 1..L (→ 1: rank one). */
  rank1: number[];
  /** |⟨v_{k+1}, u_k⟩| for k = 1..L−1: top right singular vector of W_{k+1} against top left one of W_k (→ 1). */
  adjacent: number[];
  /** ‖W_k‖_F²/‖θ‖² per layer (→ 1/L when balanced). */
  layerShares: number[];
  /** |⟨β/‖β‖, v_1⟩|: the predictor against the top right singular vector of W_1 (→ 1). */
  predictor: number;
}

/** Squarings of the Gram matrix: the start vector's components shrink like (σ_i/σ₁)^(2·2^SQUARINGS). */
const SQUARINGS = 12;
/** Power iterations on WᵀW from the squared Gram matrix's dominant column (polish to rounding). */
const POLISH_ITERATIONS = 4;

/**
 * Top singular triple of the rows×cols matrix W at θ[offset…]. Returns σ₁ and fills u (rows) and v
 * (cols). Deterministic and cheap at any gap: G = WᵀW (or WWᵀ, the smaller) is squared SQUARINGS
 * times (rescaled each time), which is 2^SQUARINGS power iterations in 12 products of a ≤ 50×50
 * matrix (`kernels().gemm`); its dominant column starts a few power iterations on W itself. The former plain power
 * iteration (500 steps on W from a random start) was 9 ms per 50×50 layer and still unconverged when
 * σ₂/σ₁ > 0.99, as at a random initialization.
 */
export function topSingular(theta: Float64Array, offset: number, rows: number, cols: number, u: Float64Array, v: Float64Array): number {
  const W = (i: number, j: number) => theta[offset + i * cols + j];
  // Work on the smaller side: n×n Gram matrix of W (n = cols) or of Wᵀ (n = rows).
  const byCols = cols <= rows;
  const n = byCols ? cols : rows;
  const m = byCols ? rows : cols;
  let G = new Float64Array(n * n);
  let H = new Float64Array(n * n);
  // G = WᵀW (W is m×n) or WWᵀ (W is n×m).
  if (byCols) kernels().gemm(true, false, n, n, m, 1, theta, offset, theta, offset, 0, G, 0);
  else kernels().gemm(false, true, n, n, m, 1, theta, offset, theta, offset, 0, G, 0);
  let max = 0;
  for (let k = 0; k < n * n; k++) max = Math.max(max, Math.abs(G[k]));
  if (max === 0) {
    u.fill(0);
    v.fill(0);
    return 0;
  }
  for (let k = 0; k < n * n; k++) G[k] /= max;
  for (let it = 0; it < SQUARINGS; it++) {
    // H = G·Gᵀ = G² (G is symmetric), through the hot kernels, rescaled to max |entry| = 1.
    kernels().gemm(false, true, n, n, n, 1, G, 0, G, 0, 0, H, 0);
    let hmax = 0;
    for (let k = 0; k < n * n; k++) hmax = Math.max(hmax, Math.abs(H[k]));
    if (hmax === 0) break;
    for (let k = 0; k < n * n; k++) H[k] /= hmax;
    const t = G;
    G = H;
    H = t;
  }
  // The column of largest norm is (numerically) the top eigenvector times its entry.
  let best = 0;
  let bestNorm = -1;
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let a = 0; a < n; a++) s += G[a * n + b] * G[a * n + b];
    if (s > bestNorm) {
      bestNorm = s;
      best = b;
    }
  }
  // Start vector on the right side (cols): the column itself, or Wᵀ of it.
  if (byCols) for (let j = 0; j < cols; j++) v[j] = G[j * n + best];
  else {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += W(i, j) * G[i * n + best];
      v[j] = s;
    }
  }
  let sigma = 0;
  for (let it = 0; it < POLISH_ITERATIONS; it++) {
    let nv = 0;
    for (let j = 0; j < cols; j++) nv += v[j] * v[j];
    nv = Math.sqrt(nv);
    if (nv === 0) break;
    for (let j = 0; j < cols; j++) v[j] /= nv;
    // u = W v, σ = ‖u‖
    let nu = 0;
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += W(i, j) * v[j];
      u[i] = s;
      nu += s * s;
    }
    sigma = Math.sqrt(nu);
    if (sigma === 0) break;
    for (let i = 0; i < rows; i++) u[i] /= sigma;
    if (it === POLISH_ITERATIONS - 1) break;
    // v = Wᵀ u
    for (let j = 0; j < cols; j++) v[j] = 0;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) v[j] += W(i, j) * u[i];
  }
  return sigma;
}

/** Alignment measurements for a model whose layout is a chain of matrices W1..WL (deep-linear). */
export function deepLinearAlignment(model: Model, theta: Float64Array, betaUnit: Float64Array | null): Alignment {
  const blocks = model.layout;
  let total = 0;
  for (let k = 0; k < model.numParams; k++) total += theta[k] * theta[k];
  const rank1: number[] = [];
  const layerShares: number[] = [];
  const us: Float64Array[] = [];
  const vs: Float64Array[] = [];
  for (const b of blocks) {
    const rows = b.shape.length === 2 ? b.shape[0] : 1;
    const cols = b.shape.length === 2 ? b.shape[1] : b.shape[0];
    const u = new Float64Array(rows);
    const v = new Float64Array(cols);
    const s = topSingular(theta, b.offset, rows, cols, u, v);
    let fro = 0;
    for (let k = 0; k < rows * cols; k++) fro += theta[b.offset + k] ** 2;
    rank1.push(fro === 0 ? 0 : s / Math.sqrt(fro));
    layerShares.push(total === 0 ? 0 : fro / total);
    us.push(u);
    vs.push(v);
  }
  const adjacent: number[] = [];
  for (let k = 0; k + 1 < blocks.length; k++) {
    let s = 0;
    for (let i = 0; i < us[k].length; i++) s += vs[k + 1][i] * us[k][i];
    adjacent.push(Math.abs(s));
  }
  let predictor = NaN;
  if (betaUnit && vs.length > 0 && vs[0].length === betaUnit.length) {
    let s = 0;
    for (let j = 0; j < betaUnit.length; j++) s += betaUnit[j] * vs[0][j];
    predictor = Math.abs(s);
  }
  return { rank1, adjacent, layerShares, predictor };
}
