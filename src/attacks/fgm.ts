/**
 * The margin and its input gradient (shared by every gradient-based attack), and the fast gradient
 * method FGM (docs/THEORY.md §3).
 */
import type { Attack, AttackConfig } from './attack.ts';
import type { BatchModel, BatchWorkspace, Model, Workspace } from '../models/model.ts';
import { hasBatch } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import { steepestAscent } from '../linalg/norms.ts';
import { elementwiseOf, kernels } from '../linalg/kernels.ts';
import type { AttackDescriptor } from './descriptor.ts';
import { clipField, epsField, pField } from './fields.ts';

/**
 * Rows per batched pass of the gradient attacks (models with batch methods): FGM/FGSM take one
 * forward and one backward pass per this many rows, PGD one per iterate and this many rows. A
 * training mini-batch (80 on MNIST) is one pass; full-data measurements run in passes of 256 rows,
 * whose buffers (about rows·(3·hidden + 4·d) float64s) come to 13 MB on the MNIST net 784→1024→64→10.
 */
export const ATTACK_BATCH_ROWS = 256;

/**
 * Scratch for `marginInputGradient`: model outputs f ∈ R^K, the output seed dOut ∈ R^K and
 * g = ∇_x m ∈ R^d. Buffers grow lazily to the largest (d, K) seen and are then reused, so attacks
 * allocate nothing per call in steady state.
 */
export class MarginScratch {
  /** f(θ; x), K entries. */
  out = new Float64Array(0);
  /** e_y − e_{j*} (K-class) or y (binary), K entries. */
  dOut = new Float64Array(0);
  /** ∇_x m(θ; x), d entries. */
  grad = new Float64Array(0);
  /** β(θ) when `linear` is set (d entries). */
  beta = new Float64Array(0);
  /**
   * Set by `prepare` for binary linear-in-x models: then ∇_x m = y·β for every x, so β is computed
   * once per attack call instead of one forward/backward per example and PGD iteration.
   */
  linear = false;

  /**
   * Set by `prepare`: the model when the batched path applies (it has batch methods and `linear` is
   * false), else null.
   */
  batch: BatchModel | null = null;
  /** Batch scratch of `batch`'s model; replaced only when the model or a larger pass asks for it. */
  bws: BatchWorkspace | null = null;
  /** Model that `bws` belongs to. */
  private bwsModel: Model | null = null;
  /** The rows `bws` was asked for. */
  private bwsAsked = 0;
  /** Per pass (rows × K): outputs F and the seeds D = e_y − e_{j*} (or y). */
  bOut = new Float64Array(0);
  bDOut = new Float64Array(0);
  /** Per pass (rows × d): ∇_x m of every row, and PGD's points x_i + δ and offsets δ. */
  bGrad: Float64Array = new Float64Array(0);
  bPoints: Float64Array = new Float64Array(0);
  bDelta: Float64Array = new Float64Array(0);
  /** Per pass (rows × d): the pass's input rows x_i (PGD's fused ℓ∞ step reads them beside δ). */
  bRows: Float64Array = new Float64Array(0);

  /** Makes room for inputs of dimension d and K outputs. */
  ensure(d: number, K: number): void {
    if (this.out.length < K) {
      this.out = new Float64Array(K);
      this.dOut = new Float64Array(K);
    }
    if (this.grad.length < d) {
      this.grad = new Float64Array(d);
      this.beta = new Float64Array(d);
    }
  }

  /**
   * Call once per attack call, after `ensure`, at the θ of that call. For a binary linear-in-x model
   * computes β(θ) so that `marginInputGradient` can skip the network (same values: ∇_x f = β, and the
   * model's backward forms y·β by the same chain of products with y = ±1 exactly).
   */
  prepare(model: Model, theta: Float64Array, binary: boolean, ws: Workspace): void {
    this.linear = binary && model.linearInX && typeof model.predictor === 'function';
    if (this.linear) model.predictor!(theta, this.beta, ws);
    // The β shortcut beats any batched pass (O(d) per row): batch only the models without it.
    this.batch = !this.linear && hasBatch(model) ? model : null;
  }

