/**
 * Common result type of the reference solvers (docs/THEORY.md §4–5). Every solver returns the unit direction
 * (ℓ2), a margin, the multipliers, KKT residuals and a status; infeasible or degenerate inputs get a
 * status and a message, never a wrong answer.
 */

/** Problems solved by `advbias solve --problem …`. */
export type ProblemKind = 'svm' | 'threshold' | 'adversarial-svm' | 'interpolation' | 'interpolation-norm';

/**
 * - `optimal`: solved; the residuals are below the solver's stated tolerance.
 * - `not-separable`: no β has z_i·β > 0 for all i (hard-margin problems are infeasible).
 * - `eps-too-large`: ε ≥ γ_q*: adversarial examples are not separable, (B) is infeasible.
 * - `degenerate`: the input cannot define the problem (a zero example z_i = 0, no examples, …).
 * - `failed`: the numerical solver did not reach its tolerance (message says why).
 */
export type SolverStatus = 'optimal' | 'not-separable' | 'eps-too-large' | 'degenerate' | 'failed';

/**
 * KKT residuals of the problem in the form stated by each solver's TSDoc, all ≥ 0 and scale-free where
 * possible (relative to the size of the solution):
 * primal feasibility max_i max(0, 1 − g_i(β)); dual feasibility max_i max(0, −λ_i);
 * complementarity max_i |λ_i·(g_i(β) − 1)|; stationarity the distance of 0 from the subdifferential
 * of the Lagrangian (relative).
 */
export interface KktResiduals {
  primalFeasibility: number;
  dualFeasibility: number;
  complementarity: number;
  stationarity: number;
}

export interface SolverResult {
  problem: ProblemKind;
  status: SolverStatus;
  /** Human-readable detail for any status other than optimal (and notes for optimal ones). */
  message: string;
  /** The solution β/‖β‖₂ (unit ℓ2); null unless optimal. */
  direction: Float64Array | null;
  /** The solution in the problem's own normalization (e.g. β_B with min_i z_i·β − ε‖β‖_q = 1). */
  beta: Float64Array | null;
  /**
   * svm: the ℓq margin γ_q = max_{‖β‖_q ≤ 1} min_i z_i·β = 1/‖β_q‖_q; threshold: γ_q*;
   * adversarial-svm: γ*(ε) = 1/‖β_B‖₂; interpolation: 1/(‖β_D‖₂ + μ‖β_D‖_q); interpolation-norm:
   * Γ* = 1/N(β) (claim C3). NaN unless optimal.
   */
  margin: number;
  /** λ_i ≥ 0, one per example, in the normalization stated by the solver. */
  multipliers: Float64Array | null;
  kkt: KktResiduals;
  /** Which numerical solver produced it: "quadprog", "highs", "glpk", "scs", "dual-pg", … */
  solver: string;
  /** interpolation: μ = ε Σ λ_i of (B) (docs/THEORY.md §5). */
  mu?: number;
  /** The norm parameters of the problem. q for svm; p (and its dual q) and ε otherwise. */
  q?: number;
  p?: number;
  eps?: number;
}
