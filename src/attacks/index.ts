/**
 * Attack registry: every attack kind's descriptor, validation of attack settings at the boundary,
 * and construction by kind. A new attack is its own file (the attack and its descriptor), one line
 * in {@link ATTACKS} and its test.
 */
import type { Attack, AttackConfig, AttackKind } from './attack.ts';
import type { AttackDescriptor } from './descriptor.ts';
import { InputError } from '../errors.ts';
import { parseNormExponent } from '../linalg/norms.ts';
import { DescriptorFamily, nestedNameOf } from '../kinds/descriptor.ts';
import { exactDescriptor } from './exact.ts';
import { fgmDescriptor } from './fgm.ts';
import { fgsmDescriptor } from './fgsm.ts';
import { noneDescriptor } from './none.ts';
import { pgdDescriptor } from './pgd.ts';
import { clipField, epsField, pField, randomStartField, stepSizeField, stepsField } from './fields.ts';

export type { Attack, AttackConfig, AttackKind } from './attack.ts';
export { createExact } from './exact.ts';
export { createFgm, marginInputGradient, MarginScratch } from './fgm.ts';
export { createFgsm } from './fgsm.ts';
export { createNone } from './none.ts';
export { createPgd } from './pgd.ts';

export type { AttackDescriptor, AttackTraits } from './descriptor.ts';

/** Every attack kind, in the order error messages list them. */
export const ATTACKS = new DescriptorFamily<AttackDescriptor>('attack', [noneDescriptor, exactDescriptor, fgsmDescriptor, fgmDescriptor, pgdDescriptor], [pField, epsField, stepsField, stepSizeField, randomStartField, clipField]);

/** The attack kinds, in the order error messages list them. */
export const ATTACK_KINDS: readonly AttackKind[] = ATTACKS.kinds;

/** The descriptor of a registered attack kind; InputError naming `field` for an unknown one. */
export function attackDescriptor(kind: unknown, field = 'attack'): AttackDescriptor {
  const d = ATTACKS.find(kind);
  if (!d) throw new InputError(`unknown attack ${show(kind)} (allowed: ${ATTACK_KINDS.join(', ')})`, field);
  return d;
}

/**
 * The perturbation norm p an attack works in: its kind's fixed norm (FGSM: ∞) or its `p`. The one
 * place that knows "FGSM means p = ∞".
 */
export function perturbationNormOf(attack: { readonly kind: string; readonly p: number }): number {
  return ATTACKS.find(attack.kind)?.traits.fixedNorm ?? attack.p;
}

/** The radius an attack perturbs with: ε, or 0 for kinds that do not perturb (none). */
export function perturbationRadiusOf(attack: { readonly kind: string; readonly eps: number }): number {
  return ATTACKS.find(attack.kind)?.traits.perturbs === false ? 0 : attack.eps;
}

const FIELDS = ['kind', 'p', 'eps', 'steps', 'stepSize', 'randomStart', 'clip'] as const;

/** Configs that passed {@link validateAttackConfig} (so that `createAttack` does not check them again). */
const validated = new WeakSet<AttackConfig>();

/** PGD steps when none are given. */
export const DEFAULT_PGD_STEPS = 10;
/**
 * Default PGD step α = 2.5ε/K (Madry et al. 2018): Kα = 2.5ε ≥ ε, so every point of the ball is
 * reachable, and on linear-in-x models PGD reaches the exact worst case for p ∈ {1, 2, ∞}.
 */
export const DEFAULT_PGD_STEP_FACTOR = 2.5;

/** A value as it appears in an error message: numbers as JS prints them, everything else as JSON. */
function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'undefined';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function fail(field: string, message: string): never {
  throw new InputError(`attack.${field} ${message}`, `attack.${field}`);
}

/**
 * Checks raw attack settings (parsed JSON or CLI flags) and fills in documented defaults; throws
 * InputError with a one-line message naming the field, the value and what is allowed.
 *
 * Fields and defaults:
 *  - kind (required): none | exact | fgsm | fgm | pgd;
 *  - p: a number ≥ 1, or "inf"/"∞"/Infinity; default ∞ for fgsm, 2 otherwise. FGSM is the ℓ∞ attack
 *    by definition, so fgsm with any other p is rejected (use fgm);
 *  - eps: finite ε ≥ 0; required except for kind none (default 0);
 *  - steps: integer K ≥ 1; default 10 for pgd, 1 for the one-step kinds (unused there);
 *  - stepSize: finite α > 0; default 2.5ε/K for pgd and ε for the one-step kinds (unused there);
 *    when ε = 0 the ball is a single point, α is irrelevant, and the default is 1;
 *  - randomStart: boolean, default false; true only for pgd.
 * Unknown fields are rejected (a misspelt setting must not be ignored silently).
 * Validation is idempotent: a validated config passes again unchanged.
 */
