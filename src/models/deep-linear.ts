import type { Rng } from '../linalg/rng.ts';
import type { BatchWorkspace, Model, ParamBlock, Workspace } from './model.ts';
import { gatherRows } from './model.ts';
import { kernels } from '../linalg/kernels.ts';
import { type ModelDescriptor, checkedDepth, checkedWidth } from './descriptor.ts';
import { depthField, widthField } from './fields.ts';

/**
 * Hidden widths m_1..m_{L−1} of a depth-L network: `width` as one number for every hidden layer, or
 * an array of L−1 widths; undefined means every hidden layer is `inputDim` wide.
 * Callers validate (see `createModel`): positive integers, and an array of length L−1.
 */
export function hiddenWidths(depth: number, width: number | readonly number[] | undefined, inputDim: number): number[] {
  if (Array.isArray(width)) return [...(width as readonly number[])];
  const m = (width as number | undefined) ?? inputDim;
  return Array.from({ length: depth - 1 }, () => m);
}

/**
 * Layout of a chain of dense layers W_1..W_L with sizes dims[0] = d, …, dims[L] = outputs:
 * block "Wk" has shape [dims[k], dims[k−1]]; `wOff[k−1]` is its offset in θ, `hOff[k]` the offset of
 * the hidden vector h_k (k = 1..L−1) in a workspace buffer of `hiddenSize` entries.
 */
export function denseChainLayout(dims: readonly number[]): { layout: ParamBlock[]; wOff: number[]; hOff: number[]; numParams: number; hiddenSize: number } {
  const L = dims.length - 1;
  const layout: ParamBlock[] = [];
  const wOff: number[] = [];
  let numParams = 0;
  for (let k = 1; k <= L; k++) {
    wOff.push(numParams);
    layout.push({ name: `W${k}`, offset: numParams, shape: [dims[k], dims[k - 1]] });
    numParams += dims[k] * dims[k - 1];
  }
  const hOff: number[] = [0];
  let hiddenSize = 0;
  for (let k = 1; k < L; k++) {
    hOff.push(hiddenSize);
    hiddenSize += dims[k];
  }
  return { layout, wOff, hOff, numParams, hiddenSize };
}

/** Options of {@link createDeepLinear}. */
export interface DeepLinearOptions {
  /** d, the input dimension. */
  readonly inputDim: number;
  /** L ≥ 1, the number of weight matrices. */
  readonly depth: number;
  /** Hidden width m (every hidden layer) or the L−1 widths m_1..m_{L−1}; default d. */
  readonly width?: number | readonly number[];
}

/**
 * Deep linear (fully connected, bias-free) network f(θ; x) = W_L ⋯ W_2 W_1 x with
 * W_1 ∈ R^{m_1×d}, W_k ∈ R^{m_k×m_{k−1}}, W_L ∈ R^{1×m_{L−1}} (order L = depth).
 * Depth 1 is the linear model with one 1×d layer.
 *
 * End-to-end predictor β = (W_L ⋯ W_1)ᵀ = W_1ᵀ ⋯ W_Lᵀ ∈ R^d, so f = ⟨β, x⟩.
 * Layout: blocks "W1".."WL", each row-major with shape [rows, cols], in that order in θ.
 * Initialization: every entry of W_k ~ N(0, scale²/fanIn), fanIn = cols of W_k.
 * Zero is a saddle point (all gradients vanish there for L ≥ 2): do not initialize at 0.
 *
 * Workspace: `h` holds the hidden activations h_k = W_k h_{k−1} (h_0 = x), `g` the back-propagated
 * gradients ∂f/∂h_k, both concatenated over k = 1..L−1.
 *
 * Batch methods (see `Model`): on R ≤ maxRows examples, H_k = H_{k−1} W_kᵀ (R×m_k, H_0 = X),
 * F = H_{L−1} W_Lᵀ (R×1); backwards G_{L−1} = D W_L, G_{k−1} = G_k W_k, ∇_{W_L} += Dᵀ H_{L−1},
 * ∇_{W_k} += G_kᵀ H_{k−1}, ∇_X = G_1 W_1 — all through `kernels().gemm`. Batch buffers `h`, `g` hold
 * layer k's R×m_k matrix at offset maxRows·(m_1 + … + m_{k−1}); `x` holds gathered input rows.
 * (Binary data on this linear-in-x model normally goes through β instead: see metrics/margins.ts.)
 */
