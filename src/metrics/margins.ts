import type { Model, Workspace } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { kernels } from '../linalg/kernels.ts';

/**
 * Margins and their parameter gradients for one model on one data set, with all scratch space
 * allocated once.
 *
 * Margins come in groups of g per example (see losses/loss.ts): binary g = 1, m_i = y_i f(x_i);
 * K-class g = K − 1, m_ij = f_y − f_j for the classes j ≠ y in increasing order.
 * For linear-in-x binary models the work is done through β: m_i = y_i⟨β, x_i⟩ and
 * Σ_i w_i ∇_θ m_i = ∇_θ f(θ; Σ_i w_i y_i x_i) (f is linear in x), one backward pass per step.
 */
export class MarginEvaluator {
  readonly model: Model;
  readonly data: Dataset;
  /** Margins per example. */
  readonly groupSize: number;
  readonly ws: Workspace;
  private readonly out: Float64Array;
  private readonly dOut: Float64Array;
  private readonly beta: Float64Array;
  private readonly v: Float64Array;
  private readonly useBeta: boolean;

  constructor(model: Model, data: Dataset) {
    this.model = model;
    this.data = data;
    this.groupSize = data.binary ? 1 : data.classes - 1;
    this.ws = model.createWorkspace();
    this.out = new Float64Array(model.outputDim);
    this.dOut = new Float64Array(model.outputDim);
    this.beta = new Float64Array(model.inputDim);
    this.v = new Float64Array(model.inputDim);
    this.useBeta = model.linearInX && data.binary && typeof model.predictor === 'function';
  }

  /**
   * Unit-scale margins at θ for the rows `indices` (all when null) of the row-major inputs X
   * (n×d): group of example indices[b] is written at mhat[b·g …].
   */
  margins(theta: Float64Array, X: Float64Array, indices: Int32Array | null, mhat: Float64Array): void {
    const { d, y } = this.data;
    const count = indices ? indices.length : this.data.n;
    const g = this.groupSize;
    if (this.useBeta) {
      this.model.predictor!(theta, this.beta, this.ws);
      const k = kernels();
      for (let b = 0; b < count; b++) {
        const i = indices ? indices[b] : b;
        mhat[b] = y[i] * k.dot(d, this.beta, 0, X, i * d);
      }
      return;
    }
    for (let b = 0; b < count; b++) {
      const i = indices ? indices[b] : b;
      this.model.forward(theta, X, i * d, this.out, this.ws);
      if (g === 1 && this.data.binary) {
        mhat[b] = y[i] * this.out[0];
      } else {
        const yi = y[i];
        let c = 0;
        for (let j = 0; j < this.data.classes; j++) if (j !== yi) mhat[b * g + c++] = this.out[yi] - this.out[j];
      }
    }
  }

  /**
   * grad ← Σ_b Σ_j w_{bj} ∇_θ m_{bj}(θ) (overwritten), for the same rows and grouping as `margins`.
   */
  gradient(theta: Float64Array, X: Float64Array, indices: Int32Array | null, weights: Float64Array, grad: Float64Array): void {
    const { d, y } = this.data;
    const count = indices ? indices.length : this.data.n;
    const g = this.groupSize;
    grad.fill(0);
    if (this.useBeta) {
      const v = this.v;
      v.fill(0);
      const k = kernels();
      for (let b = 0; b < count; b++) {
        const i = indices ? indices[b] : b;
        const w = weights[b] * y[i];
        if (w !== 0) k.axpy(d, w, X, i * d, v, 0);
      }
      this.dOut[0] = 1;
      this.model.forward(theta, v, 0, this.out, this.ws);
      this.model.backward(theta, v, 0, this.dOut, grad, null, 0, this.ws);
      return;
    }
    for (let b = 0; b < count; b++) {
      const i = indices ? indices[b] : b;
      if (this.data.binary) {
        const w = weights[b];
        if (w === 0) continue;
        this.dOut[0] = w * y[i];
      } else {
        const yi = y[i];
        let c = 0;
        let sum = 0;
        for (let j = 0; j < this.data.classes; j++) {
          if (j === yi) continue;
          const w = weights[b * g + c++];
          this.dOut[j] = -w;
          sum += w;
        }
        if (sum === 0) continue;
        this.dOut[yi] = sum;
      }
      this.model.forward(theta, X, i * d, this.out, this.ws);
      this.model.backward(theta, X, i * d, this.dOut, grad, null, 0, this.ws);
    }
  }

  /** β(θ) into `out` (linear-in-x models only). */
  predictor(theta: Float64Array, out: Float64Array): void {
    if (!this.model.predictor) throw new Error(`model ${this.model.kind} has no end-to-end predictor`);
    this.model.predictor(theta, out, this.ws);
  }
}

/** Smallest margin of each example's group (the example's margin) written into `out`. */
export function exampleMargins(mhat: Float64Array, count: number, g: number, out: Float64Array): void {
  for (let b = 0; b < count; b++) {
    let m = Infinity;
    for (let j = 0; j < g; j++) if (mhat[b * g + j] < m) m = mhat[b * g + j];
    out[b] = m;
  }
}
