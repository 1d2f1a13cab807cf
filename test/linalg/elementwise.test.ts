/**
 * The elementwise kernels of the batched passes (`relu`, `reluMask`, `linfStep` of `Kernels`): every
 * backend performs the reference loops' own operations, so the results must be bit-identical to
 * naive loops written here from the definitions — on hostile values (±0, NaN, ±∞, values at and next
 * to ±ε, subnormals), odd lengths (the SIMD tail), offsets inside a buffer whose other entries must
 * stay untouched, leak 0 and leak in (0, 1). The WebAssembly backend runs them in place on the buffers
 * of its `allocate` (one instance's memory per call) and as the reference loops on any other arrays;
 * both paths are checked (every NaN counts as one value: see `bits`), and so are the convolution copies
 * `im2col` and `col2im`, and `maxPool`, and so is the OpenBLAS set when the machine has the library (it hands them
 * to its fallback). A kernel set without them (written before they existed) gets the reference loops
 * from `elementwiseOf` and trains to the same bits.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels, elementwiseReference, elementwiseOf, setKernels, type ElementwiseKernels, type Kernels } from '../../src/linalg/kernels.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { createStepper } from '../../src/train/step.ts';
import { validateAttackConfig } from '../../src/attacks/index.ts';
import { sectors } from '../../src/data/sectors.ts';
import { createWasmKernels, createWasmKernelsSync, wasmKernelsSupported, type WasmKernels } from '../../src/linalg/wasm/backend.ts';
import { loadOpenblasKernels } from '../../src/node/openblas.ts';
import { Rng } from '../../src/linalg/rng.ts';

const EPS = 16 / 255;
const ALPHA = 6 / 255;

/** Values that break careless elementwise code, around 0 and around ±ε. */
const HOSTILE = [0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, EPS, -EPS, EPS * (1 + 2 ** -52), -EPS * (1 + 2 ** -52), EPS * (1 - 2 ** -53), ALPHA, -ALPHA, EPS - ALPHA, 1e300, -1e300];

function values(rng: Rng, n: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.uniform() < 0.3 ? HOSTILE[rng.int(HOSTILE.length)] : (rng.uniform() - 0.5) * 4 * EPS;
  return v;
}

/**
 * Bits of a Float64Array, for exact comparison (signed zeros included); every NaN as one value, since
 * the sign and payload of a NaN that arithmetic produces are the CPU's and engine's choice (x86 and
 * WebAssembly differ), not the kernels'.
 */
function bits(a: Float64Array): (bigint | 'NaN')[] {
  return Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length), (b, i) => (Number.isNaN(a[i]) ? 'NaN' : b));
}

// The definitions, written independently of src/linalg/kernels.ts.
const sel = (c: boolean): number => (c ? 1 : 0);
function naiveRelu(v: number, leak: number): number {
  const s = sel(v > 0);
  return v * (s + leak * (1 - s));
}
function naiveLinf(g: number, d: number): number {
  const v = d + ALPHA * (sel(g < 0) - sel(g > 0));
  const hi = sel(v > EPS);
  const lo = sel(v < -EPS);
  return v * (1 - hi - lo) + EPS * hi - EPS * lo;
}

/** The kernel sets under test (created in `before`), each with how its buffers are made. */
const sets: { label: string; k: () => ElementwiseKernels; arena: boolean }[] = [];
let wasm: WasmKernels | null = null;
let openblas: ElementwiseKernels | null = null;

before(async () => {
  if (wasmKernelsSupported()) wasm = await createWasmKernels();
  if (wasm) openblas = loadOpenblasKernels({ fallback: wasm }).kernels;
});
sets.push({ label: 'js', k: () => jsKernels, arena: false });
sets.push({ label: 'wasm, allocate() buffers (in place)', k: () => wasm!, arena: true });
sets.push({ label: 'wasm, plain Float64Arrays (reference loops)', k: () => wasm!, arena: false });
sets.push({ label: 'openblas, allocate() buffers', k: () => openblas!, arena: true });

