/** The clean baseline: no perturbation. */
import type { Attack, AttackConfig } from './attack.ts';
import { zeroRows } from './fgm.ts';
import type { AttackDescriptor } from './descriptor.ts';

/** δ_i = 0 for every listed example (standard, non-adversarial training). */
export function createNone(config: AttackConfig): Attack {
  return {
    config,
    perturb(_model, _theta, data, indices, delta) {
      zeroRows(delta, data.d, data.n, indices);
    },
  };
}

export const noneDescriptor: AttackDescriptor = {
  kind: 'none',
  summary: 'no perturbation (clean training)',
  fields: {},
  traits: { fixedNorm: null, needsLinearInX: false, perturbs: false },
  create: createNone,
};
