/**
 * The reference solution the theory predicts for a training run (docs/THEORY.md §5), and the separability
 * check that must come before training a linear-in-x model adversarially.
 */
import type { TrainConfig } from './config.ts';
import { dualExponent, lpNorm } from '../linalg/norms.ts';
import type { Dataset } from '../data/dataset.ts';
import type { SolverResult } from '../solvers/types.ts';
import { solve } from '../solvers/index.ts';
import { InputError } from '../errors.ts';
import { formatNormExponent } from '../linalg/norms.ts';
import { modelDescriptor, MODELS } from '../models/registry.ts';
import { perturbationRadiusOf } from '../attacks/index.ts';
import { perturbationNorm } from './from-config.ts';

export { perturbationNorm } from './from-config.ts';

/** True when the run is adversarial with a positive radius. */
export function isAdversarial(c: TrainConfig): boolean {
  return perturbationRadiusOf({ kind: c.attack, eps: c.eps }) > 0;
}

/** The models that have a reference direction, by problem, for error messages. */
function referenceKinds(problem: 'adversarial-svm' | 'interpolation-norm'): string {
  return MODELS.all.filter((d) => d.traits.referenceProblem(2) === problem || (problem === 'adversarial-svm' && d.traits.referenceProblem(1) === problem && d.traits.c3Architecture === null)).map((d) => d.kind).join(', ');
}

/**
 * `--reference auto`: for linear and deep-linear models the adversarial SVM (B) with the run's p and
 * ε, or the ℓ2-SVM for clean training (attack none or ε = 0); for diagonal, diagonal-pm and conv
 * models of depth L ≥ 2 the interpolation-norm problem of C3 (best local solution; ε = 0 for clean
 * training). Throws InputError naming what is
 * missing (non-binary data, a model without a C1 reference yet, a solver status other than optimal).
 */
export async function autoReference(c: TrainConfig, data: Dataset): Promise<SolverResult> {
  if (!data.binary) throw new InputError(`--reference auto needs binary data (labels ±1); "${data.name}" has ${data.classes} classes`, 'reference');
  const traits = modelDescriptor(c.model, 'model').traits;
  const problem = traits.referenceProblem(c.depth);
  if (problem === null)
    throw new InputError(
      `--reference auto: no reference direction for model "${c.model}" (${referenceKinds('adversarial-svm')}: the adversarial SVM of claim C1; ${referenceKinds('interpolation-norm')}: the interpolation-norm problem of claim C3; ${MODELS.all.filter((d) => d.traits.referenceProblem(2) === null).map((d) => d.kind).join(', ')}: none — use the KKT measurements)`,
      'reference',
    );
  const eps = isAdversarial(c) ? c.eps : 0;
  const r =
    problem === 'interpolation-norm' && traits.c3Architecture !== null
      ? await solve('interpolation-norm', data, { architecture: traits.c3Architecture, depth: c.depth, p: perturbationNorm(c), eps })
      : isAdversarial(c)
        ? await solve('adversarial-svm', data, { p: perturbationNorm(c), eps: c.eps })
        : await solve('svm', data, { q: 2 });
  if (r.status !== 'optimal' || !r.direction) throw new InputError(`--reference auto: the ${r.problem} solver returned "${r.status}": ${r.message}`, 'reference');
  return r;
}

/**
 * Before adversarial training of a linear-in-x model: compute γ_q* and refuse ε ≥ γ_q* (then the
 * adversarial examples are not separable and there is no margin to grow), unless
 * `allowInseparable`. Returns the threshold result; null when the check does not apply, or when the
 * ℓ2-SVM direction already certifies γ_q* > ε (then the threshold LP is not solved).
 */
export async function checkAdversarialSeparability(c: TrainConfig, data: Dataset): Promise<SolverResult | null> {
  if (!isAdversarial(c) || !data.binary || !modelDescriptor(c.model, 'model').traits.linearInX) return null;
  const p = perturbationNorm(c);
  // A witness first: any direction w certifies γ_q* ≥ min_i y_i⟨w, x_i⟩/‖w‖_q. The ℓ2-SVM's (an exact
  // QP, milliseconds) usually clears ε by far, and then the exact threshold LP (HiGHS: ~0.2 s, most
  // of it loading its WebAssembly) is not needed: same verdict, no solver result returned.
  if (!c.allowInseparable) {
    const svm = await solve('svm', data, { q: 2 }).catch(() => null);
    if (svm?.status === 'optimal' && svm.direction && robustMargin(svm.direction, data, p) > c.eps) return null;
  }
  const th = await solve('threshold', data, { p });
  if (th.status === 'not-separable') {
    if (c.allowInseparable) return th;
    throw new InputError(`data "${data.name}" is not linearly separable, so a linear-in-x model has no margin to grow (${th.message}); use --allow-inseparable to train anyway`, 'data');
  }
  if (th.status !== 'optimal') throw new InputError(`cannot compute the robust threshold γ_q* of "${data.name}": ${th.status}: ${th.message}`, 'eps');
  if (c.eps >= th.margin && !c.allowInseparable)
    throw new InputError(
      `ε = ${c.eps} ≥ γ_q* = ${th.margin.toPrecision(8)} (p = ${formatNormExponent(p)}): adversarial examples of "${data.name}" are not linearly separable, so there is no margin to grow (docs/THEORY.md §5); use a smaller --eps, or --allow-inseparable to train anyway`,
      'eps',
    );
  return th;
}

/** min_i y_i⟨w, x_i⟩/‖w‖_q for the dual exponent q of p: a lower bound on γ_q* (binary data). */
function robustMargin(w: Float64Array, data: Dataset, p: number): number {
  const q = dualExponent(p);
  const norm = lpNorm(w, q);
  if (!(norm > 0) || !Number.isFinite(norm)) return -Infinity;
  let m = Infinity;
  for (let i = 0; i < data.n; i++) {
    let s = 0;
    for (let j = 0; j < data.d; j++) s += w[j] * data.X[i * data.d + j];
    m = Math.min(m, data.y[i] * s);
  }
  return m / norm;
}