  /**
   * Makes the batch buffers hold passes of min(count, ATTACK_BATCH_ROWS) rows of `model` (after
   * `prepare` set `batch`); returns that pass size. Allocates only for a new model or a larger pass,
   * so repeated attack calls allocate nothing.
   */
  ensureBatch(model: BatchModel, count: number): number {
    const rows = Math.max(1, Math.min(count, ATTACK_BATCH_ROWS));
    const d = model.inputDim;
    const K = model.outputDim;
    // The model may give fewer rows than asked (bws.maxRows, the pass size): compare with the ask.
    if (this.bws === null || this.bwsModel !== model || this.bwsAsked < rows) {
      this.bws = model.createBatchWorkspace(rows);
      this.bwsModel = model;
      this.bwsAsked = rows;
    }
    const R = this.bws.maxRows;
    if (this.bOut.length < R * K) {
      this.bOut = new Float64Array(R * K);
      this.bDOut = new Float64Array(R * K);
    }
    if (this.bGrad.length < R * d) {
      // One `allocate` call: the kernels' elementwise ℓ∞ step runs on them in place (WebAssembly memory).
      [this.bGrad, this.bPoints, this.bDelta, this.bRows] = elementwiseOf(kernels()).allocate([R * d, R * d, R * d, R * d]);
    }
    return R;
  }
}

/**
 * The margin m of one example from its outputs f = out[o …] and the output seed dOut[o …] with
 * ∇_x m = Σ_k dOut_k ∇_x f_k (see `marginInputGradient`); returns m. One place for the j* rule, so
 * that the per-example and batched paths agree exactly.
 */
function marginSeed(out: Float64Array, dOut: Float64Array, o: number, K: number, label: number, binary: boolean): number {
  if (binary) {
    dOut[o] = label;
    return label * out[o];
  }
  // Start from the first j ≠ y so that j* is defined even when every output is NaN.
  let jStar = label === 0 ? 1 : 0;
  let best = out[o + jStar];
  for (let j = jStar + 1; j < K; j++) {
    if (j !== label && out[o + j] > best) {
      best = out[o + j];
      jStar = j;
    }
  }
  for (let j = 0; j < K; j++) dOut[o + j] = 0;
  dOut[o + label] = 1;
  dOut[o + jStar] = -1;
  return out[o + label] - best;
}

/**
 * Margin m(θ; x, y) and its input gradient, written to `s.grad` (first d entries); returns m.
 *  - binary (K = 1, y ∈ ±1): m = y f(θ; x), ∇_x m = y ∇_x f;
 *  - K-class (y ∈ 0..K−1): m = f_y − f_{j*} with j* = argmax_{j≠y} f_j, the FIRST maximizing j on
 *    ties (so the choice is deterministic and unchanged when θ is scaled), ∇_x m = ∇_x(f_y − f_{j*}).
 * The gradient comes from one `backward` with dOut = y (binary) or e_y − e_{j*} (K-class), or from
 * β directly after `s.prepare` found a binary linear-in-x model.
 * `s.ensure(d, K)` and `s.prepare(…)` must have been called in this attack call.
 */
export function marginInputGradient(
  model: Model,
  theta: Float64Array,
  x: Float64Array,
  xOffset: number,
  label: number,
  binary: boolean,
  s: MarginScratch,
  ws: Workspace,
): number {
  const { out, dOut, grad } = s;
  if (s.linear) {
    const d = model.inputDim;
    const beta = s.beta;
    let f = 0;
    for (let j = 0; j < d; j++) {
      f += beta[j] * x[xOffset + j];
      grad[j] = label * beta[j];
    }
    return label * f;
  }
  model.forward(theta, x, xOffset, out, ws);
  const m = marginSeed(out, dOut, 0, model.outputDim, label, binary);
  model.backward(theta, x, xOffset, dOut, null, grad, 0, ws);
  return m;
}

/**
 * `marginInputGradient` for `count` examples in one batched forward and backward pass: example b
 * reads its input from row r_b = xRows[xStart + b] (or xStart + b when xRows is null) of X, and its
 * label from data row `rowIndex(indices, k0 + b)` of y. Writes ∇_x m_b into s.bGrad[b·d …] and the
 * seeds into s.bDOut. Needs `s.prepare` (s.batch = model) and `s.ensureBatch` with count ≤ the pass size.
 */
