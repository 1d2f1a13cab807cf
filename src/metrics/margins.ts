import type { BatchModel, BatchWorkspace, Model, Workspace } from '../models/model.ts';
import { hasBatch } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { kernels } from '../linalg/kernels.ts';

/**
 * Rows per batch pass of {@link MarginEvaluator} (models with batch methods). A training mini-batch
 * (80 on MNIST) fits in one pass, so `gradientAtLastMargins` reuses its activations; full-data
 * measurements run in passes of this many rows. The batch workspace holds about
 * rows·(3·hidden + d) float64s (256 rows of the MNIST net 784→1024→64→10: 8.3 MB).
 */
export const MARGIN_BATCH_ROWS = 256;

/** Options of {@link MarginEvaluator}. */
export interface MarginEvaluatorOptions {
  /** Rows per batch pass, an integer ≥ 1; default {@link MARGIN_BATCH_ROWS}. */
  readonly batchRows?: number;
}

/**
 * Writes the margin group of one example from its outputs f = out[outOffset …]: binary (g = 1)
 * m = y·f_0; K-class m_j = f_y − f_j for j ≠ y in increasing order, at mhat[mOffset …].
 */
function writeMargins(out: Float64Array, outOffset: number, yi: number, binary: boolean, classes: number, mhat: Float64Array, mOffset: number): void {
  if (binary) {
    mhat[mOffset] = yi * out[outOffset];
    return;
  }
  const fy = out[outOffset + yi];
  let c = 0;
  for (let j = 0; j < classes; j++) if (j !== yi) mhat[mOffset + c++] = fy - out[outOffset + j];
}

/**
 * Output seed of one example for Σ_j w_j ∇m_j: binary dOut = w·y; K-class dOut_y = Σ_j w_j and
 * dOut_j = −w_j (j ≠ y), from the weights at weights[wOffset …] (same order as the margins).
 * Returns false (and writes nothing) when every weight is 0, so that callers can skip the example.
 */
function writeSeed(weights: Float64Array, wOffset: number, yi: number, binary: boolean, classes: number, dOut: Float64Array, dOffset: number): boolean {
  if (binary) {
    const w = weights[wOffset];
    if (w === 0) return false;
    dOut[dOffset] = w * yi;
    return true;
  }
  let c = 0;
  let sum = 0;
  for (let j = 0; j < classes; j++) {
    if (j === yi) continue;
    const w = weights[wOffset + c++];
    dOut[dOffset + j] = -w;
    sum += w;
  }
  if (sum === 0) return false;
  dOut[dOffset + yi] = sum;
  return true;
}

/**
 * Margins and their parameter gradients for one model on one data set, with all scratch space
 * allocated once.
 *
 * Margins come in groups of g per example (see losses/loss.ts): binary g = 1, m_i = y_i f(x_i);
 * K-class g = K − 1, m_ij = f_y − f_j for the classes j ≠ y in increasing order.
 * For linear-in-x binary models the work is done through β: m_i = y_i⟨β, x_i⟩ and
 * Σ_i w_i ∇_θ m_i = ∇_θ f(θ; Σ_i w_i y_i x_i) (f is linear in x), one backward pass per step.
 * Otherwise, models with batch methods (`Model.forwardBatch`) are evaluated in passes of up to
 * `batchRows` rows (matrix–matrix products); the others one example at a time.
 */
export class MarginEvaluator {
  readonly model: Model;
  readonly data: Dataset;
  /** Margins per example. */
  readonly groupSize: number;
  readonly ws: Workspace;
  /** Rows per batch pass. */
  readonly batchRows: number;
  private readonly out: Float64Array;
  private readonly dOut: Float64Array;
  private readonly beta: Float64Array;
  private readonly v: Float64Array;
  private readonly useBeta: boolean;
  /** The model when the batch path applies (batch methods present, not on the β path). */
  private readonly batchModel: BatchModel | null;
  /** Batch scratch, grown to min(rows asked for, batchRows) on first use and then reused. */
  private bws: BatchWorkspace | null = null;
  /** The rows `bws` was asked for. */
  private bwsAsked = 0;
  /** Outputs F and seeds D of one pass, (rows × K) each. */
  private bOut = new Float64Array(0);
  private bDOut = new Float64Array(0);
  // What the last `margins` call evaluated, for `gradientAtLastMargins`.
  private lastTheta: Float64Array | null = null;
  private lastX: Float64Array | null = null;
  private lastIndices: Int32Array | null = null;
  private lastCount = 0;
  /** True while `bws` holds the activations of every row of the last `margins` call (one pass). */
  private cached = false;

