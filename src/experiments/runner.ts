/**
 * Runs an experiment: expands its runs, trains each one against the reference the theory predicts,
 * computes per-run metrics and checks the expected outcomes. Library code: data loading is injected
 * (files need Node), results are plain JSON-ready data; figures are drawn elsewhere from them.
 */
import { kernels } from '../linalg/kernels.ts';
import type { Dataset } from '../data/dataset.ts';
import type { SolverResult } from '../solvers/types.ts';
import { solve } from '../solvers/index.ts';
import { parseTrainConfig, configToJson, TrainConfigSchema, type TrainConfig } from '../train/config.ts';
import { trainOptionsFromConfig } from '../train/from-config.ts';
import { autoReference, isAdversarial, perturbationNorm } from '../train/reference.ts';
import { trainAsync, type TrainCheckpoint, type TrainResult } from '../train/trainer.ts';
import { robustAccuracyCurve } from '../attacks/evaluate.ts';
import { parseNormExponent } from '../linalg/norms.ts';
import type { Measurement } from '../metrics/measure.ts';
import { directionError } from '../metrics/direction.ts';
import { dualExponent, formatNormExponent } from '../linalg/norms.ts';
import { s2C3Answer, s2DeepLinearAnswer } from './s2-answers.ts';
import { architectureOfModel, type InterpolationNormResult } from '../solvers/interpolation-norm.ts';
import type { EvaluationConfig, ExperimentConfig, Expectation, RunMetric } from './schema.ts';
import { InputError } from '../errors.ts';
import { MODELS, modelDescriptor } from '../models/registry.ts';
import { perturbationNormOf } from '../attacks/index.ts';

type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

/** One run to do: its params (varied settings and tags) and the resolved base settings. */
export interface RunSpec {
  label: string;
  params: Params;
  /** Raw settings (base ⊕ params) before ε fractions are resolved. */
  raw: Record<string, unknown>;
}

/** The solver results a run is compared with (JSON-ready). */
export interface ReferenceSummary {
  problem: string;
  status: string;
  solver: string;
  direction: number[];
  margin: number;
  kkt: SolverResult['kkt'];
  /** interpolation-norm (C3): every local solution found, best first. */
  local?: { direction: number[]; objective: number; kktResidual: number }[];
}

export interface RunResult {
  label: string;
  params: Params;
  config: Record<string, unknown>;
  final: Measurement;
  history: Measurement[];
  reference: ReferenceSummary | null;
  l2Svm: ReferenceSummary | null;
  lqSvm: ReferenceSummary | null;
  /** γ_q* of the data for the run's p, when computed. */
  threshold: number | null;
  /** γ̃ monotonicity after adversarial separability (full-batch runs). */
  monotonicity: TrainResult['monotonicity'];
  /** Robust accuracy under the evaluation attack after training (ε = 0 first: clean accuracy). */
  evaluation: { data: string; eps: number[]; robustAccuracy: number[]; attack: string; examples: number; reportEps: number } | null;
  metrics: Partial<Record<RunMetric, number>>;
  seconds: number;
  /** The hot kernels the run was computed with (`kernels().name`, e.g. `openblas 0.3.21 Zen ×1` or `wasm`). */
  kernels?: string;
  /** True when the run was stopped before its last step (Ctrl-C): not a result to keep. */
  interrupted?: boolean;
}

export interface ExpectationRow {
  expectation: string;
  description: string;
  run: string;
  metric: RunMetric;
  expected: string;
  measured: number | null;
  pass: boolean;
}

/** The solver's prediction along an ε-path, densely sampled (for the figures). */
export interface SolverPath {
  /** Runs with these params (minus ε) share the path: see `pathKey`. */
  key: string;
  points: { eps: number; angleToL2SvmDeg: number; angleToLqSvmDeg: number }[];
}

export interface ExperimentResult {
  id: string;
  claim: string;
  title: string;
  quick: boolean;
  runs: RunResult[];
  table: ExpectationRow[];
  pass: boolean;
  seconds: number;
  /** Dense solver paths, when the experiment draws an ε-path. */
  solverPaths: SolverPath[];
}

