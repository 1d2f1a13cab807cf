/**
 * The training step as a function: `createStepper(options)` returns `{init, step}` where
 * `step(state, batch)` maps θ_t to θ_{t+1} without touching its input (docs/THEORY.md §3, Algorithm 1, on the
 * sphere of docs/THEORY.md §7). `TrainingRun` (./trainer.ts) takes its steps through the same core
 * (`stepInto`), so a loop over `step` reproduces `train` bit for bit.
 *
 * One step at θ_t = ρ_t·θ̂_t, for the examples `batch` (all when null):
 *  1. δ_i = attack(θ̂_t) (scale invariance: δ(θ) = δ(θ̂)), held fixed (stop-gradient);
 *  2. unit margins m̂_k = margins of θ̂_t at x_i + δ_i; log L = log Σ ℓ(ρ_t^L m̂_k) and w = −∇L/L;
 *  3. g = Σ_k w_k ∇_θ m̂_k(θ̂) (loss-based: the accepted point's g when L rose: roll back), and the
 *     schedule's coefficient c_t (which may depend on ‖g‖);
 *  4. θ̂ ← θ̂ + c_t g, then log ρ += log‖θ̂‖ and θ̂ ← θ̂/‖θ̂‖.
 * Any NaN or ±∞ throws a `NonFiniteError` naming the quantity and the step.
 */
import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import type { AttackConfig } from '../attacks/attack.ts';
import { createAttack } from '../attacks/index.ts';
import { Rng } from '../linalg/rng.ts';
import { lpNorm } from '../linalg/norms.ts';
import { NonFiniteError, InputError } from '../errors.ts';
import { type LossKind, logLossAndWeights } from '../losses/loss.ts';
import { MarginEvaluator } from '../metrics/margins.ts';
import { kernels } from '../linalg/kernels.ts';
import { type Schedule, type ScheduleConfig, type ScheduleState, createSchedule } from './schedule.ts';

/** What a stepper needs: the model, the data, the training perturbation, the loss and the schedule. */
export interface StepperOptions {
  readonly model: Model;
  readonly data: Dataset;
  readonly attack: AttackConfig;
  readonly loss: LossKind;
  readonly schedule: ScheduleConfig;
  /** Initialization scale passed to `model.init` by `init(seed)` (default 1). */
  readonly initScale?: number;
  /**
   * Called when a phase of a step ends — `attack` (δ computed and added), `margins` (margins and
   * loss), `update` (gradient and update) — e.g. to time the phases. Keep it cheap.
   */
  readonly onPhase?: (phase: StepPhase) => void;
  /**
   * Called once per step after the loss is computed, with the step index t, the unit margins of the
   * step (m̂, `count` entries: g per example of the batch; a view of scratch memory, valid only during
   * the call), the log-loss and log ρ_t. `TrainingRun` tracks the smoothed margin with it.
   */
  readonly onMargins?: (t: number, mhat: Float64Array, count: number, logLoss: number, logRho: number) => void;
}

/** The phases of one step, in order (see `StepperOptions.onPhase`). */
export type StepPhase = 'attack' | 'margins' | 'update';

/** The loss-based schedule's rollback target: θ̂ at the last accepted point and its gradient (P entries each). */
export interface RollbackPoint {
  readonly thetaHat: Float64Array;
  readonly grad: Float64Array;
}

/**
 * Everything that determines the rest of a run of `step` calls, apart from the batches: θ = ρ·θ̂
 * with ‖θ̂‖₂ = 1, log ρ, t, the schedule's state and the attack's random stream. Treat it as a value:
 * `step` returns a new state and never changes its input (arrays included, and the generator: it
 * advances a copy).
 */