  constructor(model: Model, data: Dataset, options: MarginEvaluatorOptions = {}) {
    const batchRows = options.batchRows ?? MARGIN_BATCH_ROWS;
    if (!Number.isInteger(batchRows) || batchRows < 1) throw new RangeError(`MarginEvaluator: batchRows must be an integer ≥ 1, got ${batchRows}`);
    this.model = model;
    this.data = data;
    this.groupSize = data.binary ? 1 : data.classes - 1;
    this.ws = model.createWorkspace();
    this.batchRows = batchRows;
    this.out = new Float64Array(model.outputDim);
    this.dOut = new Float64Array(model.outputDim);
    this.beta = new Float64Array(model.inputDim);
    this.v = new Float64Array(model.inputDim);
    this.useBeta = model.linearInX && data.binary && typeof model.predictor === 'function';
    this.batchModel = !this.useBeta && hasBatch(model) ? model : null;
  }

  /** The batch workspace in use (null before the first batch pass); exposed so tests can check reuse. */
  get batchWorkspace(): BatchWorkspace | null {
    return this.bws;
  }

  /** Makes the batch scratch hold passes of min(count, batchRows) rows (allocates only when it grows). */
  private ensureBatch(model: BatchModel, count: number): BatchWorkspace {
    const rows = Math.max(1, Math.min(count, this.batchRows));
    // The model may give fewer rows than asked (bws.maxRows, the pass size): compare with the ask.
    if (this.bws === null || this.bwsAsked < rows) {
      this.bws = model.createBatchWorkspace(rows);
      this.bwsAsked = rows;
      this.bOut = new Float64Array(rows * model.outputDim);
      this.bDOut = new Float64Array(rows * model.outputDim);
    }
    return this.bws;
  }

  /**
   * Unit-scale margins at θ for the rows `indices` (all when null) of the row-major inputs X
   * (n×d): group of example indices[b] is written at mhat[b·g …].
   */
  margins(theta: Float64Array, X: Float64Array, indices: Int32Array | null, mhat: Float64Array): void {
    const { d, y, binary, classes } = this.data;
    const count = indices ? indices.length : this.data.n;
    const g = this.groupSize;
    this.lastTheta = theta;
    this.lastX = X;
    this.lastIndices = indices;
    this.lastCount = count;
    this.cached = false;
    if (this.useBeta) {
      this.model.predictor!(theta, this.beta, this.ws);
      const beta = this.beta;
      if (d < INLINE_BELOW) {
        // Short rows: the sequential sum every backend's dot uses at this length, without a kernel
        // call per row (bit for bit the same).
        for (let b = 0; b < count; b++) {
          const i = indices ? indices[b] : b;
          const o = i * d;
          let s = 0;
          for (let j = 0; j < d; j++) s += beta[j] * X[o + j];
          mhat[b] = y[i] * s;
        }
        return;
      }
      const k = kernels();
      for (let b = 0; b < count; b++) {
        const i = indices ? indices[b] : b;
        mhat[b] = y[i] * k.dot(d, beta, 0, X, i * d);
      }
      return;
    }
    const bm = this.batchModel;
    if (bm !== null) {
      const bws = this.ensureBatch(bm, count);
      const K = bm.outputDim;
      const out = this.bOut;
      const B = bws.maxRows;
      for (let b0 = 0; b0 < count; b0 += B) {
        const c = Math.min(B, count - b0);
        bm.forwardBatch(theta, X, indices, b0, c, out, bws);
        for (let b = 0; b < c; b++) writeMargins(out, b * K, y[indices ? indices[b0 + b] : b0 + b], binary, classes, mhat, (b0 + b) * g);
      }
      // One pass: the workspace still holds every row's activations.
      this.cached = count <= B;
      return;
    }
    for (let b = 0; b < count; b++) {
      const i = indices ? indices[b] : b;
      this.model.forward(theta, X, i * d, this.out, this.ws);
      writeMargins(this.out, 0, y[i], binary, classes, mhat, b * g);
    }
  }

