import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/errors.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import { lpNorm } from '../../src/linalg/norms.ts';
import { TOL, assertClose } from '../support/tolerance.ts';

function bits(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('syntheticSeparable', () => {
  const opts = { n: 200, d: 20, margin: 0.1, seed: 1 };

  it('has the requested shape, binary labels and a canonical name', () => {
    const ds = syntheticSeparable(opts);
    assert.equal(ds.n, 200);
    assert.equal(ds.d, 20);
    assert.equal(ds.X.length, 4000);
    assert.ok(ds.X instanceof Float64Array);
    assert.ok(ds.y instanceof Int32Array);
    assert.equal(ds.binary, true);
    assert.equal(ds.classes, 2);
    assert.equal(ds.name, 'synthetic:n=200,d=20,margin=0.1,seed=1');
    assert.ok(ds.y.every((v) => v === 1 || v === -1));
    // Both classes occur (balanced in expectation).
    const pos = ds.y.filter((v) => v === 1).length;
    assert.ok(pos > 60 && pos < 140, `positives ${pos}`);
    assert.ok(ds.X.every(Number.isFinite));
  });

  it('is bit-identical for the same seed and differs for another seed', () => {
    const a = syntheticSeparable(opts);
    const b = syntheticSeparable(opts);
    assert.deepEqual(bits(a.X), bits(b.X));
    assert.deepEqual(a.y, b.y);
    assert.deepEqual(bits(a.plantedDirection), bits(b.plantedDirection));
    const c = syntheticSeparable({ ...opts, seed: 2 });
    assert.notDeepEqual(bits(a.X), bits(c.X));
    assert.notDeepEqual(bits(a.plantedDirection), bits(c.plantedDirection));
  });

  for (const [n, d, margin, seed] of [
    [200, 20, 0.1, 1],
    [50, 2, 0.5, 7],
    [30, 100, 2, 3],
    [1, 1, 1e-3, 0],
  ] as const) {
    it(`separable by the unit w* with margin ≥ γ (n=${n}, d=${d}, γ=${margin})`, () => {
      const ds = syntheticSeparable({ n, d, margin, seed });
      const w = ds.plantedDirection;
      assert.equal(w.length, d);
      assertClose(lpNorm(w, 2), 1, TOL.identity, '‖w*‖');
      assert.equal(ds.plantedMargin, margin);
      let minMargin = Infinity;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += w[j] * ds.X[i * d + j];
        minMargin = Math.min(minMargin, ds.y[i] * s);
      }
      // y⟨w*, x⟩ = |t| + γ exactly; the computed dot product carries rounding only.
      assert.ok(minMargin >= margin - TOL.identity * Math.max(1, margin), `min margin ${minMargin} < ${margin}`);
      assert.ok(minMargin > 0, 'separable');
    });
  }

  it('rejects bad parameters with InputError naming the field', () => {
    const bad: [Partial<typeof opts>, RegExp][] = [
      [{ n: 0 }, /n must be an integer >= 1, got 0/],
      [{ n: 2.5 }, /n must be an integer/],
      [{ d: 0 }, /d must be an integer >= 1, got 0/],
      [{ margin: 0 }, /margin must be a finite number > 0, got 0/],
      [{ margin: -1 }, /margin must be/],
      [{ margin: Infinity }, /margin must be/],
      [{ margin: NaN }, /margin must be/],
      [{ seed: 0.5 }, /seed must be an integer/],
      [{ n: 1e6, d: 1e6 }, /more than the/],
    ];
    for (const [change, re] of bad) {
      assert.throws(() => syntheticSeparable({ ...opts, ...change }), (e: unknown) => e instanceof InputError && re.test(e.message));
    }
  });
});
