/**
 * The OpenBLAS backend (src/node/openblas.ts) and the kernel choice (src/node/select-kernels.ts).
 *
 * Where OpenBLAS is installed (CI installs Debian's libopenblas0 in .ci/run), its kernels are compared
 * with the plain-TypeScript reference on every transpose, at offsets inside larger arrays whose other
 * entries must stay untouched, with alpha/beta cases (beta = 0 over NaN garbage), to
 * TOL.reassociation; results are deterministic and the same with 1 and 2 OpenBLAS threads; the
 * fused sphere update matches the step's own loops. Without OpenBLAS those tests are skipped (with the
 * reason) and the fallback is checked instead: `auto` picks WebAssembly, `openblas` is a clear error.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels, kernels, setKernels, type Kernels } from '../../src/linalg/kernels.ts';
import { loadOpenblasKernels } from '../../src/node/openblas.ts';
import { kernelSettings, selectKernels } from '../../src/node/select-kernels.ts';
import { InputError } from '../../src/errors.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { TOL, close } from '../support/tolerance.ts';

const probe = loadOpenblasKernels({ fallback: jsKernels });
const skip = probe.kernels ? false : `OpenBLAS not available here: ${probe.reason}`;
const previous = kernels();
after(() => {
  setKernels(previous);
});

function normals(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** C ← alpha·op(A)·op(B) + beta·C by naive loops (row-major, as the Kernels interface). */
function naiveGemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, A: Float64Array, ao: number, B: Float64Array, bo: number, beta: number, C: Float64Array, co: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += (ta ? A[ao + l * m + i] : A[ao + i * k + l]) * (tb ? B[bo + j * k + l] : B[bo + l * n + j]);
      C[co + i * n + j] = beta === 0 ? alpha * s : alpha * s + beta * C[co + i * n + j];
    }
  }
}

describe('OpenBLAS kernels', { skip }, () => {
  // Every call goes to OpenBLAS (thresholds 0), so the small shapes test it too.
  const blas = () => loadOpenblasKernels({ fallback: jsKernels, thresholds: { gemm: 0, gemv: 0, ger: 0 } }).kernels!;

  it('names the library, its core and the thread count', () => {
    const k = loadOpenblasKernels({ fallback: jsKernels, threads: 1 }).kernels!;
    assert.match(k.name, /^openblas .*×1$/);
    assert.match(k.config, /OpenBLAS/);
  });

  it('gemm: every transpose, offsets, alpha and beta (beta = 0 over NaN) against naive loops; untouched guards', () => {
    const k = blas();
    const rng = new Rng(5);
    for (const [m, n, kk] of [[1, 1, 1], [3, 5, 7], [17, 9, 33], [80, 64, 100]]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.25]]) {
            const ao = rng.int(4), bo = rng.int(4), co = rng.int(4);
            const A = normals(rng, ao + m * kk + 3), B = normals(rng, bo + kk * n + 3);
            const C = normals(rng, co + m * n + 3);
            if (beta === 0) C.fill(NaN, co, co + m * n);
            const want = C.slice();
            if (beta === 0) want.fill(0, co, co + m * n);
            naiveGemm(ta, tb, m, n, kk, alpha, A, ao, B, bo, beta, want, co);
            const got = C.slice();
            k.gemm(ta, tb, m, n, kk, alpha, A, ao, B, bo, beta, got, co);
            for (let i = 0; i < C.length; i++) {
              if (i < co || i >= co + m * n) assert.ok(Object.is(got[i], C[i]), `guard ${i} changed`);
              else assert.ok(close(got[i], want[i], TOL.reassociation), `gemm ${ta ? 'T' : 'F'}${tb ? 'T' : 'F'} ${m}×${n}×${kk} α=${alpha} β=${beta}: ${got[i]} vs ${want[i]}`);
            }
          }
        }
      }
    }
  });

  it('gemv, gemvT and ger against jsKernels', () => {
    const k = blas();
    const rng = new Rng(6);
    for (const [m, n] of [[1, 1], [7, 3], [64, 100]]) {
      const A = normals(rng, 2 + m * n), x = normals(rng, 1 + Math.max(m, n)), y0 = normals(rng, 3 + Math.max(m, n));
      for (const beta of [0, 1, 0.5]) {
        const a = y0.slice(), b = y0.slice();
        k.gemv(m, n, A, 2, x, 1, a, 3, beta);
        jsKernels.gemv(m, n, A, 2, x, 1, b, 3, beta);
        a.forEach((v, i) => assert.ok(close(v, b[i], TOL.reassociation), `gemv ${m}×${n} β=${beta} at ${i}`));
        const c = y0.slice(), d = y0.slice();
        k.gemvT(m, n, A, 2, x, 1, c, 3, beta);
        jsKernels.gemvT(m, n, A, 2, x, 1, d, 3, beta);
        c.forEach((v, i) => assert.ok(close(v, d[i], TOL.reassociation), `gemvT ${m}×${n} β=${beta} at ${i}`));
      }
      const g1 = A.slice(), g2 = A.slice();
      k.ger(m, n, 0.7, x, 1, y0, 2, g1, 2);
      jsKernels.ger(m, n, 0.7, x, 1, y0, 2, g2, 2);
      g1.forEach((v, i) => assert.ok(close(v, g2[i], TOL.reassociation), `ger ${m}×${n} at ${i}`));
    }
  });

  it('the fused sphere update matches the step loops (θ̂ ← (θ̂ + c·g)/‖θ̂ + c·g‖), in place too', () => {
    const k = blas();
    const rng = new Rng(7);
    const n = 5001;
    const from = normals(rng, n), g = normals(rng, n);
    const want = new Float64Array(n);
    let ss = 0;
    for (let i = 0; i < n; i++) {
      want[i] = from[i] + 0.3 * g[i];
      ss += want[i] * want[i];
    }
    const r = Math.sqrt(ss);
    for (let i = 0; i < n; i++) want[i] /= r;
    const next = new Float64Array(n);
    assert.ok(close(k.sphereUpdate!(n, from, 0.3, g, next), r, TOL.reassociation));
    next.forEach((v, i) => assert.ok(close(v, want[i], TOL.reassociation)));
    const inPlace = from.slice();
    k.sphereUpdate!(n, inPlace, 0.3, g, inPlace);
    assert.deepEqual(Array.from(inPlace), Array.from(next));
  });

  it('deterministic, and the same bits with 1 and 2 threads (MNIST layer shapes)', () => {
    const rng = new Rng(8);
    const [m, n, kk] = [80, 1024, 784];
    const A = normals(rng, m * kk), B = normals(rng, n * kk);
    const run = (threads: number) => {
      const k = loadOpenblasKernels({ fallback: jsKernels, threads }).kernels!;
      const C = new Float64Array(m * n);
      k.gemm(false, true, m, n, kk, 1, A, 0, B, 0, 0, C, 0);
      const D = new Float64Array(m * kk);
      k.gemm(false, false, m, kk, n, 1, C, 0, B, 0, 0, D, 0);
      return [C, D];
    };
    const one = run(1);
    const again = run(1);
    const two = run(2);
    run(1);
    for (let t = 0; t < 2; t++) {
      assert.ok(one[t].every((v, i) => Object.is(v, again[t][i])), 'same call twice, same bits');
      assert.ok(one[t].every((v, i) => Object.is(v, two[t][i])), '1 and 2 threads, same bits');
    }
  });
});

