/**
 * The pure step: a loop over `step(state, batch)` is `train` bit for bit (the same core, `stepInto`),
 * `step` never changes its input, its scratch memory is not observable, and the schedules as
 * `{init, update}` are pure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createStepper,
  createSchedule,
  createModel,
  train,
  s2,
  sectors,
  syntheticSeparable,
  validateAttackConfig,
  InputError,
  LOSS_BASED_GROW,
  LOSS_BASED_SHRINK,
  type StepperOptions,
  type TrainState,
  type Dataset,
} from '../../src/index.ts';

interface Case {
  readonly options: StepperOptions;
  readonly steps: number;
  readonly batchSize: number;
  readonly seed: number;
}

const synthetic: Dataset = syntheticSeparable({ n: 30, d: 4, margin: 0.1, seed: 2 });
const toy: Dataset = sectors({ n: 24, k: 4, seed: 0, gap: 0.25 });

const CASES: Record<string, Case> = {
  'deep-linear S2, exact ℓ∞ ε = 0.25, loss-scaled sphere': {
    options: {
      model: createModel({ kind: 'deep-linear', inputDim: 2, depth: 3 }),
      data: s2(),
      attack: validateAttackConfig({ kind: 'exact', p: Infinity, eps: 0.25 }),
      loss: 'exp',
      schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    },
    steps: 400,
    batchSize: 0,
    seed: 0,
  },
  'relu-mlp synthetic, PGD with random starts, mini-batch 7, logistic, constant': {
    options: {
      model: createModel({ kind: 'relu-mlp', inputDim: 4, depth: 2, width: 6 }),
      data: synthetic,
      attack: validateAttackConfig({ kind: 'pgd', p: Infinity, eps: 0.05, steps: 3, stepSize: 0.03, randomStart: true }),
      loss: 'logistic',
      schedule: { kind: 'constant', lr: 0.5, decay: 'none', form: 'sphere' },
      initScale: 0.7,
    },
    steps: 300,
    batchSize: 7,
    seed: 5,
  },
  'relu-mlp sectors, FGSM, loss-based (rollbacks)': {
    options: {
      model: createModel({ kind: 'relu-mlp', inputDim: 2, depth: 2, width: 8 }),
      data: toy,
      attack: validateAttackConfig({ kind: 'fgsm', eps: 0.1 }),
      loss: 'exp',
      schedule: { kind: 'loss-based', lr: 2, decay: 'none', form: 'sphere' },
      initScale: 0.5,
    },
    steps: 300,
    batchSize: 0,
    seed: 1,
  },
  'diagonal S2, clean, loss-scaled direct': {
    options: {
      model: createModel({ kind: 'diagonal', inputDim: 2, depth: 2 }),
      data: s2(),
      attack: validateAttackConfig({ kind: 'none' }),
      loss: 'exp',
      schedule: { kind: 'loss-scaled', lr: 0.05, decay: 'none', form: 'direct' },
    },
    steps: 300,
    batchSize: 0,
    seed: 2,
  },
};

/** A deep copy of everything a state holds, to check that `step` left it alone. */
function snapshot(s: TrainState): unknown {
  return {
    t: s.t,
    thetaHat: Array.from(s.thetaHat),
    logRho: s.logRho,
    schedule: { ...s.schedule },
    attackRng: s.attackRng ? s.attackRng.getState() : null,
    rollback: s.rollback ? { thetaHat: Array.from(s.rollback.thetaHat), grad: Array.from(s.rollback.grad) } : null,
    logLoss: s.logLoss,
  };
}

for (const [name, c] of Object.entries(CASES)) {
  test(`step ≡ train, bit for bit: ${name}`, () => {
    const stepper = createStepper(c.options);
    const batches = stepper.batches(c.seed, c.batchSize);
    assert.equal(batches === null, c.batchSize === 0);
    let state = stepper.init(c.seed);
    for (let t = 0; t < c.steps; t++) state = stepper.step(state, batches ? batches.next() : null);
    const r = train({ ...c.options, initScale: c.options.initScale ?? 1, steps: c.steps, batchSize: c.batchSize, seed: c.seed, record: { kind: 'every', interval: 1e9 } });
    assert.equal(state.t, r.stepsDone);
    assert.deepEqual(Array.from(state.thetaHat), Array.from(r.thetaUnit));
    assert.ok(Object.is(state.logRho, r.logNorm), `log ρ ${state.logRho} vs ${r.logNorm}`);
    if (state.schedule.kind === 'loss-based') {
      assert.equal(state.schedule.rollbacks, r.rollbacks);
      assert.ok(r.rollbacks > 0, 'the loss-based case rolls back (it tests that path)');
    }
    assert.ok(state.logRho > stepper.init(c.seed).logRho, 'the norm grew: the steps did something');
  });
}

