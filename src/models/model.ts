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
 * A bias-free homogeneous model f(θ; x) ∈ R^K (K = `outputDim`; K = 1 for binary classification).
 *
 * f(cθ; x) = c^L f(θ; x) for c > 0 with L = `order`, and f is 1-homogeneous in x.
 * θ is one flat `Float64Array` of length `numParams`, described by `layout`.
 * Inputs are read as `inputDim` entries of `x` starting at `xOffset` (so a row of a flat n×d data
 * matrix can be passed without copying).
 *
 * Calling convention: `backward` must follow a `forward` on the same (θ, x, ws); it uses the
 * activations cached in the workspace.
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
}
