/**
 * Closed-form answers on S2 (docs/THEORY.md §8): the deep-linear limit direction u*(ε, p) for any depth, and
 * γ*(ε), derived by hand — an oracle independent of the numerical solvers.
 * S2: z₁ = (1, 0.5), z₂ = (3, −1); thresholds γ₂* = √5/2, γ₁* = 1 (p = ∞), γ_∞* = 1.5 (p = 1).
 */

export interface S2Answer {
  /** Direction angle of u* from the first axis, in degrees. */
  angleDeg: number;
  /** γ*(ε) = max over unit u of min_i z_i·u − ε‖u‖_q. */
  gamma: number;
  /** True at the non-smooth targets 0° and 45° (sparse ℓ1/ℓ∞ directions), where training chatters. */
  kink: boolean;
}

const DEG = 180 / Math.PI;

/** u*(ε, p) on S2 for p ∈ {1, 2, ∞}; null when ε ≥ γ_q* (no margin) or p is not one of these. */
export function s2DeepLinearAnswer(p: number, eps: number): S2Answer | null {
  if (eps < 0) return null;
  if (p === 2) {
    const g2 = Math.sqrt(5) / 2;
    return eps < g2 ? { angleDeg: Math.atan(0.5) * DEG, gamma: g2 - eps, kink: false } : null;
  }
  if (p === Infinity) {
    if (eps <= 0.5) return { angleDeg: Math.atan((0.5 - eps) / (1 - eps)) * DEG, gamma: Math.hypot(1 - eps, 0.5 - eps), kink: eps === 0.5 };
    return eps < 1 ? { angleDeg: 0, gamma: 1 - eps, kink: true } : null;
  }
  if (p === 1) {
    if (eps <= 0.5) return { angleDeg: Math.atan(0.5 / (1 - eps)) * DEG, gamma: Math.hypot(1 - eps, 0.5), kink: eps === 0.5 };
    return eps < 1.5 ? { angleDeg: 45, gamma: (1.5 - eps) / Math.SQRT2, kink: true } : null;
  }
  return null;
}

/**
 * Claim C3 answers on S2 stated in docs/THEORY.md §8 (ε = 0: diagonal 0° (the ℓ1-type bias picks the sparse
 * direction), convolutional 45° (d = 2: the Fourier-sparse direction), at every depth; diagonal,
 * L = 2, p = 2, ε = 0.75: 16.8745° — 16.8744942979° to 10 digits, by a 40-digit golden-section search on
 * Γ(φ) = (min_i z_i·u_φ − ε)/(|cos φ| + |sin φ|)). Null where docs/THEORY.md states no value.
 */
export function s2C3Answer(architecture: 'diagonal' | 'conv', depth: number, p: number, eps: number): number | null {
  if (eps === 0) return architecture === 'diagonal' ? 0 : 45;
  if (architecture === 'diagonal' && depth === 2 && p === 2 && eps === 0.75) return 16.8744942979443;
  return null;
}
