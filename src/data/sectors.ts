/**
 * A 2-D toy set that no linear classifier through the origin separates but a bias-free ReLU network
 * does (claim C2's toy experiment): k equal angular sectors with alternating labels (k = 4 is XOR by
 * quadrant). A bias-free ReLU net is 1-homogeneous in x, so its decision depends only on the angle —
 * hence angular classes, with an angular gap around the sector borders so the margin is positive.
 */
import type { Dataset } from './dataset.ts';
import { Rng } from '../linalg/rng.ts';
import { InputError } from '../errors.ts';

export interface SectorsOptions {
  /** Number of points (≥ k). */
  n: number;
  /** Number of sectors: even, ≥ 4 (k = 2 would be linearly separable). */
  k: number;
  seed: number;
  /** Angular gap on each side of a sector border, as a fraction of the sector width, in [0, 0.5). */
  gap: number;
}

export const SECTORS_DEFAULTS: SectorsOptions = { n: 40, k: 4, seed: 0, gap: 0.25 };

/** Points at angles in the sectors' interiors, radii uniform in [1, 2]; sector j has label (−1)^j. */
export function sectors(options: Partial<SectorsOptions> = {}): Dataset {
  const o = { ...SECTORS_DEFAULTS, ...options };
  if (!Number.isInteger(o.k) || o.k < 4 || o.k % 2 !== 0) throw new InputError(`sectors: k=${o.k} is not allowed (an even integer ≥ 4)`, '--data');
  if (!Number.isInteger(o.n) || o.n < o.k) throw new InputError(`sectors: n=${o.n} is not allowed (an integer ≥ k = ${o.k})`, '--data');
  if (!(o.gap >= 0 && o.gap < 0.5)) throw new InputError(`sectors: gap=${o.gap} is not allowed (0 ≤ gap < 0.5)`, '--data');
  const rng = new Rng(o.seed);
  const X = new Float64Array(2 * o.n);
  const y = new Int32Array(o.n);
  const width = (2 * Math.PI) / o.k;
  for (let i = 0; i < o.n; i++) {
    const sector = i % o.k; // every sector gets points
    const a = width * (sector + o.gap + (1 - 2 * o.gap) * rng.uniform());
    const r = 1 + rng.uniform();
    X[2 * i] = r * Math.cos(a);
    X[2 * i + 1] = r * Math.sin(a);
    y[i] = sector % 2 === 0 ? 1 : -1;
  }
  return { name: `sectors:n=${o.n},k=${o.k},seed=${o.seed},gap=${o.gap}`, n: o.n, d: 2, X, y, binary: true, classes: 2 };
}
