/**
 * Experiments are typed JSON configs (one per figure family), validated with zod at the boundary.
 * An experiment is a set of training runs — a grid (cartesian product) and/or an explicit list —
 * over a base training config, each compared with the reference the theory predicts, plus the
 * figures to draw and the expected outcomes (claims) to check.
 */
import * as z from 'zod';
import { TrainConfigSchema } from '../train/config.ts';
import { InputError } from '../errors.ts';
import { CLAIM_NAME, RESERVED_CLAIM_NAMES, isPaperClaim } from './claims.ts';

/** Per-run numbers that expectations and tables read (see runner.ts for their definitions). */
export const RUN_METRICS = [
  'referenceAngleDeg',
  'referenceOneMinusCos',
  'closedFormAngleErrorDeg',
  'alignmentMin',
  'layerShareError',
  'marginRatio',
  'adversarialNormalizedMargin',
  'robustAccuracy',
  'trainAccuracy',
  'angleToL2SvmDeg',
  'angleToLqSvmDeg',
  'solverAngleToL2SvmDeg',
  'solverAngleToLqSvmDeg',
  'pathPosition',
  'solverPathPosition',
  'solveKktMax',
  'kktStationarity',
  'kktComplementarity',
  'gradientCosine',
  'kktStationarityRatio',
  'kktClarkeStationarity',
  'smoothedMarginMaxDecrease',
  'adversarialMarginGap',
  'marginRise',
  'marginLastDecadeChange',
  'normalizedMargin',
  'evalRobustAccuracy',
  'evalCleanAccuracy',
  'predictorKktResidual',
  'predictorMarginRatio',
  'localSolutionAngleDeg',
  'angleToKernelDeg',
  'angleToArchitectureBiasDeg',
  'finalLogLoss',
] as const;
export type RunMetric = (typeof RUN_METRICS)[number];

/** Quantities that can be drawn against the step (history rows). */
export const TRACE_METRICS = [
  'referenceAngleDeg',
  'referenceOneMinusCos',
  'alignmentMin',
  'layerShareError',
  'marginRatio',
  'adversarialNormalizedMargin',
  'smoothedMargin',
  'logLoss',
  'normalizedMargin',
  'kktStationarity',
  'kktComplementarity',
  'kktClarkeStationarity',
  'gradientCosine',
  'trainAccuracy',
  'robustAccuracy',
  'predictorKktResidual',
] as const;
export type TraceMetric = (typeof TRACE_METRICS)[number];

const paramValue = z.union([z.number(), z.string(), z.boolean()]);
/**
 * Training settings as written (no defaults filled in, so that an override changes only what it
 * names); keys must be training-config fields. Values are validated when the runs are expanded.
 */
const trainSettings = z.record(z.string(), z.unknown()).superRefine((o, ctx) => {
  const allowed = Object.keys(TrainConfigSchema.shape);
  for (const k of Object.keys(o)) if (!allowed.includes(k)) ctx.addIssue({ code: 'custom', message: `unknown training setting "${k}" (allowed: ${allowed.join(', ')})` });
});
/** Settings a run varies: training-config fields, plus `epsFraction` (ε = fraction · γ_q*) and free tags. */
const params = z.record(z.string(), paramValue);

const Expectation = z.strictObject({
  /** Short id, unique in the experiment. */
  id: z.string().min(1),
  /** What the claim says, in words (shown in the report). */
  description: z.string().min(1),
  metric: z.enum(RUN_METRICS),
  op: z.enum(['<', '<=', '>', '>=']),
  value: z.number(),
  /** Only runs whose params/tags match all these values. */
  where: params.optional(),
});
export type Expectation = z.infer<typeof Expectation>;

