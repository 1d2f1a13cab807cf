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
import { InputError } from '../errors.ts';

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

/** State of a schedule without memory (`constant`, `loss-scaled`): the coefficient depends on t and the loss only. */
export interface StatelessScheduleState {
  readonly kind: 'constant' | 'loss-scaled';
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
   * The step size shown for the next step t (η_t; for loss-based the current α), as recorded in
   * history rows.
   */
  rate(state: ScheduleState, t: number): number;
}

const STATELESS: Record<'constant' | 'loss-scaled', StatelessScheduleState> = {
  constant: Object.freeze({ kind: 'constant' }),
  'loss-scaled': Object.freeze({ kind: 'loss-scaled' }),
};

/**
 * Checks a schedule config at the public boundary (InputError naming the field) and returns it.
 * @param config kind ∈ {constant, loss-scaled, loss-based}, lr > 0 finite, decay ∈ {none, sqrt}, form ∈ {sphere, direct}
 */
export function validateScheduleConfig(config: ScheduleConfig): ScheduleConfig {
  if (typeof config !== 'object' || config === null) throw new InputError(`schedule must be an object, got ${String(config)}`, 'schedule');
  if (!SCHEDULE_KINDS.includes(config.kind)) throw new InputError(`schedule.kind must be one of ${SCHEDULE_KINDS.join(', ')}, got ${String(config.kind)}`, 'schedule.kind');
  if (typeof config.lr !== 'number' || !(config.lr > 0) || !Number.isFinite(config.lr)) throw new InputError(`schedule.lr must be a finite number > 0, got ${String(config.lr)}`, 'schedule.lr');
  if (config.decay !== 'none' && config.decay !== 'sqrt') throw new InputError(`schedule.decay must be none or sqrt, got ${String(config.decay)}`, 'schedule.decay');
  if (config.form !== 'sphere' && config.form !== 'direct') throw new InputError(`schedule.form must be sphere or direct, got ${String(config.form)}`, 'schedule.form');
  return config;
}

/**
 * The schedule of `config` as `{init, update}`. `constant` and `loss-scaled` carry no state (c_t is
 * a function of t, log L and log ρ); `loss-based` carries α, the accepted point's log L and log ρ,
 * and signals rollbacks: α ×2^{1/5} after a step that did not raise the loss (t > 0), α ÷2^{1/10}
 * and `rollback` after one that raised it or made it NaN/+∞.
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
        return { coefficient: sphereCoefficient(cfg, rate, info.logLoss, info.logRho, info.order), rate, state, rollback: false };
      },
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
      if (info.t > 0 && !(info.logLoss <= s.bestLogLoss)) {
        next = { kind: 'loss-based', alpha: s.alpha / LOSS_BASED_SHRINK, bestLogLoss: s.bestLogLoss, bestLogRho: s.bestLogRho, rollbacks: s.rollbacks + 1 };
        rollback = true;
      } else {
        next = { kind: 'loss-based', alpha: info.t > 0 ? s.alpha * LOSS_BASED_GROW : s.alpha, bestLogLoss: info.logLoss, bestLogRho: info.logRho, rollbacks: s.rollbacks };
      }
      // The step starts from the accepted point: its log L and log ρ enter the coefficient.
      const coefficient = sphereCoefficient(cfg, next.alpha, next.bestLogLoss, next.bestLogRho, info.order);
      return { coefficient, rate: next.alpha, state: next, rollback };
    },
    rate: (state) => asLossBased(state).alpha,
  };
}

function asLossBased(state: ScheduleState): LossBasedScheduleState {
  if (state.kind !== 'loss-based') throw new InputError(`a loss-based schedule needs its own state, got a ${String(state.kind)} state`, 'schedule');
  return state;
}
