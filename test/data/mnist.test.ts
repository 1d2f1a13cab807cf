import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/errors.ts';
import { MNIST_PIXELS, MNIST_SAMPLES_PER_DIGIT, loadMnist, type MnistSource } from '../../src/data/mnist.ts';
import { packageMnistSource } from '../../src/node/load-data.ts';

// One source for the file: each digit's JSON is parsed once (~50 ms a digit).
const pkg = packageMnistSource();

/** A tiny fake source: digit k has counts[k] images whose pixels all equal (k + sample/100)/10. */
function fakeSource(counts: number[], pixel = (k: number, s: number) => (k + s / 100) / 10): MnistSource {
  return {
    digit(k) {
      const a = new Float64Array(counts[k] * MNIST_PIXELS);
      for (let s = 0; s < counts[k]; s++) a.fill(pixel(k, s), s * MNIST_PIXELS, (s + 1) * MNIST_PIXELS);
      return a;
    },
  };
}

function sameImage(X: Float64Array, row: number, raw: ArrayLike<number>, sample: number): boolean {
  for (let j = 0; j < MNIST_PIXELS; j++) if (X[row * MNIST_PIXELS + j] !== raw[sample * MNIST_PIXELS + j]) return false;
  return true;
}

function throwsInput(fn: () => unknown, text: string): void {
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.message.includes(text), `expected InputError with "${text}"`);
}

describe('mnist package', () => {
  it(`ships ${MNIST_SAMPLES_PER_DIGIT.join('/')} samples of digits 0..9 (10,000 in all)`, () => {
    const counts = MNIST_SAMPLES_PER_DIGIT.map((_, k) => pkg.digit(k).length / MNIST_PIXELS);
    assert.deepEqual(counts, MNIST_SAMPLES_PER_DIGIT);
    assert.equal(counts.reduce((a, b) => a + b, 0), 10000);
  });
});

describe('loadMnist', () => {
  it('two digits → binary: first +1, second −1, interleaved, pixels in [0, 1]', () => {
    const ds = loadMnist({ digits: [3, 8], perClass: 100 }, pkg);
    assert.equal(ds.name, 'mnist:3,8;per=100');
    assert.equal(ds.n, 200);
    assert.equal(ds.d, 784);
    assert.equal(ds.X.length, 200 * 784);
    assert.ok(ds.X instanceof Float64Array);
    assert.equal(ds.binary, true);
    assert.equal(ds.classes, 2);
    for (let i = 0; i < ds.n; i++) assert.equal(ds.y[i], i % 2 === 0 ? 1 : -1);
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.X) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(min, 0);
    assert.ok(max <= 1 && max > 0.9, `max pixel ${max}`);
    // Row 2r is sample r of digit 3, row 2r+1 sample r of digit 8.
    assert.ok(sameImage(ds.X, 0, pkg.digit(3), 0));
    assert.ok(sameImage(ds.X, 1, pkg.digit(8), 0));
    assert.ok(sameImage(ds.X, 199, pkg.digit(8), 99));
  });

  it('offset takes the next samples (a disjoint split)', () => {
    const ds = loadMnist({ digits: [3, 8], perClass: 50, offset: 100 }, pkg);
    assert.equal(ds.name, 'mnist:3,8;per=50;offset=100');
    assert.equal(ds.n, 100);
    assert.ok(sameImage(ds.X, 0, pkg.digit(3), 100));
    assert.ok(sameImage(ds.X, 99, pkg.digit(8), 149));
  });

  it('three or more digits → K-class with label = position in the list', () => {
    const ds = loadMnist({ digits: [2, 0, 1], perClass: 60 }, pkg);
    assert.equal(ds.binary, false);
    assert.equal(ds.classes, 3);
    assert.equal(ds.n, 180);
    for (let i = 0; i < ds.n; i++) assert.equal(ds.y[i], i % 3);
    assert.ok(sameImage(ds.X, 0, pkg.digit(2), 0));
    assert.ok(sameImage(ds.X, 1, pkg.digit(0), 0));
  });

  it('all ten digits → 10 classes with label = digit', () => {
    const ds = loadMnist({ digits: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perClass: 20 }, pkg);
    assert.equal(ds.name, 'mnist:all;per=20');
    assert.equal(ds.classes, 10);
    assert.equal(ds.n, 200);
    assert.deepEqual(new Set(ds.y), new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    for (let i = 0; i < ds.n; i++) assert.equal(ds.y[i], i % 10);
    assert.ok(ds.X.every((v) => v >= 0 && v <= 1));
  });

  it('default perClass takes every sample; exhausted digits drop out of the round-robin', () => {
    const counts = [3, 1, 2, 0, 0, 0, 0, 0, 0, 0];
    const ds = loadMnist({ digits: [0, 1, 2] }, fakeSource(counts));
    assert.equal(ds.n, 6);
    assert.deepEqual(Array.from(ds.y), [0, 1, 2, 0, 2, 0]);
    // Sample index in the pixel value: 0, 0, 0, 1, 1, 2.
    const samples = Array.from({ length: ds.n }, (_, i) => Math.round((ds.X[i * MNIST_PIXELS] * 10 - ds.y[i]) * 100));
    assert.deepEqual(samples, [0, 0, 0, 1, 1, 2]);
    const off = loadMnist({ digits: [0, 2], offset: 1 }, fakeSource(counts));
    assert.equal(off.n, 3);
    assert.deepEqual(Array.from(off.y), [1, -1, 1]);
  });

  it('rejects bad selections with InputError', () => {
    throwsInput(() => loadMnist({ digits: [3] }, pkg), 'need at least two digits');
    throwsInput(() => loadMnist({ digits: [3, 3] }, pkg), 'digit 3 is listed twice');
    throwsInput(() => loadMnist({ digits: [3, 10] }, pkg), 'digit 10 is not one of 0..9');
    throwsInput(() => loadMnist({ digits: [3, 8], perClass: 0 }, pkg), 'per-class count must be an integer >= 1, got 0');
    throwsInput(() => loadMnist({ digits: [3, 8], offset: -1 }, pkg), 'offset must be an integer >= 0, got -1');
    throwsInput(() => loadMnist({ digits: [3, 8], perClass: 1000 }, pkg), 'digit 8 has 944 samples; offset 0 + 1000 per class needs 1000');
    throwsInput(() => loadMnist({ digits: [3, 8], offset: 1032 }, pkg), 'digit 3 has 1032 samples; offset 1032 leaves none');
    throwsInput(() => loadMnist({ digits: [0, 1], perClass: 1 }, fakeSource([1, 1], () => 255)), 'value 255 is outside [0, 1]');
  });
});
