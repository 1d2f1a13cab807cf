import type { Rng } from '../linalg/rng.ts';
import type { BatchWorkspace, KinkSet, Model, Workspace } from './model.ts';
import { gatherRows } from './model.ts';
import { elementwiseOf, kernels } from '../linalg/kernels.ts';
import { hiddenWidths, denseChainLayout } from './deep-linear.ts';
import { NONLINEAR_TRAITS, type ModelDescriptor, checkedDepth, checkedWidth, checkedLeak } from './descriptor.ts';
import { depthField, widthField, leakField } from './fields.ts';

/** Options of {@link createReluMlp}. */
export interface ReluMlpOptions {
  /** d, the input dimension. */
  readonly inputDim: number;
  /** L ≥ 1, the number of weight layers. */
  readonly depth: number;
  /** Hidden width m (every hidden layer) or the L−1 widths m_1..m_{L−1}; default d. */
  readonly width?: number | readonly number[];
  /** K: 1 for a binary model (labels ±1), else the number of classes; default 1. */
  readonly outputs?: number;
  /** Slope a of the leaky ReLU σ(z) = max(z, a·z) for 0 ≤ a < 1; default 0 (plain ReLU). */
  readonly leak?: number;
}

/**
 * Bias-free ReLU network (kind "relu-mlp"): f(θ; x) = W_L σ(W_{L−1} ⋯ σ(W_1 x)) ∈ R^K with
 * W_1 ∈ R^{m_1×d}, W_k ∈ R^{m_k×m_{k−1}}, W_L ∈ R^{K×m_{L−1}} (order L = depth, the number of
 * weight layers; depth 1 is the linear map W_1 x). σ(z) = z for z > 0 and a·z otherwise (a = `leak`).
 *
 * Subgradient convention: σ'(z) = 1 for z > 0 and σ'(z) = a for z ≤ 0, so ReLU'(0) = 0 (and the
 * leaky ReLU's derivative at 0 is a). Euler's identity ⟨θ, ∇_θ f⟩ = L·f holds with it, kinks included.
 * Not linear in x (no predictor); f is 1-homogeneous in x.
 *
 * Layout: blocks "W1".."WL", each row-major with shape [rows, cols], in that order in θ.
 * Initialization (He): every entry of W_k ~ N(0, scale²·2/fanIn), fanIn = cols of W_k, the output
 * layer included.
 *
 * Workspace: `z` the hidden pre-activations z_k = W_k a_{k−1} (a_0 = x), `a` = σ(z), `g` the
 * back-propagated ∂/∂z_k, each concatenated over k = 1..L−1.
 *
 * Batch methods (see `Model`): the same maps on R ≤ maxRows examples with the activations as
 * row-major R×m_k matrices, Z_k = A_{k−1} W_kᵀ, A_k = σ(Z_k), F = A_{L−1} W_Lᵀ (A_0 = X, R×d), and
 * backwards G_{L−1} = (D W_L) ⊙ σ'(Z_{L−1}), G_k = (G_{k+1} W_{k+1}) ⊙ σ'(Z_k),
 * ∇_{W_L} += Dᵀ A_{L−1}, ∇_{W_k} += G_kᵀ A_{k−1}, ∇_X = G_1 W_1 — all through `kernels().gemm`,
 * with the same convention ReLU'(0) = 0. Batch workspace buffers `z`, `a`, `g` hold the matrix of
 * layer k at offset maxRows·(m_1 + … + m_{k−1}) (row stride m_k); `x` holds gathered input rows.
 *
 * Kink methods (see `Model`): `nearKinks` lists hidden units with |z_j| ≤ τ·‖W_k[j,:]‖·‖a_{k−1}‖ after a
 * `forward` (slopes there range over [a, 1]); `backwardWithSlopes` is `backward` with chosen slopes
 * for chosen units. Neither changes `forward`/`backward`.
 */
