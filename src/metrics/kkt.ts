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
 */
import type { Model, Workspace } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { kernels } from '../linalg/kernels.ts';

/** Largest number of float64 gradient entries held at once (2^24 = 128 MiB). */
const MAX_GRADIENT_ENTRIES = 1 << 24;

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
 * g ← ∇_θ q̂(θ̂) of one example at input X[row] (overwrites g); returns the margin. Binary: y·f;
 * K-class: f_y − f_{j*}.
 */
function marginGradient(model: Model, theta: Float64Array, X: Float64Array, row: number, data: Dataset, out: Float64Array, dOut: Float64Array, g: Float64Array, ws: Workspace): number {
  const d = data.d;
  model.forward(theta, X, row * d, out, ws);
  const y = data.y[row];
  let m: number;
  if (data.binary) {
    dOut[0] = y;
    m = y * out[0];
  } else {
    let jStar = y === 0 ? 1 : 0;
    for (let j = jStar + 1; j < data.classes; j++) if (j !== y && out[j] > out[jStar]) jStar = j;
    dOut.fill(0);
    dOut[y] = 1;
    dOut[jStar] = -1;
    m = out[y] - out[jStar];
  }
  g.fill(0);
  model.backward(theta, X, row * d, dOut, g, null, 0, ws);
  return m;
}

/**
 * KKT residuals at θ̂ (‖θ̂‖ = 1) on the examples `rows` of the perturbed inputs `Xadv` (n×d; δ fixed).
 */
export function kktResiduals(model: Model, thetaHat: Float64Array, data: Dataset, Xadv: Float64Array, rows: Int32Array, maxGradientEntries = MAX_GRADIENT_ENTRIES): KktResult {
  const P = model.numParams;
  const n = rows.length;
  if (n === 0) return { stationarity: NaN, complementarity: NaN, examples: 0, support: 0, nnlsStationarity: NaN };
  const L = model.order;
  const ws = model.createWorkspace();
  const out = new Float64Array(model.outputDim);
  const dOut = new Float64Array(model.outputDim);
  const block = Math.max(1, Math.min(n, Math.floor(maxGradientEntries / P)));
  const margins = new Float64Array(n);
  const K = new Float64Array(n * n);
  const b = new Float64Array(n);
  const A = new Float64Array(block * P);
  const B = new Float64Array(block * P);
  const fill = (buf: Float64Array, start: number, count: number, keepMargins: boolean): void => {
    for (let t = 0; t < count; t++) {
      const m = marginGradient(model, thetaHat, Xadv, rows[start + t], data, out, dOut, buf.subarray(t * P, (t + 1) * P), ws);
      if (keepMargins) margins[start + t] = m;
    }
  };
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
    if (!(m > 0)) return { stationarity: NaN, complementarity: NaN, examples: n, support: 0, nnlsStationarity: NaN };
  }
  const k = kernels();
  const Kblock = new Float64Array(block * block);
  for (let a0 = 0; a0 < n; a0 += block) {
    const ca = Math.min(block, n - a0);
    fill(A, a0, ca, true);
    // b_i = ⟨g_i, θ̂⟩ for the block (A is ca×P row-major).
    k.gemv(ca, P, A, 0, thetaHat, 0, b, a0, 0);
    for (let b0 = a0; b0 < n; b0 += block) {
      const cb = Math.min(block, n - b0);
      const other = b0 === a0 ? A : B;
      if (b0 !== a0) fill(B, b0, cb, false);
      // K block = A·otherᵀ (ca×cb), through the hot kernels.
      k.gemm(false, true, ca, cb, P, 1, A, 0, other, 0, 0, Kblock, 0);
      for (let i = 0; i < ca; i++)
        for (let j = 0; j < cb; j++) {
          const v = Kblock[i * cb + j];
          K[(a0 + i) * n + b0 + j] = v;
          K[(b0 + j) * n + a0 + i] = v;
        }
    }
  }
  let mmin = Infinity;
  for (let i = 0; i < n; i++) mmin = Math.min(mmin, margins[i]);
  if (!(mmin > 0)) return { stationarity: NaN, complementarity: NaN, examples: n, support: 0, nnlsStationarity: NaN };
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
  const g = A.subarray(0, P);
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
  return { stationarity, complementarity: comp, examples: n, support, nnlsStationarity: Math.min(stationarity, Math.sqrt(Math.max(0, q0))) };
}