/** Runs that differ only in ε lie on one ε-path: their params without eps/epsFraction, as text. */
export function pathKey(params: Params): string {
  return Object.entries(params)
    .filter(([k]) => k !== 'eps' && k !== 'epsFraction' && k !== 'target')
    .map(([k, v]) => `${k === 'depth' ? 'L' : k}=${show(v)}`)
    .join(' ');
}

/** Points of the dense solver path: fractions of γ_q* from 0 to `maxFraction`. */
const SOLVER_PATH_POINTS = { quick: 21, full: 61 } as const;

export interface RunnerHooks {
  /** Loads a `--data` spec (Node: files and the mnist package). */
  loadData: (spec: string) => Dataset;
  /** Called before each run starts. */
  onRunStart?: (index: number, total: number, label: string) => void;
  /** Called after every training step of the current run. */
  onStep?: (step: number, totalSteps: number) => void;
  shouldStop?: () => boolean;
}

const TRAIN_KEYS = new Set(Object.keys(TrainConfigSchema.shape));

function cartesian(grid: Record<string, ParamValue[]> | undefined): Params[] {
  let out: Params[] = [{}];
  for (const [k, values] of Object.entries(grid ?? {})) out = out.flatMap((p) => values.map((v) => ({ ...p, [k]: v })));
  return out;
}

function show(v: ParamValue): string {
  if (typeof v === 'number') return v === Infinity ? 'inf' : String(v);
  return String(v);
}

/** Expand the runs of an experiment (quick variant applied when `quick`). */
export function expandRuns(exp: ExperimentConfig, quick: boolean): RunSpec[] {
  const v = quick ? exp.quick : undefined;
  const base = { ...exp.base, ...(v?.base ?? {}) };
  const grid = v?.grid ?? exp.grid;
  const list = v?.runs ?? exp.runs ?? [{}];
  const specs: RunSpec[] = [];
  for (const g of cartesian(grid)) {
    for (const r of list) {
      const params: Params = { ...g, ...r };
      // A run may name itself with a `run` tag; otherwise its label lists what it varies.
      const shown = typeof r.run === 'string' ? { ...g, run: r.run } : params;
      const label =
        Object.entries(shown)
          .filter(([k]) => k !== 'target')
          .map(([k, val]) => (k === 'run' ? String(val) : `${k === 'depth' ? 'L' : k}=${show(val)}`))
          .join(' ') || exp.id;
      const raw: Record<string, unknown> = { ...base };
      for (const [k, val] of Object.entries(params)) if (TRAIN_KEYS.has(k)) raw[k] = val;
      specs.push({ label, params, raw });
    }
  }
  return specs;
}

function summarize(r: SolverResult | null): ReferenceSummary | null {
  if (!r || r.status !== 'optimal' || !r.direction) return null;
  const out: ReferenceSummary = { problem: r.problem, status: r.status, solver: r.solver, direction: Array.from(r.direction), margin: r.margin, kkt: r.kkt };
  if ('local' in r) {
    out.local = (r as InterpolationNormResult).local.map((s) => ({ direction: Array.from(s.direction), objective: s.objective, kktResidual: Math.max(s.kkt.stationarity, s.kkt.complementarity) }));
  }
  return out;
}

/**
 * The constant c_L in sup_θ γ̄(θ) = c_L · sup_β Γ(β) (docs/THEORY.md §4): L^{−L/2} for deep linear, diagonal
 * (product form) and convolutional nets (AM–GM over the L factors), 1 for the ± diagonal form
 * β = u^{⊙L} − v^{⊙L} (there ‖θ‖² ≥ Σ_j |β_j|^{2/L}, with equality when one of u_j, v_j is 0).
 */
export function marginConstant(model: unknown, depth: number): number {
  return MODELS.find(model)?.traits.marginConstant(depth) ?? NaN;
}

const DEG = 180 / Math.PI;