const Figure = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('trace'),
    id: z.string().min(1),
    title: z.string().min(1),
    metric: z.enum(TRACE_METRICS),
    yScale: z.enum(['log', 'linear']).default('linear'),
    /** Draw only runs matching these values. */
    where: params.optional(),
    /** A horizontal reference line (e.g. 1 for marginRatio). */
    referenceLine: z.object({ y: z.number(), label: z.string() }).optional(),
  }),
  z.strictObject({
    kind: z.literal('robust-curve'),
    id: z.string().min(1),
    title: z.string().min(1),
    where: params.optional(),
  }),
  z.strictObject({
    /** Final run metrics against a varied setting (e.g. the initialization scale), one line per metric and group. */
    kind: z.literal('sweep'),
    id: z.string().min(1),
    title: z.string().min(1),
    /** The run parameter on the x axis (a number in every run drawn). */
    x: z.string().min(1),
    xScale: z.enum(['log', 'linear']).default('linear'),
    metrics: z.array(z.enum(RUN_METRICS)).min(1),
    /** Run parameters that split the runs into separate lines (default: one group). */
    groupBy: z.array(z.string().min(1)).default([]),
    /** Axis title of the y axis. */
    yTitle: z.string().min(1),
    yScale: z.enum(['log', 'linear']).default('linear'),
    where: params.optional(),
  }),
  z.strictObject({
    kind: z.literal('eps-path'),
    id: z.string().min(1),
    title: z.string().min(1),
    /** Which angle to plot against ε: to the ℓ2-SVM or to the ℓq-SVM. */
    angle: z.enum(['l2-svm', 'lq-svm']),
    where: params.optional(),
  }),
]);
export type FigureConfig = z.infer<typeof Figure>;

const Evaluation = z
    .strictObject({
      data: z.string().min(1).optional(),
      p: z.union([z.number(), z.literal('inf')]).default('inf'),
      epsList: z.array(z.number().min(0)).min(1),
      steps: z.number().int().min(1).default(20),
      restarts: z.number().int().min(0).default(2),
      seed: z.number().int().min(0).default(0),
      /** The ε whose robust accuracy is the run metric `evalRobustAccuracy` (default: the last of epsList). */
      reportEps: z.number().min(0).optional(),
    });
export type EvaluationConfig = z.output<typeof Evaluation>;

const Variant = z.strictObject({
  /** Overrides of the base training config. */
  base: trainSettings.optional(),
  /** Each key lists the values to try; runs are the cartesian product (applied before `runs`). */
  grid: z.record(z.string(), z.array(paramValue).min(1)).optional(),
  /** Explicit runs (params and tags), each combined with every grid point. */
  runs: z.array(params).min(1).optional(),
  /** Replace the evaluation (e.g. fewer examples). */
  evaluation: Evaluation.optional(),
  /** Replace the expectations (e.g. looser budgets in quick mode must still test the claim). */
  expectations: z.array(Expectation).optional(),
});

export const ExperimentSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, { error: 'lower-case letters, digits and dashes' }),
  /**
   * The claim the experiment checks: the paper's `C1`, `C2`, `C3` (docs/THEORY.md §5) or a short name
   * of your own (see `CLAIM_NAME`); only the paper's are reported as "reproduced".
   */
  claim: z
    .string()
    .regex(CLAIM_NAME, { error: 'a letter, then up to 31 letters, digits, ".", "_" or "-" (C1, C2, C3 are the paper\'s claims; any other name is your own)' })
    .refine((c) => !RESERVED_CLAIM_NAMES.includes(c.toLowerCase()), { error: `reserved name (not allowed: ${RESERVED_CLAIM_NAMES.join(', ')})` })
    .refine((c) => isPaperClaim(c) || !isPaperClaim(c.toUpperCase()), { error: 'the paper\'s claims are spelled C1, C2, C3' }),
  title: z.string().min(1),
  description: z.string().min(1),
  /** Base training config (validated as a `train --config`), minus the fields the runs vary. */
  base: trainSettings,
  grid: z.record(z.string(), z.array(paramValue).min(1)).optional(),
  runs: z.array(params).min(1).optional(),
  /** `auto`: the reference the theory predicts for each run (docs/THEORY.md §5); `none`. */
  reference: z.enum(['auto', 'none']).default('auto'),
  /**
   * After training, robust accuracy under a strong evaluation attack (PGD with random restarts; exact
   * for linear-in-x models) on `data` (default: the training data) for each ε of `epsList`.
   */
  evaluation: Evaluation.optional(),
  /** Also solve the ℓ2-SVM and the ℓq-SVM, to place each run on the path between them. */
  svmEndpoints: z.boolean().default(false),
  /**
   * C3: also solve the adversarial SVM (B) with the run's p and ε — the ℓ2-type max-margin predictor
   * an isotropic kernel (the lazy regime of a large initialization) selects — and the run's own
   * architecture at ε = 0 (its bias): metrics `angleToKernelDeg` and `angleToArchitectureBiasDeg`.
   */
  kernelReference: z.boolean().default(false),
  figures: z.array(Figure).default([]),
  expectations: z.array(Expectation).min(1),
  /**
   * Names of the free tags that runs carry besides training settings (e.g. `target`, `arch`), for
   * labels, `where` filters and tables. A grid or run key that is neither a training setting,
   * `epsFraction`, `run` nor a declared tag is an error (so a typo such as `epss` cannot pass as a tag).
   */
  tags: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { error: 'letters, digits, _ and -' })).default([]),
  /** What `--quick` changes. */
  quick: Variant.optional(),
});
export type ExperimentConfig = z.output<typeof ExperimentSchema>;

