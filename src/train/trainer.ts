import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import type { AttackConfig } from '../attacks/attack.ts';
import { createAttack } from '../attacks/index.ts';
import { Rng } from '../linalg/rng.ts';
import { lpNorm } from '../linalg/norms.ts';
import { NonFiniteError, InputError } from '../errors.ts';
import { type LossKind, logLossAndWeights, smoothedMargin } from '../losses/loss.ts';
import { MarginEvaluator } from '../metrics/margins.ts';
import { Measurer, type Measurement, type KktOption } from '../metrics/measure.ts';
import { type ScheduleConfig, baseRate, sphereCoefficient, LOSS_BASED_GROW, LOSS_BASED_SHRINK } from './schedule.ts';
import { type RecordSpec, DEFAULT_RECORD, recordSteps } from './record.ts';

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

/** Seed offsets of the independent random streams of one run. */
const STREAM_INIT = 0;
const STREAM_BATCH = 1;
const STREAM_ATTACK = 2;

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
  private readonly g: number;
  private readonly attack: ReturnType<typeof createAttack>;
  private attackRng: Rng | null;
  private batchRng: Rng;
  private readonly thetaHat: Float64Array;
  private logRho: number;
  private readonly evaluator: MarginEvaluator;
  private readonly measurer: Measurer;
  private readonly delta: Float64Array;
  private readonly Xadv: Float64Array;
  private readonly mhat: Float64Array;
  private readonly weights: Float64Array;
  private readonly grad: Float64Array;
  private readonly order: Int32Array;
  private readonly indices: Int32Array | null;
  private cursor: number;
  private readonly lossBased: boolean;
  private readonly backupTheta: Float64Array | null;
  private readonly backupGrad: Float64Array | null;
  private backupLogRho = 0;
  private backupLogL = Infinity;
  private alpha: number;
  private rollbacks = 0;
  private readonly plan: number[];
  private nextRecord = 0;
  private readonly history: Measurement[] = [];
  private t = 0;
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
    if (model.inputDim !== data.d) throw new InputError(`model expects inputs of dimension ${model.inputDim}, data "${data.name}" has d = ${data.d}`, 'data');
    const wantOutputs = data.binary ? 1 : data.classes;
    if (model.outputDim !== wantOutputs)
      throw new InputError(`model has ${model.outputDim} output(s), data "${data.name}" needs ${wantOutputs} (${data.binary ? 'binary labels ±1' : `${data.classes} classes`})`, 'model');
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
    this.attack = createAttack(opts.attack);
    const rootRng = new Rng(opts.seed);
    const streams = [rootRng.fork(), rootRng.fork(), rootRng.fork()];
    this.attackRng = opts.attack.randomStart ? streams[STREAM_ATTACK] : null;
    this.batchRng = streams[STREAM_BATCH];

    // θ = ρ θ̂ with ‖θ̂‖ = 1.
    const theta0 = opts.theta0 ? Float64Array.from(opts.theta0) : model.init(streams[STREAM_INIT], opts.initScale);
    if (theta0.length !== this.P) throw new InputError(`initial parameters have ${theta0.length} entries, model needs ${this.P}`, 'theta0');
    const norm0 = lpNorm(theta0, 2);
    if (!(norm0 > 0) || !Number.isFinite(norm0)) throw new InputError(`initial parameters have norm ${norm0}: need a finite, non-zero initialization (init-scale > 0)`, 'initScale');
    for (let k = 0; k < this.P; k++) theta0[k] /= norm0;
    this.thetaHat = theta0;
    this.logRho = Math.log(norm0);

    this.evaluator = new MarginEvaluator(model, data);
    this.g = this.evaluator.groupSize;
    this.measurer = new Measurer(model, data, opts.attack, opts.loss, opts.reference ?? null, opts.seed, opts.kkt ?? null);

    // Per-step buffers, allocated once.
    this.delta = new Float64Array(n * this.d);
    this.Xadv = Float64Array.from(data.X);
    this.mhat = new Float64Array(batch * this.g);
    this.weights = new Float64Array(batch * this.g);
    this.grad = new Float64Array(this.P);
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.indices = batch < n ? new Int32Array(batch) : null;
    this.cursor = n;
    this.lossBased = schedule.kind === 'loss-based';
    this.backupTheta = this.lossBased ? new Float64Array(this.P) : null;
    this.backupGrad = this.lossBased ? new Float64Array(this.P) : null;
    this.alpha = schedule.lr;
    this.rate = this.lossBased ? this.alpha : baseRate(schedule, 0);
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
      loss: opts.loss,
      'schedule.kind': schedule.kind,
      'schedule.lr': schedule.lr,
      'schedule.decay': schedule.decay,
      'schedule.form': schedule.form,
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
    return {
      version: 1,
      fingerprint: this.fingerprint(),
      step: this.t,
      thetaHat: Float64Array.from(this.thetaHat),
      logRho: this.logRho,
      batchRng: this.batchRng.getState(),
      attackRng: this.attackRng ? this.attackRng.getState() : null,
      order: this.indices ? Array.from(this.order) : null,
      cursor: this.cursor,
      rate: this.rate,
      lossBased: this.lossBased
        ? {
            alpha: this.alpha,
            rollbacks: this.rollbacks,
            backupTheta: Float64Array.from(this.backupTheta!),
            backupGrad: Float64Array.from(this.backupGrad!),
            backupLogRho: this.backupLogRho,
            backupLogL: this.backupLogL,
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
      if ((cp.attackRng === null) !== (this.attackRng === null)) bad(`attackRng must be ${this.attackRng ? 'a state' : 'null'}`);
      if (cp.attackRng !== null) attackRng = Rng.fromState(cp.attackRng);
    } catch (e) {
      if (e instanceof RangeError) bad(e.message);
      throw e;
    }
    let order: Int32Array | null = null;
    if (this.indices) {
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
    this.t = cp.step;
    this.thetaHat.set(cp.thetaHat);
    this.logRho = cp.logRho;
    this.batchRng = batchRng!;
    this.attackRng = attackRng;
    if (order) this.order.set(order);
    this.cursor = this.indices ? cp.cursor : n;
    this.rate = cp.rate;
    if (this.lossBased) {
      this.alpha = lb!.alpha;
      this.rollbacks = lb!.rollbacks;
      this.backupTheta!.set(lb!.backupTheta);
      this.backupGrad!.set(lb!.backupGrad);
      this.backupLogRho = lb!.backupLogRho;
      this.backupLogL = lb!.backupLogL;
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
    return this.t;
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
    const row = this.measurer.measure(this.t, this.thetaHat, this.logRho, this.rate);
    this.history.push(row);
    this.opts.onRecord?.(row);
  }

  /** Take up to `maxSteps` steps (recording on the way); stops early when done or asked to stop. */
  advance(maxSteps: number): void {
    const { opts } = this;
    for (let k = 0; k <= maxSteps && !this.finished; k++) {
      if (this.nextRecord < this.plan.length && this.plan[this.nextRecord] === this.t) {
        this.record();
        this.nextRecord++;
      }
      if (this.checkpointEvery > 0 && this.t % this.checkpointEvery === 0 && this.t !== this.lastCheckpointStep && this.t > 0) {
        this.lastCheckpointStep = this.t;
        opts.checkpoint!.save(this.checkpoint());
      }
      if (this.t >= opts.steps) {
        this.finished = true;
        break;
      }
      if (opts.shouldStop?.()) {
        this.interrupted = true;
        this.finished = true;
        break;
      }
      if (k === maxSteps) break;
      this.takeStep();
      this.t++;
      opts.onStep?.(this.t);
      if (!this.lossBased) this.rate = baseRate(opts.schedule, this.t);
    }
  }

  /** One update from θ_t to θ_{t+1}. */
  private takeStep(): void {
    const { opts, n, d, g, batch, indices, thetaHat, mhat, weights, grad, Xadv, delta, P, L } = this;
    const { model, data, schedule } = opts;
    const t = this.t;
    // Mini-batch: next slice of a seeded per-epoch shuffle.
    if (indices) {
      if (this.cursor + batch > n) {
        this.batchRng.shuffle(this.order);
        this.cursor = 0;
      }
      for (let b = 0; b < batch; b++) indices[b] = this.order[this.cursor + b];
      this.cursor += batch;
    }
    // Perturb at the current θ (scale invariance: δ(θ) = δ(θ̂)), then hold δ fixed.
    this.attack.perturb(model, thetaHat, data, indices, delta, this.evaluator.ws, this.attackRng);
    const count = indices ? batch : n;
    for (let b = 0; b < count; b++) {
      const base = (indices ? indices[b] : b) * d;
      for (let j = 0; j < d; j++) Xadv[base + j] = data.X[base + j] + delta[base + j];
    }
    this.evaluator.margins(thetaHat, Xadv, indices, mhat);
    for (let k = 0; k < count * g; k++) if (!Number.isFinite(mhat[k])) throw new NonFiniteError('margin', t, `example ${indices ? indices[Math.floor(k / g)] : Math.floor(k / g)}`);
    const logL = logLossAndWeights(opts.loss, mhat, count, g, L * this.logRho, weights);
    if ((Number.isNaN(logL) || logL === Infinity) && !this.lossBased) throw new NonFiniteError('loss', t);
    if (!indices) this.trackSmoothedMargin(t, logL, count * g);

    if (this.lossBased) {
      if (t > 0 && !(logL <= this.backupLogL)) {
        // Bad step: roll back to the last accepted point and retry from it with a smaller α.
        thetaHat.set(this.backupTheta!);
        this.logRho = this.backupLogRho;
        grad.set(this.backupGrad!);
        this.alpha /= LOSS_BASED_SHRINK;
        this.rollbacks++;
      } else {
        if (t > 0) this.alpha *= LOSS_BASED_GROW;
        // At the θ̂, Xadv and rows of the `margins` call above (unchanged since): its activations are reused.
        this.evaluator.gradientAtLastMargins(weights, grad);
        this.backupTheta!.set(thetaHat);
        this.backupGrad!.set(grad);
        this.backupLogRho = this.logRho;
        this.backupLogL = logL;
      }
      this.rate = this.alpha;
    } else {
      this.evaluator.gradientAtLastMargins(weights, grad);
      this.rate = baseRate(schedule, t);
    }
    const c = sphereCoefficient(schedule, this.rate, this.lossBased ? this.backupLogL : logL, this.logRho, L);
    if (!Number.isFinite(c)) throw new NonFiniteError('step size', t, `coefficient ${c}; log‖θ‖ = ${this.logRho}`);
    let ss = 0;
    for (let k = 0; k < P; k++) {
      const v = thetaHat[k] + c * grad[k];
      thetaHat[k] = v;
      ss += v * v;
    }
    const r = Math.sqrt(ss);
    if (!Number.isFinite(r)) throw new NonFiniteError('parameters', t + 1, 'non-finite gradient or update');
    if (r === 0) throw new NonFiniteError('parameters', t + 1, 'the update sent θ to zero');
    for (let k = 0; k < P; k++) thetaHat[k] /= r;
    this.logRho += Math.log(r);
    if (!Number.isFinite(this.logRho)) throw new NonFiniteError('log‖θ‖', t + 1);
  }

  /** γ̃ at step t (full batch) and its largest decrease since adversarial separability. */
  private trackSmoothedMargin(t: number, logL: number, count: number): void {
    let mmin = Infinity;
    for (let k = 0; k < count; k++) if (this.mhat[k] < mmin) mmin = this.mhat[k];
    const logScale = this.L * this.logRho;
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
    if (history.length === 0 || history[history.length - 1].step !== this.t) {
      this.record();
      this.finalRowAppended = true;
    }
    const final = this.measurer.measure(this.t, this.thetaHat, this.logRho, this.rate, true);
    const theta = new Float64Array(P);
    const rho = Math.exp(this.logRho);
    for (let k = 0; k < P; k++) theta[k] = rho * this.thetaHat[k];
    return {
      history: [...history],
      final,
      theta,
      thetaUnit: Float64Array.from(this.thetaHat),
      logNorm: this.logRho,
      stepsDone: this.t,
      interrupted: this.interrupted,
      rollbacks: this.rollbacks,
      monotonicity: this.indices ? null : { firstSeparableStep: this.firstSeparableStep, maxSmoothedMarginDecrease: this.maxSmoothedDecrease, maxDecreaseStep: this.maxDecreaseStep },
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
