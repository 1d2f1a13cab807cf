import test from 'node:test';
import assert from 'node:assert/strict';
import { directionError } from '../../src/metrics/direction.ts';
import { deepLinearAlignment } from '../../src/metrics/alignment.ts';
import { createDeepLinear } from '../../src/models/deep-linear.ts';
import { recordSteps, parseRecordSpec } from '../../src/train/record.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { assertClose } from '../support/tolerance.ts';

test('direction error: angle and 1 − cos match the naive formulas at moderate angles and resolve tiny ones', () => {
  for (const deg of [90, 45, 10, 1e-3]) {
    const a = (deg * Math.PI) / 180;
    const e = directionError([1, 0], [Math.cos(a), Math.sin(a)]);
    assertClose(e.angleDeg, deg, 1e-12, `angle ${deg}`);
    assertClose(e.oneMinusCos, 1 - Math.cos(a), deg > 1 ? 1e-14 : 1e-9, `1 − cos at ${deg}°`);
  }
  // 1e-14 rad: 1 − cos = 5e-29, far below what 1 − cos(·) can resolve.
  const e = directionError([1, 1e-14], [1, 0]);
  assertClose(e.oneMinusCos, 5e-29, 1e-6, 'tiny 1 − cos');
  assert.ok(e.oneMinusCos / 5e-29 - 1 < 1e-6);
  assert.equal(directionError([2, 0], [5, 0]).angleDeg, 0);
});

test('alignment of a balanced, aligned rank-one deep linear network is 1; of a random one it is below 1', () => {
  const model = createDeepLinear({ inputDim: 3, depth: 3, width: 4 });
  const rng = new Rng(1);
  const unit = (n: number): number[] => {
    const v = Array.from({ length: n }, () => rng.normal());
    const s = Math.hypot(...v);
    return v.map((x) => x / s);
  };
  const v1 = unit(3);
  const u1 = unit(4);
  const u2 = unit(4);
  const theta = new Float64Array(model.numParams);
  // W1 = u1 v1ᵀ, W2 = u2 u1ᵀ, W3 = u2ᵀ (each of Frobenius norm 1).
  const [b1, b2, b3] = model.layout;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) theta[b1.offset + i * 3 + j] = u1[i] * v1[j];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) theta[b2.offset + i * 4 + j] = u2[i] * u1[j];
  for (let j = 0; j < 4; j++) theta[b3.offset + j] = u2[j];
  const a = deepLinearAlignment(model, theta, Float64Array.from(v1));
  for (const r of [...a.rank1, ...a.adjacent, a.predictor]) assertClose(r, 1, 1e-12, 'alignment');
  for (const s of a.layerShares) assertClose(s, 1 / 3, 1e-12, 'share');
  const random = model.init(new Rng(2), 1);
  const b = deepLinearAlignment(model, random, null);
  // The last layer is a row vector: always rank one.
  assertClose(b.rank1[2], 1, 1e-12, "rank-1 ratio of a row vector");
  assert.ok(b.rank1.slice(0, 2).every((r) => r < 0.999) && b.adjacent.every((r) => r < 0.999), JSON.stringify(b));
  assertClose(b.layerShares.reduce((x, y) => x + y, 0), 1, 1e-12, 'shares sum to 1');
});

test('record steps: log-spaced by default, always 0 and T, every:N', () => {
  const s = recordSteps({ kind: 'log', perDecade: 1 }, 1000);
  assert.deepEqual(s, [0, 1, 10, 100, 1000]);
  assert.deepEqual(recordSteps({ kind: 'every', interval: 3 }, 10), [0, 3, 6, 9, 10]);
  const d = recordSteps(parseRecordSpec('log')!, 20000);
  assert.ok(d.length > 60 && d.length < 100 && d[d.length - 1] === 20000);
  assert.equal(parseRecordSpec('every:0'), null);
  assert.equal(parseRecordSpec('sometimes'), null);
  assert.deepEqual(parseRecordSpec('log:5'), { kind: 'log', perDecade: 5 });
});
