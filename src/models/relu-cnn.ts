import type { Rng } from '../linalg/rng.ts';
import type { BatchWorkspace, Model, ParamBlock, Workspace } from './model.ts';
import { gatherRows } from './model.ts';
import { elementwiseOf, kernels, jsKernels } from '../linalg/kernels.ts';
import { InputError } from '../errors.ts';
import { NONLINEAR_TRAITS, type ModelDescriptor, type ModelSpec, failField, isPositiveInteger, showValue } from './descriptor.ts';
import { convField, denseField, inputShapeField, leakField } from './fields.ts';

/** Pooling after a conv layer's ReLU: max or average over non-overlapping size×size windows. */
export interface PoolOptions {
  /** "max": m = max over the window; "avg": m = (1/size²)·Σ over the window. */
  readonly kind: 'max' | 'avg';
  /** Window side p ≥ 1 (stride p, so windows do not overlap); p must divide the conv output's height and width. */
  readonly size: number;
}

/** One convolution layer of {@link createReluCnn}. */
export interface ConvLayerOptions {
  /** C_out ≥ 1, the number of filters (output channels). */
  readonly channels: number;
  /** k ≥ 1, the side of the square kernel; k ≤ the input's height and width ('valid' padding). */
  readonly kernel: number;
  /** s ≥ 1, default 1. */
  readonly stride?: number;
  /** Optional pooling after the ReLU; null or absent: none. */
  readonly pool?: PoolOptions | null;
}

/** Options of {@link createReluCnn}. Validated by `createModel`; this factory only guards shape misfits. */
export interface ReluCnnOptions {
  /** The input shape [C, H, W]: inputs are flat vectors of C·H·W entries, channel-major (x[c·H·W + i·W + j]). */
  readonly inputShape: readonly number[];
  /** The conv layers, at least one, in order. */
  readonly conv: readonly ConvLayerOptions[];
  /** Hidden widths m_1.. of the bias-free dense ReLU layers after the flatten; default [] (none). */
  readonly dense?: readonly number[];
  /** K: 1 for a binary model (labels ±1), else the number of classes; default 1. */
  readonly outputs?: number;
  /** Slope a of the leaky ReLU σ(z) = max(z, a·z) for 0 ≤ a < 1; default 0 (plain ReLU). */
  readonly leak?: number;
}

/**
 * Shapes around conv layer l: its input [C_in, H, W], the conv output [C_out, H_o, W_o] with
 * H_o = ⌊(H − k)/s⌋ + 1 (likewise W_o), and the layer output after pooling [C_out, H_o/p, W_o/p]
 * (equal to the conv output without pooling).
 */
export interface ConvLayerShape {
  readonly input: readonly [number, number, number];
  readonly conv: readonly [number, number, number];
  readonly output: readonly [number, number, number];
}

/**
 * Side of a 'valid' convolution's output: ⌊(n − k)/s⌋ + 1 for input side n ≥ k, kernel k, stride s.
 * When s does not divide n − k, the last n − k − s·⌊(n − k)/s⌋ rows (columns) are never read, as in
 * PyTorch's Conv2d with padding 0; their input gradient is 0.
 */
export function convOutputSize(n: number, kernel: number, stride: number): number {
  return Math.floor((n - kernel) / stride) + 1;
}

/**
 * Shape arithmetic of a conv stack (no validation: callers check that every k ≤ H, W and every
 * pool size divides H_o, W_o — see `createModel`). Returns one {@link ConvLayerShape} per layer.
 */
export function convStackShapes(inputShape: readonly number[], conv: readonly ConvLayerOptions[]): ConvLayerShape[] {
  let [c, h, w] = inputShape;
  const shapes: ConvLayerShape[] = [];
  for (const layer of conv) {
    const s = layer.stride ?? 1;
    const ho = convOutputSize(h, layer.kernel, s);
    const wo = convOutputSize(w, layer.kernel, s);
    const p = layer.pool ? layer.pool.size : 1;
    shapes.push({ input: [c, h, w], conv: [layer.channels, ho, wo], output: [layer.channels, ho / p, wo / p] });
    [c, h, w] = [layer.channels, ho / p, wo / p];
  }
  return shapes;
}

/**
 * Memory bound of one relu-cnn batch workspace: `createBatchWorkspace` gives fewer rows than asked
 * when that many would take more (the im2col matrices of a pass grow with rows × C_in·k·k × H_o·W_o).
 */
export const RELU_CNN_BATCH_BYTES = 64 * 2 ** 20;

/** A relu-cnn {@link Model} with its shape arithmetic and a kink diagnostic. */
export interface ReluCnn extends Model {
  /** Per conv layer: input, conv output and pooled output shapes (see {@link convStackShapes}). */
  readonly shapes: readonly ConvLayerShape[];
  /**
   * After `forward` with `ws`: the distance of that (θ, x) to the set where f is not differentiable,
   * measured in activation values: the minimum of |z| over every ReLU pre-activation z (conv and
   * dense), and of (largest − second largest) σ(z) over every max-pool window — except windows whose
   * maximum is ≤ 0 under plain ReLU (leak 0), where every entry is 0 and f is locally flat in them.
   * +∞ when there is nothing to measure. Gradient checks redraw samples where this is small.
   */
  kinkDistance(ws: Workspace): number;
}

/** Pool codes in the per-layer plan (numbers keep the hot loops monomorphic). */
const POOL_NONE = 0;
const POOL_MAX = 1;
const POOL_AVG = 2;

