/**
 * The serializable settings of one `advbias train` run: what `--config FILE` holds and what
 * `result.json` records. The schema is generated from the kind descriptors (models, attacks,
 * schedules, losses: src/kinds/descriptor.ts) plus the run's own settings below, validated with zod
 * once at the boundary; errors name the field (or flag), the value and what is allowed.
 *
 * Two spellings are accepted and mean the same run:
 *  - flat (what result.json records): `{"model": "deep-linear", "depth": 3, "attack": "pgd", "p": "inf", "eps": 0.1, "attackSteps": 10, …}`;
 *  - nested, one object per kind: `{"model": {"kind": "deep-linear", "depth": 3}, "attack": {"kind": "pgd", "p": "inf", "eps": 0.1, "steps": 10}, "schedule": {"kind": "loss-scaled", "lr": 0.1}, "loss": {"kind": "exp"}}`,
 *    where each object takes exactly its kind's settings (a setting of another kind is an error).
 * Unknown keys are errors in both.
 */
import * as z from 'zod';
import { InputError } from '../errors.ts';
import { parseRecordSpec } from './record.ts';
import { type Field, type KindDescriptor, type DescriptorFamily, nestedSchema } from '../kinds/descriptor.ts';
import { MODELS } from '../models/registry.ts';
import { ATTACKS } from '../attacks/index.ts';
import { SCHEDULES, LOSSES } from './schedules.ts';
import { parseNumberText } from '../util/number-text.ts';

export { defaultConvStack } from '../models/fields.ts';

/** Registry names (generated from the descriptors). */
export const MODEL_NAMES: readonly string[] = MODELS.kinds;
export const ATTACK_NAMES: readonly string[] = ATTACKS.kinds;

const int = (min: number) => z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(min, { error: `must be ≥ ${min}` });
const radius = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const x = typeof v === 'number' ? v : parseNumberText(v);
  if (!(x >= 0) || !Number.isFinite(x)) {
    ctx.addIssue({ code: 'custom', message: `must be a finite number ≥ 0 or a fraction such as 8/255 (got ${JSON.stringify(v)})` });
    return z.NEVER;
  }
  return x;
});

/** The most steps a run may ask for (far beyond any experiment; guards against typos such as 1e12). */
export const MAX_STEPS = 1e9;

/** A setting of the run itself (not of a kind). */
const field = (name: string, schema: z.ZodType, help: string, flag: Field['flag'], extra: Partial<Field> = {}): Field => ({ name, schema, help, flag, ...extra });

/** The family selectors: which model, attack, loss and schedule (each a descriptor family). */
interface FamilySlot {
  readonly key: 'model' | 'attack' | 'loss' | 'schedule';
  readonly family: DescriptorFamily<KindDescriptor>;
  readonly defaultKind: string;
  readonly help: string;
}
const SLOTS: readonly FamilySlot[] = [
  { key: 'model', family: MODELS, defaultKind: 'deep-linear', help: 'model kind' },
  { key: 'attack', family: ATTACKS, defaultKind: 'none', help: 'training perturbation' },
  { key: 'loss', family: LOSSES, defaultKind: 'exp', help: 'loss (summed over examples)' },
  { key: 'schedule', family: SCHEDULES, defaultKind: 'normalized', help: 'step-size schedule' },
];

const selector = (slot: FamilySlot): Field => {
  const kinds = slot.family.kinds;
  return field(
    slot.key,
    z.enum(kinds as [string, ...string[]], { error: `must be one of ${kinds.join(', ')}` }).default(slot.defaultKind),
    `${slot.help}: ${kinds.join(' | ')}`,
    'string',
    { placeholder: 'kind' },
  );
};

/**
 * Every setting of a training config in the order configs list them: data, then each family's
 * selector followed by its settings, then the run's settings. Generated from the descriptors; the
 * CLI flags of `train` and the JSON Schema come from this list too.
 */
