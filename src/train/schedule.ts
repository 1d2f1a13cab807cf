/**
 * Step-size schedules (docs/THEORY.md §7). Training keeps θ = ρ·θ̂ with ‖θ̂‖ = 1 and log ρ tracked apart,
 * and every schedule is a coefficient c_t of the sphere update θ̂ ← θ̂ + c_t Σ_k w_k ∇_θ m̂_k(θ̂)
 * (w = −∇L/L weights), followed by log ρ += log‖θ̂‖ and renormalization. In the original parameters:
 *
 *  - `normalized` (default): c_t = η_t/‖g_t‖ with g_t = Σ_k w_k ∇_θ m̂_k(θ̂) (∝ −∇L), i.e. GD whose step has the
 *    length η_t·‖θ‖: θ ← θ − η_t ‖θ‖ ∇L/‖∇L‖. θ̂ turns by about η_t radians per step whatever the data
 *    scale, the depth or the loss level, and η_t = η₀/(1 + t/τ) (decay `inverse`) lets the direction
 *    error fall like 1/t while ‖θ‖ still grows without bound.
 *  - `constant`: plain GD θ ← θ − η∇L(θ); c_t = η_t · L(θ) · ρ^{L−2} (stalls once L underflows, as GD does).
 *  - `loss-scaled`, form `sphere`: c_t = η_t, i.e. GD with step η_t/(ρ^{L−2} L(θ)) — safe at any depth, but
 *    its turn per step ≈ η_t‖g_t‖ scales with the data (‖g‖ ∝ ‖x‖) and with L.
 *  - `loss-scaled`, form `direct`: c_t = η_t·ρ^{L−2}, i.e. GD with step η_t/L(θ) (docs/THEORY.md's golden
 *    loss-scaled trace); overflows for L ≥ 3 after long runs.
 *  - `loss-based` (Lyu & Li): like loss-scaled with an adaptive α_t in place of η_t: α ×2^{1/5} after a
 *    step that lowered the loss; roll back and α ÷2^{1/10} after one that raised it or was not finite.
 *    α is capped so that the normalized update stays below {@link LOSS_BASED_MAX_STEP}: ‖c_t g_t‖ ≤ 1
 *    (without the cap α grows ×2^{1/5} per step once every step lowers the loss, and overflowed).
 *
 * η_t = η₀/(1 + t/τ) with decay `inverse` (default for normalized; τ = `decaySteps`), η₀/√(t+1) with
 * `sqrt` (default for loss-scaled: avoids O(η) jitter), η₀ with `none`.
 */
import { InputError } from '../errors.ts';

export type ScheduleKind = 'normalized' | 'constant' | 'loss-scaled' | 'loss-based';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['normalized', 'constant', 'loss-scaled', 'loss-based'];
export type StepForm = 'sphere' | 'direct';
export type LrDecay = 'none' | 'sqrt' | 'inverse';
export const LR_DECAYS: readonly LrDecay[] = ['none', 'sqrt', 'inverse'];

export interface ScheduleConfig {
  readonly kind: ScheduleKind;
  /** η₀ (or the initial α for loss-based; for normalized, the turn of θ̂ per step at t = 0, in radians). */
  readonly lr: number;
  readonly decay: LrDecay;
  readonly form: StepForm;
  /** τ of the `inverse` decay η₀/(1 + t/τ), in steps (default {@link DEFAULT_DECAY_STEPS}); unused by the other decays. */
  readonly decaySteps?: number;
}

/**
 * Default τ of the `inverse` decay: with η₀ = 0.1 the step stays near η₀ for ~10² steps (enough to
 * leave the start and align the layers), then the 1/t tail sets the rate; ητ = 10 measured best on the
 * issue-11 grid (docs/BENCHMARKS.md, "Default schedule").
 */
export const DEFAULT_DECAY_STEPS = 100;

/**
 * Largest normalized update ‖c_t g_t‖ (= ‖Δθ̂‖ before renormalization) a loss-based step may take:
 * at 1, θ̂ turns by at most 45°. α is clipped to it, so it stays finite on every run.
 */
export const LOSS_BASED_MAX_STEP = 1;

/** Lyu & Li's growth factor after a good step. */
export const LOSS_BASED_GROW = Math.pow(2, 1 / 5);
/** Lyu & Li's shrink factor after a rolled-back step. */
export const LOSS_BASED_SHRINK = Math.pow(2, 1 / 10);

/** η_t for step t (0-based). */
export function baseRate(s: ScheduleConfig, t: number): number {
  if (s.decay === 'sqrt') return s.lr / Math.sqrt(t + 1);
  if (s.decay === 'inverse') return s.lr / (1 + t / (s.decaySteps ?? DEFAULT_DECAY_STEPS));
  return s.lr;
}

