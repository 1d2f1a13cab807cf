import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import type { AttackConfig } from '../attacks/attack.ts';
import { Rng } from '../linalg/rng.ts';
import { InputError } from '../errors.ts';
import { type LossKind, smoothedMargin } from '../losses/loss.ts';
import { Measurer, type Measurement, type KktOption } from '../metrics/measure.ts';
import { type ScheduleConfig, type LossBasedScheduleState, DEFAULT_DECAY_STEPS } from './schedule.ts';
import { type RecordSpec, DEFAULT_RECORD, recordSteps } from './record.ts';
import { type MutableTrainState, type Stepper, EpochBatches, createStepper, checkModelFitsData, runStreams } from './step.ts';

/** Everything one training run needs, already resolved (the CLI builds it from flags or a config file). */
export interface TrainOptions {
  readonly model: Model;
  readonly data: Dataset;
  readonly attack: AttackConfig;
  readonly loss: LossKind;
  readonly schedule: ScheduleConfig;
  /** Number of updates T. */
  readonly steps: number;
  /** Mini-batch size; 0 or ≥ n means full batch. Batches are drawn by a seeded shuffle per epoch. */
  readonly batchSize: number;
  /** Initialization scale passed to `model.init` (ignored when `theta0` is given). */
  readonly initScale: number;
  /** Seed of every random choice: initialization, batch order, PGD random starts. */
  readonly seed: number;
  readonly record?: RecordSpec;
  /** Reference direction u* for the end-to-end predictor (linear-in-x models). */
  readonly reference?: Float64Array;
  /** KKT residuals of (P_adv) in every measurement, on all examples or the N smallest-margin ones. */
  readonly kkt?: KktOption | null;
  /** Start from these parameters instead of a random draw. */
  readonly theta0?: Float64Array;
  /**
   * Start from θ₀ = exp(logNorm)·θ̂ given as its direction θ̂ (‖θ̂‖ = 1) and log-norm, as saved in
   * result.json's `params` — exact at any norm (θ₀ itself may overflow). Takes precedence over
   * `theta0`. θ̂ is kept bit for bit when |‖θ̂‖ − 1| ≤ UNIT_NORM_SLACK (a unit vector up to rounding),
   * else it is normalized and log‖θ̂‖ is added to logNorm.
   */
  readonly start?: { readonly thetaUnit: Float64Array; readonly logNorm: number };
  /** Called with every history row as it is recorded. */
  readonly onRecord?: (row: Measurement) => void;
  /** Called after every step (keep it cheap). */
  readonly onStep?: (step: number) => void;
  /** Polled after every step; returning true ends the run early (the result says so). */
  readonly shouldStop?: () => boolean;
  /**
   * Hands a checkpoint to `save` after every `everySteps` steps (at t = everySteps, 2·everySteps, …,
   * after the history row of that step, if any, is recorded). `TrainingRun.resume` with the same
   * options continues it bit for bit. Serialize with `stringifyExact` (util/exact-json).
   */
  readonly checkpoint?: { readonly everySteps: number; readonly save: (cp: TrainCheckpoint) => void };
}

/**
 * What identifies the run a checkpoint belongs to: the options that shape the state or the future of
 * the run (model, data, attack, loss, schedule, steps, batch, seed, record plan, measurement options).
 * Flat, so that a mismatch names the field.
 */
export type TrainFingerprint = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Everything that determines the rest of a run after step `step` (format version 1). A plain object
 * with Float64Arrays: write it with `stringifyExact` and read it with `parseExact` (util/exact-json)
 * to keep every bit; `TrainingRun.resume` with the same options continues it bit-identically.
 */