export const TRAIN_FIELDS: readonly (Field & { readonly family: FamilySlot['key'] | null })[] = [
  { ...field('data', z.string().min(1).default('s2'), 'data: s1 | s2 | s2-mirrored | synthetic:n=..,d=..,margin=..,seed=.. | sectors:.. | mnist:DIGITS | FILE.json | FILE.csv', 'string', { placeholder: 'spec' }), family: null },
  ...SLOTS.flatMap((slot) => [{ ...selector(slot), family: slot.key }, ...slot.family.fields().map((f) => ({ ...f, family: slot.key }))]),
  ...[
    field('steps', int(0).max(MAX_STEPS, { error: `must be ≤ ${MAX_STEPS}` }).default(10000), 'number of updates T', 'int', { placeholder: 'T' }),
    field('batchSize', int(0).default(0), 'mini-batch size (0 = full batch)', 'int', { placeholder: 'B' }),
    field('initScale', z.number().gt(0, { error: 'must be > 0' }).refine(Number.isFinite, { error: 'must be finite' }).default(1), 'initialization scale', 'number', { placeholder: 's' }),
    field('seed', int(0).max(2 ** 32 - 1, { error: 'must be < 2^32' }).default(0), 'seed of every random choice', 'int', { placeholder: 'n' }),
    field('reference', z.string().min(1).nullable().default(null), 'JSON file {"direction": number[]}, or auto (the solution the theory predicts): record the angle of β/‖β‖ to it', 'string', { placeholder: 'file|auto' }),
    field(
      'kkt',
      z.union([z.enum(['auto', 'off', 'all']), int(1)], { error: 'must be auto, off, all or a number of examples ≥ 1' }).default('auto'),
      'KKT residuals of (P_adv) in the history: auto | off | all | N (the N smallest margins)',
      'kkt',
      { placeholder: 'which' },
    ),
    field('evalEps', z.array(radius).min(1).nullable().default(null), 'after training: robust accuracy under PGD with restarts (exact for linear-in-x models) at these ε, e.g. 0.05,8/255', 'numbers', { placeholder: 'list', defaultText: 'none' }),
    field('evalSteps', int(1).default(20), 'evaluation PGD steps', 'int', { placeholder: 'K' }),
    field('evalRestarts', int(0).default(2), 'evaluation random restarts', 'int', { placeholder: 'R' }),
    field('evalData', z.string().min(1).nullable().default(null), 'evaluate on this data instead of the training data', 'string', { placeholder: 'spec' }),
    field('allowInseparable', z.boolean().default(false), 'train a linear-in-x model even when ε ≥ γ_q* (no margin to grow)', 'boolean'),
    field('record', z.string().refine((s) => parseRecordSpec(s) !== null, { error: 'must be log, log:N or every:N (N ≥ 1)' }).default('log'), 'history steps: log (20 per decade) | log:N | every:N', 'string', { placeholder: 'spec' }),
  ].map((f) => ({ ...f, family: null })),
];

/** zod schema of a (flat) training config: all fields optional in input; defaults filled in. */
export const TrainConfigSchema = z.strictObject(Object.fromEntries(TRAIN_FIELDS.map((f) => [f.name, f.schema])));

/**
 * A validated config with every default filled in (p is a number, ∞ as Infinity). The fields are
 * those of {@link TRAIN_FIELDS}; a test checks that this type and the generated schema agree.
 */
export interface TrainConfig {
  data: string;
  model: string;
  depth: number;
  width: number | number[];
  leak: number;
  inputShape: [number, number, number] | null;
  conv: { channels: number; kernel: number; stride: number; pool: { kind: 'max' | 'avg'; size: number } | null }[];
  dense: number[];
  attack: string;
  p: number;
  eps: number;
  attackSteps: number;
  attackStepSize: number | null;
  randomStart: boolean;
  clip: [number, number] | null;
  loss: 'exp' | 'logistic';
  schedule: 'normalized' | 'constant' | 'loss-scaled' | 'loss-based';
  lr: number;
  lrDecay: 'none' | 'sqrt' | 'inverse' | null;
  lrDecaySteps: number;
  stepForm: 'sphere' | 'direct';
  steps: number;
  batchSize: number;
  initScale: number;
  seed: number;
  reference: string | null;
  kkt: 'auto' | 'off' | 'all' | number;
  evalEps: number[] | null;
  evalSteps: number;
  evalRestarts: number;
  evalData: string | null;
  allowInseparable: boolean;
  record: string;
}