/** Everything the hot loops need about one conv layer, computed once per model. */
interface ConvPlan {
  readonly ci: number;
  readonly hi: number;
  readonly wi: number;
  readonly co: number;
  readonly ho: number;
  readonly wo: number;
  readonly k: number;
  readonly s: number;
  readonly pool: number;
  readonly ps: number;
  readonly hp: number;
  readonly wp: number;
  /** C_in·k·k: rows of the im2col matrix, columns of the filter matrix. */
  readonly fanIn: number;
  /** H_o·W_o: columns of the im2col matrix. */
  readonly nPos: number;
  readonly wOff: number;
  readonly colOff: number;
  readonly zOff: number;
  readonly pOff: number;
  readonly argOff: number;
  /** Offset of the layer output's gradient in `gh`. */
  readonly ghOff: number;
  /** C_out·H_p·W_p entries of the layer output. */
  readonly outSize: number;
}

/** One dense ReLU layer: z = W h (W is m×n), σ(z). */
interface DensePlan {
  readonly m: number;
  readonly n: number;
  readonly wOff: number;
  readonly zOff: number;
  readonly ghOff: number;
}

/**
 * Bias-free ReLU convolutional network (kind "relu-cnn"):
 *
 *   h_0 = x ∈ R^{C×H×W} (flat, channel-major),
 *   z_l = F_l ⋆ h_{l−1}, z_l[o, i, j] = Σ_{c,u,v} F_l[o, c, u, v] · h_{l−1}[c, i·s_l + u, j·s_l + v]
 *         ('valid' padding, square k_l×k_l kernels, stride s_l),
 *   h_l = pool_l(σ(z_l))  (pool: none, max or average over non-overlapping p_l×p_l windows),
 *   then flatten, dense ReLU layers h ← σ(W h), and the final linear layer f = W_out h ∈ R^K.
 *
 * Order L = (number of conv layers) + (number of dense hidden layers) + 1, the number of weight
 * layers: convolution and the linear layers are linear in their weights, and σ, max and average
 * pooling are positively 1-homogeneous, so f(cθ; x) = c^L f(θ; x) for c > 0 (and f is 1-homogeneous in x).
 *
 * Subgradient conventions: σ(z) = z for z > 0 and a·z otherwise (a = `leak`), σ'(z) = 1 for z > 0
 * and a for z ≤ 0, so ReLU'(0) = 0. Max pooling passes the gradient to the FIRST maximal element of
 * its window in row-major order (u, then v) — ties go to the earliest. Both choices are invariant under
 * θ ↦ cθ (c > 0), so Euler's identity ⟨θ, ∇_θ f⟩ = L·f holds with them, kinks and ties included.
 * Not linear in x (no predictor).
 *
 * Layout: blocks "conv1".. with shape [C_out, C_in, k, k], "dense1".. with shape [m_j, m_{j−1}]
 * (m_0 = the flattened size of the last conv layer output), then "out" with shape [K, m_last]; all
 * row-major, in that order in θ.
 * Initialization (He): every entry ~ N(0, 2·scale²/fanIn), fanIn = C_in·k·k for conv layers and the
 * number of columns for the dense and output layers.
 *
 * Workspace (created by `createWorkspace`; every entry is written by `forward` before it is read):
 * `z` the ReLU pre-activations — conv layers (each [C_out, H_o, W_o], channel-major) then dense layers —,
 * `a` = σ(z), `p` the pooled conv outputs, `arg` the index within its layer's z-block of each
 * max-pool output's winner, `col` the im2col matrices, `gz`, `gh`, `gcol` back-propagation scratch.
 * Forward and backward do not allocate; convolutions run as im2col and a matrix product
 * (`kernels().gemm`, or register-blocked loops when the kernels are the plain-TS reference ones).
 *
 * Batch methods (see `Model`): the same maps on R ≤ maxRows examples. Each conv layer runs once for
 * the whole batch — im2col of every example side by side ((C_in·k·k) × (R·H_o·W_o)), one product
 * with the filters — so its activations are channel-major over the examples ([C, R, H, W]); pooling
 * works plane by plane as for one example; the last conv output is flattened to one row per example
 * for the dense layers (R × m matrices, products through `kernels().gemm`). Same conventions (ReLU'(0)
 * = 0, max-pool ties to the first entry); results agree with the per-example methods up to summation
 * order.
 *
 * Shapes must fit (k ≤ input side, p divides H_o and W_o); `createModel` checks them with messages
 * naming the field, this factory throws a plain RangeError.
 */