/** Per-history-row value of a trace metric (NaN when it does not apply). */
export function traceValue(row: Measurement, metric: string, run: Pick<RunResult, 'reference' | 'config'>): number {
  switch (metric) {
    case 'alignmentMin':
      return row.alignment ? Math.min(...row.alignment.rank1, ...row.alignment.adjacent, row.alignment.predictor) : NaN;
    case 'layerShareError': {
      const s = row.alignment?.layerShares;
      return s ? Math.max(...s.map((x) => Math.abs(x - 1 / s.length))) : NaN;
    }
    case 'kktStationarity':
      return row.kkt?.stationarity ?? NaN;
    case 'kktComplementarity':
      return row.kkt?.complementarity ?? NaN;
    case 'kktClarkeStationarity':
      return row.kkt?.clarkeStationarity ?? NaN;
    case 'predictorKktResidual':
      return row.predictorKkt ? Math.max(row.predictorKkt.stationarity, row.predictorKkt.complementarity) : NaN;
    case 'gradientCosine':
      return row.kkt?.gradientCosine ?? NaN;
    case 'marginRatio': {
      if (!run.reference) return NaN;
      const gamma = row.exactAdversarialNormalizedMargin ?? row.adversarialNormalizedMargin;
      return gamma / (marginConstant(run.config.model, Number(run.config.depth)) * run.reference.margin);
    }
    default: {
      const v = (row as unknown as Record<string, unknown>)[metric];
      return typeof v === 'number' ? v : NaN;
    }
  }
}

function angleBetween(a: ArrayLike<number> | undefined | null, b: ArrayLike<number> | undefined | null): number {
  if (!a || !b) return NaN;
  return directionError(a, b).angleDeg;
}

