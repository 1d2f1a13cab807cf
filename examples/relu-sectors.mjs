// A bias-free ReLU network (2 layers, width 20) on the 2-D `sectors` set (4 angular sectors with
// alternating labels: no linear classifier separates them), trained with FGSM (ε = 0.2) — claim C2's
// toy setting — with the WebAssembly kernels, then evaluated under PGD with random restarts.
//
//   npm run build && node examples/relu-sectors.mjs [--json]
import { train, createModel, sectors, validateAttackConfig, robustAccuracyCurve, useWasmKernels, kernels } from 'advbias';

await useWasmKernels();
const EPS = 0.2;
const data = sectors({ n: 40, k: 4, seed: 0, gap: 0.25 });
const model = createModel({ kind: 'relu-mlp', inputDim: 2, depth: 2, width: 20 });
const result = train({
  model,
  data,
  attack: validateAttackConfig({ kind: 'fgsm', eps: EPS }),
  loss: 'exp',
  schedule: { kind: 'loss-scaled', lr: 0.15, decay: 'sqrt', form: 'sphere' },
  steps: 3000,
  batchSize: 0,
  initScale: 0.3,
  seed: 0,
  record: { kind: 'log', perDecade: 2 },
});
const curve = robustAccuracyCurve(model, result.thetaUnit, data, { p: Infinity, epsList: [0, EPS / 2, EPS], steps: 20, restarts: 2, seed: 0 });

const first = result.history[0];
const summary = {
  kernels: kernels().name,
  steps: result.stepsDone,
  trainAccuracy: result.final.trainAccuracy,
  robustAccuracy: result.final.robustAccuracy,
  normalizedMarginStart: first.adversarialNormalizedMargin,
  normalizedMarginEnd: result.final.adversarialNormalizedMargin,
  pgdEps: curve.eps,
  pgdAccuracy: curve.robustAccuracy,
  firstSeparableStep: result.monotonicity.firstSeparableStep,
};
if (process.argv.includes('--json')) console.log(JSON.stringify(summary));
else {
  console.log(`${summary.steps} FGSM steps (${summary.kernels} kernels): train accuracy ${summary.trainAccuracy}, FGSM robust accuracy ${summary.robustAccuracy}`);
  console.log(`adversarial normalized margin γ̄: ${summary.normalizedMarginStart.toFixed(4)} → ${summary.normalizedMarginEnd.toFixed(4)}`);
  console.log(`PGD (20 steps, 2 restarts) accuracy at ε = ${curve.eps.join(', ')}: ${curve.robustAccuracy.join(', ')}`);
}