/** Flag spelling of a config field (for error messages): attackSteps → --attack-steps. */
export function flagName(field: string): string {
  return '--' + field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

const FIELD_BY_NAME = new Map(TRAIN_FIELDS.map((f) => [f.name, f]));

/**
 * Nested objects (`"model": {"kind": …, …}` and likewise attack, schedule, loss) turned into the
 * flat settings; each object is checked against its kind's strict schema, so a setting the kind
 * does not take is an error that names it.
 */
function flattenNested(raw: Record<string, unknown>, source: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  for (const slot of SLOTS) {
    const v = raw[slot.key];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const obj = v as Record<string, unknown>;
    const desc = slot.family.find(obj.kind ?? slot.defaultKind);
    if (!desc) {
      throw new InputError(`${source}: invalid ${slot.key}.kind ${JSON.stringify(obj.kind)} (allowed: ${slot.family.kinds.join(', ')})`, slot.key);
    }
    const r = nestedSchema(desc).safeParse({ kind: desc.kind, ...obj });
    if (!r.success) {
      const issue = r.error.issues[0];
      if (issue.code === 'unrecognized_keys') {
        const keys = (issue as { keys: string[] }).keys;
        const takes = Object.keys(desc.fields);
        throw new InputError(
          `${source}: ${slot.key} "${desc.kind}" has no setting ${keys.map((k) => `"${k}"`).join(', ')} (its settings: ${takes.length ? takes.join(', ') : 'none'})`,
          `${slot.key}.${keys[0]}`,
        );
      }
      const path = [slot.key, ...issue.path.map(String)].join('.');
      throw new InputError(`${source}: invalid ${path} ${JSON.stringify(issue.path.length ? obj[String(issue.path[0])] : obj)}: ${issue.message}`, path);
    }
    out[slot.key] = desc.kind;
    for (const [key, f] of Object.entries(desc.fields)) {
      if (obj[key] === undefined) continue;
      if (raw[f.name] !== undefined && f.name !== slot.key) {
        throw new InputError(`${source}: "${f.name}" is given twice, at the top level and as ${slot.key}.${key}`, f.name);
      }
      out[f.name] = obj[key];
    }
  }
  return out;
}

/**
 * Settings given as flags must apply to the kinds the run uses (`--leak` on deep-linear is an
 * error, not silently ignored) and satisfy the kind's own schema (linear: `--depth 1` only).
 */
function checkFlagsApply(c: Record<string, unknown>, raw: Record<string, unknown>, fromFlags: ReadonlySet<string>): void {
  for (const name of fromFlags) {
    const f = FIELD_BY_NAME.get(name);
    if (!f || f.family === null || f.name === f.family) continue;
    const slot = SLOTS.find((s) => s.key === f.family)!;
    const desc = slot.family.find(c[slot.key])!;
    const nested = Object.entries(desc.fields).find(([, g]) => g.name === name);
    if (!nested) {
      const takers = slot.family.kindsTaking(name);
      throw new InputError(
        `${flagName(name)} does not apply to ${slot.key} ${desc.kind} (it applies to ${takers.length ? takers.join(', ') : 'no ' + slot.key}; ${desc.kind} takes ${Object.values(desc.fields).map((g) => flagName(g.name)).join(', ') || 'no settings'})`,
        name,
      );
    }
    const r = nested[1].schema.safeParse(raw[name]);
    if (!r.success) throw new InputError(`invalid ${flagName(name)} ${JSON.stringify(raw[name])} for ${slot.key} ${desc.kind}: ${r.error.issues[0].message}`, name);
  }
}

/**
 * Settings of the run's kinds that the input leaves out take their kind's default rather than the
 * family's (leaky-relu-mlp: leak 0.1; linear: depth 1).
 */
function applyKindDefaults(c: Record<string, unknown>, raw: Record<string, unknown>): Record<string, unknown> {
  for (const slot of SLOTS) {
    const desc = slot.family.find(c[slot.key])!;
    for (const f of Object.values(desc.fields)) if (raw[f.name] === undefined) c[f.name] = f.schema.parse(undefined);
  }
  return c;
}

/**
 * Validate raw settings (from a config file merged with flags; flat or nested). Throws `InputError`
 * with one line naming the field (`--flag` spelling when `fromFlags` lists it, else `config field
 * "name"`). Settings given as flags must apply to the run's kinds.
 */
export function parseTrainConfig(raw: unknown, fromFlags: ReadonlySet<string> = new Set(), source = 'config'): TrainConfig {
  const flat = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? flattenNested(raw as Record<string, unknown>, source) : raw;
  const r = TrainConfigSchema.safeParse(flat);
  if (r.success) {
    checkFlagsApply(r.data, flat as Record<string, unknown>, fromFlags);
    return applyKindDefaults(r.data, flat as Record<string, unknown>) as unknown as TrainConfig;
  }
  const issue = r.error.issues[0];
  const field = issue.path.length > 0 ? String(issue.path[0]) : '';
  if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
    const keys = (issue as { keys: string[] }).keys;
    throw new InputError(`${source}: unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')} (allowed: ${Object.keys(TrainConfigSchema.shape).join(', ')})`, keys[0]);
  }
  const value = field && flat && typeof flat === 'object' ? (flat as Record<string, unknown>)[field] : undefined;
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

/**
 * The nested form of a config: one object per kind with exactly that kind's settings, then the
 * run's settings (the same run as the flat form).
 */
export function nestedConfig(c: TrainConfig): Record<string, unknown> {
  const flat = configToJson(c);
  const out: Record<string, unknown> = {};
  const taken = new Set<string>();
  for (const slot of SLOTS) {
    const desc = slot.family.find(c[slot.key])!;
    const obj: Record<string, unknown> = { kind: desc.kind };
    for (const [key, f] of Object.entries(desc.fields)) obj[key] = flat[f.name];
    out[slot.key] = obj;
  }
  for (const f of TRAIN_FIELDS) if (f.family !== null) taken.add(f.name);
  for (const f of TRAIN_FIELDS) if (!taken.has(f.name)) out[f.name] = flat[f.name];
  return out;
}

/**
 * JSON Schema (draft 2020-12) of what `train --config` and an experiment's `base` accept: the flat
 * form, with each family's key also taking its nested object form (one schema per kind).
 */
export function trainConfigJsonSchema(): Record<string, unknown> {
  const shape: Record<string, z.ZodType> = {};
  for (const f of TRAIN_FIELDS) {
    const slot = SLOTS.find((s) => s.key === f.name);
    const flatSchema = f.schema.describe(f.help);
    shape[f.name] = slot
      ? z.union([flatSchema, z.discriminatedUnion('kind', slot.family.all.map((d) => nestedSchema(d)) as never)]).describe(`${f.help}; or an object {kind, …its settings}`)
      : flatSchema;
  }
  const schema = z.toJSONSchema(z.strictObject(shape), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'advbias training config', description: 'Settings of one `advbias train` run (flat, or nested per kind). Generated from the kind descriptors.' };
}
