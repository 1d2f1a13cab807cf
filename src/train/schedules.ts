/**
 * Schedule and loss descriptors (see src/kinds/descriptor.ts): the step-size schedules of
 * ./schedule.ts and the losses of ../losses/loss.ts, with their settings. Library code.
 */
import * as z from 'zod';
import { DescriptorFamily, type Field, type KindDescriptor } from '../kinds/descriptor.ts';
import { type ScheduleConfig, type ScheduleKind, type LrDecay, DEFAULT_DECAY_STEPS } from './schedule.ts';
import type { LossKind } from '../losses/loss.ts';
import { InputError } from '../errors.ts';

const lrField: Field = {
  name: 'lr',
  schema: z.number({ error: 'must be a number' }).gt(0, { error: 'must be > 0' }).refine(Number.isFinite, { error: 'must be finite' }).default(0.1),
  help: 'learning rate η₀ (loss-based: the initial α)',
  flag: 'number',
  placeholder: 'eta',
};
const lrDecayField: Field = {
  name: 'lrDecay',
  schema: z.enum(['none', 'sqrt', 'inverse'], { error: 'must be none, sqrt or inverse' }).nullable().default(null),
  help: 'η_t = η₀/(1 + t/τ) (inverse), η₀/√(t+1) (sqrt) or η₀ (none); null: inverse for normalized, sqrt for loss-scaled, none otherwise',
  flag: 'string',
  placeholder: 'kind',
  defaultText: 'inverse for normalized, sqrt for loss-scaled, else none',
};
const lrDecayStepsField: Field = {
  name: 'lrDecaySteps',
  schema: z.number({ error: 'must be a number' }).gt(0, { error: 'must be > 0' }).refine(Number.isFinite, { error: 'must be finite' }).default(DEFAULT_DECAY_STEPS),
  help: 'τ of the inverse decay η₀/(1 + t/τ), in steps',
  flag: 'number',
  placeholder: 'tau',
};
const stepFormField: Field = {
  name: 'stepForm',
  schema: z.enum(['sphere', 'direct'], { error: 'must be sphere or direct' }).default('sphere'),
  help: 'loss-scaled step in the sphere form η/(ρ^(L−2)·L) (safe at any depth) or direct η/L',
  flag: 'string',
  placeholder: 'form',
};

/** A step-size schedule kind (docs/THEORY.md §7). */
export interface ScheduleDescriptor extends KindDescriptor {
  /** The η_t decay used when `lrDecay` is null. */
  readonly defaultDecay: LrDecay;
  /** Needs the full training loss at every step (loss-based compares losses between steps). */
  readonly needsFullBatch: boolean;
}

export const SCHEDULES = new DescriptorFamily<ScheduleDescriptor>(
  'schedule',
  [
    {
      kind: 'normalized',
      summary: 'GD with step length η_t‖θ‖ along −∇L (θ/‖θ‖ turns ≈ η_t rad per step at any data scale or depth), η_t = η₀/(1 + t/τ); the default',
      fields: { lr: lrField, decay: lrDecayField, decaySteps: lrDecayStepsField },
      defaultDecay: 'inverse',
      needsFullBatch: false,
    },
    {
      kind: 'constant',
      summary: 'plain GD θ ← θ − η∇L (stalls once the loss underflows, as GD does)',
      fields: { lr: lrField, decay: lrDecayField, decaySteps: lrDecayStepsField },
      defaultDecay: 'none',
      needsFullBatch: false,
    },
    {
      kind: 'loss-scaled',
      summary: 'GD with step η_t/L(θ), on the sphere θ = ρθ̂ (its turn per step scales with the data and the depth)',
      fields: { lr: lrField, decay: lrDecayField, decaySteps: lrDecayStepsField, form: stepFormField },
      defaultDecay: 'sqrt',
      needsFullBatch: false,
    },
    {
      kind: 'loss-based',
      summary: "Lyu & Li's loss-based step with rollback (α ×2^(1/5) after a good step, ÷2^(1/10) and roll back after a bad one; α capped so that ‖Δθ̂‖ ≤ 1)",
      fields: { lr: lrField, form: stepFormField },
      defaultDecay: 'none',
      needsFullBatch: true,
    },
  ],
  [lrField, lrDecayField, lrDecayStepsField, stepFormField],
);

/** The descriptor of a registered schedule; InputError naming `field` for an unknown one. */
export function scheduleDescriptor(kind: unknown, field = 'schedule'): ScheduleDescriptor {
  const d = SCHEDULES.find(kind);
  if (!d) throw new InputError(`unknown schedule ${JSON.stringify(kind)} (allowed: ${SCHEDULES.kinds.join(', ')})`, field);
  return d;
}

/**
 * The schedule of flat settings: the decay in force is the kind's default when `lrDecay` is null;
 * τ (`lrDecaySteps`) is kept only when the decay is `inverse` (the other decays do not read it).
 */
export function scheduleOf(s: { schedule: string; lr: number; lrDecay: LrDecay | null; lrDecaySteps?: number; stepForm: 'sphere' | 'direct' }): ScheduleConfig {
  const d = scheduleDescriptor(s.schedule);
  const decay = s.lrDecay ?? d.defaultDecay;
  return { kind: d.kind as ScheduleKind, lr: s.lr, decay, form: s.stepForm, ...(decay === 'inverse' ? { decaySteps: s.lrDecaySteps ?? DEFAULT_DECAY_STEPS } : {}) };
}

/** A loss kind (docs/THEORY.md §1): the margin loss summed over examples. */
export interface LossDescriptor extends KindDescriptor {
  /** ℓ(m) in words, for help texts. */
  readonly formula: string;
}

export const LOSSES = new DescriptorFamily<LossDescriptor>('loss', [
  { kind: 'exp', summary: 'exponential loss Σ e^(−m) (K classes: Σ_i Σ_j e^(−m_ij))', formula: 'e^(−m)', fields: {} },
  { kind: 'logistic', summary: 'logistic loss Σ log(1 + e^(−m)) (K classes: cross-entropy)', formula: 'log(1 + e^(−m))', fields: {} },
]);

/** A registered loss kind, checked. */
export function lossKindOf(kind: unknown, field = 'loss'): LossKind {
  if (!LOSSES.find(kind)) throw new InputError(`unknown loss ${JSON.stringify(kind)} (allowed: ${LOSSES.kinds.join(', ')})`, field);
  return kind as LossKind;
}