export function validateAttackConfig(raw: unknown): AttackConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(`attack config must be an object with fields ${FIELDS.join(', ')}, got ${show(raw)}`, 'attack');
  }
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!(FIELDS as readonly string[]).includes(key)) fail(key, `is not an attack setting; allowed: ${FIELDS.join(', ')}`);
  }

  if (validated.has(raw as AttackConfig)) return raw as AttackConfig;
  const kind = r.kind;
  const desc = ATTACKS.find(kind);
  if (desc === undefined) fail('kind', `must be one of ${ATTACK_KINDS.join(', ')}, got ${show(kind)}`);
  const k = desc.kind;
  const fixedNorm = desc.traits.fixedNorm;

  let p: number;
  if (r.p === undefined) p = fixedNorm ?? 2;
  else {
    p = typeof r.p === 'number' || typeof r.p === 'string' ? parseNormExponent(r.p) : NaN;
    if (Number.isNaN(p)) fail('p', `must be a number ≥ 1 or "inf", got ${show(r.p)}`);
  }
  if (fixedNorm !== null && p !== fixedNorm) {
    fail('p', `must be ${fixedNorm === Infinity ? 'inf' : fixedNorm} for kind ${k} (${k === 'fgsm' ? 'FGSM is the ℓ∞ attack; use kind fgm for other p' : 'its norm is fixed'}), got ${show(r.p)}`);
  }

  let eps: number;
  if (r.eps === undefined && !desc.traits.perturbs) eps = 0;
  else {
    if (typeof r.eps !== 'number' || !Number.isFinite(r.eps) || r.eps < 0) {
      fail('eps', `must be a finite number ≥ 0${desc.traits.perturbs ? ` (required for kind ${k})` : ''}, got ${show(r.eps)}`);
    }
    eps = r.eps;
  }

  let steps: number;
  const iterative = nestedNameOf(desc, 'attackSteps') !== null;
  if (r.steps === undefined) steps = iterative ? DEFAULT_PGD_STEPS : 1;
  else {
    if (typeof r.steps !== 'number' || !Number.isInteger(r.steps) || r.steps < 1) {
      fail('steps', `must be an integer ≥ 1, got ${show(r.steps)}`);
    }
    steps = r.steps;
  }

  let stepSize: number;
  if (r.stepSize === undefined) {
    if (eps === 0) stepSize = 1;
    else stepSize = iterative ? (DEFAULT_PGD_STEP_FACTOR * eps) / steps : eps;
  } else {
    if (typeof r.stepSize !== 'number' || !Number.isFinite(r.stepSize) || r.stepSize <= 0) {
      fail('stepSize', `must be a finite number > 0, got ${show(r.stepSize)}`);
    }
    stepSize = r.stepSize;
  }

  let randomStart = false;
  if (r.randomStart !== undefined) {
    if (typeof r.randomStart !== 'boolean') fail('randomStart', `must be true or false, got ${show(r.randomStart)}`);
    if (r.randomStart && desc.fields.randomStart === undefined) fail('randomStart', `applies only to kind ${ATTACKS.kindsTaking('randomStart').join(', ')}, got true for kind ${k}`);
    randomStart = r.randomStart;
  }

  let clip: readonly [number, number] | null = null;
  if (r.clip !== undefined && r.clip !== null) {
    const c = r.clip;
    if (!Array.isArray(c) || c.length !== 2 || !c.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(c[0] < c[1])) {
      fail('clip', `must be a box [lo, hi] of two finite numbers with lo < hi, got ${show(c)}`);
    }
    if (desc.fields.clip === undefined) {
      fail('clip', `does not apply to kind ${k}${desc.traits.needsLinearInX ? ' (an input box breaks its closed form)' : ''}; kinds with a box: ${ATTACKS.kindsTaking('clip').join(', ')}`);
    }
    clip = Object.freeze([c[0], c[1]] as [number, number]);
  }

  const config: AttackConfig = Object.freeze({ kind: k, p, eps, steps, stepSize, randomStart, clip });
  validated.add(config);
  return config;
}

/**
 * The attack for a configuration (validated here too, so a hand-built config cannot bypass the
 * checks). Kinds: none (δ = 0), exact (−ε y s_p(β), linear-in-x binary models only), fgsm
 * (ε s_∞(−∇_x m)), fgm (ε s_p(−∇_x m)), pgd (K projected steepest-descent steps on the margin).
 */
export function createAttack(config: AttackConfig): Attack {
  const c = validateAttackConfig(config);
  return attackDescriptor(c.kind).create(c);
}
