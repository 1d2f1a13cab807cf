/**
 * `advbias measure`: the measurements of a training run's final row (docs/THEORY.md §4) for saved weights —
 * a result.json of `advbias train`, or PyTorch exports (.npy, .safetensors; layouts in src/io/params.ts).
 * One measurement by the trainer's own `Measurer`, so that a result.json measured again gives its
 * `final` bit for bit; plus the robust-accuracy curve and, for linear-in-x models, PGD's attack gap.
 */
import { InputError } from '../errors.ts';
import type { TrainConfig } from '../train/config.ts';
import { trainOptionsFromConfig } from '../train/from-config.ts';
import { perturbationNorm } from '../train/reference.ts';
import { Measurer, type Measurement } from '../metrics/measure.ts';
import { attackGapCurve, type AttackGapCurve, type RobustAccuracyCurve } from '../attacks/evaluate.ts';
import type { SolverResult } from '../solvers/types.ts';
import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { formatNormExponent } from '../linalg/norms.ts';
import { kernels } from '../linalg/kernels.ts';
import { loadData } from '../node/load-data.ts';
import { loadParamsFile, paramsForModel, paramsSourceInfo, type LoadedParams } from '../node/params-io.ts';
import { resolveTrainConfig, referenceOf, evaluationOf, measurementLines, evaluationText, type TrainFlags } from './train.ts';
import { toJson } from './output.ts';
import { VERSION } from './version.ts';

/** Flags of `advbias measure` as commander hands them over. */
export interface MeasureFlags {
  [key: string]: string | boolean | undefined;
}

/** The settings of a config that a measurement uses (the rest — lr, steps, … — are training's). */
const MEASURE_FIELDS = [
  'data',
  'model',
  'depth',
  'width',
  'leak',
  'inputShape',
  'conv',
  'dense',
  'attack',
  'p',
  'eps',
  'attackSteps',
  'attackStepSize',
  'randomStart',
  'loss',
  'seed',
  'reference',
  'kkt',
  'evalEps',
  'evalSteps',
  'evalRestarts',
  'evalData',
] as const;

/** What one `measure` computes. */
export interface MeasureResult {
  readonly model: Model;
  readonly data: Dataset;
  /** θ̂ and log‖θ‖ of the measured weights. */
  readonly thetaUnit: Float64Array;
  readonly logNorm: number;
  /** The measurement, as a run's `final` row (with the unit predictor for linear-in-x models). */
  readonly final: Measurement;
  readonly evaluation: RobustAccuracyCurve | null;
  /** Linear-in-x binary models with evalEps: PGD (evaluation settings) against the exact worst case, at θ̂ (normalized margins). */
  readonly attackGap: AttackGapCurve | null;
  readonly referenceSolution: SolverResult | null;
}

/**
 * Measures the loaded weights under config `c` (data, model, attack, loss, seed, reference, kkt,
 * evaluation settings). A result.json keeps its run's step and step size in the row, so that the
 * row equals that run's `final`; PyTorch files are measured as step 0 with step size NaN (null in JSON).
 * Throws `InputError` naming `flag` when the weights do not fit the model.
 */
export async function measureParams(c: TrainConfig, loaded: LoadedParams, flag = '--params'): Promise<MeasureResult> {
  const data = loadData(c.data);
  const { reference, referenceSolution } = await referenceOf(c, data);
  const opts = trainOptionsFromConfig(c, data, { reference });
  const model = opts.model;
  if (reference && !model.linearInX) throw new InputError(`a reference direction needs a linear-in-x model (got ${model.kind})`, 'reference');
  const { thetaUnit, logNorm } = paramsForModel(loaded, model, flag);
  let step = 0;
  let stepSize = NaN;
  if (loaded.format === 'result') {
    const saved = loaded.doc.final as Record<string, unknown> | undefined;
    if (typeof saved?.step === 'number') step = saved.step;
    if (typeof saved?.stepSize === 'number') stepSize = saved.stepSize;
  }
  const measurer = new Measurer(model, data, opts.attack, opts.loss, reference ?? null, opts.seed, opts.kkt ?? null);
  const final = measurer.measure(step, thetaUnit, logNorm, stepSize, true);
  // θ = ρ·θ̂ exactly as the trainer forms its result, so that the curve matches a run's evaluation.
  const rho = Math.exp(logNorm);
  const theta = thetaUnit.map((v) => rho * v);
  const evaluation = evaluationOf(c, model, theta, data);
  let attackGap: AttackGapCurve | null = null;
  const evalData = c.evalData ? loadData(c.evalData) : data;
  if (c.evalEps && model.linearInX && model.predictor && evalData.binary) {
    attackGap = attackGapCurve(model, thetaUnit, evalData, { p: perturbationNorm(c), epsList: [0, ...c.evalEps], steps: c.evalSteps, restarts: c.evalRestarts, seed: c.seed });
  }
  return { model, data, thetaUnit, logNorm, final, evaluation, attackGap, referenceSolution };
}

