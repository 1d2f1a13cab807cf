/**
 * One suite, run against every kernel backend: `jsKernels`, the WebAssembly kernels as installed
 * (default crossovers: small calls go to JS) and the WebAssembly kernels forced for every call
 * (thresholds 0). Each kernel is compared with naive loops on random shapes — odd sizes, sizes around the
 * gemm blocking (MR = 6, NR = 4, MC = 72, KC = 256) and around the crossovers, offsets inside larger
 * arrays whose other entries must stay untouched, all transposes, alpha/beta cases (beta = 0 over NaN
 * garbage). The backends sum in different orders, so the comparison is |a − b| ≤ TOL.reassociation ·
 * max(1, |a|, |b|), not bit equality; the kernels that perform the reference's own operations (axpy,
 * ger, gemvT) are also checked bit-identical to `jsKernels`. Results must be deterministic: the same
 * call twice gives the same bits.
 *
 * Also: rebuilding the WebAssembly module from assembly/kernels.ts gives the committed
 * src/linalg/wasm/kernels-wasm.generated.ts byte for byte.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsKernels, kernels, setKernels, type Kernels } from '../../src/linalg/kernels.ts';
import { createWasmKernels, createWasmKernelsSync, useWasmKernels, wasmKernelsSupported, DEFAULT_THRESHOLDS } from '../../src/linalg/wasm/backend.ts';
import { KERNELS_WASM_BYTES } from '../../src/linalg/wasm/kernels-wasm.generated.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { TOL, close } from '../support/tolerance.ts';

const tol = TOL.reassociation;
const ALL_WASM = { gemm: 0, gemv: 0, gemvT: 0, ger: 0, dot: 0, axpy: 0 };

/** The backends under test, by label (the WebAssembly ones are created in `before`). */
const backends: { label: string; get: () => Kernels }[] = [];
let wasmDefault: Kernels;
let wasmForced: Kernels;
backends.push({ label: 'js', get: () => jsKernels });
backends.push({ label: 'wasm (default crossovers)', get: () => wasmDefault });
backends.push({ label: 'wasm (forced)', get: () => wasmForced });

before(async () => {
  wasmDefault = await createWasmKernels();
  wasmForced = createWasmKernelsSync({ thresholds: ALL_WASM, name: 'wasm-forced' });
});

/** A random unit-normal block of `len` values at a random offset inside a larger array of guards. */
interface Placed {
  readonly buf: Float64Array;
  readonly off: number;
  readonly len: number;
  /** The block's values. */
  readonly v: Float64Array;
}

function place(rng: Rng, len: number, fill?: number): Placed {
  const off = rng.int(5);
  const buf = new Float64Array(off + len + rng.int(4));
  for (let i = 0; i < buf.length; i++) buf[i] = rng.normal();
  if (fill !== undefined) buf.fill(fill, off, off + len);
  return { buf, off, len, v: buf.slice(off, off + len) };
}

/** Copies of a placed block for two runs. */
function clone(p: Placed): Placed {
  return { ...p, buf: Float64Array.from(p.buf) };
}

let worst = 0;

/** The output block equals `expect` to tolerance, and nothing outside it changed. */
function checkOut(what: string, out: Placed, before: Float64Array, expect: ArrayLike<number>): void {
  for (let i = 0; i < out.buf.length; i++) {
    const j = i - out.off;
    if (j >= 0 && j < out.len) {
      const a = out.buf[i];
      const b = expect[j];
      const rel = Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
      if (rel > worst) worst = rel;
      if (!close(a, b, tol)) assert.fail(`${what}[${j}]: ${a} vs naive ${b} (|diff| = ${Math.abs(a - b)}, tol ${tol})`);
    } else if (!Object.is(out.buf[i], before[i])) {
      assert.fail(`${what}: entry ${i} outside the output block changed (${before[i]} → ${out.buf[i]})`);
    }
  }
}

