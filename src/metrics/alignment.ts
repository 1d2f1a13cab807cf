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

/** Once 1 − tr(G²) (G of trace 1) is below this, G is numerically rank 1 (rounding in it is ~n·1e-16). */
const RANK_ONE_DEFECT = 1e-12;

/**
 * Top singular triple of the rows×cols matrix W at θ[offset…]. Returns σ₁ and fills u (rows) and v
 * (cols). Deterministic and cheap at any gap: G = WᵀW (or WWᵀ, the smaller), scaled to trace 1, is
 * squared at most SQUARINGS times, which is up to 2^SQUARINGS power iterations in products of a ≤ 50×50
 * matrix (`kernels().gemm`); its dominant column starts a few power iterations on W itself
 * (`kernels().gemv`/`gemvT`). The former plain power iteration (500 steps on W from a random start)
 * was 9 ms per 50×50 layer and still unconverged when σ₂/σ₁ > 0.99, as at a random initialization.
 *
 * Each squaring is one gemm and an O(n) trace: with tr(G) = 1, the eigenvalues λ_i of G sum to 1,
 * t = tr(G²) = Σλ_i² ≤ 1 (so no entry overflows or loses scale), and the next G = G²/t is folded
 * into the next gemm's alpha. 1 − t is 0 exactly when G has rank 1 and ≈ 2λ₂/λ₁ when the rest is
 * small: once it is below RANK_ONE_DEFECT one more squaring takes the other directions below 1e-24,
 * and the squaring stops there (a trained, aligned layer after 1–3 squarings; a 1×n layer at once).
 */
export function topSingular(theta: Float64Array, offset: number, rows: number, cols: number, u: Float64Array, v: Float64Array): number {
  if (rows === 1 || cols === 1) {
    // A vector: σ = ‖w‖, and the singular vectors are w/‖w‖ and the scalar 1.
    const len = rows * cols;
    let ss = 0;
    for (let j = 0; j < len; j++) ss += theta[offset + j] * theta[offset + j];
    const sigma = Math.sqrt(ss);
    const w = rows === 1 ? v : u;
    const one = rows === 1 ? u : v;
    if (sigma === 0) {
      u.fill(0);
      v.fill(0);
      return 0;
    }
    for (let j = 0; j < len; j++) w[j] = theta[offset + j] / sigma;
    one[0] = 1;
    return sigma;
  }
  const k = kernels();
  // Work on the smaller side: n×n Gram matrix of W (n = cols) or of Wᵀ (n = rows).
  const byCols = cols <= rows;
  const n = byCols ? cols : rows;
  const m = byCols ? rows : cols;
  let G = new Float64Array(n * n);
  let H = new Float64Array(n * n);
  // G = WᵀW (W is m×n) or WWᵀ (W is n×m).
  if (byCols) k.gemm(true, false, n, n, m, 1, theta, offset, theta, offset, 0, G, 0);
  else k.gemm(false, true, n, n, m, 1, theta, offset, theta, offset, 0, G, 0);
  let tr = 0;
  for (let a = 0; a < n; a++) tr += G[a * n + a];
  if (!(tr > 0)) {
    u.fill(0);
    v.fill(0);
    return tr === 0 ? 0 : NaN;
  }
  // alpha of the next product: G/tr(G) squared.
  let alpha = 1 / (tr * tr);
  // n ≥ 2 here (1×n and n×1 layers took the closed form above).
  let settled = false;
  for (let it = 0; it < SQUARINGS; it++) {
    // H = alpha·G·Gᵀ = (G/tr)² (G is symmetric), through the hot kernels; tr(H) = Σλ_i² of G/tr.
    k.gemm(false, true, n, n, n, alpha, G, 0, G, 0, 0, H, 0);
    let t = 0;
    for (let a = 0; a < n; a++) t += H[a * n + a];
    const swap = G;
    G = H;
    H = swap;
    if (!(t > 0)) break;
    alpha = 1 / (t * t);
    if (settled) break;
    settled = 1 - t < RANK_ONE_DEFECT;
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
  // Start vector on the right side (cols): the column itself (G is symmetric: its row), or Wᵀ of it.
  if (byCols) for (let j = 0; j < cols; j++) v[j] = G[best * n + j];
  else k.gemvT(rows, cols, theta, offset, G, best * n, v, 0, 0);
  let sigma = 0;
  for (let it = 0; it < POLISH_ITERATIONS; it++) {
    let nv = 0;
    for (let j = 0; j < cols; j++) nv += v[j] * v[j];
    nv = Math.sqrt(nv);
    if (nv === 0) break;
    for (let j = 0; j < cols; j++) v[j] /= nv;
    // u = W v, σ = ‖u‖
    k.gemv(rows, cols, theta, offset, v, 0, u, 0, 0);
    let nu = 0;
    for (let i = 0; i < rows; i++) nu += u[i] * u[i];
    sigma = Math.sqrt(nu);
    if (sigma === 0) break;
    for (let i = 0; i < rows; i++) u[i] /= sigma;
    if (it === POLISH_ITERATIONS - 1) break;
    // v = Wᵀ u
    k.gemvT(rows, cols, theta, offset, u, 0, v, 0, 0);
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
