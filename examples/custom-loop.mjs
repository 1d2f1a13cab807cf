// Your own training loop over the pure step: `createStepper` gives `init(seed)` and
// `step(state, batch)`, which returns a new state and leaves its input alone. Here: a ReLU MLP on a
// seeded synthetic set with ℓ2 FGM (ε = 0.02) and mini-batches of 20, the batches drawn by the same
// seeded per-epoch shuffle `train` uses — so the loop ends exactly where `train` does.
//
//   npm run build && node examples/custom-loop.mjs [--json]
import { createStepper, train, createModel, syntheticSeparable, validateAttackConfig } from 'advbias';

const SEED = 3;
const STEPS = 300;
const BATCH = 20;
const data = syntheticSeparable({ n: 60, d: 5, margin: 0.1, seed: 1 });
const options = {
  model: createModel({ kind: 'relu-mlp', inputDim: data.d, depth: 2, width: 16 }),
  data,
  attack: validateAttackConfig({ kind: 'fgm', p: 2, eps: 0.02 }),
  loss: 'logistic',
  schedule: { kind: 'loss-scaled', lr: 0.2, decay: 'sqrt', form: 'sphere' },
  initScale: 0.5,
};

const stepper = createStepper(options);
const batches = stepper.batches(SEED, BATCH);
const start = stepper.init(SEED);
let state = start;
const logLoss = [];
for (let t = 0; t < STEPS; t++) {
  state = stepper.step(state, batches.next());
  if ((t + 1) % 100 === 0) logLoss.push(state.logLoss);
}

// The same run through `train` (measurements only at the ends).
const reference = train({ ...options, steps: STEPS, batchSize: BATCH, seed: SEED, record: { kind: 'every', interval: STEPS } });
let maxDiff = 0;
for (let k = 0; k < state.thetaHat.length; k++) maxDiff = Math.max(maxDiff, Math.abs(state.thetaHat[k] - reference.thetaUnit[k]));

const summary = {
  steps: state.t,
  logRho: state.logRho,
  logLossEvery100: logLoss,
  maxDifferenceFromTrain: maxDiff,
  logRhoDifferenceFromTrain: state.logRho - reference.logNorm,
  startUnchanged: start.t === 0,
};
if (process.argv.includes('--json')) console.log(JSON.stringify(summary));
else {
  console.log(`${summary.steps} steps: log‖θ‖ = ${summary.logRho.toFixed(4)}, batch log-loss every 100 steps: ${logLoss.map((v) => v.toFixed(3)).join(', ')}`);
  console.log(`largest |θ̂_loop − θ̂_train| = ${maxDiff} (the loop is train's step)`);
}