export function createReluCnn(options: ReluCnnOptions): ReluCnn {
  const inputShape = [...options.inputShape];
  const convOpts = options.conv;
  const denseWidths = [...(options.dense ?? [])];
  const outputs = options.outputs ?? 1;
  const leak = options.leak ?? 0;
  const shapes = convStackShapes(inputShape, convOpts);
  const d = inputShape[0] * inputShape[1] * inputShape[2];

  const layout: ParamBlock[] = [];
  let numParams = 0;
  let colSize = 0;
  let zSize = 0;
  let pSize = 0;
  let argSize = 0;
  let ghSize = 0;
  let gcolSize = 0;
  const convs: ConvPlan[] = [];
  convOpts.forEach((opt, l) => {
    const sh = shapes[l];
    if (!(sh.conv[1] >= 1 && sh.conv[2] >= 1 && Number.isInteger(sh.output[1]) && Number.isInteger(sh.output[2]))) {
      throw new RangeError(`relu-cnn conv[${l}]: kernel ${opt.kernel}, stride ${opt.stride ?? 1}, pool ${opt.pool?.size ?? 1} do not fit the input ${sh.input.join('×')}`);
    }
    const [ci, hi, wi] = sh.input;
    const [co, ho, wo] = sh.conv;
    const [, hp, wp] = sh.output;
    const k = opt.kernel;
    const s = opt.stride ?? 1;
    const ps = opt.pool ? opt.pool.size : 1;
    const fanIn = ci * k * k;
    const nPos = ho * wo;
    const pool = !opt.pool ? POOL_NONE : opt.pool.kind === 'max' ? POOL_MAX : POOL_AVG;
    const plan: ConvPlan = {
      ci, hi, wi, co, ho, wo, k, s, pool, ps, hp, wp, fanIn, nPos,
      wOff: numParams,
      colOff: colSize,
      zOff: zSize,
      pOff: pSize,
      argOff: argSize,
      ghOff: ghSize,
      outSize: co * hp * wp,
    };
    layout.push({ name: `conv${l + 1}`, offset: numParams, shape: [co, ci, k, k] });
    numParams += co * fanIn;
    colSize += fanIn * nPos;
    zSize += co * nPos;
    if (pool !== POOL_NONE) pSize += plan.outSize;
    if (pool === POOL_MAX) argSize += plan.outSize;
    ghSize += plan.outSize;
    gcolSize = Math.max(gcolSize, fanIn * nPos);
    convs.push(plan);
  });
  const flat = convs[convs.length - 1].outSize;
  const denses: DensePlan[] = [];
  let nIn = flat;
  denseWidths.forEach((m, j) => {
    denses.push({ m, n: nIn, wOff: numParams, zOff: zSize, ghOff: ghSize });
    layout.push({ name: `dense${j + 1}`, offset: numParams, shape: [m, nIn] });
    numParams += m * nIn;
    zSize += m;
    ghSize += m;
    nIn = m;
  });
  const outOff = numParams;
  const lastWidth = nIn;
  layout.push({ name: 'out', offset: outOff, shape: [outputs, lastWidth] });
  numParams += outputs * lastWidth;
  const order = convs.length + denses.length + 1;
  const fanIns = [...convs.map((c) => c.fanIn), ...denses.map((q) => q.n), lastWidth];

  // Hidden layer t (convs, then dense layers) writes its output h_t into `p` at a pooled conv layer's
  // pOff, else into `a` at its zOff (σ(z) is the output itself); the last one feeds the output layer.
  const hInP: boolean[] = [...convs.map((c) => c.pool !== POOL_NONE), ...denses.map(() => false)];
  const hOff: number[] = [...convs.map((c) => (c.pool !== POOL_NONE ? c.pOff : c.zOff)), ...denses.map((q) => q.zOff)];
  const top = hOff.length - 1;

  const model: ReluCnn = {
    kind: 'relu-cnn',
    order,
    inputDim: d,
    outputDim: outputs,
    numParams,
    layout,
    linearInX: false,
    shapes,
    spec: {
      kind: 'relu-cnn',
      inputDim: d,
      inputShape: [...inputShape],
      conv: convOpts.map((c) => ({ channels: c.channels, kernel: c.kernel, stride: c.stride ?? 1, pool: c.pool ? { kind: c.pool.kind, size: c.pool.size } : null })),
      dense: [...denseWidths],
      outputs,
      leak,
      depth: order,
    },
    init(rng: Rng, scale: number) {
      const theta = new Float64Array(numParams);
      for (let b = 0; b < layout.length; b++) {
        const blk = layout[b];
        const sd = scale * Math.sqrt(2 / fanIns[b]);
        const end = blk.offset + blk.shape.reduce((x, y) => x * y, 1);
        for (let i = blk.offset; i < end; i++) theta[i] = sd * rng.normal();
      }
      return theta;
    },
    createWorkspace(): Workspace {
      return {
        col: new Float64Array(colSize),
        z: new Float64Array(zSize),
        a: new Float64Array(zSize),
        p: new Float64Array(pSize),
        arg: new Float64Array(argSize),
        gz: new Float64Array(zSize),
        gh: new Float64Array(ghSize),
        gcol: new Float64Array(gcolSize),
      };
    },
    forward(theta, x, xOffset, out, ws) {
      const K = kernels();
      const E = elementwiseOf(K);
      const { col, z, a, p, arg } = ws;
      for (let l = 0; l < convs.length; l++) {
        const P = convs[l];
        // The im2col matrix ((C_in·k·k) × (H_o·W_o)): Z = F·col is the convolution (kernels' `im2col`).
        if (l === 0) E.im2col(P, 1, x, xOffset, 0, P.hi * P.wi, col, P.colOff);
        else E.im2col(P, 1, hInP[l - 1] ? p : a, hOff[l - 1], 0, P.hi * P.wi, col, P.colOff);
        // Z = F·col: [C_out × C_in·k·k] · [C_in·k·k × H_o·W_o], channel-major output directly.
        if (K === jsKernels) combineRows(P.co, P.nPos, P.fanIn, theta, P.wOff, P.fanIn, 1, col, P.colOff, z, P.zOff);
        else K.gemm(false, false, P.co, P.nPos, P.fanIn, 1, theta, P.wOff, col, P.colOff, 0, z, P.zOff);
        const zEnd = P.zOff + P.co * P.nPos;
        for (let i = P.zOff; i < zEnd; i++) {
          const v = z[i];
          a[i] = v > 0 ? v : leak * v;
        }
        if (P.pool !== POOL_NONE) pool(P, P.co, P.zOff, P.pOff, P.argOff, a, p, arg);
      }
      for (let j = 0; j < denses.length; j++) {
        const D = denses[j];
        const t = convs.length + j - 1;
        K.gemv(D.m, D.n, theta, D.wOff, hInP[t] ? p : a, hOff[t], z, D.zOff, 0);
        const zEnd = D.zOff + D.m;
        for (let i = D.zOff; i < zEnd; i++) {
          const v = z[i];
          a[i] = v > 0 ? v : leak * v;
        }
      }
      K.gemv(outputs, lastWidth, theta, outOff, hInP[top] ? p : a, hOff[top], out, 0, 0);
    },
    backward(theta, x, xOffset, dOut, gradTheta, gradX, gradXOffset, ws) {
      const K = kernels();
      const E = elementwiseOf(K);
      const { col, z, a, p, gz, gh, gcol, arg } = ws;
      const nd = denses.length;
      const nc = convs.length;
      // Output layer: ∂f/∂W_out = dOut·hᵀ, ∂f/∂h = W_outᵀ dOut.
      const ghTop = nd > 0 ? denses[nd - 1].ghOff : convs[nc - 1].ghOff;
      if (gradTheta) K.ger(outputs, lastWidth, 1, dOut, 0, hInP[top] ? p : a, hOff[top], gradTheta, outOff);
      K.gemvT(outputs, lastWidth, theta, outOff, dOut, 0, gh, ghTop, 0);
      for (let j = nd - 1; j >= 0; j--) {
        const D = denses[j];
        // g_z = σ'(z) ⊙ g_h with ReLU'(0) = 0 (slope `leak` on z ≤ 0).
        for (let i = 0; i < D.m; i++) {
          const g = gh[D.ghOff + i];
          gz[D.zOff + i] = z[D.zOff + i] > 0 ? g : leak * g;
        }
        const t = nc + j - 1;
        if (gradTheta) K.ger(D.m, D.n, 1, gz, D.zOff, hInP[t] ? p : a, hOff[t], gradTheta, D.wOff);
        const ghPrev = j > 0 ? denses[j - 1].ghOff : convs[nc - 1].ghOff;
        K.gemvT(D.m, D.n, theta, D.wOff, gz, D.zOff, gh, ghPrev, 0);
      }
      for (let l = nc - 1; l >= 0; l--) {
        const P = convs[l];
        unpool(P, P.co, P.zOff, P.ghOff, P.argOff, gh, arg, gz);
        const zEnd = P.zOff + P.co * P.nPos;
        for (let i = P.zOff; i < zEnd; i++) if (!(z[i] > 0)) gz[i] *= leak;
        // ∂f/∂F = g_z·colᵀ.
        if (gradTheta) {
          if (K === jsKernels) accumulateFilterGrad(P, P.nPos, P.zOff, P.colOff, gz, col, gradTheta);
          else K.gemm(false, true, P.co, P.fanIn, P.nPos, 1, gz, P.zOff, col, P.colOff, 1, gradTheta, P.wOff);
        }
        if (l === 0 && !gradX) break;
        // ∂f/∂col = Fᵀ g_z (F read transposed: row stride 1, column stride C_in·k·k), then scattered
        // back onto the layer input (the adjoint of im2col).
        if (K === jsKernels) combineRows(P.fanIn, P.nPos, P.co, theta, P.wOff, 1, P.fanIn, gz, P.zOff, gcol, 0);
        else K.gemm(true, false, P.fanIn, P.nPos, P.co, 1, theta, P.wOff, gz, P.zOff, 0, gcol, 0);
        if (l > 0) E.col2im(P, 1, gcol, 0, gh, convs[l - 1].ghOff, 0, P.hi * P.wi);
        else E.col2im(P, 1, gcol, 0, gradX!, gradXOffset, 0, P.hi * P.wi);
      }
    },
    createBatchWorkspace(maxRows: number): BatchWorkspace {
      // Every per-example buffer ×R (offsets scale by R), plus the flattened last hidden layer and
      // its gradient (R × flat, one example per row) and gathered input rows; one `allocate` call,
      // so the elementwise kernels run in place (e.g. in WebAssembly memory). R is maxRows, or fewer
      // when the im2col matrices would take more than RELU_CNN_BATCH_BYTES.
      const perRow = 8 * (colSize + 3 * zSize + pSize + argSize + ghSize + gcolSize + 2 * flat + d);
      const R = Math.max(1, Math.min(maxRows, Math.floor(RELU_CNN_BATCH_BYTES / perRow)));
      const [col, z, a, gz, p, arg, gh, gcol, hflat, ghflat, x] = elementwiseOf(kernels()).allocate([
        R * colSize, R * zSize, R * zSize, R * zSize, R * pSize, R * argSize, R * ghSize, R * gcolSize, R * flat, R * flat, R * d,
      ]);
      return { maxRows: R, buffers: { col, z, a, gz, p, arg, gh, gcol, hflat, ghflat, x } };
    },
    forwardBatch(theta, X, rows, start, count, out, bws) {
      const K = kernels();
      const E = elementwiseOf(K);
      const R = bws.maxRows;
      const { col, z, a, p, arg, hflat, x } = bws.buffers;
      const c = count;
      // Conv layers over the batch, activations channel-major over the examples: [C, count, H, W].
      for (let l = 0; l < convs.length; l++) {
        const P = convs[l];
        const colOff = R * P.colOff;
        const zo = R * P.zOff;
        if (l === 0) {
          // The inputs gathered beside col (so that a backend's in-place im2col applies to them too).
          if (rows === null) for (let i = 0; i < c * d; i++) x[i] = X[start * d + i];
          else gatherRows(X, rows, start, c, d, x);
          E.im2col(P, c, x, 0, d, P.hi * P.wi, col, colOff);
        } else {
          const Q = convs[l - 1];
          const src = hInP[l - 1] ? p : a;
          const so = R * (hInP[l - 1] ? Q.pOff : Q.zOff);
          E.im2col(P, c, src, so, P.hi * P.wi, c * P.hi * P.wi, col, colOff);
        }
        if (K === jsKernels) combineRows(P.co, c * P.nPos, P.fanIn, theta, P.wOff, P.fanIn, 1, col, colOff, z, zo);
        else K.gemm(false, false, P.co, c * P.nPos, P.fanIn, 1, theta, P.wOff, col, colOff, 0, z, zo);
        E.relu(P.co * c * P.nPos, z, zo, a, zo, leak);
        if (P.pool !== POOL_NONE) pool(P, P.co * c, zo, R * P.pOff, R * P.argOff, a, p, arg);
      }
      // Flatten: row b of hflat is example b's last conv output, channel-major as in `forward`.
      const L = convs[convs.length - 1];
      const hw = L.hp * L.wp;
      const lastSrc = hInP[convs.length - 1] ? p : a;
      const lastOff = R * (hInP[convs.length - 1] ? L.pOff : L.zOff);
      for (let ch = 0; ch < L.co; ch++) {
        for (let b = 0; b < c; b++) {
          const from = lastOff + (ch * c + b) * hw;
          const to = b * flat + ch * hw;
          for (let q = 0; q < hw; q++) hflat[to + q] = lastSrc[from + q];
        }
      }
      // Dense layers: Z_j = H_{j−1} W_jᵀ (rows = examples), A_j = σ(Z_j).
      let hIn = hflat;
      let hInOff = 0;
      for (let j = 0; j < denses.length; j++) {
        const D = denses[j];
        const zo = R * D.zOff;
        K.gemm(false, true, c, D.m, D.n, 1, hIn, hInOff, theta, D.wOff, 0, z, zo);
        E.relu(c * D.m, z, zo, a, zo, leak);
        hIn = a;
        hInOff = zo;
      }
      K.gemm(false, true, c, outputs, lastWidth, 1, hIn, hInOff, theta, outOff, 0, out, 0);
    },
    backwardBatch(theta, X, rows, start, count, dOut, gradTheta, gradX, bws, overwrite = false) {
      const acc = overwrite ? 0 : 1;
      const K = kernels();
      const E = elementwiseOf(K);
      const R = bws.maxRows;
      const { col, z, a, gz, gh, gcol, arg, hflat, ghflat, x } = bws.buffers;
      const c = count;
      const nd = denses.length;
      const nc = convs.length;
      // Output layer: ∇W_out += dOutᵀ H_top, G_top = dOut W_out.
      const hTop = nd > 0 ? a : hflat;
      const hTopOff = nd > 0 ? R * denses[nd - 1].zOff : 0;
      const ghTop = nd > 0 ? gh : ghflat;
      const ghTopOff = nd > 0 ? R * denses[nd - 1].ghOff : 0;
      if (gradTheta) K.gemm(true, false, outputs, lastWidth, c, 1, dOut, 0, hTop, hTopOff, acc, gradTheta, outOff);
      K.gemm(false, false, c, lastWidth, outputs, 1, dOut, 0, theta, outOff, 0, ghTop, ghTopOff);
      for (let j = nd - 1; j >= 0; j--) {
        const D = denses[j];
        const go = R * D.ghOff;
        // G_z = σ'(Z) ⊙ G_h in place (ReLU'(0) = 0: slope `leak` on z ≤ 0).
        E.reluMask(c * D.m, gh, go, z, R * D.zOff, leak);
        const hIn = j > 0 ? a : hflat;
        const hInOff = j > 0 ? R * denses[j - 1].zOff : 0;
        if (gradTheta) K.gemm(true, false, D.m, D.n, c, 1, gh, go, hIn, hInOff, acc, gradTheta, D.wOff);
        if (j > 0) K.gemm(false, false, c, D.n, D.m, 1, gh, go, theta, D.wOff, 0, gh, R * denses[j - 1].ghOff);
        else K.gemm(false, false, c, D.n, D.m, 1, gh, go, theta, D.wOff, 0, ghflat, 0);
      }
      // Unflatten the last conv output's gradient into [C, count, H_p, W_p].
      const L = convs[nc - 1];
      const hw = L.hp * L.wp;
      const lastGh = R * L.ghOff;
      for (let ch = 0; ch < L.co; ch++) {
        for (let b = 0; b < c; b++) {
          const to = lastGh + (ch * c + b) * hw;
          const from = b * flat + ch * hw;
          for (let q = 0; q < hw; q++) gh[to + q] = ghflat[from + q];
        }
      }
      for (let l = nc - 1; l >= 0; l--) {
        const P = convs[l];
        const zo = R * P.zOff;
        const colOff = R * P.colOff;
        const n = c * P.nPos;
        unpool(P, P.co * c, zo, R * P.ghOff, R * P.argOff, gh, arg, gz);
        E.reluMask(P.co * n, gz, zo, z, zo, leak);
        if (gradTheta) {
          if (K === jsKernels) {
            if (acc === 0) gradTheta.fill(0, P.wOff, P.wOff + P.co * P.fanIn);
            accumulateFilterGrad(P, n, zo, colOff, gz, col, gradTheta);
          } else K.gemm(false, true, P.co, P.fanIn, n, 1, gz, zo, col, colOff, acc, gradTheta, P.wOff);
        }
        if (l === 0 && !gradX) break;
        if (K === jsKernels) combineRows(P.fanIn, n, P.co, theta, P.wOff, 1, P.fanIn, gz, zo, gcol, 0);
        else K.gemm(true, false, P.fanIn, n, P.co, 1, theta, P.wOff, gz, zo, 0, gcol, 0);
        if (l > 0) E.col2im(P, c, gcol, 0, gh, R * convs[l - 1].ghOff, P.hi * P.wi, c * P.hi * P.wi);
        else {
          // Into the input rows' buffer (free in the backward pass: col holds what it gave), then out.
          E.col2im(P, c, gcol, 0, x, 0, d, P.hi * P.wi);
          for (let i = 0; i < c * d; i++) gradX![i] = x[i];
        }
      }
    },
    kinkDistance(ws) {
      const { z, a } = ws;
      let dist = Infinity;
      for (let i = 0; i < zSize; i++) dist = Math.min(dist, Math.abs(z[i]));
      for (const P of convs) {
        if (P.pool !== POOL_MAX) continue;
        forEachWindow(P, (base) => {
          let best = -Infinity;
          let second = -Infinity;
          for (let u = 0; u < P.ps; u++) {
            for (let v = 0; v < P.ps; v++) {
              const val = a[base + u * P.wo + v];
              if (val > best) [best, second] = [val, best];
              else if (val > second) second = val;
            }
          }
          if (P.ps > 1 && (leak > 0 || best > 0)) dist = Math.min(dist, best - second);
        });
      }
      return dist;
    },
  };
  return model;
}

