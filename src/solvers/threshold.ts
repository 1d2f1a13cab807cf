/**
 * The robust-separability threshold γ_q* (docs/THEORY.md §5): adversarial examples of a linear-in-x model under
 * ℓp perturbations of size ε are separable iff ε < γ_q*, q the dual exponent of p.
 */
import type { Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import { dualExponent, lpNorm } from '../linalg/norms.ts';
import { svmL2, svmLinf1, type SvmLpOptions } from './svm.ts';
import type { SolverResult } from './types.ts';

/**
 * γ_q* = max_{‖β‖_q ≤ 1} min_i z_i·β = 1/min{‖β‖_q : z_i·β ≥ 1 ∀i}, q = dual(p) (1/p + 1/q = 1), the
 * margin of the ℓq-SVM: problem `'threshold'`, `margin` = γ_q*.
 *
 * q = 2 by {@link svmL2} (quadprog); q = 1 and q = ∞ by {@link svmLinf1} (LP; `options.solver`);
 * any other q by `svmQ` from `./svm-q.ts` (loaded on first use). The result carries
 *  - `beta` = β_q* / ‖β_q*‖_q, the maximizer with ‖β‖_q = 1 and min_i z_i·β = γ_q* (for q = 1, ∞ the
 *    LP vertex returned: the maximizer may be non-unique, γ_q* is not);
 *  - `direction` = β/‖β‖₂;
 *  - `multipliers` = the SVM's multipliers divided by their sum (Σλ_i = 1): the weights of the
 *    max–min problem, with Σλ_i z_i ∈ γ_q* ∂‖β‖_q at the optimum (the sum fixes either normalization);
 *  - `kkt` = the SVM's residuals (they are scale-free, so they hold for this normalization too).
 * Data with γ_q* ≤ 0 (not separable through the origin) give status `not-separable`: every ε ≥ 0 is
 * then too large; zero examples or n = 0 give `degenerate`.
 *
 * @param data binary data, n×d.
 * @param p perturbation norm, 1 ≤ p ≤ ∞ (`Infinity` for ∞).
 * @param options LP solver for p = 1 and p = ∞ (q = ∞ and q = 1).
 */
export async function robustThreshold(data: Dataset, p: number, options: SvmLpOptions = {}): Promise<SolverResult> {
  if (typeof p !== 'number' || !(p >= 1)) throw new InputError(`robustThreshold: p must be a number in [1, ∞], got ${p}`, 'p');
  const q = dualExponent(p);
  let svm: SolverResult;
  if (q === 2) svm = await svmL2(data);
  else if (q === 1 || q === Infinity) svm = await svmLinf1(data, q, options);
  else {
    // Loaded lazily: the general-q solver (another module, a conic solver in WebAssembly) is needed
    // only for p ∉ {1, 2, ∞}.
    const { svmQ } = await import('./svm-q.ts');
    svm = await svmQ(data, q);
  }
  const base = { problem: 'threshold' as const, p, q, solver: svm.solver, kkt: svm.kkt };
  if (svm.status !== 'optimal' || !svm.beta || !svm.multipliers) {
    const extra = svm.status === 'not-separable' ? ': γ_q* ≤ 0, so every ε ≥ 0 is too large' : '';
    return { ...base, status: svm.status, message: svm.message + extra, direction: null, beta: null, margin: NaN, multipliers: null };
  }
  const norm = lpNorm(svm.beta, q);
  const beta = svm.beta.map((v) => v / norm);
  let sum = 0;
  for (const v of svm.multipliers) sum += v;
  const multipliers = svm.multipliers.map((v) => v / sum);
  return {
    ...base,
    status: 'optimal',
    message: `γ_q* as the margin of the ℓq-SVM (q = ${q}); ${svm.message}; beta normalized to ‖β‖_q = 1, multipliers to Σλ_i = 1`,
    direction: svm.direction,
    beta,
    margin: 1 / norm,
    multipliers,
  };
}
