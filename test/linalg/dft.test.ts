import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dftUnitary } from '../../src/linalg/dft.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { TOL, assertAllClose, assertClose } from '../support/tolerance.ts';

function randn(rng: Rng, n: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

describe('dftUnitary', () => {
  it('maps e_0 to the constant 1/√d and the constant 1 to √d·e_0', () => {
    for (const d of [1, 2, 3, 8]) {
      const e0 = new Float64Array(d);
      e0[0] = 1;
      const a = dftUnitary(e0);
      assertAllClose(a.re, new Float64Array(d).fill(1 / Math.sqrt(d)), TOL.closedForm, `re F e0 (d=${d})`);
      assertAllClose(a.im, new Float64Array(d), TOL.closedForm, `im F e0 (d=${d})`);
      const b = dftUnitary(new Float64Array(d).fill(1));
      const expect = new Float64Array(d);
      expect[0] = Math.sqrt(d);
      assertAllClose(b.re, expect, TOL.closedForm, `re F 1 (d=${d})`);
      assertAllClose(b.im, new Float64Array(d), TOL.closedForm, `im F 1 (d=${d})`);
    }
  });

  it('uses the e^{−2πiωn/d} sign: F e_1 = e^{−2πiω/d}/√d', () => {
    const d = 5;
    const e1 = new Float64Array(d);
    e1[1] = 1;
    const f = dftUnitary(e1);
    for (let w = 0; w < d; w++) {
      assertClose(f.re[w], Math.cos((2 * Math.PI * w) / d) / Math.sqrt(d), TOL.closedForm, `re[${w}]`);
      assertClose(f.im[w], -Math.sin((2 * Math.PI * w) / d) / Math.sqrt(d), TOL.closedForm, `im[${w}]`);
    }
  });

  it('is unitary (Parseval, and inverse by the conjugate transpose) and conjugate-symmetric on real input', () => {
    const rng = new Rng(11);
    for (const d of [1, 2, 5, 16, 31]) {
      const x = randn(rng, d);
      const { re, im } = dftUnitary(x);
      let nx = 0;
      let nf = 0;
      for (let i = 0; i < d; i++) {
        nx += x[i] * x[i];
        nf += re[i] * re[i] + im[i] * im[i];
      }
      assertClose(nf, nx, TOL.closedForm, `Parseval d=${d}`);
      for (let w = 1; w < d; w++) {
        assertClose(re[d - w], re[w], TOL.closedForm, `re symmetry d=${d} ω=${w}`);
        assertClose(im[d - w], -im[w], TOL.closedForm, `im symmetry d=${d} ω=${w}`);
      }
      // x[n] = (1/√d) Σ_ω (F x)[ω] e^{+2πiωn/d}
      for (let n = 0; n < d; n++) {
        let s = 0;
        for (let w = 0; w < d; w++) {
          const a = (2 * Math.PI * ((w * n) % d)) / d;
          s += re[w] * Math.cos(a) - im[w] * Math.sin(a);
        }
        assertClose(s / Math.sqrt(d), x[n], TOL.closedForm, `inverse d=${d} n=${n}`);
      }
    }
  });

  it('turns circular convolution into √d times the elementwise product', () => {
    const rng = new Rng(12);
    const d = 7;
    const a = randn(rng, d);
    const b = randn(rng, d);
    const conv = new Float64Array(d);
    for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) conv[k] += a[j] * b[(k - j + d) % d];
    const fa = dftUnitary(a);
    const fb = dftUnitary(b);
    const fc = dftUnitary(conv);
    const s = Math.sqrt(d);
    for (let w = 0; w < d; w++) {
      assertClose(fc.re[w], s * (fa.re[w] * fb.re[w] - fa.im[w] * fb.im[w]), TOL.closedForm, `re[${w}]`);
      assertClose(fc.im[w], s * (fa.re[w] * fb.im[w] + fa.im[w] * fb.re[w]), TOL.closedForm, `im[${w}]`);
    }
  });

  it('returns fresh arrays of length d and leaves its input alone', () => {
    const x = Float64Array.from([1, 2, 3]);
    const out = dftUnitary(x);
    assert.equal(out.re.length, 3);
    assert.equal(out.im.length, 3);
    assert.deepEqual([...x], [1, 2, 3]);
  });
});