export interface TrainCheckpoint {
  readonly version: 1;
  readonly fingerprint: TrainFingerprint;
  /** Steps taken. */
  readonly step: number;
  /** θ̂ = θ/‖θ‖ and log ρ = log ‖θ‖. */
  readonly thetaHat: Float64Array;
  readonly logRho: number;
  /** States of the random streams (`Rng.getState`); attackRng null without PGD random starts. */
  readonly batchRng: number[];
  readonly attackRng: number[] | null;
  /** Mini-batch runs: the current epoch's permutation of 0…n−1 and the position in it; null for full batch. */
  readonly order: number[] | null;
  readonly cursor: number;
  /** Step size of the last step (η_t or α_t), as measured in history rows. */
  readonly rate: number;
  /** Loss-based schedule state (null for the other schedules). */
  readonly lossBased: {
    readonly alpha: number;
    readonly rollbacks: number;
    readonly backupTheta: Float64Array;
    readonly backupGrad: Float64Array;
    readonly backupLogRho: number;
    readonly backupLogL: number;
  } | null;
  /** Index of the next entry of the record plan, and the rows recorded so far. */
  readonly nextRecord: number;
  readonly history: Measurement[];
  /** Smoothed-margin monotonicity tracking (full batch). */
  readonly monotonicity: {
    readonly firstSeparableStep: number | null;
    readonly lastSmoothed: number;
    readonly maxSmoothedDecrease: number;
    readonly maxDecreaseStep: number | null;
  };
}

export interface TrainResult {
  /** Measurements at the recorded steps, the last one included. */
  readonly history: Measurement[];
  /** The last row of `history`, plus the unit predictor for linear-in-x models. */
  readonly final: Measurement;
  /** Final parameters θ = ρ·θ̂ (entries may overflow for huge ρ; θ̂ and log ρ never do). */
  readonly theta: Float64Array;
  readonly thetaUnit: Float64Array;
  readonly logNorm: number;
  /** Steps actually taken (less than requested when stopped early). */
  readonly stepsDone: number;
  readonly interrupted: boolean;
  /** Loss-based schedule: steps that were rolled back. */
  readonly rollbacks: number;
  /**
   * Full-batch runs: the first step at which every adversarial margin was positive, and the largest
   * decrease of the smoothed margin γ̃ between consecutive steps from then on (docs/THEORY.md §4: γ̃ is
   * non-decreasing under small-step GD after adversarial separability). Checked at every step.
   */
  readonly monotonicity: { firstSeparableStep: number | null; maxSmoothedMarginDecrease: number; maxDecreaseStep: number | null } | null;
}

/**
 * How far from 1 the norm of a given start direction θ̂ may be and still be used unchanged: the
 * trainer's own θ̂ is a unit vector up to a few roundings (~P·2⁻⁵³), far below this.
 */
const UNIT_NORM_SLACK = 1e-9;

/**
 * θ̂ and log ρ of a saved start (`TrainOptions.start`): its θ̂ bit for bit when it is a unit vector
 * up to {@link UNIT_NORM_SLACK} (as the trainer wrote it), else the normalized one the stepper made
 * (`normalized`, whose norm was ‖θ̂‖ = exp(logRho)) with the log-norms added.
 */
function exactStart(start: NonNullable<TrainOptions['start']>, normalized: Float64Array, logRho: number): { thetaHat: Float64Array; logRho: number } {
  if (!Number.isFinite(start.logNorm)) throw new InputError(`initial log-norm must be finite, got ${start.logNorm}`, 'start');
  const norm0 = Math.exp(logRho);
  if (Math.abs(norm0 - 1) <= UNIT_NORM_SLACK) return { thetaHat: Float64Array.from(start.thetaUnit), logRho: start.logNorm };
  return { thetaHat: normalized, logRho: start.logNorm + logRho };
}

/**
 * Adversarial training with the stop-gradient convention (docs/THEORY.md §3, Algorithm 1): at each step the
 * perturbations δ_i are computed at the current θ and held fixed while the gradient of the loss of
 * y_i f(θ; x_i + δ_i) is taken. Computed on the sphere (docs/THEORY.md §7), in the log domain; any NaN or
 * ±Infinity stops the run with a `NonFiniteError` naming the quantity and the step.
 *
 * Runs synchronously to the end; see `TrainingRun` to advance in slices and `trainAsync` to leave
 * the event loop free (signals, progress, a browser UI) between slices.
 */
