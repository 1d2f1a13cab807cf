/**
 * Reference directions in the plane (d = 2), by search over the angle: for signed examples
 * z_i = y_i x_i, a perturbation radius ε with dual norm ‖·‖_q and a positively 1-homogeneous
 * "size" N, the direction w(φ) = (cos φ, sin φ) maximizing
 *
 *   Γ(φ) = (min_i z_i·w − ε‖w‖_q) / N(w).
 *
 * With N = ‖·‖₂ this is the adversarial SVM (B) (ε = 0: the ℓ2-SVM); with N = ‖·‖_q and ε = 0 the
 * ℓq-SVM; with N the C3 interpolation norm of a diagonal or conv net, C3's predicted direction
 * (min N(β) s.t. z_i·β − ε‖β‖_q ≥ 1 is this problem by homogeneity). Γ is continuous and
 * piecewise smooth in φ, so a dense scan of the circle followed by golden-section refinement of the
 * best bracket finds the maximum to ~1e-12 rad at a kink (where min_i switches examples) and ~1e-8 rad
 * at a smooth maximum. Independent of the library's solvers, against which it is tested
 * (test/web/planar.test.ts). Pure: runs in the lab's worker and in Node.
 */

export type Size = (w0: number, w1: number) => number;

/** ‖(a, b)‖_q for q ∈ [1, ∞]. */
export function norm2d(a: number, b: number, q: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (q === Infinity) return Math.max(x, y);
  if (q === 1) return x + y;
  if (q === 2) return Math.hypot(x, y);
  const m = Math.max(x, y);
  if (m === 0) return 0;
  return m * ((x / m) ** q + (y / m) ** q) ** (1 / q);
}

/** The dual exponent q of p (1/p + 1/q = 1). */
export function dual(p: number): number {
  if (p === Infinity) return 1;
  if (p === 1) return Infinity;
  return p / (p - 1);
}

export interface PlanarSolution {
  /** Unit (ℓ2) direction. */
  direction: [number, number];
  /** Its angle in radians, in (−π, π]. */
  angle: number;
  /** Γ at the maximum; ≤ 0 means no direction separates (adversarially). */
  margin: number;
}

/**
 * The maximizer of Γ over the circle. `z` holds the signed examples row-major (n×2). Returns null
 * when no direction gives Γ > 0 (not separable with margin ε in ‖·‖_q).
 */
export function planarMaxMargin(z: ArrayLike<number>, n: number, eps: number, q: number, size: Size, samples = 7200): PlanarSolution | null {
  if (n === 0) return null;
  const gamma = (phi: number): number => {
    const c = Math.cos(phi);
    const s = Math.sin(phi);
    let m = Infinity;
    for (let i = 0; i < n; i++) {
      const v = z[2 * i] * c + z[2 * i + 1] * s;
      if (v < m) m = v;
    }
    const num = m - (eps === 0 ? 0 : eps * norm2d(c, s, q));
    const den = size(c, s);
    return num / den;
  };
  let best = -Infinity;
  let bestK = 0;
  const h = (2 * Math.PI) / samples;
  for (let k = 0; k < samples; k++) {
    const g = gamma(-Math.PI + k * h);
    if (g > best) {
      best = g;
      bestK = k;
    }
  }
  if (!(best > 0)) return null;
  // Golden-section on [φ_k − h, φ_k + h].
  let a = -Math.PI + (bestK - 1) * h;
  let b = -Math.PI + (bestK + 1) * h;
  const r = (Math.sqrt(5) - 1) / 2;
  let x1 = b - r * (b - a);
  let x2 = a + r * (b - a);
  let f1 = gamma(x1);
  let f2 = gamma(x2);
  for (let it = 0; it < 200 && b - a > 1e-15; it++) {
    if (f1 < f2) {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + r * (b - a);
      f2 = gamma(x2);
    } else {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - r * (b - a);
      f1 = gamma(x1);
    }
  }
  let phi = (a + b) / 2;
  let g = gamma(phi);
  if (best > g) {
    phi = -Math.PI + bestK * h;
    g = best;
  }
  if (phi > Math.PI) phi -= 2 * Math.PI;
  if (phi <= -Math.PI) phi += 2 * Math.PI;
  return { direction: [Math.cos(phi), Math.sin(phi)], angle: phi, margin: g };
}

/** Signed examples z_i = y_i x_i (n×2) of points with labels ±1. */
export function signed(points: readonly { x: number; y: number; label: number }[]): Float64Array {
  const z = new Float64Array(2 * points.length);
  points.forEach((p, i) => {
    z[2 * i] = p.label * p.x;
    z[2 * i + 1] = p.label * p.y;
  });
  return z;
}

/** Angle in degrees between two non-zero vectors of the plane, in [0, 180]. */
export function angleDeg(a0: number, a1: number, b0: number, b1: number): number {
  // atan2 of cross and dot: accurate near 0 and 180 (no acos cancellation).
  return (Math.abs(Math.atan2(a0 * b1 - a1 * b0, a0 * b0 + a1 * b1)) * 180) / Math.PI;
}
