/**
 * The settings attacks take (one definition each, shared by the attack descriptors). Flat names
 * (`attackSteps`) are the training config's; nested names (`steps`) are the attack object's.
 */
import * as z from 'zod';
import type { Field } from '../kinds/descriptor.ts';
import { parseNormExponent } from '../linalg/norms.ts';
import { parseNumberText } from '../util/number-text.ts';

/** A number, or a text a user types for one: `8/255`, `0.1`, `1e-3`. */
const numberLike = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const x = typeof v === 'number' ? v : parseNumberText(v);
  if (Number.isNaN(x)) {
    ctx.addIssue({ code: 'custom', message: `must be a number or a fraction such as 8/255 (got ${JSON.stringify(v)})` });
    return z.NEVER;
  }
  return x;
});

/** p ≥ 1 or ∞; texts `inf`, `∞`, `L1`, `L2`, `Linf`. */
export const normExponent = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const p = parseNormExponent(v);
  if (Number.isNaN(p)) {
    ctx.addIssue({ code: 'custom', message: `must be a number ≥ 1, "inf", or L1 | L2 | Linf (got ${JSON.stringify(v)})` });
    return z.NEVER;
  }
  return p;
});

export const pField: Field = {
  name: 'p',
  schema: normExponent.default(Infinity),
  help: 'perturbation norm p: 1 | 2 | inf (also L1 | L2 | Linf) | any number ≥ 1',
  flag: 'norm',
  placeholder: 'p',
  defaultText: 'inf',
};

export const epsField: Field = {
  name: 'eps',
  schema: numberLike.pipe(z.number().min(0, { error: 'must be ≥ 0' }).refine(Number.isFinite, { error: 'must be finite' })).default(0),
  help: 'perturbation radius ε ≥ 0 (a fraction such as 8/255 is fine)',
  flag: 'number',
  placeholder: 'eps',
};

export const stepsField: Field = {
  name: 'attackSteps',
  schema: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(1, { error: 'must be ≥ 1' }).default(10),
  help: 'PGD steps K',
  flag: 'int',
  placeholder: 'K',
};

export const stepSizeField: Field = {
  name: 'attackStepSize',
  schema: numberLike.pipe(z.number().gt(0, { error: 'must be > 0' }).refine(Number.isFinite, { error: 'must be finite' })).nullable().default(null),
  help: 'PGD step size α (null: 2.5·ε/K, Madry et al.)',
  flag: 'number',
  placeholder: 'alpha',
  aliases: ['alpha'],
  defaultText: '2.5·ε/K',
};

export const randomStartField: Field = {
  name: 'randomStart',
  schema: z.boolean({ error: 'must be true or false' }).default(false),
  help: 'PGD starts at a seeded uniform point of the ball',
  flag: 'boolean',
};

export const clipField: Field = {
  name: 'clip',
  schema: z
    .tuple([z.number(), z.number()], { error: 'must be [lo, hi]' })
    .refine(([lo, hi]) => Number.isFinite(lo) && Number.isFinite(hi) && lo < hi, { error: 'must be finite with lo < hi' })
    .nullable()
    .default(null),
  help: 'keep perturbed inputs in the box [lo, hi]^d, e.g. 0,1 for images (off by default: a box breaks the closed form of linear models)',
  flag: 'pair',
  placeholder: 'lo,hi',
  defaultText: 'off',
};