export interface TrainState {
  /** Steps taken. */
  readonly t: number;
  /** θ̂ = θ/‖θ‖₂ (P entries). */
  readonly thetaHat: Float64Array;
  /** log ρ = log‖θ‖₂. */
  readonly logRho: number;
  /** The schedule's state (`Schedule.update`). */
  readonly schedule: ScheduleState;
  /** The PGD random-start stream (null without random starts). */
  readonly attackRng: Rng | null;
  /** Loss-based schedule: the accepted point to roll back to (null for the other schedules). */
  readonly rollback: RollbackPoint | null;
  /** log L on the batch of the last step, at θ_{t−1} (NaN before the first step). */
  readonly logLoss: number;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** A state whose fields `stepInto` may overwrite (its arrays and generator are written in place). */
export type MutableTrainState = Writable<TrainState>;

/** The pure step and what it needs: see `createStepper`. */
export interface Stepper {
  /** Parameters P, the homogeneity order L, examples n and margins per example g. */
  readonly numParams: number;
  readonly order: number;
  readonly n: number;
  readonly groupSize: number;
  readonly schedule: Schedule;
  /**
   * The state before step 0: θ₀ = `theta0` (copied) or `model.init` with the initialization stream of
   * `seed`, and the attack stream of `seed` — the streams `train` uses with the same seed.
   */
  init(seed: number, theta0?: Float64Array): TrainState;
  /**
   * θ_{t+1} from θ_t on the examples `batch` (indices into the data, each in 0…n−1; null = all n).
   * Returns a new state; `state` is not changed.
   */
  step(state: TrainState, batch: Int32Array | readonly number[] | null): TrainState;
  /**
   * `step` without allocation of arrays: reads `state`, writes the next state into `out` (which may be
   * `state` itself: then it steps in place) and returns log L of the step. `out.attackRng` must
   * continue `state.attackRng`'s stream (the same generator when out = state) and is advanced; `batch`
   * is trusted (an Int32Array of valid indices). The schedule's update returns one small object per
   * step.
   */
  stepInto(state: TrainState, batch: Int32Array | null, out: MutableTrainState): number;
  /**
   * The seeded per-epoch mini-batches `train` draws with this seed and batch size; null for full
   * batch (batchSize 0 or ≥ n).
   */
  batches(seed: number, batchSize: number): EpochBatches | null;
}

/** Seed offsets of the independent random streams of one run (forks of `new Rng(seed)`, in this order). */
const STREAM_INIT = 0;
const STREAM_BATCH = 1;
const STREAM_ATTACK = 2;
const STREAM_COUNT = 3;

/** The random streams of a run with this seed: initialization, batch order, attack random starts. */
export function runStreams(seed: number): { init: Rng; batch: Rng; attack: Rng } {
  if (!Number.isInteger(seed)) throw new InputError(`seed must be an integer, got ${seed}`, 'seed');
  const root = new Rng(seed);
  const streams: Rng[] = [];
  for (let k = 0; k < STREAM_COUNT; k++) streams.push(root.fork());
  return { init: streams[STREAM_INIT], batch: streams[STREAM_BATCH], attack: streams[STREAM_ATTACK] };
}

/**
 * Mini-batches of a fixed size drawn without replacement: the index order is reshuffled (seeded)
 * whenever fewer than `size` indices are left in the current epoch; the remainder is skipped.
 */
export class EpochBatches {
  readonly n: number;
  readonly size: number;
  /** The shuffling stream. */
  rng: Rng;
  /** The current epoch's permutation of 0…n−1. */
  readonly order: Int32Array;
  /** Position of the next batch in `order` (n: reshuffle before the next batch). */
  cursor: number;
  private readonly indices: Int32Array;

  /**
   * @param n number of examples
   * @param size batch size, 1…n
   * @param rng the shuffling stream (advanced by `next`)
   */
  constructor(n: number, size: number, rng: Rng) {
    if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`number of examples must be an integer ≥ 1, got ${n}`, 'data');
    if (!Number.isSafeInteger(size) || size < 1 || size > n) throw new InputError(`batch size must be an integer in 1…${n}, got ${size}`, 'batchSize');
    this.n = n;
    this.size = size;
    this.rng = rng;
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.cursor = n;
    this.indices = new Int32Array(size);
  }

  /** The next batch's indices (the same array every call: it is overwritten by the next one). */
  next(): Int32Array {
    const { n, size, indices, order } = this;
    if (this.cursor + size > n) {
      this.rng.shuffle(order);
      this.cursor = 0;
    }
    for (let b = 0; b < size; b++) indices[b] = order[this.cursor + b];
    this.cursor += size;
    return indices;
  }
}