test('step does not mutate its input, and its scratch memory is not observable', () => {
  for (const [name, c] of Object.entries(CASES)) {
    const stepper = createStepper(c.options);
    const batches = stepper.batches(c.seed, c.batchSize);
    let state = stepper.init(c.seed);
    for (let t = 0; t < 20; t++) state = stepper.step(state, batches ? batches.next() : null);
    const batch = batches ? Int32Array.from(batches.next()) : null;
    const before = snapshot(state);
    const a = stepper.step(state, batch);
    assert.deepEqual(snapshot(state), before, `${name}: the input state is unchanged`);
    assert.notEqual(a.thetaHat, state.thetaHat);
    assert.ok(Object.isFrozen(a), `${name}: the new state is frozen`);
    // Other steps in between (other batches, other states) leave no trace on the next call.
    let other = stepper.init(c.seed + 1);
    for (let t = 0; t < 5; t++) other = stepper.step(other, batches ? batches.next() : null);
    const b = stepper.step(state, batch);
    assert.deepEqual(snapshot(b), snapshot(a), `${name}: the same input gives the same output`);
    assert.deepEqual(snapshot(state), before, `${name}: still unchanged`);
    assert.equal(a.t, state.t + 1);
  }
});

test('init: from a seed (as train) or from θ₀ (copied, normalized); bad inputs are InputErrors naming the field', () => {
  const c = CASES['deep-linear S2, exact ℓ∞ ε = 0.25, loss-scaled sphere'];
  const stepper = createStepper(c.options);
  const theta0 = new Float64Array(stepper.numParams).fill(2);
  const s = stepper.init(0, theta0);
  assert.equal(theta0[0], 2, 'θ₀ is copied');
  assert.ok(Math.abs(s.logRho - Math.log(2 * Math.sqrt(stepper.numParams))) < 1e-15);
  assert.ok(Math.abs(s.thetaHat.reduce((acc, v) => acc + v * v, 0) - 1) < 1e-15);
  const field = (f: () => unknown, name: string): void =>
    assert.throws(f, (e: unknown) => e instanceof InputError && e.field === name, `InputError on ${name}`);
  field(() => stepper.init(0, new Float64Array(3)), 'theta0');
  field(() => stepper.init(0.5), 'seed');
  field(() => stepper.step(s, [0, 7]), 'batch');
  field(() => stepper.step(s, []), 'batch');
  field(() => stepper.step({ ...s, thetaHat: new Float64Array(1) }, null), 'state.thetaHat');
  field(() => createStepper({ ...c.options, schedule: { kind: 'loss-scaled', lr: -1, decay: 'none', form: 'sphere' } }), 'schedule.lr');
  field(() => createStepper({ ...c.options, model: createModel({ kind: 'linear', inputDim: 3 }) }), 'data');
  const lb = createStepper(CASES['relu-mlp sectors, FGSM, loss-based (rollbacks)'].options);
  field(() => lb.step(lb.init(0), [0, 1]), 'batch');
});

test('schedules as {init, update}: pure, and the coefficients of docs/THEORY.md §7', () => {
  const info = { t: 3, logLoss: -2, logRho: 1.5, order: 3 };
  const constant = createSchedule({ kind: 'constant', lr: 0.1, decay: 'sqrt', form: 'sphere' });
  const u = constant.update(constant.init(), info);
  // c_t = η_t · L · ρ^{L−2} with η_t = η₀/√(t+1).
  assert.equal(u.coefficient, (0.1 / 2) * Math.exp(-2 + 1.5));
  assert.equal(u.rate, 0.05);
  assert.equal(u.rollback, false);
  const direct = createSchedule({ kind: 'loss-scaled', lr: 0.1, decay: 'none', form: 'direct' });
  assert.equal(direct.update(direct.init(), info).coefficient, 0.1 * Math.exp(1.5));
  const sphere = createSchedule({ kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' });
  assert.equal(sphere.update(sphere.init(), info).coefficient, 0.05);
  assert.equal(sphere.rate(sphere.init(), 3), 0.05);

  const lb = createSchedule({ kind: 'loss-based', lr: 1, decay: 'none', form: 'direct' });
  const s0 = lb.init();
  const s0copy = JSON.stringify(s0);
  const first = lb.update(s0, { t: 0, logLoss: 0, logRho: 0.5, order: 3 });
  assert.equal(JSON.stringify(s0), s0copy, 'update does not mutate its state');
  assert.equal(first.rollback, false);
  assert.equal(first.rate, 1, 'no growth at t = 0');
  const good = lb.update(first.state, { t: 1, logLoss: -1, logRho: 0.7, order: 3 });
  assert.equal(good.rollback, false);
  assert.equal(good.rate, LOSS_BASED_GROW);
  assert.equal(good.coefficient, LOSS_BASED_GROW * Math.exp(0.7));
  const bad = lb.update(good.state, { t: 2, logLoss: -0.5, logRho: 0.9, order: 3 });
  assert.equal(bad.rollback, true);
  assert.equal(bad.rate, LOSS_BASED_GROW / LOSS_BASED_SHRINK);
  // The retried step starts at the accepted point: its log ρ enters the coefficient.
  assert.equal(bad.coefficient, (LOSS_BASED_GROW / LOSS_BASED_SHRINK) * Math.exp(0.7));
  const nan = lb.update(good.state, { t: 2, logLoss: NaN, logRho: 0.9, order: 3 });
  assert.equal(nan.rollback, true, 'a NaN loss is a bad step');
  assert.equal(lb.rate(bad.state, 3), bad.rate);
  assert.throws(() => lb.update(sphere.init(), info), (e: unknown) => e instanceof InputError && e.field === 'schedule');
});
