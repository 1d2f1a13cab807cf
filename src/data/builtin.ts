/**
 * The 2-D reference sets with known answers (docs/THEORY.md §8).
 *
 * Both are given as points z_k = y_k x_k; the data set stores x_i with labels y_i ∈ {−1, +1}.
 * A point z with label +1 is stored as x = z, its mirror as x = −z with label −1 (so y x = z for
 * both, and every margin y⟨w, x⟩ is the same for a point and its mirror).
 */
import type { Dataset } from './dataset.ts';

/** Options of the built-in sets. */
export interface BuiltinOptions {
  /** Also include the negatives −z_k with label −1 (default: true for S1, false for S2). */
  readonly mirrored?: boolean;
}

/** S1's points z₁, z₂ (docs/THEORY.md §8). */
export const S1_POINTS: readonly (readonly [number, number])[] = [
  [0.5, 1.5],
  [1.5, 0.5],
];

/** S2's points z₁, z₂ (docs/THEORY.md §8). */
export const S2_POINTS: readonly (readonly [number, number])[] = [
  [1, 0.5],
  [3, -1],
];

function fromPoints(name: string, points: readonly (readonly [number, number])[], mirrored: boolean): Dataset {
  const m = points.length;
  const n = mirrored ? 2 * m : m;
  const X = new Float64Array(2 * n);
  const y = new Int32Array(n);
  for (let k = 0; k < m; k++) {
    X[2 * k] = points[k][0];
    X[2 * k + 1] = points[k][1];
    y[k] = 1;
    if (mirrored) {
      // x = −z with y = −1 keeps y·x = z.
      X[2 * (m + k)] = -points[k][0];
      X[2 * (m + k) + 1] = -points[k][1];
      y[m + k] = -1;
    }
  }
  return { name, n, d: 2, X, y, binary: true, classes: 2 };
}

/**
 * S1 (smoke test): z₁ = (0.5, 1.5), z₂ = (1.5, 0.5) with label +1, then −z₁, −z₂ with label −1
 * (rows in that order; n = 4, d = 2). For every p and admissible ε the limit direction is
 * (1, 1)/√2 and the ℓ2 margin is √2. `mirrored: false` keeps only z₁, z₂ (same answers).
 */
export function s1(options: BuiltinOptions = {}): Dataset {
  const mirrored = options.mirrored ?? true;
  return fromPoints(mirrored ? 's1' : 's1-unmirrored', S1_POINTS, mirrored);
}

/**
 * S2 (discriminating): z₁ = (1, 0.5), z₂ = (3, −1), both label +1 (n = 2, d = 2); with
 * `mirrored: true` also −z₁, −z₂ with label −1 (n = 4). ℓ2-SVM direction 26.5651°, γ₂* = √5/2;
 * the ε-dependent limits are tabulated in docs/THEORY.md §8.
 */
export function s2(options: BuiltinOptions = {}): Dataset {
  const mirrored = options.mirrored ?? false;
  return fromPoints(mirrored ? 's2-mirrored' : 's2', S2_POINTS, mirrored);
}
