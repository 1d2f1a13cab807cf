import test from 'node:test';
import assert from 'node:assert/strict';
import { train, trainAsync, TrainingRun, type TrainCheckpoint, type TrainOptions, type TrainResult } from '../../src/train/trainer.ts';
import { createDeepLinear } from '../../src/models/deep-linear.ts';
import { createDiagonal } from '../../src/models/diagonal.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { s2 } from '../../src/data/builtin.ts';
import { sectors } from '../../src/data/sectors.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { InputError } from '../../src/errors.ts';
import { stringifyExact, parseExact } from '../../src/util/exact-json.ts';
import type { Dataset } from '../../src/data/dataset.ts';

const U_STAR = new Float64Array([3 / Math.sqrt(10), 1 / Math.sqrt(10)]);

function threeClass(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    const a = (2 * Math.PI * k) / 3 + 0.3 * (rng.uniform() - 0.5);
    const r = 0.5 + rng.uniform();
    X[2 * i] = r * Math.cos(a);
    X[2 * i + 1] = r * Math.sin(a);
    y[i] = k;
  }
  return { name: 'three-class', n, d: 2, X, y, binary: false, classes: 3 };
}

/** Configurations, built fresh on every call (models hold no state, but the options are cheap). */
const CONFIGS: Record<string, () => TrainOptions> = {
  'deep-linear s2, exact ℓ∞, loss-scaled sphere': () => ({
    model: createDeepLinear({ inputDim: 2, depth: 3, width: 6 }),
    data: s2(),
    attack: { kind: 'exact', p: Infinity, eps: 0.25, steps: 1, stepSize: 1, randomStart: false },
    loss: 'exp',
    schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    steps: 300,
    batchSize: 0,
    initScale: 1,
    seed: 3,
    reference: U_STAR,
  }),
  'diagonal s2, fgm ℓ2, constant': () => ({
    model: createDiagonal({ inputDim: 2, depth: 2 }),
    data: s2(),
    attack: { kind: 'fgm', p: 2, eps: 0.2, steps: 1, stepSize: 0.2, randomStart: false },
    loss: 'logistic',
    schedule: { kind: 'constant', lr: 0.5, decay: 'none', form: 'sphere' },
    steps: 250,
    batchSize: 0,
    initScale: 0.5,
    seed: 1,
    record: { kind: 'every', interval: 10 },
  }),
  'relu-mlp sectors, PGD ℓ∞ random start, mini-batch SGD': () => ({
    model: createReluMlp({ inputDim: 2, depth: 2, width: 8 }),
    data: sectors(),
    attack: { kind: 'pgd', p: Infinity, eps: 0.05, steps: 3, stepSize: 0.03, randomStart: true },
    loss: 'logistic',
    schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    steps: 120,
    batchSize: 7,
    initScale: 0.5,
    seed: 5,
  }),
  'relu-mlp 3 classes, PGD ℓ2 random start (normals), mini-batch SGD': () => ({
    model: createReluMlp({ inputDim: 2, depth: 2, width: 8, outputs: 3 }),
    data: threeClass(24, 2),
    attack: { kind: 'pgd', p: 2, eps: 0.05, steps: 2, stepSize: 0.04, randomStart: true },
    loss: 'exp',
    schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    steps: 90,
    batchSize: 5,
    initScale: 0.5,
    seed: 7,
    record: { kind: 'every', interval: 4 },
  }),
  'relu-mlp sectors, fgsm, loss-based (full batch)': () => ({
    model: createReluMlp({ inputDim: 2, depth: 2, width: 8 }),
    data: sectors(),
    attack: { kind: 'fgsm', p: Infinity, eps: 0.05, steps: 1, stepSize: 0.05, randomStart: false },
    loss: 'logistic',
    schedule: { kind: 'loss-based', lr: 2, decay: 'none', form: 'sphere' },
    steps: 150,
    batchSize: 0,
    initScale: 0.5,
    seed: 0,
  }),
};

