/**
 * The serializable settings of one `advbias train` run: what `--config FILE` holds and what
 * `result.json` records. Every field has a documented default; flags override the file.
 * Validated with zod at the boundary; errors name the field, the value and what is allowed.
 */
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { parseNormExponent } from '../linalg/norms.ts';
import { parseRecordSpec } from './record.ts';

export const MODEL_NAMES = ['linear', 'deep-linear', 'diagonal', 'diagonal-pm', 'conv', 'relu-mlp', 'relu-cnn'] as const;
export const ATTACK_NAMES = ['none', 'exact', 'fgsm', 'fgm', 'pgd'] as const;

const normExponent = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const p = parseNormExponent(v);
  if (Number.isNaN(p)) {
    ctx.addIssue({ code: 'custom', message: `must be a number ≥ 1 or "inf" (got ${JSON.stringify(v)})` });
    return z.NEVER;
  }
  return p;
});

const positiveInt = (what: string) => z.number({ error: `${what}: must be a number` }).int({ error: 'must be an integer' });

/** One relu-cnn conv layer (see `ConvLayerOptions`); whether it fits its input is checked by `createModel`. */
const ConvLayerSchema = z.strictObject({
  channels: positiveInt('channels').min(1, { error: 'must be ≥ 1' }),
  kernel: positiveInt('kernel').min(1, { error: 'must be ≥ 1' }),
  stride: positiveInt('stride').min(1, { error: 'must be ≥ 1' }).default(1),
  pool: z
    .strictObject({
      kind: z.enum(['max', 'avg'], { error: 'must be max or avg' }),
      size: positiveInt('size').min(1, { error: 'must be ≥ 1' }),
    })
    .nullable()
    .default(null),
});

/**
 * Default relu-cnn conv stack, LeNet-like: 8 filters 5×5 + max-pool 2, then 16 filters 5×5 + max-pool 2
 * (on MNIST's 1×28×28: 8×12×12, then 16×4×4 = 256 features for the output layer).
 * A function, so that every parsed config gets its own copy.
 */
export const defaultConvStack = () => [
  { channels: 8, kernel: 5, stride: 1, pool: { kind: 'max' as const, size: 2 } },
  { channels: 16, kernel: 5, stride: 1, pool: { kind: 'max' as const, size: 2 } },
];

