/**
 * The lab's engine: one adversarial training run of the library (the same stepper, attacks, models
 * and measurements as `advbias train`), stepped a frame at a time, plus the planar reference
 * directions the theory predicts. Runs in the lab's Web Worker (lab-worker.ts) and in Node (tests).
 */
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { modelFromConfig, attackFromConfig, scheduleFromConfig } from '../../src/train/from-config.ts';
import { createStepper, type MutableTrainState, type Stepper } from '../../src/train/step.ts';
import { Measurer, type Measurement } from '../../src/metrics/measure.ts';
import { interpolationNorm, predictorTransform, architectureOfModel } from '../../src/solvers/interpolation-norm.ts';
import type { Model, Workspace } from '../../src/models/model.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import type { AttackConfig } from '../../src/attacks/attack.ts';
import { createAttack } from '../../src/attacks/index.ts';
import { Rng } from '../../src/linalg/rng.ts';
import type { LabState } from './lab-state.ts';
import { planarMaxMargin, signed, dual, norm2d, angleDeg, type PlanarSolution } from './planar.ts';

/** The reference directions of the current data, model, p and ε (null where not separable / not defined). */
export interface LabReferences {
  /** ℓ2-SVM (ε = 0). */
  l2: PlanarSolution | null;
  /** ℓq-SVM, q dual to p (ε = 0, size ‖·‖_q): where the adversarial SVM goes as ε ↑ γ_q*. */
  lq: PlanarSolution | null;
  /** Adversarial SVM (B): max min_i z_i·β − ε‖β‖_q over ‖β‖₂ = 1 (the attack's ε; 0 for none). */
  adv: PlanarSolution | null;
  /** C3 for diagonal and conv nets: min N(β) s.t. z_i·β − ε‖β‖_q ≥ 1 (N: interpolation norm of depth L). */
  c3: PlanarSolution | null;
  /** Which of them the theory predicts for the model ('adv' for linear and deep linear, 'c3' for diagonal and conv; null for ReLU nets). */
  predicted: 'adv' | 'c3' | null;
  /** γ_q*: the largest ε for which the data stay adversarially separable (ℓq-SVM margin). */
  epsMax: number;
  /**
   * The ε-path: the predicted direction (the adversarial SVM for linear and deep linear nets, C3 for
   * diagonal and conv nets; the adversarial SVM when there is no prediction) for 40 values of ε
   * from 0 to γ_q*, as unit vectors.
   */
  path: [number, number][];
}

/** What the view draws after a frame. */
export interface LabSnapshot {
  t: number;
  /** β/‖β‖ for linear-in-x models (null for ReLU nets). */
  direction: [number, number] | null;
  /** Angle in degrees between β and the predicted direction (null when there is none). */
  angleDeg: number | null;
  /**
   * (Γ* − Γ(β))/Γ*: how far β is from optimal in the predicted problem's own objective
   * Γ(β) = (min_i z_i·β − ε‖β‖_q)/N(β) (null when there is no prediction). Unlike the angle, it is
   * well defined when the optimum is not unique (C3 at L = 2 can have optimal faces).
   */
  gap: number | null;
  /** Normalized margins: clean γ̄_clean, adversarial γ̄ (the training attack), smoothed γ̃. */
  margin: number;
  advMargin: number;
  smoothedMargin: number;
  logLoss: number;
  /** KKT stationarity residual (null when not measured). */
  kkt: number | null;
  /** Deep linear: the smallest adjacent-layer alignment |⟨v_{k+1}, u_k⟩| (null otherwise). */
  alignment: number | null;
  /** The adversarial points x_i + δ_i of the training attack at the current θ (n×2). */
  adversarial: Float64Array;
}

/** An error that names the setting at fault (shown in the lab's status line). */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

/** The run's settings in the library's config form (the same validation as the CLI's flags). */
export function labConfig(s: LabState): TrainConfig {
  const raw: Record<string, unknown> = {
    model: s.model,
    attack: s.attack,
    schedule: s.schedule,
    lr: s.lr,
    initScale: s.initScale,
    seed: s.seed,
    steps: 1,
  };
  if (s.model !== 'linear') raw.depth = s.depth;
  if (s.model === 'deep-linear' || s.model === 'relu-mlp') raw.width = s.width;
  if (s.attack !== 'none') {
    raw.p = s.attack === 'fgsm' ? 'inf' : s.p === Infinity ? 'inf' : s.p;
    raw.eps = s.eps;
  }
  try {
    return parseTrainConfig(raw, new Set(), 'lab');
  } catch (e) {
    throw new LabError((e as Error).message);
  }
}