/** Calls visit(base) with the index in a/z of the top-left entry of every pooling window of layer P. */
function forEachWindow(P: ConvPlan, visit: (base: number) => void): void {
  for (let c = 0; c < P.co; c++) {
    for (let pi = 0; pi < P.hp; pi++) {
      for (let pj = 0; pj < P.wp; pj++) visit(P.zOff + c * P.nPos + pi * P.ps * P.wo + pj * P.ps);
    }
  }
}

/**
 * p ← pool(a) over the non-overlapping ps×ps windows of layer P, on `planes` H_o×W_o planes from
 * zOff (C_out for one example; C_out·count channel-major over a batch), written from pOff. Max: strict
 * `>` keeps the FIRST maximal entry (row-major in the window) and records its index (relative to
 * zOff) in `arg` from argOff. Average: (Σ window)·(1/ps²).
 */
function pool(P: ConvPlan, planes: number, zOff: number, pOff: number, argOff: number, a: Float64Array, p: Float64Array, arg: Float64Array): void {
  const { hp, wp, ps, wo, nPos } = P;
  if (P.pool === POOL_MAX) {
    elementwiseOf(kernels()).maxPool(planes, P.ho, wo, ps, a, zOff, p, pOff, arg, argOff);
    return;
  }
  const invArea = 1 / (ps * ps);
  let o = 0;
  for (let c = 0; c < planes; c++) {
    for (let pi = 0; pi < hp; pi++) {
      for (let pj = 0; pj < wp; pj++) {
        const top = zOff + c * nPos + pi * ps * wo + pj * ps;
        let sum = 0;
        for (let u = 0; u < ps; u++) for (let v = 0; v < ps; v++) sum += a[top + u * wo + v];
        p[pOff + o] = sum * invArea;
        o++;
      }
    }
  }
}

