/** FGSM, the fast gradient sign method (Goodfellow et al. 2015; docs/THEORY.md §3). */
import type { Attack, AttackConfig } from './attack.ts';
import { createFgm } from './fgm.ts';
import type { AttackDescriptor } from './descriptor.ts';
import * as z from 'zod';
import { clipField, epsField, normExponent, pField } from './fields.ts';

/**
 * FGSM: δ_i = −ε·sign(∇_x m(θ; x_i)) = ε·s_∞(−∇_x m), sign(0) = 0. It is FGM with p = ∞: FGSM is
 * defined as the ℓ∞ attack, so `validateAttackConfig` rejects any other p (use kind `fgm` for those).
 * For binary data this is −ε y_i sign(∇_x f(θ; x_i)) = ε sign(∇_x ℓ), without forming ℓ (no underflow).
 * `config` is taken as validated (config.p = ∞).
 */
export function createFgsm(config: AttackConfig): Attack {
  return createFgm(config);
}

export const fgsmDescriptor: AttackDescriptor = {
  kind: 'fgsm',
  summary: 'fast gradient sign method, ℓ∞ (p must be inf)',
  fields: {
    p: {
      ...pField,
      schema: normExponent.pipe(z.literal(Infinity, { error: 'must be inf for fgsm (FGSM is the ℓ∞ attack; use --attack fgm for other p)' })).default(Infinity),
      help: 'perturbation norm: inf only (FGSM is the ℓ∞ attack; use fgm for other p)',
    },
    eps: epsField,
    clip: clipField,
  },
  traits: { fixedNorm: Infinity, needsLinearInX: false, perturbs: true },
  create: createFgsm,
};
