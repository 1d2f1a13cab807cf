import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Attack, AttackConfig } from '../attacks/attack.ts';
import { createAttack, perturbationNormOf, perturbationRadiusOf } from '../attacks/index.ts';
import { MODELS } from '../models/registry.ts';
import { Rng } from '../linalg/rng.ts';
import { dualExponent, lpNorm } from '../linalg/norms.ts';
import { kernels } from '../linalg/kernels.ts';
import { type LossKind, logLossAndWeights, smoothedMargin } from '../losses/loss.ts';
import { MarginEvaluator, exampleMargins } from './margins.ts';
import { directionError, unitVector } from './direction.ts';
import { type Alignment, deepLinearAlignment } from './alignment.ts';
import { kktResiduals } from './kkt.ts';
import { architectureOfModel, predictorKkt, predictorTransform, type PredictorTransform } from '../solvers/interpolation-norm.ts';
import { signedExamples } from '../solvers/svm-q.ts';

/**
 * One history row (docs/THEORY.md §4). Margins are normalized by ‖θ‖^L (θ over all layers), so they are
 * scale-free; log-losses are natural logs of the SUM loss. Fields that do not apply are absent.
 */
export interface Measurement {
  step: number;
  /** log L̃: log of the training loss on the perturbed examples (the training attack). */
  logLoss: number;
  /** log L on the clean examples. */
  cleanLogLoss: number;
  /** γ̄_clean = min_i q_i / ‖θ‖^L. */
  normalizedMargin: number;
  /** γ̄ = min_i q̃_i / ‖θ‖^L under the training attack (equals the clean one for attack none). */
  adversarialNormalizedMargin: number;
  /** γ̃ = log(1/L̃)/‖θ‖^L (exponential), −log(expm1(L̃))/‖θ‖^L (logistic). */
  smoothedMargin: number;
  /** Fraction of examples with a positive clean margin. */
  trainAccuracy: number;
  /** Fraction with a positive margin under the training attack. */
  robustAccuracy: number;
  /** log‖θ‖. */
  logParameterNorm: number;
  /** Step size in force (η_t, or α_t for loss-based). */
  stepSize: number;
  /** Linear-in-x binary models with ε > 0: min_i (z_i·β − ε‖β‖_q)/‖θ‖^L, the exact worst case. */
  exactAdversarialNormalizedMargin?: number;
  /** Fraction robust under the exact worst case. */
  exactRobustAccuracy?: number;
  /** How far the training attack falls short of the exact worst case: γ̄(attack) − γ̄(exact) ≥ 0. */
  attackGap?: number;
  /** Angle in degrees between β and the reference direction. */
  referenceAngleDeg?: number;
  /** 1 − cos of that angle, computed without cancellation. */
  referenceOneMinusCos?: number;
  /** Deep linear networks: layer alignment. */
  alignment?: Alignment;
  /** Final row only, linear-in-x models: the unit predictor β/‖β‖₂. */
  predictor?: number[];
  /** KKT residuals of (P_adv) (docs/THEORY.md §4), when asked for. */
  kkt?: KktMeasurement;
  /**
   * Diagonal, diagonal-pm and conv models of depth ≥ 2 on binary data (claim C3): the predictor-space
   * KKT residual of β for min N(β) s.t. z_i·β − ε‖β‖_q ≥ 1 (`predictorKkt`, solvers/interpolation-norm.ts)
   * and the generalized margin Γ(β) = (min_i z_i·β − ε‖β‖_q)/N(β). Residual Infinity → null in JSON
   * while β does not separate the adversarial examples.
   */
  predictorKkt?: { stationarity: number; complementarity: number; margin: number };
}

/** What `kkt` in a measurement holds. */
export interface KktMeasurement {
  /** ‖θ̃ − Gλ*‖/‖θ̃‖ (NaN → null in JSON while some adversarial margin is ≤ 0). */
  stationarity: number;
  /** Σ λ*_i (q̃_i(θ̃) − 1). */
  complementarity: number;
  /** cos∠(θ, −∇L̃) on all examples. */
  gradientCosine: number;
  /** Examples the residuals were computed on (all, or the N with the smallest adversarial margins). */
  examples: number;
  /** How many of them carry λ*_i > 0. */
  support: number;
  /** docs/THEORY.md's plain NNLS residual min_{λ≥0} ‖θ̃ − Gλ‖/‖θ̃‖ (≤ stationarity; see metrics/kkt.ts). */
  nnlsStationarity: number;
  /**
   * Models with kink methods (relu-mlp, leaky-relu-mlp): the Clarke residual — stationarity with the
   * activation slopes at near-kink units chosen optimally in [a, 1] (metrics/kkt.ts); equals
   * `stationarity` when no unit is near a kink. NaN → null as `stationarity`.
   */
  clarkeStationarity?: number;
  /** Σ λ_i (q̃_i(θ̃) − 1) for the Clarke multipliers. */
  clarkeComplementarity?: number;
  /** τ: a unit is at a kink when |z_j| ≤ τ·‖w_j‖·‖a_in‖. */
  kinkTolerance?: number;
  /** Near-kink pre-activations of the examples carrying a Clarke multiplier λ_i > 0. */
  kinks?: number;
}