export function marginInputGradientBatch(
  model: BatchModel,
  theta: Float64Array,
  X: Float64Array,
  xRows: Int32Array | null,
  xStart: number,
  count: number,
  y: Int32Array,
  indices: Int32Array | null,
  k0: number,
  binary: boolean,
  s: MarginScratch,
): void {
  const K = model.outputDim;
  const bws = s.bws!;
  model.forwardBatch(theta, X, xRows, xStart, count, s.bOut, bws);
  for (let b = 0; b < count; b++) marginSeed(s.bOut, s.bDOut, b * K, K, y[rowIndex(indices, k0 + b)], binary);
  model.backwardBatch(theta, X, xRows, xStart, count, s.bDOut, null, s.bGrad, bws);
}

/**
 * Checks that a model and a data set fit together (inputs, and binary ↔ one output, K-class ↔ K
 * outputs), throwing InputError naming the attack and the model otherwise.
 */
export function checkModelData(kind: string, model: Model, data: Dataset): void {
  if (model.inputDim !== data.d) {
    throw new InputError(`attack ${kind}: model "${model.kind}" takes inputs of dimension ${model.inputDim}, data "${data.name}" has d = ${data.d}`, 'model');
  }
  const K = data.binary ? 1 : data.classes;
  if (model.outputDim !== K) {
    throw new InputError(
      `attack ${kind}: data "${data.name}" is ${data.binary ? 'binary (labels ±1)' : `${data.classes}-class`} and needs a model with ${K} output${K === 1 ? '' : 's'}; model "${model.kind}" has ${model.outputDim}`,
      'model',
    );
  }
}

/** Number of rows an attack writes: all n when `indices` is null, else indices.length. */
export function rowCount(n: number, indices: Int32Array | null): number {
  return indices === null ? n : indices.length;
}

/** The k-th row an attack writes (k itself when `indices` is null). Plain loops, no closures: no allocation per call. */
export function rowIndex(indices: Int32Array | null, k: number): number {
  return indices === null ? k : indices[k];
}

/** Writes zeros into the listed rows of δ (n×d row-major). */
export function zeroRows(delta: Float64Array, d: number, n: number, indices: Int32Array | null): void {
  const count = rowCount(n, indices);
  for (let k = 0; k < count; k++) {
    const i = rowIndex(indices, k);
    delta.fill(0, i * d, i * d + d);
  }
}

/**
 * Keeps x + δ in the box [lo, hi]^d: δ_j ← min(max(δ_j, lo − x_j), hi − x_j) for the d entries of δ
 * at `o` and of x at `row` (the offset of the nearest point of the box, per coordinate).
 */
export function clipOffset(delta: Float64Array, o: number, X: Float64Array, row: number, d: number, lo: number, hi: number): void {
  for (let j = 0; j < d; j++) {
    const x = X[row + j];
    const v = delta[o + j];
    delta[o + j] = v < lo - x ? lo - x : v > hi - x ? hi - x : v;
  }
}

/**
 * FGM: δ_i = ε·s_p(−∇_x m(θ; x_i)), one steepest-descent step on the margin in the ℓp geometry, so
 * ⟨−∇_x m, δ_i⟩ = ε‖∇_x m‖_q and ‖δ_i‖_p = ε (δ_i = 0 where the gradient vanishes).
 * Models with batch methods (and no β shortcut) get ∇_x m from one batched forward/backward pass per
 * ATTACK_BATCH_ROWS rows. That ∇_x m differs from the per-example one only by the order in which
 * gemm sums (a few roundings), and s_p is Lipschitz away from g = 0, so δ agrees to a few roundings
 * (test/attacks/batch.test.ts: |Δ| ≤ 1e-12·max(1, |δ|)); only a gradient entry within rounding of 0
 * could flip an FGSM sign.
 * Scale-invariant: ∇_x m(cθ) = c^L ∇_x m(θ) and s_p(c·g) = s_p(g) for c > 0 (bit-exact for c = 2,
 * since s_p normalizes by max|g| first). Any p ∈ [1, ∞]. `config` is taken as validated.
 */