describe('elementwise kernels: bit-identical to the definitions on every backend', () => {
  for (const set of sets) {
    it(set.label, (t) => {
      const k = set.k();
      if (!k) return t.skip(set.label.startsWith('openblas') ? 'no OpenBLAS on this machine' : 'no WebAssembly SIMD');
      const rng = new Rng(7);
      for (const n of [1, 2, 3, 7, 64, 101, 1000]) {
        for (const leak of [0, 0.01, 0.3]) {
          const off = rng.int(3);
          const len = n + off + 3;
          const [z, a, g, G, D, P, X] = set.arena ? k.allocate([len, len, len, len, len, len, len]) : elementwiseReference.allocate([len, len, len, len, len, len, len]);
          for (const buf of [z, a, g, G, D, P, X]) buf.set(values(rng, len));
          const [z0, a0, g0, G0, D0, P0, X0] = [z, a, g, G, D, P, X].map((b) => b.slice());

          k.relu(n, z, off, a, off, leak);
          const wantA = a0.slice();
          for (let i = 0; i < n; i++) wantA[off + i] = naiveRelu(z0[off + i], leak);
          assert.deepEqual(bits(a), bits(wantA), `relu n=${n} leak=${leak}`);
          assert.deepEqual(bits(z), bits(z0), 'relu leaves z alone');

          k.reluMask(n, g, off, z, off, leak);
          const wantG = g0.slice();
          for (let i = 0; i < n; i++) {
            const s = sel(z0[off + i] > 0);
            wantG[off + i] = g0[off + i] * (s + leak * (1 - s));
          }
          assert.deepEqual(bits(g), bits(wantG), `reluMask n=${n} leak=${leak}`);

          for (const points of [true, false]) {
            const Dx = D.slice();
            const Px = P.slice();
            k.linfStep(n, G, off, D, off, P, off, X, off, ALPHA, EPS, points);
            const wantD = Dx.slice();
            const wantP = Px.slice();
            for (let i = 0; i < n; i++) {
              wantD[off + i] = naiveLinf(G0[off + i], Dx[off + i]);
              if (points) wantP[off + i] = X0[off + i] + wantD[off + i];
            }
            assert.deepEqual(bits(D), bits(wantD), `linfStep D n=${n} points=${points}`);
            assert.deepEqual(bits(P), bits(wantP), `linfStep P n=${n} points=${points}`);
          }
          assert.deepEqual(bits(G), bits(G0), 'linfStep leaves G alone');
          assert.deepEqual(bits(X), bits(X0), 'linfStep leaves X alone');
        }
      }
    });
  }

  for (const set of sets) {
    it(`im2col and col2im, ${set.label}: the definitions, bit for bit (strides 1 and 2, one example and a batch in both layouts)`, (t) => {
      const k = set.k();
      if (!k) return t.skip(set.label.startsWith('openblas') ? 'no OpenBLAS on this machine' : 'no WebAssembly SIMD');
      const rng = new Rng(11);
      for (const [ci, hi, wi, kk, s] of [[1, 5, 5, 3, 1], [2, 6, 7, 2, 2], [3, 4, 4, 1, 1], [2, 7, 5, 3, 2]]) {
        const ho = Math.floor((hi - kk) / s) + 1;
        const wo = Math.floor((wi - kk) / s) + 1;
        const g = { ci, hi, wi, k: kk, s, ho, wo };
        for (const count of [1, 3]) {
          // Rows of one example each (exStride = C·H·W, chStride = H·W) and channel-major over the examples.
          for (const channelMajor of [false, true]) {
            const img = ci * hi * wi;
            const exStride = channelMajor ? hi * wi : img;
            const chStride = channelMajor ? count * hi * wi : hi * wi;
            const width = count * ho * wo;
            const so = 2;
            const colOff = 4;
            const [src, col, dcol, dst] = set.arena ? k.allocate([so + count * img + 3, colOff + ci * kk * kk * width + 3, ci * kk * kk * width + 6, count * img + 8]) : elementwiseReference.allocate([so + count * img + 3, colOff + ci * kk * kk * width + 3, ci * kk * kk * width + 6, count * img + 8]);
            src.set(values(rng, src.length));
            col.set(values(rng, col.length));
            dcol.set(Array.from({ length: dcol.length }, () => rng.normal()));
            dst.set(values(rng, dst.length));
            const want = col.slice();
            for (let c = 0; c < ci; c++) for (let u = 0; u < kk; u++) for (let v = 0; v < kk; v++)
              for (let b = 0; b < count; b++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++)
                want[colOff + ((c * kk + u) * kk + v) * width + b * ho * wo + i * wo + j] = src[so + b * exStride + c * chStride + (i * s + u) * wi + j * s + v];
            k.im2col(g, count, src, so, exStride, chStride, col, colOff);
            assert.deepEqual(bits(col), bits(want), `im2col ${JSON.stringify(g)} count ${count} channelMajor ${channelMajor}`);
            const dOff = 5;
            const wantDst = dst.slice();
            wantDst.fill(0, dOff, dOff + count * img);
            for (let c = 0; c < ci; c++) for (let u = 0; u < kk; u++) for (let v = 0; v < kk; v++)
              for (let b = 0; b < count; b++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++)
                wantDst[dOff + b * exStride + c * chStride + (i * s + u) * wi + j * s + v] += dcol[3 + ((c * kk + u) * kk + v) * width + b * ho * wo + i * wo + j];
            k.col2im(g, count, dcol, 3, dst, dOff, exStride, chStride);
            assert.deepEqual(bits(dst), bits(wantDst), `col2im ${JSON.stringify(g)} count ${count} channelMajor ${channelMajor}`);
          }
        }
      }
    });
  }

  for (const set of sets) {
    it(`maxPool, ${set.label}: maxima and first-maximum indices as defined, ties, NaN and ±0 included`, (t) => {
      const k = set.k();
      if (!k) return t.skip(set.label.startsWith('openblas') ? 'no OpenBLAS on this machine' : 'no WebAssembly SIMD');
      const rng = new Rng(5);
      for (const [planes, ho, wo, ps] of [[1, 2, 2, 2], [3, 4, 6, 2], [2, 6, 6, 3], [4, 3, 3, 1]]) {
        const n = planes * ho * wo;
        const outs = (planes * ho * wo) / (ps * ps);
        const [a, p, arg] = set.arena ? k.allocate([n + 3, outs + 2, outs + 2]) : elementwiseReference.allocate([n + 3, outs + 2, outs + 2]);
        // Few distinct values, so that windows tie; hostile values mixed in.
        for (let i = 0; i < a.length; i++) a[i] = rng.uniform() < 0.2 ? HOSTILE[rng.int(HOSTILE.length)] : rng.int(3) - 1;
        p.fill(7);
        arg.fill(7);
        const wantP = p.slice();
        const wantArg = arg.slice();
        const aOff = 1;
        let o = 0;
        for (let c = 0; c < planes; c++) for (let pi = 0; pi < ho / ps; pi++) for (let pj = 0; pj < wo / ps; pj++) {
          const top = c * ho * wo + pi * ps * wo + pj * ps;
          let best = a[aOff + top];
          let at = top;
          for (let u = 0; u < ps; u++) for (let v = 0; v < ps; v++) {
            const idx = top + u * wo + v;
            if (a[aOff + idx] > best) [best, at] = [a[aOff + idx], idx];
          }
          wantP[2 + o] = best;
          wantArg[1 + o] = at;
          o++;
        }
        k.maxPool(planes, ho, wo, ps, a, aOff, p, 2, arg, 1);
        assert.deepEqual(bits(p), bits(wantP), `maxPool p ${planes}×${ho}×${wo} ps ${ps}`);
        assert.deepEqual(Array.from(arg), Array.from(wantArg), `maxPool arg ${planes}×${ho}×${wo} ps ${ps}`);
      }
    });
  }

  it('relu in place (a = z) on an arena buffer', (t) => {
    if (!wasm) return t.skip('no WebAssembly SIMD');
    const [z] = wasm.allocate([9]);
    z.set([-1, 2, -0, 0, NaN, -3, 4, -Infinity, Infinity]);
    wasm.relu(9, z, 0, z, 0, 0.5);
    assert.deepEqual(bits(z), bits(Float64Array.from([-0.5, 2, -0, 0, NaN, -1.5, 4, -Infinity, Infinity])));
  });
});

