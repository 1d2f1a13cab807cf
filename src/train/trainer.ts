import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import type { AttackConfig } from '../attacks/attack.ts';
import { createAttack } from '../attacks/index.ts';
import { Rng } from '../linalg/rng.ts';
import { lpNorm } from '../linalg/norms.ts';
import { NonFiniteError, InputError } from '../errors.ts';
import { type LossKind, logLossAndWeights } from '../losses/loss.ts';
import { MarginEvaluator } from '../metrics/margins.ts';
import { Measurer, type Measurement } from '../metrics/measure.ts';
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
  /** Start from these parameters instead of a random draw. */
  readonly theta0?: Float64Array;
  /** Called with every history row as it is recorded. */
  readonly onRecord?: (row: Measurement) => void;
  /** Called after every step (keep it cheap). */
  readonly onStep?: (step: number) => void;
  /** Polled after every step; returning true ends the run early (the result says so). */
  readonly shouldStop?: () => boolean;
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
}

/** Seed offsets of the independent random streams of one run. */
const STREAM_INIT = 0;
const STREAM_BATCH = 1;
const STREAM_ATTACK = 2;

/**
 * Adversarial training with the stop-gradient convention (THEORY §3, Algorithm 1): at each step the
 * perturbations δ_i are computed at the current θ and held fixed while the gradient of the loss of
 * y_i f(θ; x_i + δ_i) is taken. Computed on the sphere (THEORY §7), in the log domain; any NaN or
 * ±Infinity stops the run with a `NonFiniteError` naming the quantity and the step.
 */
export function train(opts: TrainOptions): TrainResult {
  const { model, data, loss, schedule } = opts;
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

  const L = model.order;
  const P = model.numParams;
  const d = data.d;
  const attack = createAttack(opts.attack);
  const rootRng = new Rng(opts.seed);
  const streams = [rootRng.fork(), rootRng.fork(), rootRng.fork()];
  const attackRng = opts.attack.randomStart ? streams[STREAM_ATTACK] : null;
  const batchRng = streams[STREAM_BATCH];

  // θ = ρ θ̂ with ‖θ̂‖ = 1.
  const theta0 = opts.theta0 ? Float64Array.from(opts.theta0) : model.init(streams[STREAM_INIT], opts.initScale);
  if (theta0.length !== P) throw new InputError(`initial parameters have ${theta0.length} entries, model needs ${P}`, 'theta0');
  const norm0 = lpNorm(theta0, 2);
  if (!(norm0 > 0) || !Number.isFinite(norm0)) throw new InputError(`initial parameters have norm ${norm0}: need a finite, non-zero initialization (init-scale > 0)`, 'initScale');
  const thetaHat = theta0;
  for (let k = 0; k < P; k++) thetaHat[k] /= norm0;
  let logRho = Math.log(norm0);

  const evaluator = new MarginEvaluator(model, data);
  const g = evaluator.groupSize;
  const measurer = new Measurer(model, data, opts.attack, loss, opts.reference ?? null, opts.seed);

  // Per-step buffers, allocated once.
  const delta = new Float64Array(n * d);
  const Xadv = Float64Array.from(data.X);
  const mhat = new Float64Array(batch * g);
  const weights = new Float64Array(batch * g);
  const grad = new Float64Array(P);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const indices = batch < n ? new Int32Array(batch) : null;
  let cursor = n;
  // Loss-based rollback state.
  const lossBased = schedule.kind === 'loss-based';
  const backupTheta = lossBased ? new Float64Array(P) : null;
  const backupGrad = lossBased ? new Float64Array(P) : null;
  let backupLogRho = 0;
  let backupLogL = Infinity;
  let alpha = schedule.lr;
  let rollbacks = 0;

  const plan = recordSteps(opts.record ?? DEFAULT_RECORD, opts.steps);
  let nextRecord = 0;
  const history: Measurement[] = [];
  const record = (t: number, rate: number): void => {
    const row = measurer.measure(t, thetaHat, logRho, rate);
    history.push(row);
    opts.onRecord?.(row);
  };

  let t = 0;
  let interrupted = false;
  let rate = lossBased ? alpha : baseRate(schedule, 0);
  for (; ; t++) {
    if (nextRecord < plan.length && plan[nextRecord] === t) {
      record(t, rate);
      nextRecord++;
    }
    if (t >= opts.steps) break;
    if (opts.shouldStop?.()) {
      interrupted = true;
      break;
    }
    // Mini-batch: next slice of a seeded per-epoch shuffle.
    if (indices) {
      if (cursor + batch > n) {
        batchRng.shuffle(order);
        cursor = 0;
      }
      for (let b = 0; b < batch; b++) indices[b] = order[cursor + b];
      cursor += batch;
    }
    // Perturb at the current θ (scale invariance: δ(θ) = δ(θ̂)), then hold δ fixed.
    attack.perturb(model, thetaHat, data, indices, delta, evaluator.ws, attackRng);
    const count = indices ? batch : n;
    for (let b = 0; b < count; b++) {
      const base = (indices ? indices[b] : b) * d;
      for (let j = 0; j < d; j++) Xadv[base + j] = data.X[base + j] + delta[base + j];
    }
    evaluator.margins(thetaHat, Xadv, indices, mhat);
    for (let k = 0; k < count * g; k++) if (!Number.isFinite(mhat[k])) throw new NonFiniteError('margin', t, `example ${indices ? indices[Math.floor(k / g)] : Math.floor(k / g)}`);
    const logL = logLossAndWeights(loss, mhat, count, g, L * logRho, weights);
    if (Number.isNaN(logL) || logL === Infinity) {
      if (!lossBased) throw new NonFiniteError('loss', t);
    }

    if (lossBased) {
      if (t > 0 && !(logL <= backupLogL)) {
        // Bad step: roll back to the last accepted point and retry from it with a smaller α.
        thetaHat.set(backupTheta!);
        logRho = backupLogRho;
        grad.set(backupGrad!);
        alpha /= LOSS_BASED_SHRINK;
        rollbacks++;
      } else {
        if (t > 0) alpha *= LOSS_BASED_GROW;
        evaluator.gradient(thetaHat, Xadv, indices, weights, grad);
        backupTheta!.set(thetaHat);
        backupGrad!.set(grad);
        backupLogRho = logRho;
        backupLogL = logL;
      }
      rate = alpha;
    } else {
      evaluator.gradient(thetaHat, Xadv, indices, weights, grad);
      rate = baseRate(schedule, t);
    }
    const c = sphereCoefficient(schedule, rate, lossBased ? backupLogL : logL, logRho, L);
    if (!Number.isFinite(c)) throw new NonFiniteError('step size', t, `coefficient ${c}; log‖θ‖ = ${logRho}`);
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
    logRho += Math.log(r);
    if (!Number.isFinite(logRho)) throw new NonFiniteError('log‖θ‖', t + 1);
    opts.onStep?.(t + 1);
    if (!lossBased) rate = baseRate(schedule, t + 1);
  }
  if (interrupted && (history.length === 0 || history[history.length - 1].step !== t)) record(t, rate);
  const final = measurer.measure(t, thetaHat, logRho, rate, true);
  const theta = new Float64Array(P);
  const rho = Math.exp(logRho);
  for (let k = 0; k < P; k++) theta[k] = rho * thetaHat[k];
  return { history, final, theta, thetaUnit: Float64Array.from(thetaHat), logNorm: logRho, stepsDone: t, interrupted, rollbacks };
}