/**
 * gz (`planes` planes from zOff, as in {@link pool}) ← the gradient with respect to σ(z) given the
 * gradient gh (from ghOff) of the layer output:
 * the identity without pooling, the pooled gradient at the recorded winner (0 elsewhere) for max,
 * and g·(1/ps²) on every window entry for average. Pool sizes divide H_o and W_o, so every entry is written.
 */
function unpool(P: ConvPlan, planes: number, zOff: number, ghOff: number, argOff: number, gh: Float64Array, arg: Float64Array, gz: Float64Array): void {
  const { hp, wp, ps, wo, nPos } = P;
  const co = planes;
  if (P.pool === POOL_NONE) {
    for (let i = 0; i < co * nPos; i++) gz[zOff + i] = gh[ghOff + i];
    return;
  }
  if (P.pool === POOL_MAX) {
    gz.fill(0, zOff, zOff + co * nPos);
    const outs = co * hp * wp;
    for (let o = 0; o < outs; o++) gz[zOff + arg[argOff + o]] = gh[ghOff + o];
    return;
  }
  const invArea = 1 / (ps * ps);
  let o = 0;
  for (let c = 0; c < co; c++) {
    for (let pi = 0; pi < hp; pi++) {
      for (let pj = 0; pj < wp; pj++) {
        const g = gh[ghOff + o] * invArea;
        const top = zOff + c * nPos + pi * ps * wo + pj * ps;
        for (let u = 0; u < ps; u++) for (let v = 0; v < ps; v++) gz[top + u * wo + v] = g;
        o++;
      }
    }
  }
}