export function createReluMlp(options: ReluMlpOptions): Model {
  const d = options.inputDim;
  const L = options.depth;
  const outputs = options.outputs ?? 1;
  const leak = options.leak ?? 0;
  const widths = hiddenWidths(L, options.width, d);
  const dims = [d, ...widths, outputs];
  const { layout, wOff, hOff, numParams, hiddenSize: hidden } = denseChainLayout(dims);

  return {
    kind: 'relu-mlp',
    order: L,
    inputDim: d,
    outputDim: outputs,
    numParams,
    layout,
    linearInX: false,
    spec: { kind: 'relu-mlp', inputDim: d, depth: L, widths: [...widths], outputs, leak },
    init(rng: Rng, scale: number) {
      const theta = new Float64Array(numParams);
      for (let k = 1; k <= L; k++) {
        const s = scale * Math.sqrt(2 / dims[k - 1]);
        const end = wOff[k - 1] + dims[k] * dims[k - 1];
        for (let i = wOff[k - 1]; i < end; i++) theta[i] = s * rng.normal();
      }
      return theta;
    },
    createWorkspace(): Workspace {
      const n = Math.max(hidden, 1);
      return { z: new Float64Array(n), a: new Float64Array(n), g: new Float64Array(n) };
    },
    forward(theta, x, xOffset, out, ws) {
      const K = kernels();
      if (L === 1) {
        K.gemv(outputs, d, theta, 0, x, xOffset, out, 0, 0);
        return;
      }
      const z = ws.z;
      const a = ws.a;
      for (let k = 1; k < L; k++) {
        if (k === 1) K.gemv(dims[1], d, theta, wOff[0], x, xOffset, z, hOff[1], 0);
        else K.gemv(dims[k], dims[k - 1], theta, wOff[k - 1], a, hOff[k - 1], z, hOff[k], 0);
        const end = hOff[k] + dims[k];
        for (let i = hOff[k]; i < end; i++) {
          const v = z[i];
          a[i] = v > 0 ? v : leak * v;
        }
      }
      K.gemv(outputs, dims[L - 1], theta, wOff[L - 1], a, hOff[L - 1], out, 0, 0);
    },
    backward(theta, x, xOffset, dOut, gradTheta, gradX, gradXOffset, ws) {
      const K = kernels();
      if (L === 1) {
        if (gradTheta) K.ger(outputs, d, 1, dOut, 0, x, xOffset, gradTheta, 0);
        if (gradX) K.gemvT(outputs, d, theta, 0, dOut, 0, gradX, gradXOffset, 0);
        return;
      }
      const z = ws.z;
      const a = ws.a;
      const g = ws.g;
      if (gradTheta) K.ger(outputs, dims[L - 1], 1, dOut, 0, a, hOff[L - 1], gradTheta, wOff[L - 1]);
      // ∂/∂z_k for k = L−1 down to 1: g_k = σ'(z_k) ⊙ W_{k+1}ᵀ g_{k+1} (g_L = dOut).
      for (let k = L - 1; k >= 1; k--) {
        if (k === L - 1) K.gemvT(outputs, dims[L - 1], theta, wOff[L - 1], dOut, 0, g, hOff[k], 0);
        else K.gemvT(dims[k + 1], dims[k], theta, wOff[k], g, hOff[k + 1], g, hOff[k], 0);
        const end = hOff[k] + dims[k];
        // ReLU'(0) = 0: the slope on z ≤ 0 is `leak`.
        for (let i = hOff[k]; i < end; i++) if (!(z[i] > 0)) g[i] *= leak;
        if (gradTheta) {
          if (k === 1) K.ger(dims[1], d, 1, g, hOff[1], x, xOffset, gradTheta, wOff[0]);
          else K.ger(dims[k], dims[k - 1], 1, g, hOff[k], a, hOff[k - 1], gradTheta, wOff[k - 1]);
        }
      }
      if (gradX) K.gemvT(dims[1], d, theta, wOff[0], g, hOff[1], gradX, gradXOffset, 0);
    },
    nearKinks(theta, x, xOffset, tolerance, ws): KinkSet | null {
      if (L === 1) return null;
      const z = ws.z;
      const a = ws.a;
      const units: number[] = [];
      const layers: number[] = [];
      const relative: number[] = [];
      for (let k = 1; k < L; k++) {
        // ‖a_{k−1}‖ (a_0 = x), then per unit the cosine |z_j|/(‖w_j‖‖a_{k−1}‖).
        const cols = dims[k - 1];
        let inNorm2 = 0;
        for (let c = 0; c < cols; c++) {
          const v = k === 1 ? x[xOffset + c] : a[hOff[k - 1] + c];
          inNorm2 += v * v;
        }
        const inNorm = Math.sqrt(inNorm2);
        for (let j = 0; j < dims[k]; j++) {
          const row = wOff[k - 1] + j * cols;
          let w2 = 0;
          for (let c = 0; c < cols; c++) w2 += theta[row + c] * theta[row + c];
          const scale = Math.sqrt(w2) * inNorm;
          const zj = Math.abs(z[hOff[k] + j]);
          const rel = scale > 0 ? zj / scale : 0;
          if (rel <= tolerance) {
            units.push(hOff[k] + j);
            layers.push(k);
            relative.push(rel);
          }
        }
      }
      return { hiddenUnits: hidden, units: Int32Array.from(units), layers: Int32Array.from(layers), relative: Float64Array.from(relative), slopeLow: leak, slopeHigh: 1 };
    },
    backwardWithSlopes(theta, x, xOffset, dOut, slopes, gradTheta, ws) {
      // `backward` (gradTheta only) with σ'(z_j) = slopes[j] where that is not NaN.
      const K = kernels();
      if (L === 1) {
        K.ger(outputs, d, 1, dOut, 0, x, xOffset, gradTheta, 0);
        return;
      }
      const z = ws.z;
      const a = ws.a;
      const g = ws.g;
      K.ger(outputs, dims[L - 1], 1, dOut, 0, a, hOff[L - 1], gradTheta, wOff[L - 1]);
      for (let k = L - 1; k >= 1; k--) {
        if (k === L - 1) K.gemvT(outputs, dims[L - 1], theta, wOff[L - 1], dOut, 0, g, hOff[k], 0);
        else K.gemvT(dims[k + 1], dims[k], theta, wOff[k], g, hOff[k + 1], g, hOff[k], 0);
        const end = hOff[k] + dims[k];
        for (let i = hOff[k]; i < end; i++) {
          const s = slopes[i];
          if (s === s) g[i] *= s;
          else if (!(z[i] > 0)) g[i] *= leak;
        }
        if (k === 1) K.ger(dims[1], d, 1, g, hOff[1], x, xOffset, gradTheta, wOff[0]);
        else K.ger(dims[k], dims[k - 1], 1, g, hOff[k], a, hOff[k - 1], gradTheta, wOff[k - 1]);
      }
    },
    createBatchWorkspace(maxRows: number): BatchWorkspace {
      // One `allocate` call: the elementwise kernels run in place on these buffers (e.g. in WebAssembly memory).
      const n = maxRows * Math.max(hidden, 1);
      const [z, a, g, x] = elementwiseOf(kernels()).allocate([n, n, n, maxRows * d]);
      return { maxRows, buffers: { z, a, g, x } };
    },
    forwardBatch(theta, X, rows, start, count, out, bws) {
      const K = kernels();
      const R = bws.maxRows;
      const { z, a, x } = bws.buffers;
      // A_0 = X: read in place when the rows are contiguous, else gathered once (O(count·d), small
      // next to the O(count·d·m_1) product).
      const src = rows === null ? X : x;
      const srcOff = rows === null ? start * d : 0;
      if (rows !== null) gatherRows(X, rows, start, count, d, x);
      if (L === 1) {
        K.gemm(false, true, count, outputs, d, 1, src, srcOff, theta, 0, 0, out, 0);
        return;
      }
      for (let k = 1; k < L; k++) {
        const zo = R * hOff[k];
        // Z_k = A_{k−1} W_kᵀ (W_k stored m_k×m_{k−1}, read transposed).
        if (k === 1) K.gemm(false, true, count, dims[1], d, 1, src, srcOff, theta, wOff[0], 0, z, zo);
        else K.gemm(false, true, count, dims[k], dims[k - 1], 1, a, R * hOff[k - 1], theta, wOff[k - 1], 0, z, zo);
        // A_k = σ(Z_k): exactly v or v·leak per entry, on every backend (kernels' `relu`).
        elementwiseOf(K).relu(count * dims[k], z, zo, a, zo, leak);
      }
      K.gemm(false, true, count, outputs, dims[L - 1], 1, a, R * hOff[L - 1], theta, wOff[L - 1], 0, out, 0);
    },
    backwardBatch(theta, X, rows, start, count, dOut, gradTheta, gradX, bws, overwrite = false) {
      // β of the gradTheta products: 0 overwrites (the caller did not zero it), 1 accumulates.
      const acc = overwrite ? 0 : 1;
      const K = kernels();
      const R = bws.maxRows;
      const { z, a, g, x } = bws.buffers;
      // The inputs as forwardBatch read them (gathered rows are still in `x`).
      const src = rows === null ? X : x;
      const srcOff = rows === null ? start * d : 0;
      if (L === 1) {
        if (gradTheta) K.gemm(true, false, outputs, d, count, 1, dOut, 0, src, srcOff, acc, gradTheta, 0);
        if (gradX) K.gemm(false, false, count, d, outputs, 1, dOut, 0, theta, 0, 0, gradX, 0);
        return;
      }
      if (gradTheta) K.gemm(true, false, outputs, dims[L - 1], count, 1, dOut, 0, a, R * hOff[L - 1], acc, gradTheta, wOff[L - 1]);
      // G_k = (G_{k+1} W_{k+1}) ⊙ σ'(Z_k) for k = L−1 down to 1 (G_L = dOut).
      for (let k = L - 1; k >= 1; k--) {
        const go = R * hOff[k];
        if (k === L - 1) K.gemm(false, false, count, dims[k], outputs, 1, dOut, 0, theta, wOff[L - 1], 0, g, go);
        else K.gemm(false, false, count, dims[k], dims[k + 1], 1, g, R * hOff[k + 1], theta, wOff[k], 0, g, go);
        // ReLU'(0) = 0: the slope on z ≤ 0 is `leak` (kernels' `reluMask`).
        elementwiseOf(K).reluMask(count * dims[k], g, go, z, go, leak);
        if (gradTheta) {
          if (k === 1) K.gemm(true, false, dims[1], d, count, 1, g, go, src, srcOff, acc, gradTheta, wOff[0]);
          else K.gemm(true, false, dims[k], dims[k - 1], count, 1, g, go, a, R * hOff[k - 1], acc, gradTheta, wOff[k - 1]);
        }
      }
      if (gradX) K.gemm(false, false, count, d, dims[1], 1, g, R * hOff[1], theta, wOff[0], 0, gradX, 0);
    },
  };
}

/** Bias-free (leaky-)ReLU MLP (claim C2: KKT measurements, no closed-form reference). */
export const reluMlpDescriptor: ModelDescriptor = {
  kind: 'relu-mlp',
  summary: 'bias-free ReLU MLP, K outputs (claim C2)',
  fields: { depth: depthField(), width: widthField, leak: leakField() },
  traits: NONLINEAR_TRAITS,
  create(spec) {
    const depth = checkedDepth(spec);
    return createReluMlp({ inputDim: spec.inputDim, depth, width: checkedWidth(spec, depth), outputs: spec.outputs ?? 1, leak: checkedLeak(spec) });
  },
};
