import type { Rng } from '../linalg/rng.ts';

/** One named block of the flat parameter vector θ. */
export interface ParamBlock {
  /** e.g. "W1", "u2". */
  readonly name: string;
  /** Start index in θ. */
  readonly offset: number;
  /** Shape, row-major: [rows, cols] for a matrix (W_k ∈ R^{rows×cols}), [n] for a vector. */
  readonly shape: readonly number[];
}

/** Scratch buffers owned by one model instance, reused across calls (no allocation per step). */
export type Workspace = Record<string, Float64Array>;

/**
 * Scratch for the batch methods of one model: activations of up to `maxRows` examples at once, each
 * stored as a row-major count×width matrix (row b = example b), allocated once by
 * `createBatchWorkspace` and reused by every `forwardBatch`/`backwardBatch` with count ≤ maxRows.
 */
export interface BatchWorkspace {
  /** The largest `count` the buffers hold. */
  readonly maxRows: number;
  /** Model-specific buffers (e.g. relu-mlp: `z`, `a`, `g` and the gathered inputs `x`). */
  readonly buffers: Workspace;
}

/**
 * A bias-free homogeneous model f(θ; x) ∈ R^K (K = `outputDim`; K = 1 for binary classification).
 *
 * f(cθ; x) = c^L f(θ; x) for c > 0 with L = `order`, and f is 1-homogeneous in x.
 * θ is one flat `Float64Array` of length `numParams`, described by `layout`.
 * Inputs are read as `inputDim` entries of `x` starting at `xOffset` (so a row of a flat n×d data
 * matrix can be passed without copying).
 *
 * Calling convention: `backward` must follow a `forward` on the same (θ, x, ws); it uses the
 * activations cached in the workspace.
 *
 * Batch methods (optional; all three or none): the same maps evaluated on `count` examples at once,
 * so that the matrix work runs as matrix–matrix products (`kernels().gemm`) instead of one
 * matrix–vector product per example. Example b (0 ≤ b < count) is the row
 *   r_b = rows[start + b]  (or start + b when rows is null)
 * of the row-major inputs X (any number of rows × `inputDim`), x_b = X[r_b·d … r_b·d + d).
 * With F ∈ R^{count×K} (F_bk = f_k(θ; x_b)) and a seed D ∈ R^{count×K}:
 *   forwardBatch:  out ← F;
 *   backwardBatch: gradTheta ← gradTheta + Σ_b Σ_k D_bk ∇_θ f_k(θ; x_b),
 *                  gradX[b·d …] ← Σ_k D_bk ∇_x f_k(θ; x_b)  (row b of a count×d matrix),
 * i.e. exactly the per-example `forward`/`backward` summed over the rows, with the same subgradient
 * conventions. Results agree with the per-example methods up to the order in which the kernels
 * sum (gemm against gemv/ger: a few roundings; test/models/batch.test.ts).
 * `backwardBatch` must follow a `forwardBatch` on the same (θ, X, rows, start, count, bws), with
 * none of them changed in between; count ≤ bws.maxRows.
 */
export interface Model {
  /** Registry name: linear, deep-linear, diagonal, diagonal-pm, conv, relu-mlp. */
  readonly kind: string;
  /** Homogeneity order L in θ. */
  readonly order: number;
  readonly inputDim: number;
  /** K: 1 for a binary model (label ±1), else the number of classes. */
  readonly outputDim: number;
  readonly numParams: number;
  readonly layout: readonly ParamBlock[];
  /** True when f(θ; x) = ⟨β(θ), x⟩ (then `predictor` is defined). */
  readonly linearInX: boolean;
  /** Structure description recorded with results (depth, widths, …). */
  readonly spec: Readonly<Record<string, unknown>>;

  /** Fresh parameters drawn with `rng` at initialization scale `scale` (see each model's TSDoc). */
  init(rng: Rng, scale: number): Float64Array;
  /** Scratch space for forward/backward. */
  createWorkspace(): Workspace;
  /** out[k] ← f_k(θ; x) for k < K. */
  forward(theta: Float64Array, x: Float64Array, xOffset: number, out: Float64Array, ws: Workspace): void;
  /**
   * After `forward` at the same (θ, x): gradTheta ← gradTheta + Σ_k dOut[k]·∇_θ f_k (if not null),
   * and gradX ← Σ_k dOut[k]·∇_x f_k (overwritten, if not null; `inputDim` entries at gradXOffset).
   */
  backward(
    theta: Float64Array,
    x: Float64Array,
    xOffset: number,
    dOut: Float64Array,
    gradTheta: Float64Array | null,
    gradX: Float64Array | null,
    gradXOffset: number,
    ws: Workspace,
  ): void;
  /** End-to-end predictor β(θ) ∈ R^d, for linear-in-x binary models (f = ⟨β, x⟩). */
  predictor?(theta: Float64Array, out: Float64Array, ws: Workspace): void;