export function labDataset(s: LabState): Dataset {
  const n = s.points.length;
  // One class is fine: bias-free predictors through the origin separate it (S2 is one class).
  if (n === 0) throw new LabError('no points: pick a preset or click to add points');
  const X = new Float64Array(2 * n);
  const y = new Int32Array(n);
  s.points.forEach((p, i) => {
    X[2 * i] = p.x;
    X[2 * i + 1] = p.y;
    y[i] = p.label;
  });
  return { name: 'lab', n, d: 2, X, y, binary: true, classes: 2 };
}

/** The planar reference directions for the state's points, model, p and ε. */
export function labReferences(s: LabState, model: Model | null): LabReferences {
  const z = signed(s.points);
  const n = s.points.length;
  const p = s.attack === 'none' ? 2 : s.attack === 'fgsm' ? Infinity : s.p;
  const q = dual(p);
  const eps = s.attack === 'none' ? 0 : s.eps;
  const l2size = (a: number, b: number): number => Math.hypot(a, b);
  const l2 = planarMaxMargin(z, n, 0, q, l2size);
  const lq = planarMaxMargin(z, n, 0, q, (a, b) => norm2d(a, b, q));
  const adv = planarMaxMargin(z, n, eps, q, l2size);
  const arch = model && model.linearInX ? architectureOfModel(s.model) : null;
  let c3: PlanarSolution | null = null;
  if (arch !== null && model !== null && model.order >= 2) {
    const T = predictorTransform(arch, 2);
    const beta = new Float64Array(2);
    c3 = planarMaxMargin(z, n, eps, q, (a, b) => {
      beta[0] = a;
      beta[1] = b;
      return interpolationNorm(T, model.order, beta);
    });
  }
  const predicted = model === null || !model.linearInX ? null : arch !== null && model.order >= 2 ? 'c3' : 'adv';
  const epsMax = lq ? lq.margin : 0;
  let size: (a: number, b: number) => number = l2size;
  if (predicted === 'c3' && arch !== null && model !== null) {
    const T = predictorTransform(arch, 2);
    const beta = new Float64Array(2);
    size = (a, b) => {
      beta[0] = a;
      beta[1] = b;
      return interpolationNorm(T, model.order, beta);
    };
  }
  const path: [number, number][] = [];
  for (let k = 0; k < 40 && epsMax > 0; k++) {
    const sol = planarMaxMargin(z, n, (epsMax * k) / 40, q, size, 1440);
    if (sol) path.push(sol.direction);
  }
  return { l2, lq, adv, c3, predicted, epsMax, path };
}

/** One training run of the lab: build from a state, `advance(k)` steps, `snapshot()` to draw. */
export class LabEngine {
  readonly config: TrainConfig;
  readonly data: Dataset;
  readonly model: Model;
  readonly references: LabReferences;
  private readonly stepper: Stepper;
  private readonly state: MutableTrainState;
  private readonly measurer: Measurer;
  private readonly attackConfig: AttackConfig;
  private readonly reference: Float64Array | null;
  private readonly ws: Workspace;
  private readonly delta: Float64Array;
  /** The training attack, for the adversarial points drawn with each snapshot. */
  private readonly snapshotAttack: ReturnType<typeof createAttack>;
  private readonly out1 = new Float64Array(1);
  /** Γ of the predicted problem, and its optimum (see LabSnapshot.gap). */
  private readonly objective: ((b0: number, b1: number) => number) | null = null;
  private readonly optimum: number = NaN;
  /** Set when a step failed (non-finite value): the run stops there, the message says why. */
  error: string | null = null;