function sameBits(what: string, a: Float64Array, b: Float64Array): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}: entry ${i} differs between two identical calls (${a[i]} vs ${b[i]})`);
}

/** Vector lengths: tiny, odd, around the SIMD unrolling (2, 4, 8) and the crossover (128). */
const LENGTHS = [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 100, 127, 128, 129, 600];

/** Matrix shapes (m, n): odd, thin, around the 4-row blocks and the crossovers (m·n near 128, 144). */
const MATRIX_SHAPES: [number, number][] = [
  [1, 1], [1, 7], [7, 1], [2, 3], [3, 2], [4, 4], [5, 3], [4, 9], [9, 4], [11, 11], [12, 12], [13, 11], [8, 16], [16, 9],
  [33, 17], [67, 45], [130, 3], [3, 130],
];

/** gemm shapes (m, n, k): edge tiles of MR×NR = 6×4, MC = 72, KC = 256, m·n·k around 128, k = 0. */
const GEMM_SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 1, 9], [2, 3, 4], [4, 4, 8], [5, 5, 5], [3, 6, 7], [6, 4, 1], [6, 4, 3], [7, 5, 3], [12, 8, 2], [13, 9, 11],
  [73, 9, 5], [5, 9, 257], [6, 10, 300], [80, 21, 31], [2, 1029, 2], [0, 3, 4], [3, 0, 4], [3, 4, 0],
];

const ALPHAS = [1, 1.5, -0.75, 0];
const BETAS = [0, 1, 0.5, -2];

for (const { label, get } of backends) {
  describe(`kernels backend: ${label}`, () => {
    it('dot matches naive loops (offsets, odd lengths, x = y)', () => {
      const K = get();
      const rng = new Rng(11);
      for (const n of LENGTHS) {
        const x = place(rng, n);
        const y = place(rng, n);
        let s = 0;
        for (let j = 0; j < n; j++) s += x.v[j] * y.v[j];
        const got = K.dot(n, x.buf, x.off, y.buf, y.off);
        assert.ok(close(got, s, tol), `dot n=${n}: ${got} vs ${s}`);
        assert.ok(Object.is(K.dot(n, x.buf, x.off, y.buf, y.off), got), `dot n=${n} not deterministic`);
        let ss = 0;
        for (let j = 0; j < n; j++) ss += x.v[j] * x.v[j];
        assert.ok(close(K.dot(n, x.buf, x.off, x.buf, x.off), ss, tol), `dot(x, x) n=${n}`);
      }
    });

    it('axpy matches naive loops and leaves everything outside y alone', () => {
      const K = get();
      const rng = new Rng(12);
      for (const n of LENGTHS) {
        for (const a of [1, -0.5, 0]) {
          const x = place(rng, n);
          const y = place(rng, n);
          const before = Float64Array.from(y.buf);
          const expect = y.v.map((v, j) => v + a * x.v[j]);
          const y2 = clone(y);
          K.axpy(n, a, x.buf, x.off, y.buf, y.off);
          checkOut(`axpy n=${n} a=${a}`, y, before, expect);
          K.axpy(n, a, x.buf, x.off, y2.buf, y2.off);
          sameBits(`axpy n=${n}`, y.buf, y2.buf);
        }
      }
    });

    it('gemv: y ← A x + beta·y (beta = 0 over NaN, 1, 0.5, −2)', () => {
      const K = get();
      const rng = new Rng(13);
      for (const [m, n] of MATRIX_SHAPES) {
        for (const beta of BETAS) {
          const A = place(rng, m * n);
          const x = place(rng, n);
          const y = place(rng, m, beta === 0 ? NaN : undefined);
          const expect = new Float64Array(m);
          for (let i = 0; i < m; i++) {
            let s = 0;
            for (let j = 0; j < n; j++) s += A.v[i * n + j] * x.v[j];
            expect[i] = beta === 0 ? s : s + beta * y.v[i];
          }
          const before = Float64Array.from(y.buf);
          const y2 = clone(y);
          K.gemv(m, n, A.buf, A.off, x.buf, x.off, y.buf, y.off, beta);
          checkOut(`gemv ${m}×${n} beta=${beta}`, y, before, expect);
          K.gemv(m, n, A.buf, A.off, x.buf, x.off, y2.buf, y2.off, beta);
          sameBits(`gemv ${m}×${n}`, y.buf, y2.buf);
        }
      }
    });

    it('gemvT: y ← Aᵀ x + beta·y, also with x and y in one array (as relu-mlp calls it)', () => {
      const K = get();
      const rng = new Rng(14);
      for (const [m, n] of MATRIX_SHAPES) {
        for (const beta of BETAS) {
          const A = place(rng, m * n);
          const x = place(rng, m);
          const y = place(rng, n, beta === 0 ? NaN : undefined);
          const expect = new Float64Array(n);
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let i = 0; i < m; i++) s += A.v[i * n + j] * x.v[i];
            expect[j] = beta === 0 ? s : s + beta * y.v[j];
          }
          const before = Float64Array.from(y.buf);
          const y2 = clone(y);
          K.gemvT(m, n, A.buf, A.off, x.buf, x.off, y.buf, y.off, beta);
          checkOut(`gemvT ${m}×${n} beta=${beta}`, y, before, expect);
          K.gemvT(m, n, A.buf, A.off, x.buf, x.off, y2.buf, y2.off, beta);
          sameBits(`gemvT ${m}×${n}`, y.buf, y2.buf);
        }
        // x at [0, m), y at [m + 1, m + 1 + n) of one array.
        const A = place(rng, m * n);
        const g = place(rng, m + 1 + n);
        const expect = new Float64Array(n);
        for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) expect[j] += A.v[i * n + j] * g.v[i];
        K.gemvT(m, n, A.buf, A.off, g.buf, g.off, g.buf, g.off + m + 1, 0);
        for (let j = 0; j < n; j++) assert.ok(close(g.buf[g.off + m + 1 + j], expect[j], tol), `gemvT shared array ${m}×${n} [${j}]`);
        for (let i = 0; i <= m; i++) assert.ok(Object.is(g.buf[g.off + i], g.v[i]), `gemvT shared array: x[${i}] changed`);
      }
    });

    it('ger: A ← A + alpha·x yᵀ', () => {
      const K = get();
      const rng = new Rng(15);
      for (const [m, n] of MATRIX_SHAPES) {
        for (const alpha of ALPHAS) {
          const x = place(rng, m);
          const y = place(rng, n);
          const A = place(rng, m * n);
          const expect = new Float64Array(m * n);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect[i * n + j] = A.v[i * n + j] + alpha * x.v[i] * y.v[j];
          const before = Float64Array.from(A.buf);
          const A2 = clone(A);
          K.ger(m, n, alpha, x.buf, x.off, y.buf, y.off, A.buf, A.off);
          checkOut(`ger ${m}×${n} alpha=${alpha}`, A, before, expect);
          K.ger(m, n, alpha, x.buf, x.off, y.buf, y.off, A2.buf, A2.off);
          sameBits(`ger ${m}×${n}`, A.buf, A2.buf);
        }
      }
    });

    it('gemm: C ← alpha·op(A)·op(B) + beta·C, all four transposes, edge tiles, alpha/beta cases', () => {
      const K = get();
      const rng = new Rng(16);
      const shapes: [number, number, number][] = [...GEMM_SHAPES];
      for (let r = 0; r < 12; r++) shapes.push([1 + rng.int(40), 1 + rng.int(40), 1 + rng.int(40)]);
      let s = 0;
      for (const [m, n, k] of shapes) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          // Two (alpha, beta) pairs per shape and transpose, cycling through all combinations.
          for (let c = 0; c < 2; c++, s++) {
            const alpha = ALPHAS[s % ALPHAS.length];
            const beta = BETAS[Math.floor(s / ALPHAS.length) % BETAS.length];
            const A = place(rng, m * k);
            const B = place(rng, k * n);
            const C = place(rng, m * n, beta === 0 ? NaN : undefined);
            const opA = (i: number, l: number): number => (ta ? A.v[l * m + i] : A.v[i * k + l]);
            const opB = (l: number, j: number): number => (tb ? B.v[j * k + l] : B.v[l * n + j]);
            const expect = new Float64Array(m * n);
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let t = 0;
                for (let l = 0; l < k; l++) t += opA(i, l) * opB(l, j);
                expect[i * n + j] = beta === 0 ? alpha * t : alpha * t + beta * C.v[i * n + j];
              }
            const before = Float64Array.from(C.buf);
            const C2 = clone(C);
            K.gemm(ta, tb, m, n, k, alpha, A.buf, A.off, B.buf, B.off, beta, C.buf, C.off);
            const what = `gemm(${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}) m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta}`;
            checkOut(what, C, before, expect);
            K.gemm(ta, tb, m, n, k, alpha, A.buf, A.off, B.buf, B.off, beta, C2.buf, C2.off);
            sameBits(what, C.buf, C2.buf);
          }
        }
      }
    });

    it('gemm on the batch shapes of the models (80×1024×64-like, k across two KC blocks)', () => {
      const K = get();
      const rng = new Rng(17);
      for (const [ta, tb, m, n, k] of [[false, true, 40, 64, 300], [true, false, 64, 30, 80]] as const) {
        const A = place(rng, m * k);
        const B = place(rng, k * n);
        const C = place(rng, m * n, NaN);
        const before = Float64Array.from(C.buf);
        const expect = new Float64Array(m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let t = 0;
            for (let l = 0; l < k; l++) t += (ta ? A.v[l * m + i] : A.v[i * k + l]) * (tb ? B.v[j * k + l] : B.v[l * n + j]);
            expect[i * n + j] = t;
          }
        K.gemm(ta, tb, m, n, k, 1, A.buf, A.off, B.buf, B.off, 0, C.buf, C.off);
        checkOut(`gemm ${m}×${n}×${k}`, C, before, expect);
      }
    });
  });
}

describe('WebAssembly kernels', () => {
  it('axpy, ger and gemvT are bit-identical to jsKernels (same operations, same order)', () => {
    const rng = new Rng(21);
    for (const [m, n] of MATRIX_SHAPES) {
      const A = place(rng, m * n);
      const x = place(rng, m);
      const y = place(rng, n);
      const outJ = place(rng, n);
      const outW = clone(outJ);
      jsKernels.gemvT(m, n, A.buf, A.off, x.buf, x.off, outJ.buf, outJ.off, 0.5);
      wasmForced.gemvT(m, n, A.buf, A.off, x.buf, x.off, outW.buf, outW.off, 0.5);
      sameBits(`gemvT ${m}×${n} js vs wasm`, outJ.buf, outW.buf);
      const AJ = clone(A);
      const AW = clone(A);
      jsKernels.ger(m, n, -1.25, x.buf, x.off, y.buf, y.off, AJ.buf, AJ.off);
      wasmForced.ger(m, n, -1.25, x.buf, x.off, y.buf, y.off, AW.buf, AW.off);
      sameBits(`ger ${m}×${n} js vs wasm`, AJ.buf, AW.buf);
      const yJ = clone(y);
      const yW = clone(y);
      jsKernels.axpy(n, 0.3, outJ.buf, outJ.off, yJ.buf, yJ.off);
      wasmForced.axpy(n, 0.3, outJ.buf, outJ.off, yW.buf, yW.off);
      sameBits(`axpy n=${n} js vs wasm`, yJ.buf, yW.buf);
    }
  });

  it('are supported here, small enough, and reuse their memory across calls', () => {
    assert.ok(wasmKernelsSupported());
    assert.ok(KERNELS_WASM_BYTES > 1000 && KERNELS_WASM_BYTES < 64 * 1024, `module is ${KERNELS_WASM_BYTES} bytes`);
    const K = createWasmKernelsSync({ thresholds: ALL_WASM });
    const rng = new Rng(22);
    const big = Float64Array.from({ length: 300 * 40 }, () => rng.normal());
    const C = new Float64Array(300 * 300);
    K.gemm(false, true, 300, 300, 40, 1, big, 0, big, 0, 0, C, 0);
    const bytes = K.memoryBytes();
    K.gemm(false, true, 300, 300, 40, 1, big, 0, big, 0, 0, C, 0);
    K.gemv(300, 40, big, 0, big, 0, C, 0, 0);
    assert.equal(K.memoryBytes(), bytes, 'no growth for calls that fit');
    // C = B Bᵀ is symmetric with the squared norms of the rows on the diagonal.
    for (let i = 0; i < 300; i += 37) {
      assert.ok(close(C[i * 300 + i], jsKernels.dot(40, big, i * 40, big, i * 40), tol));
      for (let j = 0; j < 300; j += 41) assert.ok(close(C[i * 300 + j], C[j * 300 + i], tol));
    }
  });

  it('default crossovers are finite and useWasmKernels installs the backend', async () => {
    for (const v of Object.values(DEFAULT_THRESHOLDS)) assert.ok(Number.isFinite(v) && v >= 0);
    const previous = kernels();
    try {
      await useWasmKernels();
      assert.equal(kernels().name, 'wasm');
      const x = Float64Array.from({ length: 200 }, (_, i) => i);
      assert.equal(kernels().dot(200, x, 0, x, 0), (199 * 200 * 399) / 6);
    } finally {
      setKernels(previous);
    }
  });

  it('worst relative error seen against the naive loops is far inside the tolerance', (t) => {
    // Runs after the suites above (node:test runs tests in order): reports the margin.
    assert.ok(worst > 0 && worst <= tol, `worst ${worst}`);
    t.diagnostic(`worst |a − b| / max(1, |a|, |b|) against naive loops: ${worst.toExponential(2)} (tol ${tol})`);
  });
});

describe('WebAssembly build', () => {
  it('rebuilding assembly/kernels.ts gives the committed kernels-wasm.generated.ts byte for byte', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'advbias-wasm-'));
    try {
      const out = join(dir, 'kernels-wasm.generated.ts');
      execFileSync(process.execPath, [join(root, 'scripts/build-wasm.mjs'), '--out', out], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      const rebuilt = readFileSync(out);
      const committed = readFileSync(join(root, 'src/linalg/wasm/kernels-wasm.generated.ts'));
      assert.ok(
        rebuilt.equals(committed),
        'src/linalg/wasm/kernels-wasm.generated.ts is stale or was edited by hand: run `npm run build:wasm` and commit the result',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