/** Run keys every experiment may use besides training settings and declared tags. */
const RUN_KEYS = ['epsFraction', 'run'];

/** The closest allowed name to `key` (edit distance ≤ 2), for "did you mean" hints. */
function closest(key: string, allowed: readonly string[]): string | null {
  const dist = (a: string, b: string): number => {
    const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) dp[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return dp[a.length][b.length];
  };
  let best: string | null = null;
  let bestD = 3;
  for (const a of allowed) {
    const d = dist(key.toLowerCase(), a.toLowerCase());
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best;
}

/** Every grid, run and `where` key must be a setting, epsFraction, run or a declared tag. */
function checkRunKeys(exp: ExperimentConfig, source: string): void {
  const settings = Object.keys(TrainConfigSchema.shape);
  const allowed = [...settings, ...RUN_KEYS, ...exp.tags];
  const places: Array<[string, Record<string, unknown> | undefined]> = [
    ['grid', exp.grid],
    ...(exp.runs ?? []).map((r, i) => [`runs[${i}]`, r] as [string, Record<string, unknown>]),
    ['quick.grid', exp.quick?.grid],
    ...(exp.quick?.runs ?? []).map((r, i) => [`quick.runs[${i}]`, r] as [string, Record<string, unknown>]),
    ...exp.expectations.map((e, i) => [`expectations[${i}].where`, e.where] as [string, Record<string, unknown> | undefined]),
    ...(exp.quick?.expectations ?? []).map((e, i) => [`quick.expectations[${i}].where`, e.where] as [string, Record<string, unknown> | undefined]),
    ...exp.figures.map((f, i) => [`figures[${i}].where`, f.where] as [string, Record<string, unknown> | undefined]),
  ];
  for (const [where, obj] of places) {
    for (const key of Object.keys(obj ?? {})) {
      if (allowed.includes(key)) continue;
      const hint = closest(key, allowed);
      throw new InputError(
        `experiment ${source}: ${where} has the unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}: keys must be training settings, ${RUN_KEYS.join(' or ')}, or tags declared in "tags" (declared: ${exp.tags.length ? exp.tags.join(', ') : 'none'})`,
        'experiment',
      );
    }
  }
}

/** Parse and validate an experiment config; errors name the file and the field. */
export function parseExperiment(raw: unknown, source: string): ExperimentConfig {
  const r = ExperimentSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InputError(`experiment ${source}: field "${issue.path.join('.')}": ${issue.message}`, 'experiment');
  }
  checkRunKeys(r.data, source);
  return r.data;
}

/** JSON Schema (draft 2020-12) of an experiment config file (generated from the zod schema). */
export function experimentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ExperimentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'advbias experiment', description: 'One experiment of `advbias reproduce`: base training settings (see the training-config schema), a grid and/or runs, references, figures and expected outcomes.' };
}