describe('allocate', () => {
  it('gives zeroed buffers of the asked lengths that survive later allocations and every other kernel call', (t) => {
    if (!wasm) return t.skip('no WebAssembly SIMD');
    const k = createWasmKernelsSync({ thresholds: { gemm: 0, gemv: 0, gemvT: 0, ger: 0, dot: 0, axpy: 0 } });
    const bufs = k.allocate([5, 0, 3, 100000]);
    assert.deepEqual(bufs.map((b) => b.length), [5, 0, 3, 100000]);
    for (const b of bufs) assert.ok(b.every((v) => v === 0));
    // 16-byte aligned (v128 loads), disjoint.
    for (const b of bufs) assert.equal(b.byteOffset % 16, 0);
    bufs[0].fill(1);
    bufs[2].fill(2);
    assert.ok(bufs[3].every((v) => v === 0), 'buffers do not overlap');
    // A large call grows the kernels' own memory, a second allocate makes another instance: the
    // buffers stay attached, with their values.
    const A = new Float64Array(300 * 300).fill(1);
    const C = new Float64Array(300 * 300);
    k.gemm(false, false, 300, 300, 300, 1, A, 0, A, 0, 0, C, 0);
    k.allocate([1 << 20]);
    assert.equal(bufs[0].length, 5);
    assert.deepEqual(Array.from(bufs[0]), [1, 1, 1, 1, 1]);
    assert.deepEqual(Array.from(bufs[2]), [2, 2, 2]);
  });

  it('buffers of two allocate calls passed together run the reference loops (same bits)', (t) => {
    if (!wasm) return t.skip('no WebAssembly SIMD');
    const [z] = wasm.allocate([11]);
    const [a] = wasm.allocate([11]);
    z.set([-1, 2, -0, 0, NaN, -3, 4, -Infinity, Infinity, 1e-310, -1e-310]);
    const want = new Float64Array(11);
    jsKernels.relu(11, z, 0, want, 0, 0.2);
    wasm.relu(11, z, 0, a, 0, 0.2);
    assert.deepEqual(bits(a), bits(want));
  });

  it('the reference allocate gives plain zeroed Float64Arrays', () => {
    const bufs = jsKernels.allocate([3, 4]);
    assert.ok(bufs[0].buffer instanceof ArrayBuffer);
    assert.deepEqual(bufs.map((b) => Array.from(b)), [[0, 0, 0], [0, 0, 0, 0]]);
  });
});

