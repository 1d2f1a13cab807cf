import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { s1, s2 } from '../../src/data/builtin.ts';
import { TOL, assertClose } from '../support/tolerance.ts';

describe('S1 (docs/THEORY.md §8)', () => {
  it('is ±z₁, ±z₂ with labels ±1', () => {
    const ds = s1();
    assert.equal(ds.name, 's1');
    assert.equal(ds.n, 4);
    assert.equal(ds.d, 2);
    assert.deepEqual(Array.from(ds.X), [0.5, 1.5, 1.5, 0.5, -0.5, -1.5, -1.5, -0.5]);
    assert.deepEqual(Array.from(ds.y), [1, 1, -1, -1]);
    assert.equal(ds.binary, true);
    assert.equal(ds.classes, 2);
  });

  it('y_i x_i are exactly z₁, z₂ and the ℓ2 margin along (1,1)/√2 is √2', () => {
    const ds = s1();
    const u = [Math.SQRT1_2, Math.SQRT1_2];
    let minMargin = Infinity;
    for (let i = 0; i < ds.n; i++) {
      const z = [ds.y[i] * ds.X[2 * i], ds.y[i] * ds.X[2 * i + 1]];
      assert.ok((z[0] === 0.5 && z[1] === 1.5) || (z[0] === 1.5 && z[1] === 0.5));
      minMargin = Math.min(minMargin, z[0] * u[0] + z[1] * u[1]);
    }
    assertClose(minMargin, Math.SQRT2, TOL.identity, 'S1 margin');
  });

  it('unmirrored keeps z₁, z₂', () => {
    const ds = s1({ mirrored: false });
    assert.equal(ds.name, 's1-unmirrored');
    assert.deepEqual(Array.from(ds.X), [0.5, 1.5, 1.5, 0.5]);
    assert.deepEqual(Array.from(ds.y), [1, 1]);
  });
});

describe('S2 (docs/THEORY.md §8)', () => {
  it('defaults to z₁ = (1, 0.5), z₂ = (3, −1) with label +1', () => {
    const ds = s2();
    assert.equal(ds.name, 's2');
    assert.equal(ds.n, 2);
    assert.equal(ds.d, 2);
    assert.deepEqual(Array.from(ds.X), [1, 0.5, 3, -1]);
    assert.deepEqual(Array.from(ds.y), [1, 1]);
    assert.equal(ds.binary, true);
  });

  it('mirrored adds −z₁, −z₂ with label −1', () => {
    const ds = s2({ mirrored: true });
    assert.equal(ds.name, 's2-mirrored');
    assert.deepEqual(Array.from(ds.X), [1, 0.5, 3, -1, -1, -0.5, -3, 1]);
    assert.deepEqual(Array.from(ds.y), [1, 1, -1, -1]);
  });

  it('along the ℓ2-SVM direction 26.5651° the margin is γ₂* = √5/2, attained at z₁', () => {
    // u = (2, 1)/√5 = z₁/‖z₁‖: z₁ sits at the margin √5/2, z₂ farther out at √5.
    const ds = s2();
    const u = [2 / Math.sqrt(5), 1 / Math.sqrt(5)];
    assertClose((Math.atan2(u[1], u[0]) * 180) / Math.PI, 26.56505117707799, TOL.identity, 'angle');
    const margins = [0, 1].map((i) => ds.y[i] * (ds.X[2 * i] * u[0] + ds.X[2 * i + 1] * u[1]));
    assertClose(margins[0], Math.sqrt(5) / 2, TOL.identity, 'margin of z₁');
    assertClose(margins[1], Math.sqrt(5), TOL.identity, 'margin of z₂');
  });

  it('returns fresh arrays every call', () => {
    const a = s2();
    a.X[0] = 99;
    assert.equal(s2().X[0], 1);
  });
});