  /**
   * grad ← Σ_b Σ_j w_{bj} ∇_θ m_{bj}(θ) (overwritten), for the same rows and grouping as `margins`.
   */
  gradient(theta: Float64Array, X: Float64Array, indices: Int32Array | null, weights: Float64Array, grad: Float64Array): void {
    const { d, y, binary, classes } = this.data;
    const count = indices ? indices.length : this.data.n;
    const g = this.groupSize;
    grad.fill(0);
    if (this.useBeta) {
      const v = this.v;
      v.fill(0);
      const k = kernels();
      const inline = d < INLINE_BELOW;
      for (let b = 0; b < count; b++) {
        const i = indices ? indices[b] : b;
        const w = weights[b] * y[i];
        if (w === 0) continue;
        if (inline) {
          // As every backend's axpy at this length, without a kernel call per row.
          const o = i * d;
          for (let j = 0; j < d; j++) v[j] += w * X[o + j];
        } else k.axpy(d, w, X, i * d, v, 0);
      }
      this.dOut[0] = 1;
      this.model.forward(theta, v, 0, this.out, this.ws);
      this.model.backward(theta, v, 0, this.dOut, grad, null, 0, this.ws);
      return;
    }
    const bm = this.batchModel;
    if (bm !== null) {
      const bws = this.ensureBatch(bm, count);
      // The passes below overwrite the activations of the last `margins` call.
      this.cached = false;
      const B = bws.maxRows;
      for (let b0 = 0; b0 < count; b0 += B) {
        const c = Math.min(B, count - b0);
        // A pass whose weights are all 0 adds exactly nothing: skip its forward and backward.
        if (!this.seedPass(indices, b0, c, weights)) continue;
        bm.forwardBatch(theta, X, indices, b0, c, this.bOut, bws);
        bm.backwardBatch(theta, X, indices, b0, c, this.bDOut, grad, null, bws);
      }
      return;
    }
    for (let b = 0; b < count; b++) {
      const i = indices ? indices[b] : b;
      if (!writeSeed(weights, b * g, y[i], binary, classes, this.dOut, 0)) continue;
      this.model.forward(theta, X, i * d, this.out, this.ws);
      this.model.backward(theta, X, i * d, this.dOut, grad, null, 0, this.ws);
    }
  }

  /**
   * Writes the output seeds D (c × K) of rows b0..b0+c−1 into `bDOut` (rows whose weights are all 0
   * get a zero row); returns false when every row's weights are 0.
   */
  private seedPass(indices: Int32Array | null, b0: number, c: number, weights: Float64Array): boolean {
    const { y, binary, classes } = this.data;
    const K = this.model.outputDim;
    const g = this.groupSize;
    const D = this.bDOut;
    let any = false;
    for (let b = 0; b < c; b++) {
      const i = indices ? indices[b0 + b] : b0 + b;
      if (writeSeed(weights, (b0 + b) * g, y[i], binary, classes, D, b * K)) any = true;
      else D.fill(0, b * K, b * K + K);
    }
    return any;
  }

  /**
   * `gradient` at the θ, inputs and rows of the last `margins` call, which must not have changed
   * since (the trainer's order: margins → loss weights → gradient). When that call fitted in one
   * batch pass, its activations are reused and only the backward pass runs (one forward pass per
   * step saved); otherwise this is exactly `gradient(θ, X, indices, weights, grad)`. Same result
   * either way: the forward pass is deterministic.
   */
  gradientAtLastMargins(weights: Float64Array, grad: Float64Array): void {
    const theta = this.lastTheta;
    const X = this.lastX;
    if (theta === null || X === null) throw new Error('MarginEvaluator.gradientAtLastMargins: call margins() first');
    const bm = this.batchModel;
    if (bm === null || !this.cached) {
      this.gradient(theta, X, this.lastIndices, weights, grad);
      return;
    }
    const count = this.lastCount;
    // One pass: it overwrites grad (no zeroing pass over θ first); all weights 0: the gradient is 0.
    if (this.seedPass(this.lastIndices, 0, count, weights)) bm.backwardBatch(theta, X, this.lastIndices, 0, count, this.bDOut, grad, null, this.bws!, true);
    else grad.fill(0);
  }

  /** β(θ) into `out` (linear-in-x models only). */
  predictor(theta: Float64Array, out: Float64Array): void {
    if (!this.model.predictor) throw new Error(`model ${this.model.kind} has no end-to-end predictor`);
    this.model.predictor(theta, out, this.ws);
  }
}

/**
 * Rows shorter than this are summed inline on the β path: every backend's dot and axpy run the plain
 * sequential loop below the wasm backend's thresholds (DEFAULT_THRESHOLDS.dot = .axpy = 128), so the
 * inline loop is bit for bit theirs, without three levels of calls per example.
 */
const INLINE_BELOW = 128;

/** Smallest margin of each example's group (the example's margin) written into `out`. */
export function exampleMargins(mhat: Float64Array, count: number, g: number, out: Float64Array): void {
  for (let b = 0; b < count; b++) {
    let m = Infinity;
    for (let j = 0; j < g; j++) if (mhat[b * g + j] < m) m = mhat[b * g + j];
    out[b] = m;
  }
}