/** Which examples the KKT residuals use: all, or the N with the smallest adversarial margins. */
export interface KktOption {
  readonly examples: 'all' | number;
  /** τ of the Clarke residual (default `DEFAULT_KINK_TOLERANCE` of metrics/kkt.ts). */
  readonly kinkTolerance?: number;
}

/** Fixed seed of the PGD random starts used when measuring, so that measurements are reproducible. */
const MEASURE_STREAM = 0x5eed;

/** Computes `Measurement`s for one run; scratch allocated once. */
export class Measurer {
  private readonly evaluator: MarginEvaluator;
  private readonly attack: Attack;
  private readonly delta: Float64Array;
  private readonly Xadv: Float64Array;
  private readonly mhat: Float64Array;
  private readonly weights: Float64Array;
  private readonly perExample: Float64Array;
  private readonly beta: Float64Array;
  /** Layer alignment applies (the model kind's trait; deep linear). */
  private readonly layerAlignment: boolean;
  private readonly betaUnit: Float64Array;
  private readonly grad: Float64Array;

  constructor(
    private readonly model: Model,
    private readonly data: Dataset,
    private readonly attackConfig: AttackConfig,
    private readonly loss: LossKind,
    private readonly reference: Float64Array | null,
    private readonly seed: number,
    private readonly kkt: KktOption | null = null,
  ) {
    this.evaluator = new MarginEvaluator(model, data);
    this.attack = createAttack(attackConfig);
    const { n, d } = data;
    const g = this.evaluator.groupSize;
    this.delta = new Float64Array(n * d);
    this.Xadv = new Float64Array(n * d);
    this.mhat = new Float64Array(n * g);
    this.weights = new Float64Array(n * g);
    this.perExample = new Float64Array(n);
    this.beta = new Float64Array(d);
    this.betaUnit = new Float64Array(d);
    this.grad = kkt ? new Float64Array(model.numParams) : new Float64Array(0);
    this.layerAlignment = MODELS.find(model.kind)?.traits.layerAlignment ?? false;
    const arch = architectureOfModel(model.kind);
    if (arch !== null && model.order >= 2 && data.binary && model.predictor) {
      const ex = signedExamples(data);
      if (ex.ok) this.c3 = { Z: ex.Z, T: predictorTransform(arch, d), q: dualExponent(perturbationNormOf(attackConfig)), eps: perturbationRadiusOf(attackConfig) };
    }
  }
  /** Claim C3's predictor-space problem of this run (diagonal and conv models on binary data). */
  private readonly c3: { Z: Float64Array; T: PredictorTransform; q: number; eps: number } | null = null;

  /** Measure at θ = exp(logRho)·θ̂ (‖θ̂‖ = 1). `final` adds the unit predictor. */
  measure(step: number, thetaHat: Float64Array, logRho: number, stepSize: number, final = false): Measurement {
    const { model, data, loss } = this;
    const { n, d } = data;
    const g = this.evaluator.groupSize;
    const L = model.order;
    const logScale = L * logRho;

    // Clean margins.
    this.evaluator.margins(thetaHat, data.X, null, this.mhat);
    exampleMargins(this.mhat, n, g, this.perExample);
    let cleanMin = Infinity;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      cleanMin = Math.min(cleanMin, this.perExample[i]);
      if (this.perExample[i] > 0) correct++;
    }
    const cleanLogLoss = logLossAndWeights(loss, this.mhat, n, g, logScale, this.weights);