function runMetrics(run: Omit<RunResult, 'metrics' | 'seconds'>, c: TrainConfig, data: Dataset, extra: { kernel?: ReferenceSummary | null; bias?: ReferenceSummary | null } = {}): Partial<Record<RunMetric, number>> {
  const f = run.final;
  const m: Partial<Record<RunMetric, number>> = {
    adversarialNormalizedMargin: f.adversarialNormalizedMargin,
    robustAccuracy: f.robustAccuracy,
    trainAccuracy: f.trainAccuracy,
  };
  if (f.referenceAngleDeg !== undefined) m.referenceAngleDeg = f.referenceAngleDeg;
  if (f.referenceOneMinusCos !== undefined) m.referenceOneMinusCos = f.referenceOneMinusCos;
  for (const k of ['alignmentMin', 'layerShareError', 'marginRatio'] as const) {
    const v = traceValue(f, k, run);
    if (Number.isFinite(v)) m[k] = v;
  }
  if (run.reference) m.solveKktMax = Math.max(run.reference.kkt.primalFeasibility, run.reference.kkt.dualFeasibility, run.reference.kkt.complementarity, run.reference.kkt.stationarity);
  // S2's closed-form answers (docs/THEORY.md §8) for linear and deep-linear models, p ∈ {1, 2, ∞}.
  if (/^s2(-mirrored)?$/.test(c.data) && modelDescriptor(c.model).traits.c3Architecture === null && modelDescriptor(c.model).traits.referenceProblem(c.depth) === 'adversarial-svm' && f.predictor) {
    const ans = s2DeepLinearAnswer(isAdversarial(c) ? perturbationNorm(c) : 2, isAdversarial(c) ? c.eps : 0);
    if (ans) m.closedFormAngleErrorDeg = Math.abs(Math.atan2(f.predictor[1], f.predictor[0]) * DEG - ans.angleDeg);
  }
  // Claim C3: the predictor-space KKT residual of the trained β (measured in the final row), its
  // margin against the best local solution, the nearest local solution, docs/THEORY.md §8's S2 answers.
  const arch = architectureOfModel(c.model);
  if (arch !== null && f.predictor && f.predictorKkt) {
    const k = f.predictorKkt;
    const res = Math.max(k.stationarity, k.complementarity);
    if (Number.isFinite(res)) m.predictorKktResidual = res;
    if (run.reference && Number.isFinite(k.margin)) m.predictorMarginRatio = k.margin / run.reference.margin;
    if (run.reference?.local && run.reference.local.length > 0) m.localSolutionAngleDeg = Math.min(...run.reference.local.map((s) => angleBetween(f.predictor, s.direction)));
    if (/^s2(-mirrored)?$/.test(c.data)) {
      const ans = s2C3Answer(arch, c.depth, isAdversarial(c) ? perturbationNorm(c) : 2, isAdversarial(c) ? c.eps : 0);
      if (ans !== null) m.closedFormAngleErrorDeg = Math.abs(Math.atan2(f.predictor[1], f.predictor[0]) * DEG - ans);
    }
  }
  if (f.predictor && extra.kernel) {
    const a = angleBetween(f.predictor, extra.kernel.direction);
    if (Number.isFinite(a)) m.angleToKernelDeg = a;
  }
  if (f.predictor && extra.bias) {
    const a = angleBetween(f.predictor, extra.bias.direction);
    if (Number.isFinite(a)) m.angleToArchitectureBiasDeg = a;
  }
  if (Number.isFinite(f.logLoss)) m.finalLogLoss = f.logLoss;
  if (f.predictor) {
    const a2 = angleBetween(f.predictor, run.l2Svm?.direction);
    const aq = angleBetween(f.predictor, run.lqSvm?.direction);
    if (Number.isFinite(a2)) m.angleToL2SvmDeg = a2;
    if (Number.isFinite(aq)) m.angleToLqSvmDeg = aq;
  }
  if (run.reference) {
    const s2 = angleBetween(run.reference.direction, run.l2Svm?.direction);
    const sq = angleBetween(run.reference.direction, run.lqSvm?.direction);
    if (Number.isFinite(s2)) m.solverAngleToL2SvmDeg = s2;
    if (Number.isFinite(sq)) m.solverAngleToLqSvmDeg = sq;
  }
  // Where a direction sits between the two SVMs: 0 at the ℓ2-SVM, 1 at the ℓq-SVM.
  const position = (a2: number | undefined, aq: number | undefined): number | undefined =>
    a2 === undefined || aq === undefined ? undefined : a2 + aq === 0 ? 0 : a2 / (a2 + aq);
  const pp = position(m.angleToL2SvmDeg, m.angleToLqSvmDeg);
  const sp = position(m.solverAngleToL2SvmDeg, m.solverAngleToLqSvmDeg);
  if (pp !== undefined) m.pathPosition = pp;
  if (sp !== undefined) m.solverPathPosition = sp;
  // Claim C2 observables.
  if (f.kkt) {
    if (Number.isFinite(f.kkt.stationarity)) m.kktStationarity = f.kkt.stationarity;
    if (Number.isFinite(f.kkt.complementarity)) m.kktComplementarity = f.kkt.complementarity;
    if (f.kkt.clarkeStationarity !== undefined && Number.isFinite(f.kkt.clarkeStationarity)) m.kktClarkeStationarity = f.kkt.clarkeStationarity;
    if (Number.isFinite(f.kkt.gradientCosine)) m.gradientCosine = f.kkt.gradientCosine;
    const first = run.history.find((h) => h.kkt && Number.isFinite(h.kkt.stationarity));
    if (first && Number.isFinite(f.kkt.stationarity)) m.kktStationarityRatio = f.kkt.stationarity / first.kkt!.stationarity;
  }
  if (run.monotonicity && run.monotonicity.firstSeparableStep !== null) m.smoothedMarginMaxDecrease = run.monotonicity.maxSmoothedMarginDecrease;
  m.normalizedMargin = f.normalizedMargin;
  m.adversarialMarginGap = f.normalizedMargin - f.adversarialNormalizedMargin;
  const firstPositive = run.history.find((h) => h.adversarialNormalizedMargin > 0);
  if (firstPositive) m.marginRise = f.adversarialNormalizedMargin - firstPositive.adversarialNormalizedMargin;
  const decade = [...run.history].reverse().find((h) => h.step <= f.step / 10);
  if (decade && f.adversarialNormalizedMargin !== 0) m.marginLastDecadeChange = Math.abs(f.adversarialNormalizedMargin - decade.adversarialNormalizedMargin) / Math.abs(f.adversarialNormalizedMargin);
  if (run.evaluation) {
    m.evalCleanAccuracy = run.evaluation.robustAccuracy[0];
    const at = run.evaluation.eps.findIndex((e) => Math.abs(e - run.evaluation!.reportEps) <= 1e-12 * Math.max(1, e));
    if (at >= 0) m.evalRobustAccuracy = run.evaluation.robustAccuracy[at];
  }
  void data;
  return m;
}

function matches(params: Params, where: Params | undefined): boolean {
  if (!where) return true;
  return Object.entries(where).every(([k, v]) => {
    const have = params[k];
    if (k === 'p' || typeof v === 'number') return show(have as ParamValue) === show(v);
    return have === v;
  });
}