/** InputError unless the model's input and output dimensions fit the data. */
export function checkModelFitsData(model: Model, data: Dataset): void {
  if (model.inputDim !== data.d) throw new InputError(`model expects inputs of dimension ${model.inputDim}, data "${data.name}" has d = ${data.d}`, 'data');
  const wantOutputs = data.binary ? 1 : data.classes;
  if (model.outputDim !== wantOutputs)
    throw new InputError(`model has ${model.outputDim} output(s), data "${data.name}" needs ${wantOutputs} (${data.binary ? 'binary labels ±1' : `${data.classes} classes`})`, 'model');
}

/**
 * A stepper for one model, data set, attack, loss and schedule: `init(seed)` gives θ₀'s state and
 * `step(state, batch)` the next one. Scratch buffers (perturbations, perturbed inputs, margins,
 * weights, gradient) are allocated once here and are not observable through `step`.
 *
 * @example
 * const stepper = createStepper({ model, data, attack, loss: 'exp', schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' } });
 * let state = stepper.init(0);
 * for (let t = 0; t < 1000; t++) state = stepper.step(state, null);
 */
export function createStepper(options: StepperOptions): Stepper {
  return new StepCore(options);
}

class StepCore implements Stepper {
  readonly numParams: number;
  readonly order: number;
  readonly n: number;
  readonly groupSize: number;
  readonly schedule: Schedule;
  private readonly model: Model;
  private readonly data: Dataset;
  private readonly loss: LossKind;
  private readonly initScale: number;
  private readonly randomStart: boolean;
  private readonly lossBased: boolean;
  /** The schedule reads ‖g‖ (normalized, loss-based). */
  private readonly needsGradNorm: boolean;
  private readonly attack: ReturnType<typeof createAttack>;
  private readonly evaluator: MarginEvaluator;
  private readonly onPhase: ((phase: StepPhase) => void) | null;
  private readonly onMargins: StepperOptions['onMargins'] | null;
  private readonly delta: Float64Array;
  private readonly Xadv: Float64Array;
  private readonly mhat: Float64Array;
  private readonly weights: Float64Array;
  private readonly grad: Float64Array;

  constructor(opts: StepperOptions) {
    const { model, data } = opts;
    checkModelFitsData(model, data);
    if (opts.loss !== 'exp' && opts.loss !== 'logistic') throw new InputError(`loss must be exp or logistic, got ${String(opts.loss)}`, 'loss');
    const initScale = opts.initScale ?? 1;
    if (typeof initScale !== 'number' || !(initScale > 0) || !Number.isFinite(initScale)) throw new InputError(`initScale must be a finite number > 0, got ${String(initScale)}`, 'initScale');
    this.model = model;
    this.data = data;
    this.loss = opts.loss;
    this.initScale = initScale;
    this.schedule = createSchedule(opts.schedule);
    this.lossBased = opts.schedule.kind === 'loss-based';
    this.needsGradNorm = opts.schedule.kind === 'normalized' || opts.schedule.kind === 'loss-based';
    this.attack = createAttack(opts.attack);
    this.randomStart = opts.attack.randomStart;
    this.evaluator = new MarginEvaluator(model, data);
    this.numParams = model.numParams;
    this.order = model.order;
    this.n = data.n;
    this.groupSize = this.evaluator.groupSize;
    this.onPhase = opts.onPhase ?? null;
    this.onMargins = opts.onMargins ?? null;
    const { n, d } = data;
    this.delta = new Float64Array(n * d);
    // Rows outside the batch are never read: only the batch's rows are overwritten each step.
    this.Xadv = Float64Array.from(data.X);
    this.mhat = new Float64Array(n * this.groupSize);
    this.weights = new Float64Array(n * this.groupSize);
    this.grad = new Float64Array(model.numParams);
  }

