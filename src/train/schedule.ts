/**
 * Step-size schedules (docs/THEORY.md §7). Training keeps θ = ρ·θ̂ with ‖θ̂‖ = 1 and log ρ tracked apart,
 * and every schedule is a coefficient c_t of the sphere update θ̂ ← θ̂ + c_t Σ_k w_k ∇_θ m̂_k(θ̂)
 * (w = −∇L/L weights), followed by log ρ += log‖θ̂‖ and renormalization. In the original parameters:
 *
 *  - `constant`: plain GD θ ← θ − η∇L(θ); c_t = η_t · L(θ) · ρ^{L−2} (stalls once L underflows, as GD does).
 *  - `loss-scaled`, form `sphere` (default): c_t = η_t, i.e. GD with step η_t/(ρ^{L−2} L(θ)) — safe at any depth.
 *  - `loss-scaled`, form `direct`: c_t = η_t·ρ^{L−2}, i.e. GD with step η_t/L(θ) (docs/THEORY.md's golden
 *    loss-scaled trace); overflows for L ≥ 3 after long runs.
 *  - `loss-based` (Lyu & Li): like loss-scaled with an adaptive α_t in place of η_t: α ×2^{1/5} after a
 *    step that lowered the loss; roll back and α ÷2^{1/10} after one that raised it or was not finite.
 *
 * η_t = η₀/√(t+1) with decay `sqrt` (default for loss-scaled: avoids O(η) jitter), η₀ with `none`.
 */
export type ScheduleKind = 'constant' | 'loss-scaled' | 'loss-based';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'loss-scaled', 'loss-based'];
export type StepForm = 'sphere' | 'direct';
export type LrDecay = 'none' | 'sqrt';

export interface ScheduleConfig {
  readonly kind: ScheduleKind;
  /** η₀ (or the initial α for loss-based). */
  readonly lr: number;
  readonly decay: LrDecay;
  readonly form: StepForm;
}

/** Lyu & Li's growth factor after a good step. */
export const LOSS_BASED_GROW = Math.pow(2, 1 / 5);
/** Lyu & Li's shrink factor after a rolled-back step. */
export const LOSS_BASED_SHRINK = Math.pow(2, 1 / 10);

/** η_t for step t (0-based). */
export function baseRate(s: ScheduleConfig, t: number): number {
  return s.decay === 'sqrt' ? s.lr / Math.sqrt(t + 1) : s.lr;
}

/**
 * Coefficient c_t of the sphere update (see module doc).
 * @param rate η_t (or α_t for loss-based)
 * @param logL log of the loss at the current θ
 * @param logRho log‖θ‖
 * @param order L
 */
export function sphereCoefficient(s: ScheduleConfig, rate: number, logL: number, logRho: number, order: number): number {
  if (s.kind === 'constant') return rate * Math.exp(logL + (order - 2) * logRho);
  if (s.form === 'direct') return rate * Math.exp((order - 2) * logRho);
  return rate;
}