/** Check the expectations against the runs: one row per (expectation, matching run). */
export function evaluate(expectations: readonly Expectation[], runs: readonly RunResult[]): ExpectationRow[] {
  const rows: ExpectationRow[] = [];
  for (const e of expectations) {
    const selected = runs.filter((r) => matches(r.params, e.where));
    if (selected.length === 0) {
      rows.push({ expectation: e.id, description: e.description, run: '(no matching run)', metric: e.metric, expected: `${e.op} ${e.value}`, measured: null, pass: false });
      continue;
    }
    for (const r of selected) {
      const v = r.metrics[e.metric];
      const measured = v === undefined || !Number.isFinite(v) ? null : v;
      let pass = false;
      if (measured !== null) {
        if (e.op === '<') pass = measured < e.value;
        else if (e.op === '<=') pass = measured <= e.value;
        else if (e.op === '>') pass = measured > e.value;
        else pass = measured >= e.value;
      }
      rows.push({ expectation: e.id, description: e.description, run: r.label, metric: e.metric, expected: `${e.op} ${e.value}`, measured, pass });
    }
  }
  return rows;
}

/**
 * One run of an experiment, fully resolved (ε fractions turned into ε): everything `executeRun` needs,
 * JSON-ready, so that it can be hashed for the run store and sent to a worker thread.
 */
export interface PlannedRun {
  experiment: string;
  /** Position in the experiment's run list (results are assembled in this order). */
  index: number;
  label: string;
  params: Params;
  /** The validated training config, as written by `configToJson` (ε resolved). */
  config: Record<string, unknown>;
  /** γ_q* of the data for the run's p, when computed. */
  threshold: number | null;
  /** What the run is compared with and evaluated on (from the experiment). */
  reference: 'auto' | 'none';
  svmEndpoints: boolean;
  kernelReference: boolean;
  evaluation: EvaluationConfig | null;
}

/** Hooks of one run: progress, stopping, checkpoints (see `TrainOptions`). */
export interface RunHooks {
  loadData: (spec: string) => Dataset;
  onStep?: (step: number, totalSteps: number) => void;
  shouldStop?: () => boolean;
  /** A checkpoint to resume the training from (same config), and where to send new ones. */
  resumeFrom?: TrainCheckpoint | null;
  checkpoint?: { everySteps: number; save: (cp: TrainCheckpoint) => void };
}

/** The experiment's runs, validated, with ε fractions resolved (needs γ_q*: solves the threshold). */
export async function planExperiment(exp: ExperimentConfig, quick: boolean, loadDataFn: (spec: string) => Dataset): Promise<PlannedRun[]> {
  const specs = expandRuns(exp, quick);
  // Validate every run's settings before the first (possibly long) run starts.
  for (const spec of specs) parseTrainConfig({ ...spec.raw, ...(typeof spec.params.epsFraction === 'number' ? { eps: 0 } : {}) }, new Set(), `experiment ${exp.id}, run ${spec.label}`);
  const thresholds = new Map<string, Promise<SolverResult>>();
  const ev = (quick ? exp.quick?.evaluation : undefined) ?? exp.evaluation ?? null;
  const plans: PlannedRun[] = [];
  for (const [index, spec] of specs.entries()) {
    const raw = { ...spec.raw };
    const dataSpec = String(raw.data ?? 's2');
    let threshold: number | null = null;
    const pRaw = parseTrainConfig({ ...raw, eps: 0 }).p;
    const p = perturbationNormOf({ kind: String(raw.attack ?? 'none'), p: pRaw });
    if (typeof spec.params.epsFraction === 'number' || exp.svmEndpoints) {
      const key = `${dataSpec}|${p}`;
      let th = thresholds.get(key);
      if (!th) thresholds.set(key, (th = solve('threshold', loadDataFn(dataSpec), { p })));
      const t = await th;
      if (t.status !== 'optimal') throw new InputError(`experiment ${exp.id}, run ${spec.label}: γ_q* of "${dataSpec}": ${t.status}: ${t.message}`, 'experiment');
      threshold = t.margin;
      if (typeof spec.params.epsFraction === 'number') raw.eps = spec.params.epsFraction * t.margin;
    }
    const c = parseTrainConfig(raw, new Set(), `experiment ${exp.id}, run ${spec.label}`);
    plans.push({
      experiment: exp.id,
      index,
      label: spec.label,
      params: spec.params,
      config: configToJson(c),
      threshold,
      reference: exp.reference,
      svmEndpoints: exp.svmEndpoints,
      kernelReference: exp.kernelReference,
      evaluation: ev,
    });
  }
  return plans;
}