  init(seed: number, theta0?: Float64Array): TrainState {
    const P = this.numParams;
    const streams = runStreams(seed);
    const theta = theta0 !== undefined ? Float64Array.from(theta0) : this.model.init(streams.init, this.initScale);
    if (theta.length !== P) throw new InputError(`initial parameters have ${theta.length} entries, model needs ${P}`, 'theta0');
    const norm0 = lpNorm(theta, 2);
    if (!(norm0 > 0) || !Number.isFinite(norm0)) throw new InputError(`initial parameters have norm ${norm0}: need a finite, non-zero initialization (init-scale > 0)`, 'initScale');
    for (let k = 0; k < P; k++) theta[k] /= norm0;
    return Object.freeze({
      t: 0,
      thetaHat: theta,
      logRho: Math.log(norm0),
      schedule: this.schedule.init(),
      attackRng: this.randomStart ? streams.attack : null,
      rollback: this.lossBased ? Object.freeze({ thetaHat: new Float64Array(P), grad: new Float64Array(P) }) : null,
      logLoss: NaN,
    });
  }

  batches(seed: number, batchSize: number): EpochBatches | null {
    if (!Number.isSafeInteger(batchSize) || batchSize < 0) throw new InputError(`batch size must be a non-negative integer, got ${batchSize}`, 'batchSize');
    if (batchSize === 0 || batchSize >= this.n) return null;
    return new EpochBatches(this.n, batchSize, runStreams(seed).batch);
  }

  step(state: TrainState, batch: Int32Array | readonly number[] | null): TrainState {
    const P = this.numParams;
    if (typeof state !== 'object' || state === null) throw new InputError(`state must be a TrainState, got ${String(state)}`, 'state');
    if (!(state.thetaHat instanceof Float64Array) || state.thetaHat.length !== P) throw new InputError(`state.thetaHat must be a Float64Array of ${P} entries`, 'state.thetaHat');
    if (!Number.isSafeInteger(state.t) || state.t < 0) throw new InputError(`state.t must be a non-negative integer, got ${state.t}`, 'state.t');
    if ((state.attackRng === null) !== !this.randomStart) throw new InputError(`state.attackRng must be ${this.randomStart ? 'a generator (PGD random starts)' : 'null'}`, 'state.attackRng');
    if ((state.rollback === null) !== !this.lossBased) throw new InputError(`state.rollback must be ${this.lossBased ? 'set (loss-based schedule)' : 'null'}`, 'state.rollback');
    const indices = batch === null ? null : this.checkBatch(batch);
    const out: MutableTrainState = {
      t: state.t,
      thetaHat: new Float64Array(P),
      logRho: state.logRho,
      schedule: state.schedule,
      attackRng: state.attackRng ? Rng.fromState(state.attackRng.getState()) : null,
      rollback: state.rollback ? { thetaHat: new Float64Array(P), grad: new Float64Array(P) } : null,
      logLoss: NaN,
    };
    this.stepInto(state, indices, out);
    if (out.rollback) Object.freeze(out.rollback);
    return Object.freeze(out);
  }

  private checkBatch(batch: Int32Array | readonly number[]): Int32Array {
    const { n } = this;
    if (this.lossBased) throw new InputError('schedule loss-based compares the full training loss between steps: pass batch null', 'batch');
    if (!(batch instanceof Int32Array) && !Array.isArray(batch)) throw new InputError('batch must be an Int32Array or an array of example indices, or null', 'batch');
    if (batch.length < 1) throw new InputError('batch must hold at least one example index (null for all)', 'batch');
    for (let b = 0; b < batch.length; b++) {
      const i = batch[b];
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new InputError(`batch[${b}] = ${i} is not an example index in 0…${n - 1}`, 'batch');
    }
    return Int32Array.from(batch);
  }

