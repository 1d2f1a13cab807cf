import type { Model } from '../models/model.ts';
import { Rng } from '../linalg/rng.ts';

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

/** Power-iteration limit: plenty for the gaps met once layers align; a fixed count keeps it deterministic. */
const POWER_ITERATIONS = 500;
const POWER_TOL = 1e-15;

/**
 * Top singular triple of the rows×cols matrix at θ[offset…] by power iteration on WᵀW from a fixed
 * seeded start (deterministic). Returns σ₁ and fills u (rows) and v (cols).
 */
export function topSingular(theta: Float64Array, offset: number, rows: number, cols: number, u: Float64Array, v: Float64Array): number {
  const rng = new Rng(12345);
  for (let j = 0; j < cols; j++) v[j] = rng.normal();
  let sigma = 0;
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    // u = W v
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += theta[offset + i * cols + j] * v[j];
      u[i] = s;
    }
    let nu = 0;
    for (let i = 0; i < rows; i++) nu += u[i] * u[i];
    nu = Math.sqrt(nu);
    if (nu === 0) return 0;
    for (let i = 0; i < rows; i++) u[i] /= nu;
    // v = Wᵀ u
    for (let j = 0; j < cols; j++) v[j] = 0;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) v[j] += theta[offset + i * cols + j] * u[i];
    let nv = 0;
    for (let j = 0; j < cols; j++) nv += v[j] * v[j];
    nv = Math.sqrt(nv);
    if (nv === 0) return 0;
    for (let j = 0; j < cols; j++) v[j] /= nv;
    const done = Math.abs(nv - sigma) <= POWER_TOL * nv;
    sigma = nv;
    if (done) break;
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