/**
 * Train one planned run against its references and measure it: a pure function of the plan (every
 * random choice is seeded in the config), so any worker gives the same bits. `solveCache` may be
 * shared between runs of one thread (the solvers are deterministic too).
 */
export async function executeRun(plan: PlannedRun, hooks: RunHooks, solveCache: Map<string, Promise<SolverResult>> = new Map()): Promise<RunResult> {
  const t1 = Date.now();
  const cachedSolve = (key: string, f: () => Promise<SolverResult>): Promise<SolverResult> => {
    let r = solveCache.get(key);
    if (!r) solveCache.set(key, (r = f()));
    return r;
  };
  const c = parseTrainConfig(plan.config, new Set(), `experiment ${plan.experiment}, run ${plan.label}`);
  const dataSpec = c.data;
  const d = hooks.loadData(dataSpec);
  const arch = architectureOfModel(c.model);
  const problem = modelDescriptor(c.model).traits.referenceProblem(c.depth);
  const family = problem === 'adversarial-svm' ? 'C1' : problem === 'interpolation-norm' ? `C3-${arch}-${c.depth}` : c.model;
  const refKey = `ref|${dataSpec}|${family}|${isAdversarial(c) ? `${perturbationNorm(c)}|${c.eps}` : 'clean'}`;
  const reference = plan.reference === 'auto' ? await cachedSolve(refKey, () => autoReference(c, d)) : null;
  let kernel: SolverResult | null = null;
  let bias: SolverResult | null = null;
  if (plan.kernelReference) {
    kernel = await cachedSolve(`ref|${dataSpec}|C1|${isAdversarial(c) ? `${perturbationNorm(c)}|${c.eps}` : 'clean'}`, () => autoReference({ ...c, model: 'deep-linear' }, d));
    if (arch !== null && c.depth >= 2) bias = await cachedSolve(`ref|${dataSpec}|${family}|clean`, () => autoReference({ ...c, attack: 'none', eps: 0 }, d));
  }
  let l2: SolverResult | null = null;
  let lq: SolverResult | null = null;
  if (plan.svmEndpoints) {
    l2 = await cachedSolve(`svm|${dataSpec}|2`, () => solve('svm', d, { q: 2 }));
    const q = dualExponent(perturbationNorm(c));
    lq = await cachedSolve(`svm|${dataSpec}|${q}`, () => solve('svm', d, { q }));
  }
  const opts = trainOptionsFromConfig(c, d, {
    reference: reference?.direction ?? undefined,
    onStep: hooks.onStep ? (t) => hooks.onStep!(t, c.steps) : undefined,
    shouldStop: hooks.shouldStop,
  });
  const result = await trainAsync(hooks.checkpoint ? { ...opts, checkpoint: hooks.checkpoint } : opts, 50, hooks.resumeFrom ?? undefined);
  const ev = plan.evaluation;
  let evaluation: RunResult['evaluation'] = null;
  if (ev && !result.interrupted) {
    const evalSpec = ev.data ?? dataSpec;
    const evalData = hooks.loadData(evalSpec);
    const curve = robustAccuracyCurve(opts.model, result.theta, evalData, {
      p: ev.p === 'inf' ? Infinity : parseNormExponent(ev.p),
      epsList: [0, ...ev.epsList],
      steps: ev.steps,
      restarts: ev.restarts,
      seed: ev.seed,
    });
    evaluation = { data: evalSpec, eps: curve.eps, robustAccuracy: curve.robustAccuracy, attack: curve.attack, examples: curve.examples, reportEps: ev.reportEps ?? ev.epsList[ev.epsList.length - 1] };
  }
  const partial = {
    label: plan.label,
    params: plan.params,
    config: configToJson(c),
    final: result.final,
    history: result.history,
    reference: summarize(reference),
    l2Svm: summarize(l2),
    lqSvm: summarize(lq),
    threshold: plan.threshold,
    monotonicity: result.monotonicity,
    evaluation,
  };
  return { ...partial, metrics: runMetrics(partial, c, d, { kernel: summarize(kernel), bias: summarize(bias) }), seconds: (Date.now() - t1) / 1000, kernels: kernels().name, interrupted: result.interrupted };
}

