/** The exact worst-case perturbation of a linear-in-x binary model (docs/THEORY.md §3). */
import type { Attack, AttackConfig } from './attack.ts';
import { InputError } from '../errors.ts';
import { steepestAscent } from '../linalg/norms.ts';
import { checkModelData, rowCount, rowIndex, zeroRows } from './fgm.ts';
import type { AttackDescriptor } from './descriptor.ts';
import { epsField, pField } from './fields.ts';

/**
 * Exact ℓp worst case for f = ⟨β(θ), x⟩ with labels ±1: δ_i* = argmin_{‖δ‖_p ≤ ε} y_i⟨β, x_i + δ⟩
 * = −ε y_i s_p(β), so y_i⟨β, x_i + δ_i*⟩ = y_i⟨β, x_i⟩ − ε‖β‖_q. β is read from `model.predictor`.
 * Scale-invariant (s_p(cβ) = s_p(β)). Only for linear-in-x one-output models on binary data:
 * anything else throws InputError naming the model (use fgm or pgd there).
 * `config` is taken as validated.
 */
export function createExact(config: AttackConfig): Attack {
  const { p, eps } = config;
  let beta = new Float64Array(0);
  let dir = new Float64Array(0);
  return {
    config,
    perturb(model, theta, data, indices, delta, ws) {
      if (!model.linearInX || model.outputDim !== 1 || model.predictor === undefined) {
        throw new InputError(
          `attack exact needs a linear-in-x binary model with a predictor β(θ) (linear, deep-linear, diagonal, conv); model "${model.kind}" is not one: use fgm or pgd`,
          'model',
        );
      }
      checkModelData('exact', model, data);
      const d = data.d;
      if (eps === 0) return zeroRows(delta, d, data.n, indices);
      if (beta.length < d) {
        beta = new Float64Array(d);
        dir = new Float64Array(d);
      }
      // β and s_p(β) depend on θ only: computed once per call, shared by every example.
      model.predictor(theta, beta, ws);
      steepestAscent(beta, p, dir, d);
      const count = rowCount(data.n, indices);
      for (let k = 0; k < count; k++) {
        const i = rowIndex(indices, k);
        const a = -eps * data.y[i];
        for (let j = 0; j < d; j++) delta[i * d + j] = a * dir[j];
      }
    },
  };
}

export const exactDescriptor: AttackDescriptor = {
  kind: 'exact',
  summary: 'exact worst case −εy s_p(β) (linear-in-x models)',
  fields: { p: pField, eps: epsField },
  traits: { fixedNorm: null, needsLinearInX: true, perturbs: true },
  create: createExact,
};