function bytes(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function assertSameResult(a: TrainResult, b: TrainResult, what: string): void {
  assert.deepEqual(bytes(b.theta), bytes(a.theta), `${what}: θ bytes`);
  assert.deepEqual(bytes(b.thetaUnit), bytes(a.thetaUnit), `${what}: θ̂ bytes`);
  assert.ok(Object.is(a.logNorm, b.logNorm), `${what}: log‖θ‖ ${a.logNorm} vs ${b.logNorm}`);
  assert.equal(stringifyExact(b.history), stringifyExact(a.history), `${what}: history`);
  assert.equal(stringifyExact(b.final), stringifyExact(a.final), `${what}: final measurement`);
  assert.equal(stringifyExact(b.monotonicity), stringifyExact(a.monotonicity), `${what}: monotonicity`);
  assert.equal(b.stepsDone, a.stepsDone, `${what}: steps`);
  assert.equal(b.rollbacks, a.rollbacks, `${what}: rollbacks`);
  assert.equal(b.interrupted, a.interrupted, `${what}: interrupted`);
}

/** Through text and back, as another process would read it. */
function roundTrip(cp: TrainCheckpoint): TrainCheckpoint {
  return parseExact<TrainCheckpoint>(stringifyExact(cp));
}

function resumeAt(make: () => TrainOptions, k: number): TrainResult {
  const first = new TrainingRun(make());
  first.advance(k);
  assert.equal(first.step, k);
  const cp = roundTrip(first.checkpoint());
  assert.equal(cp.step, k);
  const second = TrainingRun.resume(make(), cp);
  assert.equal(second.step, k);
  second.advance(Infinity);
  return second.finish();
}

for (const [name, make] of Object.entries(CONFIGS)) {
  test(`resume is bit-identical: ${name}`, () => {
    const opts = make();
    const whole = train(opts);
    assert.equal(whole.stepsDone, opts.steps);
    if (opts.schedule.kind === 'loss-based') assert.ok(whole.rollbacks > 0, 'the loss-based run rolls back (tests that state)');
    for (const k of [0, 1, 37, Math.floor(opts.steps / 2) + 3, opts.steps - 1, opts.steps]) assertSameResult(whole, resumeAt(make, k), `checkpoint at ${k}`);
    // Two hops: checkpoint, resume, checkpoint again, resume again.
    const a = new TrainingRun(make());
    a.advance(11);
    const b = TrainingRun.resume(make(), roundTrip(a.checkpoint()));
    b.advance(23);
    const c = TrainingRun.resume(make(), roundTrip(b.checkpoint()));
    c.advance(Infinity);
    assertSameResult(whole, c.finish(), 'two hops');
  });
}

test('checkpoint hook: saves every N steps, each one resumes to the uninterrupted result; trainAsync resumes', async () => {
  const make = CONFIGS['relu-mlp sectors, PGD ℓ∞ random start, mini-batch SGD'];
  const whole = train(make());
  const saved: string[] = [];
  const hooked = train({ ...make(), checkpoint: { everySteps: 25, save: (cp) => saved.push(stringifyExact(cp)) } });
  assertSameResult(whole, hooked, 'with the hook');
  const steps = saved.map((t) => parseExact<TrainCheckpoint>(t).step);
  assert.deepEqual(steps, [25, 50, 75, 100]);
  for (const text of [saved[0], saved[3]]) {
    const run = TrainingRun.resume(make(), parseExact<TrainCheckpoint>(text));
    run.advance(Infinity);
    assertSameResult(whole, run.finish(), 'from a hook checkpoint');
  }
  const viaAsync = await trainAsync(make(), 5, parseExact<TrainCheckpoint>(saved[1]));
  assertSameResult(whole, viaAsync, 'trainAsync');
  // A resumed run with the hook saves the later checkpoints only, identical to the first run's.
  const again: string[] = [];
  const resumed = TrainingRun.resume({ ...make(), checkpoint: { everySteps: 25, save: (cp) => again.push(stringifyExact(cp)) } }, parseExact<TrainCheckpoint>(saved[1]));
  resumed.advance(Infinity);
  assert.deepEqual(again, saved.slice(2));
});

test('a run stopped early (shouldStop) and finished can be checkpointed and resumed bit-identically', () => {
  const make = CONFIGS['deep-linear s2, exact ℓ∞, loss-scaled sphere'];
  const whole = train(make());
  let polls = 0;
  const stopped = new TrainingRun({ ...make(), shouldStop: () => ++polls > 41 });
  stopped.advance(Infinity);
  const partial = stopped.finish();
  assert.ok(partial.interrupted && partial.stepsDone === 41, `stopped at ${partial.stepsDone}`);
  assert.equal(partial.history[partial.history.length - 1].step, 41, 'finish() measured the last step');
  const cp = roundTrip(stopped.checkpoint());
  assert.ok(cp.history.every((h) => h.step !== 41), 'the off-plan final row is not part of the checkpoint');
  const run = TrainingRun.resume(make(), cp);
  run.advance(Infinity);
  assertSameResult(whole, run.finish(), 'after an interruption');
});

test('a checkpoint is refused by options that differ, naming what differs', () => {
  const make = CONFIGS['relu-mlp sectors, fgsm, loss-based (full batch)'];
  const run = new TrainingRun(make());
  run.advance(10);
  const cp = roundTrip(run.checkpoint());
  const cases: [Partial<TrainOptions>, RegExp][] = [
    [{ steps: 200 }, /steps 150 \(checkpoint\) vs 200 \(options\)/],
    [{ seed: 1 }, /seed 0 \(checkpoint\) vs 1 \(options\)/],
    [{ schedule: { kind: 'loss-scaled', lr: 2, decay: 'none', form: 'sphere' } }, /schedule\.kind "loss-based" \(checkpoint\) vs "loss-scaled"/],
    [{ attack: { kind: 'fgsm', p: Infinity, eps: 0.1, steps: 1, stepSize: 0.05, randomStart: false } }, /attack\.eps 0\.05 \(checkpoint\) vs 0\.1/],
    [{ model: createReluMlp({ inputDim: 2, depth: 2, width: 9 }) }, /numParams/],
    [{ data: sectors({ seed: 1 }) }, /dataHash/],
    [{ loss: 'exp' }, /loss "logistic" \(checkpoint\) vs "exp"/],
    [{ record: { kind: 'every', interval: 5 } }, /record/],
  ];
  for (const [change, pattern] of cases) {
    assert.throws(
      () => TrainingRun.resume({ ...make(), ...change }, cp),
      (e: unknown) => e instanceof InputError && pattern.test(e.message),
      `change ${Object.keys(change).join(', ')}`,
    );
  }
  assert.throws(() => TrainingRun.resume(make(), { ...cp, version: 2 as 1 }), (e: unknown) => e instanceof InputError && /version/.test(e.message));
  assert.throws(() => TrainingRun.resume(make(), { ...cp, thetaHat: new Float64Array(3) }), (e: unknown) => e instanceof InputError && /thetaHat/.test(e.message));
  assert.throws(() => new TrainingRun({ ...make(), checkpoint: { everySteps: 0, save: () => {} } }), InputError);
  // The same options are accepted.
  assert.equal(TrainingRun.resume(make(), cp).step, 10);
});

test('Rng state: continues the stream exactly, the cached Box–Muller normal included', () => {
  const r = new Rng(12345);
  for (let i = 0; i < 7; i++) r.uniform();
  r.normal(); // leaves a spare normal cached
  const state = r.getState();
  assert.equal(state.length, 5);
  const copy = Rng.fromState(parseExact<number[]>(stringifyExact(state)));
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 50; i++) {
    a.push(r.normal(), r.uniform(), r.nextUint32(), r.int(17));
    b.push(copy.normal(), copy.uniform(), copy.nextUint32(), copy.int(17));
  }
  assert.deepEqual(b, a);
  assert.deepEqual(copy.fork().getState(), r.fork().getState());
  const fresh = new Rng(-7);
  assert.equal(fresh.getState().length, 4);
  assert.ok(fresh.getState().every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff));
  assert.throws(() => Rng.fromState([1, 2, 3]), RangeError);
  assert.throws(() => Rng.fromState([1, 2, 3, -1]), RangeError);
});

