/**
 * Attack registry: validation of attack settings at the boundary and construction by kind.
 */
import type { Attack, AttackConfig, AttackKind } from './attack.ts';
import { InputError } from '../errors.ts';
import { parseNormExponent } from '../linalg/norms.ts';
import { createExact } from './exact.ts';
import { createFgm } from './fgm.ts';
import { createFgsm } from './fgsm.ts';
import { createNone } from './none.ts';
import { createPgd } from './pgd.ts';

export type { Attack, AttackConfig, AttackKind } from './attack.ts';
export { createExact } from './exact.ts';
export { createFgm, marginInputGradient, MarginScratch } from './fgm.ts';
export { createFgsm } from './fgsm.ts';
export { createNone } from './none.ts';
export { createPgd } from './pgd.ts';

/** The attack kinds, in the order error messages list them. */
export const ATTACK_KINDS: readonly AttackKind[] = ['none', 'exact', 'fgsm', 'fgm', 'pgd'];

const FIELDS = ['kind', 'p', 'eps', 'steps', 'stepSize', 'randomStart'] as const;

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

  const kind = r.kind;
  if (typeof kind !== 'string' || !(ATTACK_KINDS as readonly string[]).includes(kind)) {
    fail('kind', `must be one of ${ATTACK_KINDS.join(', ')}, got ${show(kind)}`);
  }
  const k = kind as AttackKind;

  let p: number;
  if (r.p === undefined) p = k === 'fgsm' ? Infinity : 2;
  else {
    p = typeof r.p === 'number' || typeof r.p === 'string' ? parseNormExponent(r.p) : NaN;
    if (Number.isNaN(p)) fail('p', `must be a number ≥ 1 or "inf", got ${show(r.p)}`);
  }
  if (k === 'fgsm' && p !== Infinity) {
    fail('p', `must be inf for kind fgsm (FGSM is the ℓ∞ attack; use kind fgm for other p), got ${show(r.p)}`);
  }

  let eps: number;
  if (r.eps === undefined && k === 'none') eps = 0;
  else {
    if (typeof r.eps !== 'number' || !Number.isFinite(r.eps) || r.eps < 0) {
      fail('eps', `must be a finite number ≥ 0${k === 'none' ? '' : ` (required for kind ${k})`}, got ${show(r.eps)}`);
    }
    eps = r.eps;
  }

  let steps: number;
  if (r.steps === undefined) steps = k === 'pgd' ? DEFAULT_PGD_STEPS : 1;
  else {
    if (typeof r.steps !== 'number' || !Number.isInteger(r.steps) || r.steps < 1) {
      fail('steps', `must be an integer ≥ 1, got ${show(r.steps)}`);
    }
    steps = r.steps;
  }

  let stepSize: number;
  if (r.stepSize === undefined) {
    if (eps === 0) stepSize = 1;
    else stepSize = k === 'pgd' ? (DEFAULT_PGD_STEP_FACTOR * eps) / steps : eps;
  } else {
    if (typeof r.stepSize !== 'number' || !Number.isFinite(r.stepSize) || r.stepSize <= 0) {
      fail('stepSize', `must be a finite number > 0, got ${show(r.stepSize)}`);
    }
    stepSize = r.stepSize;
  }

  let randomStart = false;
  if (r.randomStart !== undefined) {
    if (typeof r.randomStart !== 'boolean') fail('randomStart', `must be true or false, got ${show(r.randomStart)}`);
    if (r.randomStart && k !== 'pgd') fail('randomStart', `applies only to kind pgd, got true for kind ${k}`);
    randomStart = r.randomStart;
  }

  return Object.freeze({ kind: k, p, eps, steps, stepSize, randomStart });
}

/**
 * The attack for a configuration (validated here too, so a hand-built config cannot bypass the
 * checks). Kinds: none (δ = 0), exact (−ε y s_p(β), linear-in-x binary models only), fgsm
 * (ε s_∞(−∇_x m)), fgm (ε s_p(−∇_x m)), pgd (K projected steepest-descent steps on the margin).
 */
export function createAttack(config: AttackConfig): Attack {
  const c = validateAttackConfig(config);
  switch (c.kind) {
    case 'none':
      return createNone(c);
    case 'exact':
      return createExact(c);
    case 'fgsm':
      return createFgsm(c);
    case 'fgm':
      return createFgm(c);
    case 'pgd':
      return createPgd(c);
  }
}
