/**
 * Schedule and loss descriptors (see src/kinds/descriptor.ts): the step-size schedules of
 * ./schedule.ts and the losses of ../losses/loss.ts, with their settings. Library code.
 */
import { z } from 'zod';
import { DescriptorFamily, type Field, type KindDescriptor } from '../kinds/descriptor.ts';
import type { ScheduleConfig, ScheduleKind } from './schedule.ts';
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
  schema: z.enum(['none', 'sqrt'], { error: 'must be none or sqrt' }).nullable().default(null),
  help: 'η_t = η₀/√(t+1) (sqrt) or η₀ (none); null: sqrt for loss-scaled, none otherwise',
  flag: 'string',
  placeholder: 'kind',
  defaultText: 'sqrt for loss-scaled, else none',
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
  readonly defaultDecay: 'none' | 'sqrt';
  /** Needs the full training loss at every step (loss-based compares losses between steps). */
  readonly needsFullBatch: boolean;
}

export const SCHEDULES = new DescriptorFamily<ScheduleDescriptor>(
  'schedule',
  [
    {
      kind: 'constant',
      summary: 'plain GD θ ← θ − η∇L (stalls once the loss underflows, as GD does)',
      fields: { lr: lrField, decay: lrDecayField },
      defaultDecay: 'none',
      needsFullBatch: false,
    },
    {
      kind: 'loss-scaled',
      summary: 'GD with step η_t/L(θ), on the sphere θ = ρθ̂ (1/t rate; the default)',
      fields: { lr: lrField, decay: lrDecayField, form: stepFormField },
      defaultDecay: 'sqrt',
      needsFullBatch: false,
    },
    {
      kind: 'loss-based',
      summary: "Lyu & Li's loss-based step with rollback (α ×2^(1/5) after a good step, ÷2^(1/10) and roll back after a bad one)",
      fields: { lr: lrField, form: stepFormField },
      defaultDecay: 'none',
      needsFullBatch: true,
    },
  ],
  [lrField, lrDecayField, stepFormField],
);

/** The descriptor of a registered schedule; InputError naming `field` for an unknown one. */
export function scheduleDescriptor(kind: unknown, field = 'schedule'): ScheduleDescriptor {
  const d = SCHEDULES.find(kind);
  if (!d) throw new InputError(`unknown schedule ${JSON.stringify(kind)} (allowed: ${SCHEDULES.kinds.join(', ')})`, field);
  return d;
}

/** The schedule of flat settings: the decay in force is the kind's default when `lrDecay` is null. */
export function scheduleOf(s: { schedule: string; lr: number; lrDecay: 'none' | 'sqrt' | null; stepForm: 'sphere' | 'direct' }): ScheduleConfig {
  const d = scheduleDescriptor(s.schedule);
  return { kind: d.kind as ScheduleKind, lr: s.lr, decay: s.lrDecay ?? d.defaultDecay, form: s.stepForm };
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