test('trainAsync: a run stopped by shouldStop hands its state to the checkpoint hook, and resuming from it gives the uninterrupted bits', async () => {
  const { trainAsync } = await import('../../src/train/trainer.ts');
  const { parseTrainConfig } = await import('../../src/train/config.ts');
  const { trainOptionsFromConfig } = await import('../../src/train/from-config.ts');
  const { s2 } = await import('../../src/data/builtin.ts');
  const { stringifyExact, parseExact } = await import('../../src/util/exact-json.ts');
  const c = parseTrainConfig({ data: 's2', model: 'deep-linear', depth: 2, width: 4, attack: 'exact', p: 'inf', eps: 0.25, steps: 3000 });
  const whole = await trainAsync(trainOptionsFromConfig(c, s2(), {}));
  let calls = 0;
  const saved: unknown[] = [];
  const stoppedRun = await trainAsync({ ...trainOptionsFromConfig(c, s2(), { shouldStop: () => ++calls > 1234 }), checkpoint: { everySteps: 1_000_000, save: (cp) => saved.push(stringifyExact(cp)) } });
  assert.equal(stoppedRun.interrupted, true);
  assert.equal(saved.length, 1, 'one checkpoint, at the stop');
  const cp = parseExact<Parameters<typeof trainAsync>[2]>(saved[0] as string)!;
  assert.ok(cp.step > 1000 && cp.step < 3000, `${cp.step}`);
  const resumed = await trainAsync(trainOptionsFromConfig(c, s2(), {}), 50, cp);
  assert.deepEqual(new Uint8Array(resumed.theta.buffer), new Uint8Array(whole.theta.buffer));
  assert.equal(stringifyExact(resumed.history), stringifyExact(whole.history));
});
