/**
 * The reference solvers (docs/THEORY.md §5): one dispatcher over the problems of `advbias solve`, the
 * reference that the theory predicts for a trained model, and every solver re-exported.
 */
import { InputError } from '../errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { adversarialSvm, interpolationSvm } from './adversarial.ts';
import { svmL2, svmLinf1 } from './svm.ts';
import { svmQ } from './svm-q.ts';
import { robustThreshold } from './threshold.ts';
import { INTERPOLATION_ARCHITECTURES, architectureOfModel, interpolationNormSolve, type InterpolationArchitecture } from './interpolation-norm.ts';
import type { ProblemKind, SolverResult } from './types.ts';

import { MODELS } from '../models/registry.ts';
import { perturbationNormOf, perturbationRadiusOf } from '../attacks/index.ts';
export type { KktResiduals, ProblemKind, SolverResult, SolverStatus } from './types.ts';
export { svmL2, svmL2Dual, svmLinf1, svmKkt } from './svm.ts';
export { robustThreshold } from './threshold.ts';
export { svmQ, svmQKkt, loadScs } from './svm-q.ts';
export {
  interpolationNormSolve,
  interpolationNormCuttingPlane,
  predictorKkt,
  predictorTransform,
  interpolationNorm,
  c3Margin,
  architectureOfModel,
  INTERPOLATION_ARCHITECTURES,
  C3_KKT_TOLERANCE,
  type InterpolationArchitecture,
  type InterpolationNormResult,
  type LocalSolution,
  type PredictorKkt,
} from './interpolation-norm.ts';
export { adversarialSvm, interpolationSvm, interpolationSvmDirect, adversarialKkt, distanceToNormSubdifferential, type AdversarialOptions } from './adversarial.ts';

/** The problems {@link solve} dispatches, in the order of {@link ProblemKind}. */
export const PROBLEM_KINDS: readonly ProblemKind[] = ['svm', 'threshold', 'adversarial-svm', 'interpolation', 'interpolation-norm'];

/** Options of {@link solve}; which ones a problem takes is listed there. */
export interface SolveOptions {
  /** svm: the SVM norm q ∈ [1, ∞] (default 2). */
  readonly q?: number;
  /** threshold, adversarial-svm, interpolation: the perturbation norm p ∈ [1, ∞] (q = its dual). */
  readonly p?: number;
  /** adversarial-svm, interpolation, interpolation-norm: the radius ε ≥ 0 (required). */
  readonly eps?: number;
  /** interpolation-norm: diagonal | conv (required). */
  readonly architecture?: InterpolationArchitecture;
  /** interpolation-norm: the depth L ≥ 2 (default 2). */
  readonly depth?: number;
  /** interpolation-norm, L ≥ 3: number of local-search starts (default 8). */
  readonly starts?: number;
  /** interpolation-norm, L ≥ 3: seed of the random starts (default 0). */
  readonly seed?: number;
}

function normExponent(field: 'p' | 'q', v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 1) {
    throw new InputError(`invalid ${field} ${String(v)}: must be a number in [1, ∞] (Infinity for ∞)`, field);
  }
  return v;
}

/**
 * Solve one reference problem (docs/THEORY.md §5) on binary data (z_i = y_i x_i):
 *  - 'svm' (options q, default 2): min ‖β‖_q s.t. z_i·β ≥ 1 — q = 2 by svmL2 (QP), q ∈ {1, ∞} by
 *    svmLinf1 (LP), any other q > 1 by svmQ (power cones); margin γ_q = 1/‖β‖_q;
 *  - 'threshold' (p, default ∞): γ_q* = max_{‖β‖_q ≤ 1} min_i z_i·β, q = dual(p) (robustThreshold);
 *  - 'adversarial-svm' (p default ∞, eps required): (B) min ‖β‖₂ s.t. z_i·β − ε‖β‖_q ≥ 1
 *    (adversarialSvm); margin γ*(ε) = 1/‖β_B‖₂;
 *  - 'interpolation' (p default ∞, eps required): (D) min ‖β‖₂ + μ‖β‖_q s.t. z_i·β ≥ 1 with
 *    μ = εΣλ_i (interpolationSvm);
 *  - 'interpolation-norm' (architecture required, depth default 2, p default ∞, eps required; starts
 *    and seed for L ≥ 3): claim C3's min N(β) s.t. z_i·β − ε‖β‖_q ≥ 1 (interpolationNormSolve).
 * Options a problem does not use are rejected, not ignored (an `eps` key whose value is undefined
 * counts as absent).
 *
 * @throws InputError naming the field: unknown problem, q < 1 or p < 1 (or not a number), ε < 0 or
 *   not finite, ε missing for the adversarial problems, an option the problem does not take
 */
