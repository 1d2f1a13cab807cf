/**
 * Exponential and logistic (cross-entropy) losses in the log domain (docs/THEORY.md §1, §7).
 *
 * Margins are handled as a common scale S = exp(logScale) times unit-scale margins m̂:
 * m = S·m̂, with S = ρ^L = ‖θ‖^L and m̂ the margins at θ̂ = θ/‖θ‖. The loss itself is never formed,
 * so training runs on long after e^{−m} underflows (m ≳ 745).
 *
 * Margins come in groups (one group per example):
 *  - binary: one margin per example, m_i = y_i f(x_i);
 *  - K-class: K − 1 pair margins per example, m_ij = f_y − f_j (j ≠ y).
 * Exponential loss: L = Σ_i Σ_j e^{−m_ij}. Logistic / cross-entropy: L = Σ_i log(1 + Σ_j e^{−m_ij}).
 * The objective is the SUM over examples (Lyu & Li).
 */

export type LossKind = 'exp' | 'logistic';
export const LOSS_KINDS: readonly LossKind[] = ['exp', 'logistic'];

/** Below this s, log(1 + e^s) equals e^s to float64 precision (e^s < 2^-53), so logistic ≡ exponential. */
const LOGISTIC_AS_EXP = -40;

/** log(log(1 + e^s)) without underflow: ≈ s for s ≪ 0. */
export function logLogistic(s: number): number {
  if (s < LOGISTIC_AS_EXP) return s + Math.log1p(-0.5 * Math.exp(s));
  if (s > 36) return Math.log(s + Math.log1p(Math.exp(-s)));
  return Math.log(Math.log1p(Math.exp(s)));
}

/** log σ(s) = log(e^s/(1 + e^s)) = −softplus(−s), stable for all s. */
export function logSigmoid(s: number): number {
  return s < 0 ? s - Math.log1p(Math.exp(s)) : -Math.log1p(Math.exp(-s));
}

/**
 * Log-loss and the normalized gradient weights.
 *
 * Inputs: `mhat` holds n·g unit-scale margins (group i at mhat[i·g … i·g + g − 1]), the true margins
 * being m = exp(logScale)·m̂. Writes `weights[k] = −(∂L/∂m_k)/L` (so that −∇_θ L / L = Σ_k w_k ∇_θ m_k;
 * for the exponential loss the weights are a softmax of −m and sum to 1).
 * Returns log L. Once S = exp(logScale) overflows, the weights are the hard minimum (ties share
 * equally) and log L = −∞ when the smallest margin is positive — handled explicitly since ∞·0 is NaN.
 */
export function logLossAndWeights(
  kind: LossKind,
  mhat: Float64Array,
  n: number,
  g: number,
  logScale: number,
  weights: Float64Array,
): number {
  const count = n * g;
  const S = Math.exp(logScale);
  let mmin = Infinity;
  for (let k = 0; k < count; k++) if (mhat[k] < mmin) mmin = mhat[k];
  if (S === Infinity) {
    let ties = 0;
    for (let k = 0; k < count; k++) if (mhat[k] === mmin) ties++;
    for (let k = 0; k < count; k++) weights[k] = mhat[k] === mmin ? 1 / ties : 0;
    if (mmin > 0) return -Infinity;
    if (mmin === 0) return Math.log(kind === 'exp' ? ties : ties * Math.LN2);
    return Infinity;
  }
  // Exponential loss, and logistic once every term is in its exponential tail: a softmax of −S·m̂
  // formed from differences m̂_k − m̂_min, so no large numbers are subtracted.
  if (kind === 'exp' || -S * mmin < LOGISTIC_AS_EXP - Math.log(Math.max(g, 1))) {
    let sum = 0;
    for (let k = 0; k < count; k++) {
      const a = Math.exp(-S * (mhat[k] - mmin));
      weights[k] = a;
      sum += a;
    }
    for (let k = 0; k < count; k++) weights[k] /= sum;
    return -S * mmin + Math.log(sum);
  }
  // Logistic / cross-entropy: per example s_i = log Σ_j e^{−m_ij}; ℓ_i = log(1 + e^{s_i}).
  // Pass 1: log ℓ_i into weights[i·g] (temporarily), and the max for log-sum-exp.
  let maxLog = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = groupLogSumExp(mhat, i * g, g, S);
    const l = logLogistic(s);
    weights[i * g] = l;
    if (l > maxLog) maxLog = l;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(weights[i * g] - maxLog);
  const logL = maxLog + Math.log(sum);
  // Pass 2: w_ij = σ(s_i)/L · softmax_j(−m_ij).
  for (let i = 0; i < n; i++) {
    const base = i * g;
    const s = groupLogSumExp(mhat, base, g, S);
    const lw = logSigmoid(s) - logL;
    for (let j = 0; j < g; j++) weights[base + j] = Math.exp(lw - S * mhat[base + j] - s);
  }
  return logL;
}

/** log Σ_j exp(−S·m̂_j) over one group, stable. */
function groupLogSumExp(mhat: Float64Array, base: number, g: number, S: number): number {
  let m = Infinity;
  for (let j = 0; j < g; j++) if (mhat[base + j] < m) m = mhat[base + j];
  if (g === 1) return -S * m;
  let sum = 0;
  for (let j = 0; j < g; j++) sum += Math.exp(-S * (mhat[base + j] - m));
  return -S * m + Math.log(sum);
}

/**
 * Smoothed margin γ̃ (docs/THEORY.md §4) from log L and log‖θ‖^L:
 * exponential γ̃ = log(1/L)/‖θ‖^L; logistic γ̃ = −log(expm1(L))/‖θ‖^L. Evaluated without forming L.
 */
export function smoothedMargin(kind: LossKind, logL: number, logScale: number): number {
  let num: number;
  if (kind === 'exp') num = -logL;
  else if (logL < -30) num = -(logL + Math.log1p(0.5 * Math.exp(logL)));
  else {
    // log(expm1(L)) = L + log1p(−e^{−L}): for large L, expm1 would overflow long before the result does.
    const L = Math.exp(logL);
    num = L > 30 ? -(L + Math.log1p(-Math.exp(-L))) : -Math.log(Math.expm1(L));
  }
  return num / Math.exp(logScale);
}