export function createDeepLinear(options: DeepLinearOptions): Model {
  const d = options.inputDim;
  const L = options.depth;
  const widths = hiddenWidths(L, options.width, d);
  // dims[k] = size of h_k: dims[0] = d, dims[L] = 1.
  const dims = [d, ...widths, 1];
  // hOff[k] = offset of h_k (k = 1..L−1) in the workspace buffers; hOff[0] unused (h_0 = x).
  const { layout, wOff, hOff, numParams, hiddenSize: hidden } = denseChainLayout(dims);

  /**
   * g_{k} = W_{k+1}ᵀ g_{k+1} for k = L−1 down to 1, starting from g_L = s (a scalar), then
   * W_1ᵀ g_1 into `dst` at `dstOffset` if dst is given. Used by backward (s = dOut) and predictor (s = 1).
   */
  function backChain(theta: Float64Array, s: number, g: Float64Array, dst: Float64Array | null, dstOffset: number): void {
    const K = kernels();
    if (L === 1) {
      if (dst) for (let j = 0; j < d; j++) dst[dstOffset + j] = s * theta[j];
      return;
    }
    // g_{L−1} = s · W_Lᵀ (W_L is one row).
    const top = hOff[L - 1];
    for (let i = 0; i < dims[L - 1]; i++) g[top + i] = s * theta[wOff[L - 1] + i];
    for (let k = L - 1; k >= 2; k--) {
      K.gemvT(dims[k], dims[k - 1], theta, wOff[k - 1], g, hOff[k], g, hOff[k - 1], 0);
    }
    if (dst) K.gemvT(dims[1], d, theta, wOff[0], g, hOff[1], dst, dstOffset, 0);
  }

  return {
    kind: 'deep-linear',
    order: L,
    inputDim: d,
    outputDim: 1,
    numParams,
    layout,
    linearInX: true,
    spec: { kind: 'deep-linear', inputDim: d, depth: L, widths: [...widths] },
    init(rng: Rng, scale: number) {
      const theta = new Float64Array(numParams);
      for (let k = 1; k <= L; k++) {
        const s = scale / Math.sqrt(dims[k - 1]);
        const end = wOff[k - 1] + dims[k] * dims[k - 1];
        for (let i = wOff[k - 1]; i < end; i++) theta[i] = s * rng.normal();
      }
      return theta;
    },
    createWorkspace(): Workspace {
      return { h: new Float64Array(Math.max(hidden, 1)), g: new Float64Array(Math.max(hidden, 1)) };
    },
    forward(theta, x, xOffset, out, ws) {
      const K = kernels();
      if (L === 1) {
        out[0] = K.dot(d, theta, 0, x, xOffset);
        return;
      }
      const h = ws.h;
      K.gemv(dims[1], d, theta, wOff[0], x, xOffset, h, hOff[1], 0);
      for (let k = 2; k < L; k++) K.gemv(dims[k], dims[k - 1], theta, wOff[k - 1], h, hOff[k - 1], h, hOff[k], 0);
      out[0] = K.dot(dims[L - 1], theta, wOff[L - 1], h, hOff[L - 1]);
    },
    backward(theta, x, xOffset, dOut, gradTheta, gradX, gradXOffset, ws) {
      const s = dOut[0];
      const g = ws.g;
      const h = ws.h;
      backChain(theta, s, g, gradX, gradXOffset);
      if (!gradTheta) return;
      const K = kernels();
      if (L === 1) {
        K.axpy(d, s, x, xOffset, gradTheta, 0);
        return;
      }
      // ∂f/∂W_L = s·h_{L−1}ᵀ; ∂f/∂W_k = g_k h_{k−1}ᵀ (h_0 = x).
      K.axpy(dims[L - 1], s, h, hOff[L - 1], gradTheta, wOff[L - 1]);
      for (let k = L - 1; k >= 2; k--) K.ger(dims[k], dims[k - 1], 1, g, hOff[k], h, hOff[k - 1], gradTheta, wOff[k - 1]);
      K.ger(dims[1], d, 1, g, hOff[1], x, xOffset, gradTheta, wOff[0]);
    },
    predictor(theta, out, ws) {
      backChain(theta, 1, ws.g, out, 0);
    },
    createBatchWorkspace(maxRows: number): BatchWorkspace {
      const n = maxRows * Math.max(hidden, 1);
      return { maxRows, buffers: { h: new Float64Array(n), g: new Float64Array(n), x: new Float64Array(maxRows * d) } };
    },
    forwardBatch(theta, X, rows, start, count, out, bws) {
      const K = kernels();
      const R = bws.maxRows;
      const { h, x } = bws.buffers;
      const src = rows === null ? X : x;
      const srcOff = rows === null ? start * d : 0;
      if (rows !== null) gatherRows(X, rows, start, count, d, x);
      if (L === 1) {
        K.gemm(false, true, count, 1, d, 1, src, srcOff, theta, 0, 0, out, 0);
        return;
      }
      K.gemm(false, true, count, dims[1], d, 1, src, srcOff, theta, wOff[0], 0, h, R * hOff[1]);
      for (let k = 2; k < L; k++) K.gemm(false, true, count, dims[k], dims[k - 1], 1, h, R * hOff[k - 1], theta, wOff[k - 1], 0, h, R * hOff[k]);
      K.gemm(false, true, count, 1, dims[L - 1], 1, h, R * hOff[L - 1], theta, wOff[L - 1], 0, out, 0);
    },
    backwardBatch(theta, X, rows, start, count, dOut, gradTheta, gradX, bws, overwrite = false) {
      // β of the gradTheta products: 0 overwrites (the caller did not zero it), 1 accumulates.
      const acc = overwrite ? 0 : 1;
      const K = kernels();
      const R = bws.maxRows;
      const { h, g, x } = bws.buffers;
      // The inputs as forwardBatch read them (gathered rows are still in `x`).
      const src = rows === null ? X : x;
      const srcOff = rows === null ? start * d : 0;
      if (L === 1) {
        if (gradTheta) K.gemm(true, false, 1, d, count, 1, dOut, 0, src, srcOff, acc, gradTheta, 0);
        if (gradX) K.gemm(false, false, count, d, 1, 1, dOut, 0, theta, 0, 0, gradX, 0);
        return;
      }
      // G_{L−1} = D W_L (R×1 times 1×m_{L−1}), then G_{k−1} = G_k W_k.
      K.gemm(false, false, count, dims[L - 1], 1, 1, dOut, 0, theta, wOff[L - 1], 0, g, R * hOff[L - 1]);
      for (let k = L - 1; k >= 2; k--) K.gemm(false, false, count, dims[k - 1], dims[k], 1, g, R * hOff[k], theta, wOff[k - 1], 0, g, R * hOff[k - 1]);
      if (gradX) K.gemm(false, false, count, d, dims[1], 1, g, R * hOff[1], theta, wOff[0], 0, gradX, 0);
      if (!gradTheta) return;
      // ∇_{W_L} += Dᵀ H_{L−1}; ∇_{W_k} += G_kᵀ H_{k−1} (H_0 = X).
      K.gemm(true, false, 1, dims[L - 1], count, 1, dOut, 0, h, R * hOff[L - 1], acc, gradTheta, wOff[L - 1]);
      for (let k = L - 1; k >= 2; k--) K.gemm(true, false, dims[k], dims[k - 1], count, 1, g, R * hOff[k], h, R * hOff[k - 1], acc, gradTheta, wOff[k - 1]);
      K.gemm(true, false, dims[1], d, count, 1, g, R * hOff[1], src, srcOff, acc, gradTheta, wOff[0]);
    },
  };
}

/** Deep linear network (claim C1): linear in x, reference (B), layers align, γ̄ → L^{−L/2}γ*. */
export const deepLinearDescriptor: ModelDescriptor = {
  kind: 'deep-linear',
  summary: 'deep linear network f = W_L ⋯ W_1 x (claim C1)',
  fields: { depth: depthField(), width: widthField },
  traits: {
    linearInX: true,
    multiclass: false,
    c3Architecture: null,
    referenceProblem: () => 'adversarial-svm',
    marginConstant: (L) => Math.pow(L, -L / 2),
    layerAlignment: true,
    separateTensors: true,
  },
  create(spec) {
    const depth = checkedDepth(spec);
    return createDeepLinear({ inputDim: spec.inputDim, depth, width: checkedWidth(spec, depth) });
  },
};