export async function solve(problem: ProblemKind, data: Dataset, opts: SolveOptions = {}): Promise<SolverResult> {
  if (!PROBLEM_KINDS.includes(problem)) {
    throw new InputError(`unknown problem ${JSON.stringify(problem)} (allowed: ${PROBLEM_KINDS.join(', ')})`, 'problem');
  }
  const { q, p, eps } = opts;
  if (problem !== 'interpolation-norm') {
    for (const key of ['architecture', 'depth', 'starts', 'seed'] as const) {
      if (opts[key] !== undefined) throw new InputError(`problem ${problem} takes no ${key} (only interpolation-norm does)`, key);
    }
  }
  if (eps !== undefined && (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)) {
    throw new InputError(`invalid eps ${String(eps)}: must be a finite number ≥ 0`, 'eps');
  }
  if (problem === 'svm') {
    if (p !== undefined) throw new InputError(`problem svm takes q (the SVM norm), not p`, 'p');
    if (eps !== undefined) throw new InputError(`problem svm takes no eps`, 'eps');
    const qq = q === undefined ? 2 : normExponent('q', q);
    if (qq === 2) return svmL2(data);
    if (qq === 1 || qq === Infinity) return svmLinf1(data, qq);
    return svmQ(data, qq);
  }
  if (q !== undefined) throw new InputError(`problem ${problem} takes p (the perturbation norm; q is its dual), not q`, 'q');
  const pp = p === undefined ? Infinity : normExponent('p', p);
  if (problem === 'threshold') {
    if (eps !== undefined) throw new InputError(`problem threshold takes no eps: it computes the largest admissible ε`, 'eps');
    return robustThreshold(data, pp);
  }
  if (eps === undefined) throw new InputError(`problem ${problem} needs eps (the perturbation radius)`, 'eps');
  if (problem === 'interpolation-norm') {
    const architecture = opts.architecture;
    if (architecture === undefined || !INTERPOLATION_ARCHITECTURES.includes(architecture)) {
      throw new InputError(`problem interpolation-norm needs architecture ${INTERPOLATION_ARCHITECTURES.join(' | ')}, got ${JSON.stringify(architecture)}`, 'architecture');
    }
    return interpolationNormSolve(data, { architecture, depth: opts.depth ?? 2, p: pp, eps, starts: opts.starts, seed: opts.seed });
  }
  return problem === 'adversarial-svm' ? adversarialSvm(data, pp, eps) : interpolationSvm(data, pp, eps);
}

/** The model fields {@link referenceFor} reads (a `Model` has them). */
export interface ReferenceModel {
  /** Registry name: linear, deep-linear, diagonal, diagonal-pm, conv, relu-mlp. */
  readonly kind: string;
  /** True when f(θ; x) = ⟨β(θ), x⟩. */
  readonly linearInX: boolean;
}

/** The attack fields {@link referenceFor} reads (an `AttackConfig` has them). */
export interface ReferenceAttack {
  /** none, exact, fgsm, fgm, pgd. */
  readonly kind: string;
  /** Perturbation norm p ∈ [1, ∞]; FGSM is ℓ∞ whatever p says. */
  readonly p: number;
  readonly eps: number;
}

/**
 * The reference solution the theory predicts for the limit direction of (adversarial) training
 * (docs/THEORY.md §5), or null where none is implemented:
 *  - linear and deep-linear models (C1): (B) with the attack's p and ε — on linear-in-x models the
 *    exact worst case, FGSM, FGM and PGD (Kα ≥ ε) all give δ_i* = −εy_i s_p(β), so the attack kind
 *    only fixes p (FGSM: ∞); clean training (attack 'none' or ε = 0) gives the ℓ2-SVM (svmL2);
 *  - diagonal, diagonal-pm and conv models of order L (C3; `order` required, else null): the best
 *    local solution of min N(β) s.t. z_i·β − ε‖β‖_q ≥ 1 (interpolationNormSolve; exact at L = 2);
 *  - models that are not linear in x (relu-mlp): null (C2 has no closed-form reference).
 *
 * @param model the model's registry kind and whether it is linear in x
 * @param attack the training perturbation: kind, p, ε
 * @param data the binary training data
 */
export async function referenceFor(model: ReferenceModel & { readonly order?: number }, attack: ReferenceAttack, data: Dataset): Promise<SolverResult | null> {
  const desc = MODELS.find(model.kind);
  if (!desc || !model.linearInX) return null;
  const p = perturbationNormOf(attack);
  const eps = perturbationRadiusOf(attack);
  const arch = desc.traits.c3Architecture;
  if (arch !== null && model.order === undefined) return null;
  const problem = desc.traits.referenceProblem(model.order ?? 1);
  if (problem === 'interpolation-norm' && arch !== null) return interpolationNormSolve(data, { architecture: arch, depth: model.order!, p, eps });
  if (problem !== 'adversarial-svm') return null;
  if (eps === 0) return svmL2(data);
  return adversarialSvm(data, p, eps);
}