/*
 * Under the plain-TS reference kernels (`jsKernels`) the three convolution products run in the two
 * register-blocked loops below instead of jsKernels.gemm: on the MNIST-sized default (conv 8@5×5 →
 * 16@5×5, max-pool 2, K = 10) forward + backward measured about 650 µs against 1700–2100 µs with
 * jsKernels.gemm (two output rows and four reduction terms per pass reuse every load; the filter
 * gradient keeps 4×2 independent sums). Any other backend (WebAssembly SIMD) gets kernels().gemm,
 * which there is faster still (about 410 µs). The summation orders differ, by a few roundings
 * (test/models/relu-cnn.test.ts compares the paths); exact identities are unaffected, since scaling
 * by a power of two commutes with every rounding.
 */

/**
 * C[i, :] ← Σ_{l<k} A(i, l)·B[l, :] for i < m, with rows of C and B of n contiguous entries
 * (C at co, B at bo, row stride n) and A(i, l) = A[ao + i·ars + l·acs] (so A can be read transposed).
 */
function combineRows(m: number, n: number, k: number, A: Float64Array, ao: number, ars: number, acs: number, B: Float64Array, bo: number, C: Float64Array, co: number): void {
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const c0 = co + i * n, c1 = c0 + n;
    const ar = ao + i * ars, br = ar + ars;
    for (let j = 0; j < n; j++) { C[c0 + j] = 0; C[c1 + j] = 0; }
    let l = 0;
    for (; l + 3 < k; l += 4) {
      const p0 = ar + l * acs, q0 = br + l * acs;
      const a0 = A[p0], a1 = A[p0 + acs], a2 = A[p0 + 2 * acs], a3 = A[p0 + 3 * acs];
      const e0 = A[q0], e1 = A[q0 + acs], e2 = A[q0 + 2 * acs], e3 = A[q0 + 3 * acs];
      const b0 = bo + l * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        const x0 = B[b0 + j], x1 = B[b1 + j], x2 = B[b2 + j], x3 = B[b3 + j];
        C[c0 + j] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
        C[c1 + j] += e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3;
      }
    }
    for (; l < k; l++) {
      const a = A[ar + l * acs], e = A[br + l * acs];
      const b0 = bo + l * n;
      for (let j = 0; j < n; j++) { const x0 = B[b0 + j]; C[c0 + j] += a * x0; C[c1 + j] += e * x0; }
    }
  }
  for (; i < m; i++) {
    const c0 = co + i * n;
    const ar = ao + i * ars;
    for (let j = 0; j < n; j++) C[c0 + j] = 0;
    let l = 0;
    for (; l + 3 < k; l += 4) {
      const p0 = ar + l * acs;
      const a0 = A[p0], a1 = A[p0 + acs], a2 = A[p0 + 2 * acs], a3 = A[p0 + 3 * acs];
      const b0 = bo + l * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) C[c0 + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
    }
    for (; l < k; l++) {
      const a = A[ar + l * acs];
      const b0 = bo + l * n;
      for (let j = 0; j < n; j++) C[c0 + j] += a * B[b0 + j];
    }
  }
}