/** The experiment's result from its runs (in plan order): expectations, pass/fail, dense solver paths. */
export async function assembleExperiment(exp: ExperimentConfig, quick: boolean, runs: RunResult[], loadDataFn: (spec: string) => Dataset, seconds: number): Promise<ExperimentResult> {
  const expectations = (quick ? exp.quick?.expectations : undefined) ?? exp.expectations;
  const table = evaluate(expectations, runs);
  // Dense solver paths only for the runs an ε-path figure draws (each point is a solve; at L ≥ 3 several).
  const pathFigures = exp.figures.filter((f) => f.kind === 'eps-path');
  const pathRuns = runs.filter((r) => pathFigures.some((f) => matches(r.params, f.where)));
  const solverPaths = pathFigures.length > 0 ? await denseSolverPaths(pathRuns, quick, loadDataFn) : [];
  return { id: exp.id, claim: exp.claim, title: exp.title, quick, runs, table, pass: table.every((r) => r.pass), seconds, solverPaths };
}

/** Run every run of an experiment in this thread, in order, and check its expectations. */
export async function runExperiment(exp: ExperimentConfig, quick: boolean, hooks: RunnerHooks): Promise<ExperimentResult> {
  const t0 = Date.now();
  const dataCache = new Map<string, Dataset>();
  const load = (spec: string): Dataset => {
    let data = dataCache.get(spec);
    if (!data) dataCache.set(spec, (data = hooks.loadData(spec)));
    return data;
  };
  const plans = await planExperiment(exp, quick, load);
  const solveCache = new Map<string, Promise<SolverResult>>();
  const runs: RunResult[] = [];
  for (const plan of plans) {
    hooks.onRunStart?.(plan.index, plans.length, plan.label);
    const run = await executeRun(plan, { loadData: load, onStep: hooks.onStep, shouldStop: hooks.shouldStop }, solveCache);
    runs.push(run);
    if (run.interrupted) break;
  }
  return assembleExperiment(exp, quick, runs, load, (Date.now() - t0) / 1000);
}

/** The solver's direction at many ε along each ε-path, placed between the ℓ2-SVM and the ℓq-SVM. */
async function denseSolverPaths(runs: RunResult[], quick: boolean, loadDataFn: (spec: string) => Dataset): Promise<SolverPath[]> {
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) groups.set(pathKey(r.params), [...(groups.get(pathKey(r.params)) ?? []), r]);
  const paths: SolverPath[] = [];
  for (const [key, rs] of groups) {
    const first = rs[0];
    if (!first.threshold || !first.l2Svm || !first.lqSvm) continue;
    const data = loadDataFn(String(first.config.data));
    const p = perturbationNormOf({ kind: String(first.config.attack), p: parseNormExponent(first.config.p as string | number) });
    const maxEps = Math.max(...rs.map((r) => Number(r.config.eps)));
    const count = quick ? SOLVER_PATH_POINTS.quick : SOLVER_PATH_POINTS.full;
    const points: SolverPath['points'] = [];
    // C3 models: the interpolation-norm solution of the run's architecture and depth; C1: (B).
    const arch = architectureOfModel(String(first.config.model));
    const depth = Number(first.config.depth);
    for (let k = 0; k < count; k++) {
      const eps = (maxEps * k) / (count - 1);
      const sol =
        arch !== null && depth >= 2
          ? await solve('interpolation-norm', data, { architecture: arch, depth, p, eps })
          : eps === 0
            ? await solve('svm', data, { q: 2 })
            : await solve('adversarial-svm', data, { p, eps });
      if (sol.status !== 'optimal' || !sol.direction) continue;
      points.push({ eps, angleToL2SvmDeg: angleBetween(sol.direction, first.l2Svm.direction), angleToLqSvmDeg: angleBetween(sol.direction, first.lqSvm.direction) });
    }
    paths.push({ key, points });
  }
  return paths;
}

/** Text of a norm exponent for labels. */
export const showP = formatNormExponent;