  /**
   * Scratch for the batch methods, for up to `maxRows` ≥ 1 examples per call. A model may return a
   * workspace for fewer rows (at least 1) to bound its memory: callers pass at most the returned
   * `maxRows` rows per call.
   */
  createBatchWorkspace?(maxRows: number): BatchWorkspace;
  /**
   * out[b·K + k] ← f_k(θ; x_b) for b < count, k < K (out is count×K row-major); x_b as in the
   * interface TSDoc (rows of X chosen by `rows` and `start`).
   */
  forwardBatch?(theta: Float64Array, X: Float64Array, rows: Int32Array | null, start: number, count: number, out: Float64Array, bws: BatchWorkspace): void;
  /**
   * After `forwardBatch` on the same arguments: gradTheta ← gradTheta + Σ_b Σ_k dOut[b·K+k] ∇_θ f_k(θ; x_b)
   * (if not null) and gradX[b·d + j] ← Σ_k dOut[b·K+k] ∂f_k/∂x_j (θ; x_b) (overwritten, count×d
   * row-major from offset 0, if not null). With `overwrite` true, gradTheta is overwritten instead
   * (every entry written once: the caller need not zero it first); batch models must honour it.
   */
  backwardBatch?(
    theta: Float64Array,
    X: Float64Array,
    rows: Int32Array | null,
    start: number,
    count: number,
    dOut: Float64Array,
    gradTheta: Float64Array | null,
    gradX: Float64Array | null,
    bws: BatchWorkspace,
    overwrite?: boolean,
  ): void;

  /**
   * Kink methods (optional; both or neither — relu-mlp and leaky-relu-mlp have them): what the Clarke
   * KKT residual (metrics/kkt.ts, docs/THEORY.md §4) needs. After `forward` at (θ, x), the hidden units
   * whose pre-activation sits within `tolerance` of the activation's kink, relative to the unit's own
   * scale: |z_j| ≤ tolerance·‖w_j‖·‖a_in‖ with w_j the unit's weight row and a_in its input (the
   * cosine between them). Returns null when the model has no hidden units.
   */
  nearKinks?(theta: Float64Array, x: Float64Array, xOffset: number, tolerance: number, ws: Workspace): KinkSet | null;
  /**
   * `backward` with chosen activation slopes: gradTheta ← gradTheta + Σ_k dOut[k]·∇_θ f_k where hidden
   * unit j (an index into the concatenated hidden units, as in `KinkSet.units`) takes the derivative
   * slopes[j] instead of the convention wherever slopes[j] is not NaN. With every entry NaN it is
   * `backward` exactly. Must follow `forward` on the same (θ, x, ws).
   */
  backwardWithSlopes?(theta: Float64Array, x: Float64Array, xOffset: number, dOut: Float64Array, slopes: Float64Array, gradTheta: Float64Array, ws: Workspace): void;
}

/**
 * Hidden units of one example near the kink of a positively homogeneous activation σ (σ(z) = z for
 * z > 0, a·z for z ≤ 0): there σ'(z) may be any slope in [a, 1] (the Clarke subdifferential), not
 * only the one-sided convention.
 */
export interface KinkSet {
  /** Number of hidden units in the model (the length of `backwardWithSlopes`'s `slopes`). */
  readonly hiddenUnits: number;
  /** The near-kink units: indices into the concatenated hidden units (layer 1 first). */
  readonly units: Int32Array;
  /** Their hidden layer k (1 … L−1). */
  readonly layers: Int32Array;
  /** Their |z_j| / (‖w_j‖·‖a_in‖) (0 when the denominator is 0, z_j being 0 then). */
  readonly relative: Float64Array;
  /** The interval of slopes at the kink: [a, 1] (ReLU: a = 0). */
  readonly slopeLow: number;
  readonly slopeHigh: number;
}

/** A model whose optional batch methods are all present. */
export type BatchModel = Model & Required<Pick<Model, 'createBatchWorkspace' | 'forwardBatch' | 'backwardBatch'>>;

/** True when `model` implements the three batch methods (`createBatchWorkspace`, `forwardBatch`, `backwardBatch`). */
export function hasBatch(model: Model): model is BatchModel {
  return typeof model.createBatchWorkspace === 'function' && typeof model.forwardBatch === 'function' && typeof model.backwardBatch === 'function';
}

/**
 * Copies the inputs x_b = X[r_b·d …], r_b = rows[start + b], b < count, into the first count·d
 * entries of `gather` (row-major count×d), so that a batch over a subset of rows is one contiguous
 * matrix for gemm. Plain loops: no views, no allocation. Shared by the batch implementations (when
 * rows is null they read X at offset start·d directly).
 */
export function gatherRows(X: Float64Array, rows: Int32Array, start: number, count: number, d: number, gather: Float64Array): void {
  for (let b = 0; b < count; b++) {
    const from = rows[start + b] * d;
    const to = b * d;
    for (let j = 0; j < d; j++) gather[to + j] = X[from + j];
  }
}