  stepInto(state: TrainState, batch: Int32Array | null, out: MutableTrainState): number {
    const { model, data, evaluator, delta, Xadv, mhat, weights, grad, numParams: P, order: L, groupSize: g } = this;
    const { d, X } = data;
    const t = state.t;
    const thetaHat = state.thetaHat;
    // Perturb at the current θ (scale invariance: δ(θ) = δ(θ̂)), then hold δ fixed.
    this.attack.perturb(model, thetaHat, data, batch, delta, evaluator.ws, out.attackRng);
    const count = batch ? batch.length : this.n;
    for (let b = 0; b < count; b++) {
      const base = (batch ? batch[b] : b) * d;
      for (let j = 0; j < d; j++) Xadv[base + j] = X[base + j] + delta[base + j];
    }
    this.onPhase?.('attack');
    evaluator.margins(thetaHat, Xadv, batch, mhat);
    for (let k = 0; k < count * g; k++) if (!Number.isFinite(mhat[k])) throw new NonFiniteError('margin', t, `example ${batch ? batch[Math.floor(k / g)] : Math.floor(k / g)}`);
    const logL = logLossAndWeights(this.loss, mhat, count, g, L * state.logRho, weights);
    // Loss-based: a NaN or +∞ loss is a bad step to roll back, not the end of the run.
    if ((Number.isNaN(logL) || logL === Infinity) && !this.lossBased) throw new NonFiniteError('loss', t);
    this.onMargins?.(t, mhat, count * g, logL, state.logRho);
    this.onPhase?.('margins');

    // Which gradient the step uses comes first (loss-based: the accepted point's after a rollback),
    // since the coefficient may depend on its norm.
    const rollback = this.schedule.rollsBack(state.schedule, t, logL);
    let from = thetaHat;
    if (rollback) {
      // Bad step: restart from the last accepted point with the smaller α in the coefficient.
      const back = state.rollback!;
      from = back.thetaHat;
      grad.set(back.grad);
      if (out.rollback !== state.rollback) {
        out.rollback!.thetaHat.set(back.thetaHat);
        out.rollback!.grad.set(back.grad);
      }
    } else {
      // At the θ̂, Xadv and rows of the `margins` call above (unchanged since): its activations are reused.
      evaluator.gradientAtLastMargins(weights, grad);
      if (out.rollback) {
        out.rollback.thetaHat.set(thetaHat);
        out.rollback.grad.set(grad);
      }
    }
    // ‖g‖ only where the schedule uses it (normalized divides by it; loss-based caps with it): a pass over θ.
    let gradNorm = NaN;
    if (this.needsGradNorm) {
      let gg = 0;
      for (let k = 0; k < P; k++) gg += grad[k] * grad[k];
      gradNorm = Math.sqrt(gg);
    }
    const u = this.schedule.update(state.schedule, { t, logLoss: logL, logRho: state.logRho, order: L, gradNorm });
    let logRho = u.rollback ? (u.state as { bestLogRho: number }).bestLogRho : state.logRho;
    const c = u.coefficient;
    if (!Number.isFinite(c)) throw new NonFiniteError('step size', t, `coefficient ${c}; log‖θ‖ = ${logRho}${this.needsGradNorm ? `; ‖g‖ = ${gradNorm}` : ''}`);
    const next = out.thetaHat;
    const fused = kernels().sphereUpdate;
    let r: number;
    if (fused) {
      r = fused(P, from, c, grad, next);
      if (!Number.isFinite(r)) throw new NonFiniteError('parameters', t + 1, 'non-finite gradient or update');
      if (r === 0) throw new NonFiniteError('parameters', t + 1, 'the update sent θ to zero');
    } else {
      let ss = 0;
      for (let k = 0; k < P; k++) {
        const v = from[k] + c * grad[k];
        next[k] = v;
        ss += v * v;
      }
      r = Math.sqrt(ss);
      if (!Number.isFinite(r)) throw new NonFiniteError('parameters', t + 1, 'non-finite gradient or update');
      if (r === 0) throw new NonFiniteError('parameters', t + 1, 'the update sent θ to zero');
      for (let k = 0; k < P; k++) next[k] /= r;
    }
    logRho += Math.log(r);
    if (!Number.isFinite(logRho)) throw new NonFiniteError('log‖θ‖', t + 1);
    out.t = t + 1;
    out.logRho = logRho;
    out.schedule = u.state;
    out.logLoss = logL;
    this.onPhase?.('update');
    return logL;
  }
}