  constructor(s: LabState) {
    this.config = labConfig(s);
    this.data = labDataset(s);
    try {
      this.model = modelFromConfig(this.config, this.data);
      this.attackConfig = attackFromConfig(this.config);
    } catch (e) {
      throw new LabError((e as Error).message);
    }
    this.references = labReferences(s, this.model);
    const pred = this.references.predicted === 'adv' ? this.references.adv : this.references.predicted === 'c3' ? this.references.c3 : null;
    this.reference = pred ? Float64Array.from(pred.direction) : null;
    if (pred) {
      const z = signed(s.points);
      const n = s.points.length;
      const p = s.attack === 'none' ? 2 : s.attack === 'fgsm' ? Infinity : s.p;
      const q = dual(p);
      const eps = s.attack === 'none' ? 0 : s.eps;
      const arch = architectureOfModel(s.model);
      const T = this.references.predicted === 'c3' && arch !== null ? predictorTransform(arch, 2) : null;
      const L = this.model.order;
      this.objective = (b0, b1) => {
        let m = Infinity;
        for (let i = 0; i < n; i++) m = Math.min(m, z[2 * i] * b0 + z[2 * i + 1] * b1);
        const size = T ? interpolationNorm(T, L, [b0, b1]) : Math.hypot(b0, b1);
        return (m - eps * norm2d(b0, b1, q)) / size;
      };
      this.optimum = pred.margin;
    }
    this.stepper = createStepper({
      model: this.model,
      data: this.data,
      attack: this.attackConfig,
      loss: this.config.loss,
      schedule: scheduleFromConfig(this.config),
      initScale: this.config.initScale,
    });
    const s0 = this.stepper.init(this.config.seed);
    this.state = { ...s0, thetaHat: new Float64Array(s0.thetaHat), attackRng: s0.attackRng, rollback: s0.rollback ? { thetaHat: new Float64Array(s0.rollback.thetaHat), grad: new Float64Array(s0.rollback.grad) } : null };
    // KKT residuals of (P_adv) for every model (claim C2; for linear-in-x models they vanish at the prediction).
    const kkt = { examples: 'all' as const };
    this.measurer = new Measurer(this.model, this.data, this.attackConfig, this.config.loss, this.reference, this.config.seed, kkt);
    this.ws = this.model.createWorkspace();
    this.delta = new Float64Array(this.data.n * 2);
    this.snapshotAttack = createAttack(this.attackConfig);
  }

  get t(): number {
    return this.state.t;
  }

  /** Takes up to k steps; stops (and sets `error`) at a non-finite value. Returns the steps taken. */
  advance(k: number): number {
    if (this.error !== null) return 0;
    let done = 0;
    try {
      for (; done < k; done++) this.stepper.stepInto(this.state, null, this.state);
    } catch (e) {
      this.error = (e as Error).message;
    }
    return done;
  }

  /** The measurements and adversarial points at the current θ. */
  snapshot(): LabSnapshot {
    const { thetaHat, logRho, t } = this.state;
    const m: Measurement = this.measurer.measure(t, thetaHat, logRho, NaN);
    // The adversarial points of the training attack at θ (scale-invariant: θ̂ suffices).
    this.snapshotAttack.perturb(this.model, thetaHat, this.data, null, this.delta, this.ws, new Rng(this.config.seed));
    const adversarial = new Float64Array(this.data.n * 2);
    for (let k = 0; k < adversarial.length; k++) adversarial[k] = this.data.X[k] + this.delta[k];
    let direction: [number, number] | null = null;
    let angle: number | null = null;
    let gap: number | null = null;
    if (this.model.predictor) {
      const beta = new Float64Array(2);
      this.model.predictor(thetaHat, beta, this.ws);
      const r = Math.hypot(beta[0], beta[1]);
      if (r > 0) direction = [beta[0] / r, beta[1] / r];
      if (direction && this.reference) angle = angleDeg(direction[0], direction[1], this.reference[0], this.reference[1]);
      if (direction && this.objective) gap = (this.optimum - this.objective(direction[0], direction[1])) / this.optimum;
    }
    const align = m.alignment?.adjacent;
    return {
      t,
      direction,
      angleDeg: angle,
      gap,
      margin: m.normalizedMargin,
      advMargin: m.adversarialNormalizedMargin,
      smoothedMargin: m.smoothedMargin,
      logLoss: m.logLoss,
      kkt: m.kkt ? m.kkt.stationarity : null,
      alignment: align && align.length > 0 ? Math.min(...align) : null,
      adversarial,
    };
  }

  /**
   * The network's output f(θ̂; x) on a size×size grid over [x0, x1] × [y0, y1] (row-major, y from top),
   * for the heat map of ReLU nets.
   */
  grid(size: number, x0: number, x1: number, y0: number, y1: number): Float64Array {
    const out = new Float64Array(size * size);
    const x = new Float64Array(2);
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        x[0] = x0 + ((c + 0.5) / size) * (x1 - x0);
        x[1] = y1 - ((r + 0.5) / size) * (y1 - y0);
        this.model.forward(this.state.thetaHat, x, 0, this.out1, this.ws);
        out[r * size + c] = this.out1[0];
      }
    }
    return out;
  }
}