/**
 * G[wOff + o·fanIn + q] += Σ_pos gz[zOff + o·n + pos]·col[colOff + q·n + pos] over n positions
 * (H_o·W_o for one example, count·H_o·W_o over a batch): the filter gradient g_z·colᵀ of conv layer
 * P, added into θ's gradient.
 */
function accumulateFilterGrad(P: ConvPlan, n: number, zOff: number, colOff: number, gz: Float64Array, col: Float64Array, G: Float64Array): void {
  const { co, fanIn: k, wOff } = P;
  let o = 0;
  for (; o + 3 < co; o += 4) {
    const g0 = zOff + o * n, g1 = g0 + n, g2 = g1 + n, g3 = g2 + n;
    const w0 = wOff + o * k;
    let q = 0;
    for (; q + 1 < k; q += 2) {
      const c0 = colOff + q * n, c1 = c0 + n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (let j = 0; j < n; j++) {
        const c = col[c0 + j], d = col[c1 + j];
        const y0 = gz[g0 + j], y1 = gz[g1 + j], y2 = gz[g2 + j], y3 = gz[g3 + j];
        s0 += y0 * c; s1 += y1 * c; s2 += y2 * c; s3 += y3 * c;
        t0 += y0 * d; t1 += y1 * d; t2 += y2 * d; t3 += y3 * d;
      }
      G[w0 + q] += s0; G[w0 + q + 1] += t0;
      G[w0 + k + q] += s1; G[w0 + k + q + 1] += t1;
      G[w0 + 2 * k + q] += s2; G[w0 + 2 * k + q + 1] += t2;
      G[w0 + 3 * k + q] += s3; G[w0 + 3 * k + q + 1] += t3;
    }
    for (; q < k; q++) {
      const c0 = colOff + q * n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < n; j++) {
        const c = col[c0 + j];
        s0 += gz[g0 + j] * c;
        s1 += gz[g1 + j] * c;
        s2 += gz[g2 + j] * c;
        s3 += gz[g3 + j] * c;
      }
      G[w0 + q] += s0;
      G[w0 + k + q] += s1;
      G[w0 + 2 * k + q] += s2;
      G[w0 + 3 * k + q] += s3;
    }
  }
  for (; o < co; o++) {
    const g0 = zOff + o * n;
    const w0 = wOff + o * k;
    for (let q = 0; q < k; q++) {
      const c0 = colOff + q * n;
      let s0 = 0;
      for (let j = 0; j < n; j++) s0 += gz[g0 + j] * col[c0 + j];
      G[w0 + q] += s0;
    }
  }
}

/** Keys a conv layer of a relu-cnn spec may have (anything else is a typo). */
const CONV_KEYS = ['channels', 'kernel', 'stride', 'pool'];
const POOL_KEYS = ['kind', 'size'];

/**
 * The relu-cnn branch of {@link createModel}: walks the conv stack with the shape arithmetic of
 * `convStackShapes` and rejects the first layer that does not fit, naming it (`conv[1].kernel`, …);
 * `err.field` is the top-level field (inputShape, conv, dense, …).
 */