export function createFgm(config: AttackConfig): Attack {
  const { p, eps } = config;
  const box = config.clip ?? null;
  const s = new MarginScratch();
  /** δ for label +1 then for label −1 (2·d entries), on the linear-in-x path; grown on first use. */
  let fgmLabelDelta = new Float64Array(0);
  return {
    config,
    perturb(model, theta, data, indices, delta, ws) {
      checkModelData(config.kind, model, data);
      const d = data.d;
      // ε = 0: δ = 0 exactly (also avoids −0 entries from 0·(−1)), and no gradient is needed.
      if (eps === 0) return zeroRows(delta, d, data.n, indices);
      s.ensure(d, model.outputDim);
      s.prepare(model, theta, data.binary, ws);
      const count = rowCount(data.n, indices);
      const bm = s.batch;
      if (bm !== null) {
        // One forward and one backward pass per ATTACK_BATCH_ROWS rows, then the same per-row map.
        const B = s.ensureBatch(bm, count);
        const G = s.bGrad;
        for (let k0 = 0; k0 < count; k0 += B) {
          const c = Math.min(B, count - k0);
          marginInputGradientBatch(bm, theta, data.X, indices, k0, c, data.y, indices, k0, data.binary, s);
          for (let b = 0; b < c; b++) {
            const i = rowIndex(indices, k0 + b);
            const go = b * d;
            if (p === Infinity) {
              // FGSM: δ = ε·sign(−g) in one pass, the sign as 0/1 selections (no data-dependent branch);
              // the same values as the general path below for finite g.
              for (let j = 0; j < d; j++) {
                const gj = G[go + j];
                delta[i * d + j] = (+(gj < 0) - +(gj > 0)) * eps;
              }
              if (box) clipOffset(delta, i * d, data.X, i * d, d, box[0], box[1]);
              continue;
            }
            for (let j = 0; j < d; j++) G[go + j] = -G[go + j];
            steepestAscent(G, p, delta, d, go, i * d);
            for (let j = 0; j < d; j++) delta[i * d + j] *= eps;
            if (box) clipOffset(delta, i * d, data.X, i * d, d, box[0], box[1]);
          }
        }
        return;
      }
      const g = s.grad;
      if (s.linear) {
        // Binary linear-in-x model: ∇_x m_i = y_i β for every x, so δ_i depends on the row only
        // through y_i. The per-row map below is run once for y = +1 and once for y = −1 (the same
        // arithmetic, so bit for bit the per-row result, signed zeros included), then copied: O(d + count·d)
        // instead of a gradient and a steepest-ascent direction per row.
        if (fgmLabelDelta.length < 2 * d) fgmLabelDelta = new Float64Array(2 * d);
        const both = fgmLabelDelta;
        for (let h = 0; h < 2; h++) {
          const label = h === 0 ? 1 : -1;
          const beta = s.beta;
          for (let j = 0; j < d; j++) g[j] = -(label * beta[j]);
          steepestAscent(g, p, both, d, 0, h * d);
          for (let j = 0; j < d; j++) both[h * d + j] *= eps;
        }
        for (let k = 0; k < count; k++) {
          const i = rowIndex(indices, k);
          // Binary labels are ±1 (s.linear implies binary data).
          const o = data.y[i] > 0 ? 0 : d;
          for (let j = 0; j < d; j++) delta[i * d + j] = both[o + j];
          if (box) clipOffset(delta, i * d, data.X, i * d, d, box[0], box[1]);
        }
        return;
      }
      for (let k = 0; k < count; k++) {
        const i = rowIndex(indices, k);
        marginInputGradient(model, theta, data.X, i * d, data.y[i], data.binary, s, ws);
        for (let j = 0; j < d; j++) g[j] = -g[j];
        steepestAscent(g, p, delta, d, 0, i * d);
        for (let j = 0; j < d; j++) delta[i * d + j] *= eps;
        if (box) clipOffset(delta, i * d, data.X, i * d, d, box[0], box[1]);
      }
    },
  };
}

export const fgmDescriptor: AttackDescriptor = {
  kind: 'fgm',
  summary: 'fast gradient method, one ε·s_p step (any p)',
  fields: { p: pField, eps: epsField, clip: clipField },
  traits: { fixedNorm: null, needsLinearInX: false, perturbs: true },
  create: createFgm,
};