describe('choosing the kernels', () => {
  it('ADVBIAS_KERNELS and ADVBIAS_THREADS: defaults, and one-line errors naming the variable', () => {
    assert.deepEqual(kernelSettings({}), { choice: 'auto', threads: 1 });
    assert.deepEqual(kernelSettings({ ADVBIAS_KERNELS: 'wasm', ADVBIAS_THREADS: '2' }), { choice: 'wasm', threads: 2 });
    assert.throws(() => kernelSettings({ ADVBIAS_KERNELS: 'blas' }), (e: unknown) => e instanceof InputError && e.field === 'ADVBIAS_KERNELS' && /auto, openblas, wasm, js/.test(e.message));
    for (const bad of ['0', '1.5', 'two', '1000']) {
      assert.throws(() => kernelSettings({ ADVBIAS_THREADS: bad }), (e: unknown) => e instanceof InputError && e.field === 'ADVBIAS_THREADS');
    }
  });

  it('a missing library: auto falls back to WebAssembly, openblas says why', async () => {
    const saved = process.env.ADVBIAS_OPENBLAS;
    process.env.ADVBIAS_OPENBLAS = '/nonexistent/libopenblas.so.0';
    try {
      const k: Kernels = await selectKernels('auto');
      assert.equal(k.name, 'wasm');
      await assert.rejects(selectKernels('openblas'), (e: unknown) => e instanceof InputError && /ADVBIAS_KERNELS=openblas: no OpenBLAS library found \(tried \/nonexistent\/libopenblas\.so\.0/.test(e.message));
    } finally {
      if (saved === undefined) delete process.env.ADVBIAS_OPENBLAS;
      else process.env.ADVBIAS_OPENBLAS = saved;
      setKernels(previous);
    }
  });

  it('js and wasm on request; auto takes OpenBLAS where it loads', { skip }, async () => {
    assert.equal((await selectKernels('js')).name, 'js');
    assert.equal((await selectKernels('wasm')).name, 'wasm');
    assert.match((await selectKernels('auto', 2)).name, /^openblas .*×2$/);
    await selectKernels('auto', 1);
    setKernels(previous);
  });
});
