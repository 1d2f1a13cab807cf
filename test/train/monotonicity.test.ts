import test from 'node:test';
import assert from 'node:assert/strict';
import { train } from '../../src/train/trainer.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { sectors } from '../../src/data/sectors.ts';
import type { ScheduleConfig } from '../../src/train/schedule.ts';

const fgsm = { kind: 'fgsm', p: Infinity, eps: 0.2, steps: 1, stepSize: 0.2, randomStart: false } as const;
function run(schedule: ScheduleConfig, loss: 'exp' | 'logistic', steps: number, initScale = 0.3) {
  return train({ model: createReluMlp({ inputDim: 2, depth: 2, width: 20 }), data: sectors(), attack: fgsm, loss, schedule, steps, batchSize: 0, initScale, seed: 0, record: { kind: 'log', perDecade: 1 } });
}

test('small-step GD with FGSM: γ̃ never decreases after adversarial separability (checked every step)', () => {
  const r = run({ kind: 'constant', lr: 0.05, decay: 'none', form: 'sphere' }, 'logistic', 5000);
  assert.ok(r.monotonicity && r.monotonicity.firstSeparableStep !== null && r.monotonicity.firstSeparableStep < 100, JSON.stringify(r.monotonicity));
  assert.ok(r.monotonicity.maxSmoothedMarginDecrease <= 1e-9, JSON.stringify(r.monotonicity));
  assert.ok(r.final.smoothedMargin > r.history[2].smoothedMargin);
});

test('the monotonicity check can fail: large normalized steps make γ̃ drop', () => {
  const r = run({ kind: 'loss-scaled', lr: 0.25, decay: 'sqrt', form: 'sphere' }, 'exp', 3000, 1);
  assert.ok(r.monotonicity!.maxSmoothedMarginDecrease > 1e-6, JSON.stringify(r.monotonicity));
  assert.ok(r.monotonicity!.maxDecreaseStep !== null);
});

test('mini-batch runs report no monotonicity (the per-step loss is a batch loss)', () => {
  const r = train({ model: createReluMlp({ inputDim: 2, depth: 2, width: 8 }), data: sectors(), attack: fgsm, loss: 'logistic', schedule: { kind: 'constant', lr: 0.05, decay: 'none', form: 'sphere' }, steps: 10, batchSize: 8, initScale: 0.3, seed: 0 });
  assert.equal(r.monotonicity, null);
});
