// A depth-3 deep linear network on S2, trained with the exact ℓ∞ worst-case perturbation of radius
// ε = 0.25, converges in direction to the adversarial max-margin solution (B) that `solve` computes
// (docs/THEORY.md §8: 18.4349° = atan(1/3)), and its normalized margin γ̄ to L^{−L/2}·γ*(ε).
//
//   npm run build && node examples/s2-deep-linear.mjs [--json]
import { train, solve, createModel, s2, validateAttackConfig, directionError } from 'advbias';

const EPS = 0.25;
const DEPTH = 3;
const data = s2();
const model = createModel({ kind: 'deep-linear', inputDim: data.d, depth: DEPTH });
const attack = validateAttackConfig({ kind: 'exact', p: Infinity, eps: EPS });

const result = train({
  model,
  data,
  attack,
  loss: 'exp',
  schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
  steps: 20000,
  batchSize: 0,
  initScale: 1,
  seed: 0,
});
const svm = await solve('adversarial-svm', data, { p: Infinity, eps: EPS });

const beta = result.final.predictor; // the unit end-to-end predictor β/‖β‖₂
const angle = (v) => (Math.atan2(v[1], v[0]) * 180) / Math.PI;
const summary = {
  trainedAngleDeg: angle(beta),
  solverAngleDeg: angle(svm.direction),
  directionErrorDeg: directionError(beta, svm.direction).angleDeg,
  normalizedMargin: result.final.adversarialNormalizedMargin,
  predictedMargin: DEPTH ** (-DEPTH / 2) * svm.margin,
  solverStatus: svm.status,
  steps: result.stepsDone,
};

if (process.argv.includes('--json')) console.log(JSON.stringify(summary));
else {
  console.log(`trained direction ${summary.trainedAngleDeg.toFixed(4)}°, solver ${summary.solverAngleDeg.toFixed(4)}° (${svm.status}): ${summary.directionErrorDeg.toExponential(2)}° apart`);
  console.log(`adversarial normalized margin γ̄ = ${summary.normalizedMargin.toFixed(5)}, predicted L^(−L/2)·γ*(ε) = ${summary.predictedMargin.toFixed(5)}`);
}