    // Margins under the training attack (fresh, fixed-seed random starts).
    let advMin = cleanMin;
    let robust = correct;
    let logLoss = cleanLogLoss;
    let advMinHat = cleanMin;
    const adversarial = this.attackConfig.kind !== 'none' && this.attackConfig.eps > 0;
    if (adversarial) {
      const rng = this.attackConfig.randomStart ? new Rng(this.seed ^ MEASURE_STREAM) : null;
      this.attack.perturb(model, thetaHat, data, null, this.delta, this.evaluator.ws, rng);
      for (let k = 0; k < n * d; k++) this.Xadv[k] = data.X[k] + this.delta[k];
      this.evaluator.margins(thetaHat, this.Xadv, null, this.mhat);
      exampleMargins(this.mhat, n, g, this.perExample);
      advMin = Infinity;
      robust = 0;
      for (let i = 0; i < n; i++) {
        advMin = Math.min(advMin, this.perExample[i]);
        if (this.perExample[i] > 0) robust++;
      }
      advMinHat = advMin;
      logLoss = logLossAndWeights(loss, this.mhat, n, g, logScale, this.weights);
    }
    // γ̃ = −log L / ‖θ‖^L; once ‖θ‖^L overflows it equals the normalized margin.
    const smoothed = Number.isFinite(Math.exp(logScale)) ? smoothedMargin(loss, logLoss, logScale) : advMinHat;

    const row: Measurement = {
      step,
      logLoss,
      cleanLogLoss,
      normalizedMargin: cleanMin,
      adversarialNormalizedMargin: advMin,
      smoothedMargin: smoothed,
      trainAccuracy: correct / n,
      robustAccuracy: robust / n,
      logParameterNorm: logRho,
      stepSize,
    };

    if (this.kkt) row.kkt = this.measureKkt(thetaHat, adversarial ? this.Xadv : data.X);

    if (model.linearInX && data.binary && model.predictor) {
      this.evaluator.predictor(thetaHat, this.beta);
      if (this.c3) {
        const k = predictorKkt(this.c3.Z, n, d, this.c3.T, model.order, this.c3.q, this.c3.eps, this.beta);
        row.predictorKkt = { stationarity: k.stationarity, complementarity: k.complementarity, margin: k.margin };
      }
      unitVector(this.beta, this.betaUnit);
      if (this.attackConfig.kind !== 'none' && this.attackConfig.eps > 0) {
        // Exact worst case (docs/THEORY.md §3): y⟨β, x + δ*⟩ = z·β − ε‖β‖_q.
        const penalty = this.attackConfig.eps * lpNorm(this.beta, dualExponent(this.attackConfig.p));
        let exactMin = Infinity;
        let exactRobust = 0;
        const k = kernels();
        for (let i = 0; i < n; i++) {
          const m = data.y[i] * k.dot(d, this.beta, 0, data.X, i * d) - penalty;
          exactMin = Math.min(exactMin, m);
          if (m > 0) exactRobust++;
        }
        row.exactAdversarialNormalizedMargin = exactMin;
        row.exactRobustAccuracy = exactRobust / n;
        row.attackGap = advMin - exactMin;
      }
      if (this.reference) {
        const e = directionError(this.beta, this.reference);
        row.referenceAngleDeg = e.angleDeg;
        row.referenceOneMinusCos = e.oneMinusCos;
      }
      if (this.layerAlignment) row.alignment = deepLinearAlignment(model, thetaHat, this.betaUnit);
      if (final) row.predictor = Array.from(this.betaUnit);
    }
    return row;
  }

  /**
   * KKT residuals and cos∠(θ, −∇L̃) at θ̂. Expects `this.weights` and `this.perExample` to hold the
   * training loss's weights and the per-example margins at the inputs X (as `measure` leaves them).
   */
  private measureKkt(thetaHat: Float64Array, X: Float64Array): KktMeasurement {
    const { n } = this.data;
    this.evaluator.gradient(thetaHat, X, null, this.weights, this.grad);
    let dot = 0;
    let nn = 0;
    for (let k = 0; k < this.grad.length; k++) {
      dot += thetaHat[k] * this.grad[k];
      nn += this.grad[k] * this.grad[k];
    }
    const gradientCosine = nn === 0 ? NaN : dot / Math.sqrt(nn);
    let rows: Int32Array;
    const want = this.kkt!.examples;
    if (want === 'all' || want >= n) rows = Int32Array.from({ length: n }, (_, i) => i);
    else {
      // The N examples with the smallest margins: the candidates for the support.
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.perExample[a] - this.perExample[b] || a - b);
      rows = Int32Array.from(order.slice(0, want));
    }
    const r = kktResiduals(this.model, thetaHat, this.data, X, rows, this.kkt!.kinkTolerance === undefined ? {} : { kinkTolerance: this.kkt!.kinkTolerance });
    const m: KktMeasurement = { stationarity: r.stationarity, complementarity: r.complementarity, gradientCosine, examples: r.examples, support: r.support, nnlsStationarity: r.nnlsStationarity };
    if (r.clarkeStationarity !== undefined) {
      m.clarkeStationarity = r.clarkeStationarity;
      m.clarkeComplementarity = r.clarkeComplementarity!;
      m.kinkTolerance = r.kinkTolerance!;
      m.kinks = r.kinks!;
    }
    return m;
  }
}
