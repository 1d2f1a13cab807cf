/**
 * The margin and its input gradient (shared by every gradient-based attack), and the fast gradient
 * method FGM (THEORY §3).
 */
import type { Attack, AttackConfig } from './attack.ts';
import type { Model, Workspace } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import { steepestAscent } from '../linalg/norms.ts';

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
  }
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
  let m: number;
  if (binary) {
    dOut[0] = label;
    m = label * out[0];
  } else {
    const K = model.outputDim;
    // Start from the first j ≠ y so that j* is defined even when every output is NaN.
    let jStar = label === 0 ? 1 : 0;
    let best = out[jStar];
    for (let j = jStar + 1; j < K; j++) {
      if (j !== label && out[j] > best) {
        best = out[j];
        jStar = j;
      }
    }
    for (let j = 0; j < K; j++) dOut[j] = 0;
    dOut[label] = 1;
    dOut[jStar] = -1;
    m = out[label] - best;
  }
  model.backward(theta, x, xOffset, dOut, null, grad, 0, ws);
  return m;
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
 * FGM: δ_i = ε·s_p(−∇_x m(θ; x_i)), one steepest-descent step on the margin in the ℓp geometry, so
 * ⟨−∇_x m, δ_i⟩ = ε‖∇_x m‖_q and ‖δ_i‖_p = ε (δ_i = 0 where the gradient vanishes).
 * Scale-invariant: ∇_x m(cθ) = c^L ∇_x m(θ) and s_p(c·g) = s_p(g) for c > 0 (bit-exact for c = 2,
 * since s_p normalizes by max|g| first). Any p ∈ [1, ∞]. `config` is taken as validated.
 */
export function createFgm(config: AttackConfig): Attack {
  const { p, eps } = config;
  const s = new MarginScratch();
  return {
    config,
    perturb(model, theta, data, indices, delta, ws) {
      checkModelData(config.kind, model, data);
      const d = data.d;
      // ε = 0: δ = 0 exactly (also avoids −0 entries from 0·(−1)), and no gradient is needed.
      if (eps === 0) return zeroRows(delta, d, data.n, indices);
      s.ensure(d, model.outputDim);
      s.prepare(model, theta, data.binary, ws);
      const g = s.grad;
      const count = rowCount(data.n, indices);
      for (let k = 0; k < count; k++) {
        const i = rowIndex(indices, k);
        marginInputGradient(model, theta, data.X, i * d, data.y[i], data.binary, s, ws);
        for (let j = 0; j < d; j++) g[j] = -g[j];
        steepestAscent(g, p, delta, d, 0, i * d);
        for (let j = 0; j < d; j++) delta[i * d + j] *= eps;
      }
    },
  };
}