/** zod schema of a training config (all fields optional in input; defaults filled in). */
export const TrainConfigSchema = z.strictObject({
  /** Data: s1 | s2 | s2-mirrored | synthetic:n=..,d=..,margin=..,seed=.. | mnist:DIGITS | FILE.json | FILE.csv */
  data: z.string().min(1).default('s2'),
  /** Model kind. */
  model: z.enum(MODEL_NAMES, { error: `must be one of ${MODEL_NAMES.join(', ')}` }).default('deep-linear'),
  /** Depth L (number of weight layers) for deep-linear, diagonal, diagonal-pm, conv, relu-mlp (relu-cnn: set by conv and dense, not used). */
  depth: positiveInt('depth').min(1, { error: 'must be ≥ 1' }).default(2),
  /** Hidden width (deep-linear, relu-mlp): one number, or one per hidden layer. */
  width: z.union([positiveInt('width').min(1, { error: 'must be ≥ 1' }), z.array(positiveInt('width').min(1, { error: 'must be ≥ 1' }))]).default(10),
  /** Leaky-ReLU slope for relu-mlp and relu-cnn (0: ReLU). */
  leak: z.number().min(0, { error: 'must be ≥ 0' }).max(1, { error: 'must be ≤ 1' }).default(0),
  /**
   * relu-cnn: [channels, height, width] of the flat, channel-major inputs (product d); null: [1, 28, 28]
   * when d = 784 (MNIST), otherwise it must be given.
   */
  inputShape: z.tuple([positiveInt('inputShape').min(1, { error: 'must be ≥ 1' }), positiveInt('inputShape').min(1, { error: 'must be ≥ 1' }), positiveInt('inputShape').min(1, { error: 'must be ≥ 1' })], { error: 'must be [channels, height, width]' }).nullable().default(null),
  /** relu-cnn conv layers {channels, kernel, stride = 1, pool = null | {kind: max | avg, size}}; default {@link defaultConvStack}. */
  conv: z.array(ConvLayerSchema).min(1, { error: 'must have at least one layer' }).default(defaultConvStack),
  /** relu-cnn hidden widths of the dense ReLU layers after the convs; default [] (conv features → output layer). */
  dense: z.array(positiveInt('dense').min(1, { error: 'must be ≥ 1' })).default(() => []),
  /** Training perturbation. */
  attack: z.enum(ATTACK_NAMES, { error: `must be one of ${ATTACK_NAMES.join(', ')}` }).default('none'),
  /** Perturbation norm p ≥ 1 or "inf". */
  p: normExponent.default(Infinity),
  /** Radius ε ≥ 0. */
  eps: z.number().min(0, { error: 'must be ≥ 0' }).refine(Number.isFinite, { error: 'must be finite' }).default(0),
  /** PGD steps K. */
  attackSteps: positiveInt('attack-steps').min(1, { error: 'must be ≥ 1' }).default(10),
  /** PGD step size α; null means 2.5·ε/K (Madry et al.). */
  attackStepSize: z.number().gt(0, { error: 'must be > 0' }).nullable().default(null),
  /** PGD random start. */
  randomStart: z.boolean().default(false),
  loss: z.enum(['exp', 'logistic'], { error: 'must be exp or logistic' }).default('exp'),
  schedule: z.enum(['constant', 'loss-scaled', 'loss-based'], { error: 'must be constant, loss-scaled or loss-based' }).default('loss-scaled'),
  /** η₀ (constant, loss-scaled) or the initial α (loss-based). */
  lr: z.number().gt(0, { error: 'must be > 0' }).refine(Number.isFinite, { error: 'must be finite' }).default(0.1),
  /** η_t = η₀/√(t+1) (sqrt) or η₀ (none); null: sqrt for loss-scaled, none otherwise. */
  lrDecay: z.enum(['none', 'sqrt'], { error: 'must be none or sqrt' }).nullable().default(null),
  /** Loss-scaled/loss-based step in the sphere form (safe at any depth) or direct η/L (THEORY §7). */
  stepForm: z.enum(['sphere', 'direct'], { error: 'must be sphere or direct' }).default('sphere'),
  steps: positiveInt('steps').min(0, { error: 'must be ≥ 0' }).default(10000),
  /** Mini-batch size; 0 = full batch. */
  batchSize: positiveInt('batch-size').min(0, { error: 'must be ≥ 0' }).default(0),
  initScale: z.number().gt(0, { error: 'must be > 0' }).refine(Number.isFinite, { error: 'must be finite' }).default(1),
  seed: positiveInt('seed').min(0, { error: 'must be ≥ 0' }).max(2 ** 32 - 1, { error: 'must be < 2^32' }).default(0),
  /** JSON file {"direction": number[]} with the reference direction, "auto" (the solver's prediction), or null. */
  reference: z.string().min(1).nullable().default(null),
  /**
   * KKT residuals of (P_adv) in every measurement: "all" examples, N (the N smallest adversarial
   * margins), "off", or "auto" (all when n ≤ 2000 and n·P ≤ 2^24, else off).
   */
  kkt: z.union([z.enum(['auto', 'off', 'all']), positiveInt('kkt').min(1, { error: 'must be ≥ 1' })], { error: 'must be auto, off, all or a number of examples ≥ 1' }).default('auto'),
  /** After training: robust accuracy under PGD with restarts (exact for linear-in-x models) at these ε; null: none. */
  evalEps: z.array(z.number().min(0, { error: 'must be ≥ 0' })).min(1).nullable().default(null),
  /** Evaluation attack: PGD steps, random restarts, and the data (default: the training data). */
  evalSteps: positiveInt('eval-steps').min(1, { error: 'must be ≥ 1' }).default(20),
  evalRestarts: positiveInt('eval-restarts').min(0, { error: 'must be ≥ 0' }).default(2),
  evalData: z.string().min(1).nullable().default(null),
  /** Train a linear-in-x model even when ε ≥ γ_q* (adversarial examples not separable). */
  allowInseparable: z.boolean().default(false),
  /** log | log:N (points per decade) | every:N */
  record: z.string().refine((s) => parseRecordSpec(s) !== null, { error: 'must be log, log:N or every:N (N ≥ 1)' }).default('log'),
});

/** A validated config with every default filled in (p is a number, ∞ as Infinity). */
export type TrainConfig = z.output<typeof TrainConfigSchema>;

/** Flag spelling of a config field (for error messages): attackSteps → --attack-steps. */
export function flagName(field: string): string {
  return '--' + field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/**
 * Validate raw settings (from a config file merged with flags). Throws `InputError` with one line
 * naming the field (`--flag` spelling when `fromFlags` lists it, else `config field "name"`).
 */
export function parseTrainConfig(raw: unknown, fromFlags: ReadonlySet<string> = new Set(), source = 'config'): TrainConfig {
  const r = TrainConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.length > 0 ? String(issue.path[0]) : '';
  if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
    const keys = (issue as { keys: string[] }).keys;
    throw new InputError(`${source}: unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')} (allowed: ${Object.keys(TrainConfigSchema.shape).join(', ')})`, keys[0]);
  }
  const value = field && raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[field] : undefined;
  const name = fromFlags.has(field) ? flagName(field) : `${source} field "${field}"`;
  let msg = issue.message;
  if (issue.code === 'invalid_type') msg = `expected ${(issue as { expected: string }).expected}`;
  // Nested fields (conv[1].kernel) name the entry that is wrong.
  if (issue.path.length > 1) msg = `${field}${issue.path.slice(1).map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}: ${msg}`;
  throw new InputError(`invalid ${name} ${JSON.stringify(value)}: ${msg}`, field);
}

/** The config as JSON-ready data (p = ∞ written as "inf"). */
export function configToJson(c: TrainConfig): Record<string, unknown> {
  return { ...c, p: c.p === Infinity ? 'inf' : c.p };
}