export function train(opts: TrainOptions): TrainResult {
  const run = new TrainingRun(opts);
  run.advance(Infinity);
  return run.finish();
}

/**
 * Like `train`, but yields to the event loop every `sliceMs` milliseconds. With `resumeFrom`, continues
 * that checkpoint (taken with the same options) instead of starting afresh.
 */
export async function trainAsync(opts: TrainOptions, sliceMs = 50, resumeFrom?: TrainCheckpoint): Promise<TrainResult> {
  const run = resumeFrom ? TrainingRun.resume(opts, resumeFrom) : new TrainingRun(opts);
  while (!run.done) {
    const until = Date.now() + sliceMs;
    while (!run.done && Date.now() < until) run.advance(64);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  // Stopped early (Ctrl-C): hand the state at the stop to the checkpoint hook, so that nothing
  // computed since the last periodic checkpoint is lost.
  if (run.stopped && opts.checkpoint) opts.checkpoint.save(run.checkpoint());
  return run.finish();
}

/** One training run as a resumable state machine: `advance(k)` takes up to k steps. */
export class TrainingRun {
  private readonly opts: TrainOptions;
  private readonly L: number;
  private readonly P: number;
  private readonly n: number;
  private readonly d: number;
  private readonly batch: number;
  /** The step itself (src/train/step.ts), shared with the public `step`. */
  private readonly stepper: Stepper;
  /** θ̂, log ρ, t, schedule and attack-stream state, stepped in place. */
  private readonly state: MutableTrainState;
  /** Mini-batch order (null for full batch), drawn from `batchRng` (kept for full batch too: checkpoints hold its state). */
  private readonly batches: EpochBatches | null;
  private batchRng: Rng;
  private readonly lossBased: boolean;
  private readonly measurer: Measurer;
  private readonly plan: number[];
  private nextRecord = 0;
  private readonly history: Measurement[] = [];
  private rate: number;
  private interrupted = false;
  private finished = false;
  private firstSeparableStep: number | null = null;
  private lastSmoothed = NaN;
  private maxSmoothedDecrease = 0;
  private maxDecreaseStep: number | null = null;
  /** finish() appended a row for an off-plan last step (left out of checkpoints). */
  private finalRowAppended = false;
  private readonly checkpointEvery: number;
  private lastCheckpointStep = -1;
  private fingerprintCache: TrainFingerprint | null = null;

  constructor(opts: TrainOptions) {
    const { model, data, schedule } = opts;
    checkModelFitsData(model, data);
    if (!Number.isSafeInteger(opts.steps) || opts.steps < 0) throw new InputError(`steps must be a non-negative integer, got ${opts.steps}`, 'steps');
    const n = data.n;
    const batch = opts.batchSize > 0 && opts.batchSize < n ? opts.batchSize : n;
    if (schedule.kind === 'loss-based' && batch < n)
      throw new InputError('schedule loss-based compares the full training loss between steps: use full batch (batch-size 0)', 'schedule');
    if (opts.reference && opts.reference.length !== data.d)
      throw new InputError(`reference direction has ${opts.reference.length} entries, data has d = ${data.d}`, 'reference');
    if (opts.reference && !model.linearInX) throw new InputError(`a reference direction needs a linear-in-x model (got ${model.kind})`, 'reference');

    this.opts = opts;
    this.L = model.order;
    this.P = model.numParams;
    this.n = n;
    this.d = data.d;
    this.batch = batch;
    this.lossBased = schedule.kind === 'loss-based';
    this.stepper = createStepper({
      model,
      data,
      attack: opts.attack,
      loss: opts.loss,
      schedule,
      initScale: opts.initScale,
      onMargins: (t, mhat, count, logL, logRho) => {
        if (this.batches === null) this.trackSmoothedMargin(t, logL, mhat, count, logRho);
      },
    });
    // θ = ρ θ̂ with ‖θ̂‖ = 1; the streams of `seed` (initialization, batches, attack).
    const start = opts.start;
    const init = this.stepper.init(opts.seed, start ? start.thetaUnit : opts.theta0);
    const s0 = start ? { ...init, ...exactStart(start, init.thetaHat, init.logRho) } : init;
    this.state = {
      ...s0,
      attackRng: s0.attackRng,
      rollback: s0.rollback ? { thetaHat: s0.rollback.thetaHat, grad: s0.rollback.grad } : null,
    };
    this.batchRng = runStreams(opts.seed).batch;
    this.batches = batch < n ? new EpochBatches(n, batch, this.batchRng) : null;
    this.measurer = new Measurer(model, data, opts.attack, opts.loss, opts.reference ?? null, opts.seed, opts.kkt ?? null);
    this.rate = this.stepper.schedule.rate(this.state.schedule, 0);
    this.plan = recordSteps(opts.record ?? DEFAULT_RECORD, opts.steps);
    const cp = opts.checkpoint;
    if (cp !== undefined) {
      if (!Number.isSafeInteger(cp.everySteps) || cp.everySteps < 1) throw new InputError(`checkpoint.everySteps must be an integer ≥ 1, got ${cp.everySteps}`, 'checkpoint');
      if (typeof cp.save !== 'function') throw new InputError('checkpoint.save must be a function', 'checkpoint');
    }
    this.checkpointEvery = cp ? cp.everySteps : 0;
  }

  /** What identifies these options to a checkpoint (computed once; hashes the data). */
  fingerprint(): TrainFingerprint {
    if (this.fingerprintCache) return this.fingerprintCache;
    const { opts } = this;
    const { model, data, attack, schedule } = opts;
    const rec = opts.record ?? DEFAULT_RECORD;
    const kkt = opts.kkt ?? null;
    this.fingerprintCache = Object.freeze({
      model: model.kind,
      numParams: this.P,
      order: this.L,
      inputDim: model.inputDim,
      outputDim: model.outputDim,
      data: data.name,
      n: this.n,
      d: this.d,
      classes: data.binary ? 2 : data.classes,
      dataHash: hashData(data),
      'attack.kind': attack.kind,
      'attack.p': attack.p,
      'attack.eps': attack.eps,
      'attack.steps': attack.steps,
      'attack.stepSize': attack.stepSize,
      'attack.randomStart': attack.randomStart,
      'attack.clip': attack.clip ? attack.clip.join(',') : null,
      loss: opts.loss,
      'schedule.kind': schedule.kind,
      'schedule.lr': schedule.lr,
      'schedule.decay': schedule.decay,
      'schedule.form': schedule.form,
      // Only where it applies, so that checkpoints of runs without the inverse decay keep their fingerprint.
      ...(schedule.decay === 'inverse' ? { 'schedule.decaySteps': schedule.decaySteps ?? DEFAULT_DECAY_STEPS } : {}),
      steps: opts.steps,
      batchSize: this.batch,
      seed: opts.seed,
      record: rec.kind === 'log' ? `log:${rec.perDecade}` : `every:${rec.interval}`,
      reference: opts.reference ? hashFloat64(opts.reference) : null,
      kkt: kkt === null ? null : JSON.stringify(kkt),
    });
    return this.fingerprintCache;
  }

  /**
   * The state after `step` steps: with the same options, `TrainingRun.resume` continues it exactly as
   * this run would go on. Buffers are copied; history rows are shared (they are never changed).
   */
  checkpoint(): TrainCheckpoint {
    const history = this.finalRowAppended ? this.history.slice(0, -1) : this.history.slice();
    const { state, batches } = this;
    const lb = state.schedule.kind === 'loss-based' ? state.schedule : null;
    return {
      version: 1,
      fingerprint: this.fingerprint(),
      step: state.t,
      thetaHat: Float64Array.from(state.thetaHat),
      logRho: state.logRho,
      batchRng: this.batchRng.getState(),
      attackRng: state.attackRng ? state.attackRng.getState() : null,
      order: batches ? Array.from(batches.order) : null,
      cursor: batches ? batches.cursor : this.n,
      rate: this.rate,
      lossBased: lb
        ? {
            alpha: lb.alpha,
            rollbacks: lb.rollbacks,
            backupTheta: Float64Array.from(state.rollback!.thetaHat),
            backupGrad: Float64Array.from(state.rollback!.grad),
            backupLogRho: lb.bestLogRho,
            backupLogL: lb.bestLogLoss,
          }
        : null,
      nextRecord: this.nextRecord,
      history,
      monotonicity: {
        firstSeparableStep: this.firstSeparableStep,
        lastSmoothed: this.lastSmoothed,
        maxSmoothedDecrease: this.maxSmoothedDecrease,
        maxDecreaseStep: this.maxDecreaseStep,
      },
    };
  }

  /**
   * A run built from `opts` and set to the state of `cp`. Throws InputError when `cp` was taken with
   * different options (naming the fields that differ) or is malformed. History rows already in `cp`
   * are not passed to `onRecord` again.
   */
  static resume(opts: TrainOptions, cp: TrainCheckpoint): TrainingRun {
    const run = new TrainingRun(opts);
    run.restore(cp);
    return run;
  }

  private restore(cp: TrainCheckpoint): void {
    const bad = (what: string): never => {
      throw new InputError(`checkpoint: ${what}`, 'checkpoint');
    };
    if (typeof cp !== 'object' || cp === null) bad(`expected an object, got ${cp === null ? 'null' : typeof cp}`);
    if (cp.version !== 1) bad(`unsupported version ${String(cp.version)} (this build reads version 1)`);
    const mine = this.fingerprint();
    const theirs = cp.fingerprint;
    if (typeof theirs !== 'object' || theirs === null) bad('missing fingerprint');
    const diffs: string[] = [];
    for (const key of new Set([...Object.keys(mine), ...Object.keys(theirs)])) {
      if (!Object.is(mine[key], theirs[key])) diffs.push(`${key} ${showValue(theirs[key])} (checkpoint) vs ${showValue(mine[key])} (options)`);
    }
    if (diffs.length > 0) bad(`taken with different options: ${diffs.join('; ')}`);
    const { P, n } = this;
    const isF64 = (a: unknown, len: number): boolean => a instanceof Float64Array && a.length === len;
    if (!Number.isSafeInteger(cp.step) || cp.step < 0 || cp.step > this.opts.steps) bad(`step ${cp.step} is not in 0…${this.opts.steps}`);
    if (!isF64(cp.thetaHat, P)) bad(`thetaHat must be a Float64Array of ${P} entries`);
    if (typeof cp.logRho !== 'number' || !Number.isFinite(cp.logRho)) bad(`logRho must be finite, got ${cp.logRho}`);
    if (typeof cp.rate !== 'number') bad('rate must be a number');
    if (!Number.isSafeInteger(cp.nextRecord) || cp.nextRecord < 0 || cp.nextRecord > this.plan.length) bad(`nextRecord ${cp.nextRecord} is out of range`);
    if (!Array.isArray(cp.history) || cp.history.length !== cp.nextRecord) bad(`history must hold ${cp.nextRecord} rows`);
    let batchRng: Rng;
    let attackRng: Rng | null = null;
    try {
      batchRng = Rng.fromState(cp.batchRng);
      if ((cp.attackRng === null) !== (this.state.attackRng === null)) bad(`attackRng must be ${this.state.attackRng ? 'a state' : 'null'}`);
      if (cp.attackRng !== null) attackRng = Rng.fromState(cp.attackRng);
    } catch (e) {
      if (e instanceof RangeError) bad(e.message);
      throw e;
    }
    let order: Int32Array | null = null;
    if (this.batches) {
      if (!Array.isArray(cp.order) || cp.order.length !== n) bad(`order must be a permutation of 0…${n - 1}`);
      order = Int32Array.from(cp.order!);
      const seen = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = cp.order![i];
        if (!Number.isInteger(v) || v < 0 || v >= n || seen[v]) bad(`order must be a permutation of 0…${n - 1}`);
        seen[v] = 1;
      }
      if (!Number.isSafeInteger(cp.cursor) || cp.cursor < 0 || cp.cursor > n) bad(`cursor ${cp.cursor} is not in 0…${n}`);
    } else if (cp.order !== null) bad('order must be null for a full-batch run');
    const lb = cp.lossBased;
    if (this.lossBased) {
      if (typeof lb !== 'object' || lb === null) bad('missing loss-based schedule state');
      if (!isF64(lb!.backupTheta, P) || !isF64(lb!.backupGrad, P)) bad(`backupTheta and backupGrad must be Float64Arrays of ${P} entries`);
      if (typeof lb!.alpha !== 'number' || !Number.isSafeInteger(lb!.rollbacks) || typeof lb!.backupLogRho !== 'number' || typeof lb!.backupLogL !== 'number') bad('malformed loss-based schedule state');
    } else if (lb !== null) bad('lossBased must be null for this schedule');
    const m = cp.monotonicity;
    if (typeof m !== 'object' || m === null) bad('missing monotonicity state');

    // All checked: overwrite.
    const { state, batches } = this;
    state.t = cp.step;
    state.thetaHat.set(cp.thetaHat);
    state.logRho = cp.logRho;
    state.attackRng = attackRng;
    this.batchRng = batchRng!;
    if (batches) {
      batches.rng = batchRng!;
      batches.order.set(order!);
      batches.cursor = cp.cursor;
    }
    this.rate = cp.rate;
    if (this.lossBased) {
      state.schedule = { kind: 'loss-based', alpha: lb!.alpha, bestLogLoss: lb!.backupLogL, bestLogRho: lb!.backupLogRho, rollbacks: lb!.rollbacks } satisfies LossBasedScheduleState;
      state.rollback!.thetaHat.set(lb!.backupTheta);
      state.rollback!.grad.set(lb!.backupGrad);
    }
    this.nextRecord = cp.nextRecord;
    this.history.length = 0;
    this.history.push(...cp.history);
    this.firstSeparableStep = m.firstSeparableStep;
    this.lastSmoothed = m.lastSmoothed;
    this.maxSmoothedDecrease = m.maxSmoothedDecrease;
    this.maxDecreaseStep = m.maxDecreaseStep;
    this.interrupted = false;
    this.finished = false;
    this.finalRowAppended = false;
    this.lastCheckpointStep = cp.step;
  }

  /** Steps taken so far. */
  get step(): number {
    return this.state.t;
  }

  /** True when `shouldStop` ended the run before its last step. */
  get stopped(): boolean {
    return this.interrupted;
  }

  /** True once all steps are taken or the run was stopped. */
  get done(): boolean {
    return this.finished;
  }

  private record(): void {
    const { t, thetaHat, logRho } = this.state;
    const row = this.measurer.measure(t, thetaHat, logRho, this.rate);
    this.history.push(row);
    this.opts.onRecord?.(row);
  }

  /** Take up to `maxSteps` steps (recording on the way); stops early when done or asked to stop. */
  advance(maxSteps: number): void {
    const { opts, state, stepper } = this;
    for (let k = 0; k <= maxSteps && !this.finished; k++) {
      const t = state.t;
      if (this.nextRecord < this.plan.length && this.plan[this.nextRecord] === t) {
        this.record();
        this.nextRecord++;
      }
      if (this.checkpointEvery > 0 && t % this.checkpointEvery === 0 && t !== this.lastCheckpointStep && t > 0) {
        this.lastCheckpointStep = t;
        opts.checkpoint!.save(this.checkpoint());
      }
      if (t >= opts.steps) {
        this.finished = true;
        break;
      }
      if (opts.shouldStop?.()) {
        this.interrupted = true;
        this.finished = true;
        break;
      }
      if (k === maxSteps) break;
      // One update from θ_t to θ_{t+1}, in place (mini-batch: next slice of a seeded per-epoch shuffle).
      stepper.stepInto(state, this.batches ? this.batches.next() : null, state);
      this.rate = stepper.schedule.rate(state.schedule, state.t);
      opts.onStep?.(state.t);
    }
  }

  /** γ̃ at step t (full batch) and its largest decrease since adversarial separability. */
  private trackSmoothedMargin(t: number, logL: number, mhat: Float64Array, count: number, logRho: number): void {
    let mmin = Infinity;
    for (let k = 0; k < count; k++) if (mhat[k] < mmin) mmin = mhat[k];
    const logScale = this.L * logRho;
    // Once ‖θ‖^L overflows, γ̃ equals the normalized margin (the loss is the hard minimum).
    const smoothed = Number.isFinite(Math.exp(logScale)) ? smoothedMargin(this.opts.loss, logL, logScale) : mmin;
    if (this.firstSeparableStep === null && mmin > 0) this.firstSeparableStep = t;
    if (this.firstSeparableStep !== null && Number.isFinite(this.lastSmoothed) && this.lastSmoothed - smoothed > this.maxSmoothedDecrease) {
      this.maxSmoothedDecrease = this.lastSmoothed - smoothed;
      this.maxDecreaseStep = t;
    }
    if (this.firstSeparableStep !== null) this.lastSmoothed = smoothed;
  }

  /** The result so far (after `done`, the whole run); measures the final state. */
  finish(): TrainResult {
    const { history, P } = this;
    const { t, thetaHat, logRho, schedule } = this.state;
    if (history.length === 0 || history[history.length - 1].step !== t) {
      this.record();
      this.finalRowAppended = true;
    }
    const final = this.measurer.measure(t, thetaHat, logRho, this.rate, true);
    const theta = new Float64Array(P);
    const rho = Math.exp(logRho);
    for (let k = 0; k < P; k++) theta[k] = rho * thetaHat[k];
    return {
      history: [...history],
      final,
      theta,
      thetaUnit: Float64Array.from(thetaHat),
      logNorm: logRho,
      stepsDone: t,
      interrupted: this.interrupted,
      rollbacks: schedule.kind === 'loss-based' ? schedule.rollbacks : 0,
      monotonicity: this.batches ? null : { firstSeparableStep: this.firstSeparableStep, maxSmoothedMarginDecrease: this.maxSmoothedDecrease, maxDecreaseStep: this.maxDecreaseStep },
    };
  }
}

function showValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** FNV-1a over 32-bit words, as 8 hex digits. */
function hashWords(h: number, words: Int32Array): number {
  for (let i = 0; i < words.length; i++) {
    h ^= words[i];
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

function hex(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Hash of a Float64Array's bits (platform byte order; checkpoints move between like machines). */
function hashFloat64(a: Float64Array): string {
  return hex(hashWords(0x811c9dc5 | 0, new Int32Array(a.buffer, a.byteOffset, a.length * 2)));
}

/** Hash of the training data (X bits and labels), so that a checkpoint is not resumed on other data. */
function hashData(data: Dataset): string {
  const X = data.X;
  let h = hashWords(0x811c9dc5 | 0, new Int32Array(X.buffer, X.byteOffset, X.length * 2));
  const y = data.y;
  for (let i = 0; i < y.length; i++) {
    h ^= y[i] | 0;
    h = Math.imul(h, 0x01000193);
  }
  return hex(h);
}