/**
 * Coefficient c_t of the sphere update (see module doc).
 * @param rate η_t (or α_t for loss-based)
 * @param logL log of the loss at the current θ
 * @param logRho log‖θ‖
 * @param order L
 * @param gradNorm ‖g_t‖ = ‖Σ_k w_k ∇_θ m̂_k(θ̂)‖ at the point the step starts from (used by normalized only)
 */
export function sphereCoefficient(s: ScheduleConfig, rate: number, logL: number, logRho: number, order: number, gradNorm = NaN): number {
  if (s.kind === 'normalized') return rate / gradNorm;
  if (s.kind === 'constant') return rate * Math.exp(logL + (order - 2) * logRho);
  if (s.form === 'direct') return rate * Math.exp((order - 2) * logRho);
  return rate;
}

/** State of a schedule without memory (`constant`, `loss-scaled`): the coefficient depends on t and the loss only. */
export interface StatelessScheduleState {
  readonly kind: 'normalized' | 'constant' | 'loss-scaled';
}

/**
 * State of the `loss-based` schedule (Lyu & Li): the current α, the last accepted point's log-loss
 * and log ρ (the rollback target; θ̂ and its gradient are kept by the stepper), and the rollback count.
 */
export interface LossBasedScheduleState {
  readonly kind: 'loss-based';
  /** α_t. */
  readonly alpha: number;
  /** log L at the last accepted point (+∞ before the first step). */
  readonly bestLogLoss: number;
  /** log ρ at the last accepted point. */
  readonly bestLogRho: number;
  /** Steps rolled back so far. */
  readonly rollbacks: number;
}

/** What a schedule carries from one step to the next (plain data; never mutated by `update`). */
export type ScheduleState = StatelessScheduleState | LossBasedScheduleState;

/** What `Schedule.update` is told about step t. */
export interface ScheduleInfo {
  /** Step index t (0-based). */
  readonly t: number;
  /** log L(θ_t) on the step's (perturbed) batch. */
  readonly logLoss: number;
  /** log ρ_t = log‖θ_t‖. */
  readonly logRho: number;
  /** Homogeneity order L of the model. */
  readonly order: number;
  /**
   * ‖g_t‖ = ‖Σ_k w_k ∇_θ m̂_k(θ̂)‖ at the point the step starts from (the accepted point after a
   * rollback). `normalized` divides by it; loss-based caps ‖c_t g_t‖ with it (no cap when omitted).
   */
  readonly gradNorm?: number;
}

/** What `Schedule.update` returns for step t. */
export interface ScheduleUpdate {
  /** c_t of the sphere update θ̂ ← θ̂ + c_t Σ_k w_k ∇_θ m̂_k(θ̂) (see the module doc). */
  readonly coefficient: number;
  /** The step size reported for this step: η_t, or α_t for loss-based. */
  readonly rate: number;
  /** The schedule's state after step t. */
  readonly state: ScheduleState;
  /**
   * Loss-based only: the loss rose (or is not finite), so the step must restart from the last
   * accepted point — θ̂ and the gradient kept there, and log ρ = `state.bestLogRho` — with the
   * smaller α already in `coefficient`. Always false for the other schedules.
   */
  readonly rollback: boolean;
}

/**
 * A step-size schedule as `{init, update}` (optax style): `update` is a pure function of its
 * arguments, so a state can be kept, copied, serialized or replayed.
 */
export interface Schedule {
  readonly config: ScheduleConfig;
  /** The state before step 0. */
  init(): ScheduleState;
  /** The coefficient of step t and the state after it. Does not mutate `state`. */
  update(state: ScheduleState, info: ScheduleInfo): ScheduleUpdate;
  /**
   * Whether `update` with this loss will roll back (loss-based: the loss rose or is not finite), so
   * that the stepper knows which gradient the step uses — the accepted point's — before `update`.
   */
  rollsBack(state: ScheduleState, t: number, logLoss: number): boolean;
  /**
   * The step size shown for the next step t (η_t; for loss-based the current α), as recorded in
   * history rows.
   */
  rate(state: ScheduleState, t: number): number;
}

const STATELESS: Record<StatelessScheduleState['kind'], StatelessScheduleState> = {
  normalized: Object.freeze({ kind: 'normalized' }),
  constant: Object.freeze({ kind: 'constant' }),
  'loss-scaled': Object.freeze({ kind: 'loss-scaled' }),
};

/**
 * Checks a schedule config at the public boundary (InputError naming the field) and returns it.
 * @param config kind ∈ {normalized, constant, loss-scaled, loss-based}, lr > 0 finite, decay ∈ {none, sqrt, inverse},
 *   form ∈ {sphere, direct}, decaySteps > 0 finite when given
 */