describe('a kernel set without the elementwise kernels (written before they existed)', () => {
  it('elementwiseOf gives it the reference loops, and relu-mlp training with PGD matches jsKernels bit for bit', () => {
    const legacy: Kernels = { name: 'legacy', dot: jsKernels.dot, axpy: jsKernels.axpy, gemv: jsKernels.gemv, gemvT: jsKernels.gemvT, ger: jsKernels.ger, gemm: jsKernels.gemm };
    assert.equal(elementwiseOf(legacy), elementwiseReference);
    assert.equal(elementwiseOf(jsKernels), jsKernels);
    const data = sectors({ n: 40, k: 4, seed: 0, gap: 0.25 });
    const run = (k: Kernels): { theta: Float64Array; logRho: number } => {
      const prev = setKernels(k);
      try {
        const model = createReluMlp({ inputDim: data.d, depth: 3, width: 16, leak: 0.1 });
        const attack = validateAttackConfig({ kind: 'pgd', p: 'inf', eps: 0.1, steps: 3, stepSize: 0.05 } as never);
        const st = createStepper({ model, data, attack, loss: 'exp', schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' } });
        let s = st.init(3);
        for (let t = 0; t < 5; t++) s = st.step(s, null);
        return { theta: s.thetaHat, logRho: s.logRho };
      } finally {
        setKernels(prev);
      }
    };
    const a = run(legacy);
    const b = run(jsKernels);
    assert.deepEqual(bits(a.theta), bits(b.theta));
    assert.equal(a.logRho, b.logRho);
  });
});