/** The JSON document of `measure --json`: {"params", "config", "final", "evaluation"?, "run"}. */
export function measureDocument(c: TrainConfig, loaded: LoadedParams, r: MeasureResult): Record<string, unknown> {
  const ref = r.referenceSolution;
  const settings: Record<string, unknown> = {};
  for (const k of MEASURE_FIELDS) settings[k] = k === 'p' ? formatNormExponent(c.p) : c[k];
  return {
    params: { ...paramsSourceInfo(loaded), model: { ...r.model.spec, order: r.model.order, numParams: r.model.numParams }, logNorm: r.logNorm },
    config: settings,
    final: r.final,
    ...(r.evaluation
      ? {
          evaluation: {
            ...r.evaluation,
            p: formatNormExponent(r.evaluation.p),
            data: c.evalData ?? c.data,
            ...(r.attackGap ? { attackGap: { ...r.attackGap, p: formatNormExponent(r.attackGap.p) } } : {}),
          },
        }
      : {}),
    run: {
      version: VERSION,
      kernels: kernels().name,
      data: { name: r.data.name, n: r.data.n, d: r.data.d, binary: r.data.binary, classes: r.data.classes },
      ...(ref ? { reference: { problem: ref.problem, solver: ref.solver, status: ref.status, direction: Array.from(ref.direction!), margin: ref.margin, kkt: ref.kkt } } : {}),
    },
  };
}

/** A readable summary of a measurement. */
export function measureText(c: TrainConfig, loaded: LoadedParams, r: MeasureResult): string {
  const { model, data } = r;
  const info = paramsSourceInfo(loaded);
  const lines = [
    `advbias measure — ${model.kind} (L = ${model.order}, ${model.numParams} parameters) on ${data.name} (n = ${data.n}, d = ${data.d})`,
    `  parameters               ${loaded.file} (${info.format}${loaded.format === 'result' && info.stepsDone !== null ? `, ${info.stepsDone} steps` : ''}), log‖θ‖ = ${r.logNorm}`,
  ];
  if (typeof info.note === 'string') lines.push(`  note                     ${info.note}`);
  lines.push(`  attack ${c.attack}${c.attack === 'none' ? '' : ` (p = ${formatNormExponent(c.p)}, ε = ${c.eps})`}, loss ${c.loss}, seed ${c.seed}`);
  lines.push(...measurementLines(c, r.final));
  let text = lines.join('\n') + '\n';
  if (r.evaluation) text += evaluationText(r.evaluation);
  const g = r.attackGap;
  if (g) {
    text +=
      `  PGD attack gap (PGD-${g.steps}, ${g.restarts} restarts, vs exact worst case; normalized margins)\n` +
      g.eps.map((e, i) => `    ε = ${e}: gap ${g.gap[i].toExponential(3)}, largest per example ${g.maxExampleGap[i].toExponential(3)}, PGD robust accuracy ${g.pgdRobustAccuracy[i].toFixed(4)}`).join('\n') +
      '\n';
  }
  return text;
}

/** `advbias measure`: returns the exit code. */
export async function measureCommand(flags: MeasureFlags): Promise<number> {
  if (typeof flags.params !== 'string') throw new InputError('--params FILE is required (a result.json of advbias train, .npy or .safetensors)', '--params');
  const loaded = loadParamsFile(flags.params, '--params');
  const configFlags: TrainFlags = {};
  for (const [k, v] of Object.entries(flags)) if (k !== 'params' && k !== 'json' && k !== 'config') configFlags[k] = v;
  if (loaded.format === 'result') {
    const doc = loaded.doc;
    if (!doc.config || typeof doc.config !== 'object' || !('final' in doc))
      throw new InputError(`--params "${loaded.file}": a result.json needs its "config" and "final" (the settings of the run) besides "params"`, '--params');
    // The run's settings (its config), with the flags given here on top.
    configFlags.config = loaded.file;
  } else if (typeof flags.data !== 'string') {
    throw new InputError(`--data is required with --params "${loaded.file}": a .${loaded.format} file holds weights only (model flags --model, --depth, --width, --leak say the architecture)`, '--data');
  }
  const c = resolveTrainConfig(configFlags);
  const r = await measureParams(c, loaded);
  if (flags.json === true) process.stdout.write(toJson(measureDocument(c, loaded, r)) + '\n');
  else process.stdout.write(measureText(c, loaded, r));
  return 0;
}
