import type { Model, Workspace } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Rng } from '../linalg/rng.ts';

/** Names of the training perturbations. */
/** A registered attack kind (see `ATTACK_KINDS`). */
export type AttackKind = string;

/** Settings of a perturbation (docs/THEORY.md §3). */
export interface AttackConfig {
  readonly kind: AttackKind;
  /** Perturbation norm p ∈ [1, ∞] (`Infinity` for ∞). FGSM is ℓ∞ by definition. */
  readonly p: number;
  /** Radius ε ≥ 0. */
  readonly eps: number;
  /** PGD: number of steps K. */
  readonly steps: number;
  /** PGD: step size α (in the p-norm: each step moves by α·s_p). */
  readonly stepSize: number;
  /** PGD: start from a uniformly drawn point of the ball (seeded, independent of θ). */
  readonly randomStart: boolean;
  /**
   * Optional input box [lo, hi]: perturbed points x_i + δ_i are kept in [lo, hi]^d (FGSM/FGM: clipped
   * after the step; PGD: after every projection onto the ball, as in Madry et al.'s code). Absent or
   * null: no box. Not for `exact` (the closed form has no box).
   */
  readonly clip?: readonly [number, number] | null;
}

/**
 * A perturbation δ_i(θ) for every example. Scale-invariant attacks satisfy δ(cθ) = δ(θ) for c > 0.
 * Directions follow the MARGIN's input gradient (binary: y∇_x f; K-class: ∇_x(f_y − f_j*) with
 * j* = argmax_{j≠y} f_j), never the loss gradient, so nothing underflows and scale invariance holds.
 */
export interface Attack {
  readonly config: AttackConfig;
  /**
   * Write δ_i for the examples `indices` (all n when null) into `delta` (row-major n×d, rows not
   * listed are left alone). `rng` feeds PGD's random start (null: no random start).
   */
  perturb(model: Model, theta: Float64Array, data: Dataset, indices: Int32Array | null, delta: Float64Array, ws: Workspace, rng: Rng | null): void;
}