/** MNIST images flattened: d = 784 is read as one 28×28 channel when `inputShape` is not given. */
const MNIST_SHAPE = [1, 28, 28] as const;
const MNIST_DIM = 784;

function createReluCnnChecked(spec: ModelSpec): Model {
  const d = spec.inputDim;
  const k = 'relu-cnn';
  const at = (field: string, path: string, value: unknown, allowed: string): never => {
    throw new InputError(`invalid ${path} ${showValue(value)} for model "${k}" (allowed: ${allowed})`, field);
  };

  // Flat 784-dimensional inputs are MNIST's 1×28×28 unless said otherwise.
  const shape = spec.inputShape ?? (d === MNIST_DIM ? MNIST_SHAPE : undefined);
  if (shape === undefined) {
    failField("inputShape", shape, k, `[channels, height, width], 3 integers ≥ 1 with product inputDim = ${d} (d = ${d}); only d = ${MNIST_DIM} defaults to [${MNIST_SHAPE.join(", ")}]`);
  }
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every(isPositiveInteger)) {
    failField('inputShape', shape, k, `[channels, height, width], 3 integers ≥ 1 with product inputDim = ${d}`);
  }
  const [c0, h0, w0] = shape as readonly number[];
  if (c0 * h0 * w0 !== d) failField('inputShape', shape, k, `[channels, height, width] with product inputDim = ${d} (got ${c0 * h0 * w0})`);

  const conv = spec.conv;
  if (!Array.isArray(conv) || conv.length === 0) {
    failField('conv', conv, k, 'a list of at least one layer {channels, kernel, stride?, pool?: {kind: "max" | "avg", size}}');
  }
  let [h, w] = [h0, w0];
  (conv as readonly unknown[]).forEach((raw, l) => {
    const path = `conv[${l}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) at('conv', path, raw, 'an object {channels, kernel, stride?, pool?}');
    const layer = raw as Record<string, unknown>;
    for (const key of Object.keys(layer)) if (!CONV_KEYS.includes(key)) at('conv', `${path}.${key}`, layer[key], `no ${key}: a conv layer has ${CONV_KEYS.join(', ')}`);
    if (!isPositiveInteger(layer.channels)) at('conv', `${path}.channels`, layer.channels, 'an integer ≥ 1');
    const stride = layer.stride ?? 1;
    if (!isPositiveInteger(stride)) at('conv', `${path}.stride`, layer.stride, 'an integer ≥ 1 (default 1)');
    const kernel = layer.kernel;
    const side = Math.min(h, w);
    if (!isPositiveInteger(kernel) || kernel > side) {
      at('conv', `${path}.kernel`, kernel, `an integer from 1 to ${side}, the smaller side of this layer's ${h}×${w} input ('valid' padding)`);
    }
    const ho = convOutputSize(h, kernel as number, stride as number);
    const wo = convOutputSize(w, kernel as number, stride as number);
    let p = 1;
    const pool = layer.pool;
    if (pool !== undefined && pool !== null) {
      if (typeof pool !== 'object' || Array.isArray(pool)) at('conv', `${path}.pool`, pool, '{kind: "max" | "avg", size}, or null for none');
      const pl = pool as Record<string, unknown>;
      for (const key of Object.keys(pl)) if (!POOL_KEYS.includes(key)) at('conv', `${path}.pool.${key}`, pl[key], `no ${key}: a pool has ${POOL_KEYS.join(', ')}`);
      if (pl.kind !== 'max' && pl.kind !== 'avg') at('conv', `${path}.pool.kind`, pl.kind, '"max" or "avg"');
      if (!isPositiveInteger(pl.size) || ho % pl.size !== 0 || wo % pl.size !== 0) {
        at('conv', `${path}.pool.size`, pl.size, `an integer ≥ 1 dividing both sides of the ${ho}×${wo} conv output (non-overlapping windows)`);
      }
      p = pl.size as number;
    }
    [h, w] = [ho / p, wo / p];
  });

  const dense = spec.dense ?? [];
  if (!Array.isArray(dense) || !dense.every(isPositiveInteger)) failField('dense', spec.dense, k, 'a list of integers ≥ 1, the hidden widths of the dense ReLU layers (default [])');

  const order = (conv as readonly unknown[]).length + dense.length + 1;
  if (spec.depth !== undefined && spec.depth !== order) {
    failField('depth', spec.depth, k, `${order} = conv layers + dense layers + 1, or leave depth out`);
  }
  const outputs = spec.outputs ?? 1;
  if (!isPositiveInteger(outputs)) failField('outputs', spec.outputs, k, 'an integer ≥ 1 (1 for binary labels ±1, K for K classes)');
  const leak = spec.leak ?? 0;
  if (typeof leak !== 'number' || !(leak >= 0 && leak < 1)) failField('leak', spec.leak, k, 'a number in [0, 1)');

  return createReluCnn({ inputShape: [c0, h0, w0], conv: conv as readonly ConvLayerOptions[], dense, outputs, leak });
}

/** Bias-free ReLU CNN (claim C2); its order is conv layers + dense layers + 1. */
export const reluCnnDescriptor: ModelDescriptor = {
  kind: 'relu-cnn',
  summary: 'bias-free ReLU CNN: conv → ReLU → pool … → dense → linear, K outputs (claim C2; layers via --config)',
  fields: { inputShape: inputShapeField, conv: convField, dense: denseField, leak: leakField() },
  hints: { width: 'relu-cnn takes the widths of its dense layers from `dense`' },
  traits: { ...NONLINEAR_TRAITS, separateTensors: false },
  create: createReluCnnChecked,
};
