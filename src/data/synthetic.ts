/**
 * Seeded random separable data with a planted ℓ2 margin (docs/THEORY.md §6, "random d-dimensional sets").
 */
import { InputError } from '../errors.ts';
import { Rng } from '../linalg/rng.ts';
import { lpNorm } from '../linalg/norms.ts';
import type { Dataset } from './dataset.ts';

/** Parameters of {@link syntheticSeparable}. */
export interface SyntheticOptions {
  /** Number of examples n ≥ 1. */
  readonly n: number;
  /** Input dimension d ≥ 1. */
  readonly d: number;
  /** Planted ℓ2 margin γ > 0: every example has y_i⟨w*, x_i⟩ ≥ γ. */
  readonly margin: number;
  /** Integer seed of the {@link Rng}; the same seed gives bit-identical data. */
  readonly seed: number;
}

/** A synthetic data set together with the direction it was built around. */
export interface SyntheticDataset extends Dataset {
  /** The planted unit direction w* ∈ R^d (‖w*‖₂ = 1 up to rounding). */
  readonly plantedDirection: Float64Array;
  /** The planted margin γ: min_i y_i⟨w*, x_i⟩ ≥ γ (up to the rounding of a d-term dot product). */
  readonly plantedMargin: number;
}

/**
 * Largest n·d generated (2^27 float64 entries = 1 GiB): beyond that a typo in n or d would
 * exhaust memory instead of failing with a message.
 */
export const SYNTHETIC_MAX_ENTRIES = 2 ** 27;

/**
 * Seeded linearly separable binary data with a planted ℓ2 margin.
 *
 * Construction (all draws from `new Rng(seed)`, in this order):
 *  1. w* = g/‖g‖₂ with g ~ N(0, I_d): a uniformly random unit direction.
 *  2. For i = 1..n: u_i = g_i/√d with g_i ~ N(0, I_d) (so E‖u_i‖₂² = 1 whatever d is, and γ reads
 *     as a fraction of the typical input norm); t_i = ⟨w*, u_i⟩; y_i = sign(t_i) (+1 when t_i = 0);
 *     x_i = u_i + γ y_i w*.
 *
 * Pushing EVERY point away from the hyperplane ⟨w*, x⟩ = 0 by γ (rather than only those closer than
 * γ) opens a gap of width 2γ without piling points onto the margin, and costs no rejection loop
 * (rejection sampling would need ~1/P(|t| ≥ γ) draws per point, huge for γ ≫ 1/√d).
 * Then y_i⟨w*, x_i⟩ = |t_i| + γ ≥ γ, so the data are separable by w* and the maximum ℓ2 margin is
 * at least γ (it can be larger, with a direction other than w*). Labels are balanced in
 * expectation, not exactly.
 */
export function syntheticSeparable(options: SyntheticOptions): SyntheticDataset {
  const { n, d, margin, seed } = options;
  if (!Number.isInteger(n) || n < 1) throw new InputError(`synthetic data: n must be an integer >= 1, got ${n}`, 'n');
  if (!Number.isInteger(d) || d < 1) throw new InputError(`synthetic data: d must be an integer >= 1, got ${d}`, 'd');
  if (typeof margin !== 'number' || !Number.isFinite(margin) || margin <= 0) {
    throw new InputError(`synthetic data: margin must be a finite number > 0, got ${margin}`, 'margin');
  }
  if (!Number.isSafeInteger(seed)) throw new InputError(`synthetic data: seed must be an integer, got ${seed}`, 'seed');
  if (n * d > SYNTHETIC_MAX_ENTRIES) {
    throw new InputError(`synthetic data: n*d = ${n * d} entries is more than the ${SYNTHETIC_MAX_ENTRIES} allowed`, 'n');
  }
  const rng = new Rng(seed);
  const w = new Float64Array(d);
  let norm = 0;
  // A zero draw has probability 0, but redrawing keeps w* well defined in every case.
  while (norm === 0) {
    for (let j = 0; j < d; j++) w[j] = rng.normal();
    norm = lpNorm(w, 2);
  }
  for (let j = 0; j < d; j++) w[j] /= norm;

  const X = new Float64Array(n * d);
  const y = new Int32Array(n);
  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < n; i++) {
    const off = i * d;
    let t = 0;
    for (let j = 0; j < d; j++) {
      const u = rng.normal() * scale;
      X[off + j] = u;
      t += w[j] * u;
    }
    const yi = t >= 0 ? 1 : -1;
    y[i] = yi;
    const shift = yi * margin;
    for (let j = 0; j < d; j++) X[off + j] += shift * w[j];
  }
  return {
    name: `synthetic:n=${n},d=${d},margin=${margin},seed=${seed}`,
    n,
    d,
    X,
    y,
    binary: true,
    classes: 2,
    plantedDirection: w,
    plantedMargin: margin,
  };
}