export function validateScheduleConfig(config: ScheduleConfig): ScheduleConfig {
  if (typeof config !== 'object' || config === null) throw new InputError(`schedule must be an object, got ${String(config)}`, 'schedule');
  if (!SCHEDULE_KINDS.includes(config.kind)) throw new InputError(`schedule.kind must be one of ${SCHEDULE_KINDS.join(', ')}, got ${String(config.kind)}`, 'schedule.kind');
  if (typeof config.lr !== 'number' || !(config.lr > 0) || !Number.isFinite(config.lr)) throw new InputError(`schedule.lr must be a finite number > 0, got ${String(config.lr)}`, 'schedule.lr');
  if (!LR_DECAYS.includes(config.decay)) throw new InputError(`schedule.decay must be one of ${LR_DECAYS.join(', ')}, got ${String(config.decay)}`, 'schedule.decay');
  if (config.decaySteps !== undefined && (typeof config.decaySteps !== 'number' || !(config.decaySteps > 0) || !Number.isFinite(config.decaySteps)))
    throw new InputError(`schedule.decaySteps must be a finite number > 0, got ${String(config.decaySteps)}`, 'schedule.decaySteps');
  if (config.form !== 'sphere' && config.form !== 'direct') throw new InputError(`schedule.form must be sphere or direct, got ${String(config.form)}`, 'schedule.form');
  return config;
}

/**
 * The schedule of `config` as `{init, update}`. `normalized`, `constant` and `loss-scaled` carry no
 * state (c_t is a function of t, log L, log ρ and ‖g_t‖); `loss-based` carries α, the accepted point's
 * log L and log ρ, and signals rollbacks: α ×2^{1/5} after a step that did not raise the loss (t > 0),
 * α ÷2^{1/10} and `rollback` after one that raised it or made it NaN/+∞; then α is clipped so that
 * ‖c_t g_t‖ ≤ {@link LOSS_BASED_MAX_STEP} (when `info.gradNorm` is given).
 */
export function createSchedule(config: ScheduleConfig): Schedule {
  validateScheduleConfig(config);
  const cfg = config;
  if (cfg.kind !== 'loss-based') {
    const state0 = STATELESS[cfg.kind];
    return {
      config: cfg,
      init: () => state0,
      update(state, info) {
        const rate = baseRate(cfg, info.t);
        return { coefficient: sphereCoefficient(cfg, rate, info.logLoss, info.logRho, info.order, info.gradNorm), rate, state, rollback: false };
      },
      rollsBack: () => false,
      rate: (_state, t) => baseRate(cfg, t),
    };
  }
  return {
    config: cfg,
    init: (): LossBasedScheduleState => ({ kind: 'loss-based', alpha: cfg.lr, bestLogLoss: Infinity, bestLogRho: 0, rollbacks: 0 }),
    update(state, info) {
      const s = asLossBased(state);
      let next: LossBasedScheduleState;
      let rollback = false;
      if (lossBasedRollsBack(s, info.t, info.logLoss)) {
        next = { kind: 'loss-based', alpha: s.alpha / LOSS_BASED_SHRINK, bestLogLoss: s.bestLogLoss, bestLogRho: s.bestLogRho, rollbacks: s.rollbacks + 1 };
        rollback = true;
      } else {
        next = { kind: 'loss-based', alpha: info.t > 0 ? s.alpha * LOSS_BASED_GROW : s.alpha, bestLogLoss: info.logLoss, bestLogRho: info.logRho, rollbacks: s.rollbacks };
      }
      // The step starts from the accepted point: its log L and log ρ enter the coefficient.
      let coefficient = sphereCoefficient(cfg, next.alpha, next.bestLogLoss, next.bestLogRho, info.order);
      const g = info.gradNorm;
      if (g !== undefined && g > 0 && coefficient * g > LOSS_BASED_MAX_STEP) {
        // Clip α (not only c_t): an unclipped α would keep growing ×2^{1/5} per good step and overflow.
        next = { ...next, alpha: next.alpha * (LOSS_BASED_MAX_STEP / (coefficient * g)) };
        coefficient = LOSS_BASED_MAX_STEP / g;
      }
      return { coefficient, rate: next.alpha, state: next, rollback };
    },
    rollsBack: (state, t, logLoss) => lossBasedRollsBack(asLossBased(state), t, logLoss),
    rate: (state) => asLossBased(state).alpha,
  };
}

/** A loss-based step rolls back when, after the first step, the loss rose or is NaN/+∞. */
function lossBasedRollsBack(s: LossBasedScheduleState, t: number, logLoss: number): boolean {
  return t > 0 && !(logLoss <= s.bestLogLoss);
}

function asLossBased(state: ScheduleState): LossBasedScheduleState {
  if (state.kind !== 'loss-based') throw new InputError(`a loss-based schedule needs its own state, got a ${String(state.kind)} state`, 'schedule');
  return state;
}
