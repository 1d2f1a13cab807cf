/**
 * Batch methods of the models (`forwardBatch`/`backwardBatch`, src/models/model.ts) against the
 * per-example `forward`/`backward` summed over rows, and the batch path of `MarginEvaluator`
 * (src/metrics/margins.ts): outputs, Σ-over-rows parameter gradients, per-row input gradients,
 * row subsets and offsets, pass boundaries (counts that are not a multiple of the pass size), the
 * kink convention ReLU'(0) = 0, and reuse of the batch workspace (no allocation in steady state).
 *
 * Every comparison runs with the plain-TS kernels, with a gemm that sums in the reverse order (and
 * applies alpha after the sum), and with the WebAssembly kernels (every call in wasm), so that the
 * tolerance below is exercised, not only bit-identity.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchModel, Model } from '../../src/models/model.ts';
import { hasBatch } from '../../src/models/model.ts';
import { createModel, type ModelSpec } from '../../src/models/registry.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { MarginEvaluator, MARGIN_BATCH_ROWS } from '../../src/metrics/margins.ts';
import { jsKernels, setKernels, type Kernels } from '../../src/linalg/kernels.ts';
import { createWasmKernelsSync, wasmKernelsSupported } from '../../src/linalg/wasm/backend.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { TOL, assertAllClose } from '../support/tolerance.ts';

/** Batch vs per-example: the same sums of products in another order (gemm vs gemv/ger). */
const BATCH_TOL = TOL.reassociation;

/** gemm with the k-sum reversed and alpha applied after it: a differently rounded, correct gemm. */
const reversedGemm: Kernels = {
  ...jsKernels,
  name: 'js-reversed-gemm',
  gemm(transA, transB, m, n, k, alpha, A, ao, B, bo, beta, C, co) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = k - 1; l >= 0; l--) s += (transA ? A[ao + l * m + i] : A[ao + i * k + l]) * (transB ? B[bo + j * k + l] : B[bo + l * n + j]);
        const c = co + i * n + j;
        C[c] = beta === 0 ? alpha * s : alpha * s + beta * C[c];
      }
    }
  },
};
/** Every call in WebAssembly (no crossover to JS), so the batch path meets the SIMD gemm. */
const ALL_WASM = { gemm: 0, gemv: 0, gemvT: 0, ger: 0, dot: 0, axpy: 0 };
const KERNEL_SETS: readonly Kernels[] = [jsKernels, reversedGemm, ...(wasmKernelsSupported() ? [createWasmKernelsSync({ thresholds: ALL_WASM, name: 'wasm-all' })] : [])];

/** Runs `body` with `k` installed as the kernels in use, restoring the previous ones after. */
function withKernels(k: Kernels, body: () => void): void {
  const prev = setKernels(k);
  try {
    body();
  } finally {
    setKernels(prev);
  }
}

const SPECS: ModelSpec[] = [
  { kind: 'relu-mlp', inputDim: 3, depth: 1 },
  { kind: 'relu-mlp', inputDim: 4, depth: 1, outputs: 3 },
  { kind: 'relu-mlp', inputDim: 4, depth: 2, width: 6 },
  { kind: 'relu-mlp', inputDim: 5, depth: 3, width: [7, 4], outputs: 3 },
  { kind: 'relu-mlp', inputDim: 3, depth: 3, width: 5, outputs: 2, leak: 0.1 },
  { kind: 'relu-mlp', inputDim: 6, depth: 4, width: 5, outputs: 4 },
  { kind: 'leaky-relu-mlp', inputDim: 4, depth: 3, width: 5, outputs: 3 },
  { kind: 'deep-linear', inputDim: 3, depth: 1 },
  { kind: 'deep-linear', inputDim: 4, depth: 2, width: 5 },
  { kind: 'deep-linear', inputDim: 5, depth: 3, width: [4, 6] },
  { kind: 'deep-linear', inputDim: 3, depth: 4, width: 3 },
  { kind: 'relu-cnn', inputDim: 72, inputShape: [2, 6, 6], conv: [{ channels: 3, kernel: 3, stride: 1, pool: { kind: 'max', size: 2 } }], dense: [5], outputs: 3 },
  { kind: 'relu-cnn', inputDim: 49, inputShape: [1, 7, 7], conv: [{ channels: 2, kernel: 3, stride: 2, pool: null }, { channels: 3, kernel: 2, stride: 1, pool: { kind: 'avg', size: 2 } }], leak: 0.1 },
  { kind: 'relu-cnn', inputDim: 64, inputShape: [1, 8, 8], conv: [{ channels: 2, kernel: 3, pool: { kind: 'max', size: 2 } }, { channels: 2, kernel: 2 }], dense: [4, 3], outputs: 2 },
];

function randn(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** The model with its batch methods removed: what every caller falls back to. */
function perExampleOnly(model: Model): Model {
  return { ...model, createBatchWorkspace: undefined, forwardBatch: undefined, backwardBatch: undefined };
}

/** Reference: per-example forward/backward over the rows r_b, gradTheta summed onto `gradTheta0`. */
function reference(model: Model, theta: Float64Array, X: Float64Array, rowsOf: number[], dOut: Float64Array, gradTheta0: Float64Array) {
  const { inputDim: d, outputDim: K } = model;
  const ws = model.createWorkspace();
  const out = new Float64Array(rowsOf.length * K);
  const gradTheta = Float64Array.from(gradTheta0);
  const gradX = new Float64Array(rowsOf.length * d);
  const o = new Float64Array(K);
  rowsOf.forEach((r, b) => {
    model.forward(theta, X, r * d, o, ws);
    out.set(o, b * K);
    model.backward(theta, X, r * d, dOut.subarray(b * K, b * K + K), gradTheta, gradX, b * d, ws);
  });
  return { out, gradTheta, gradX };
}

describe('batch methods vs per-example forward/backward', () => {
  it('are implemented by relu-mlp, deep-linear and relu-cnn', () => {
    for (const spec of SPECS) assert.ok(hasBatch(createModel(spec)), spec.kind);
  });

  for (const spec of SPECS) {
    for (const kset of KERNEL_SETS) {
      it(`${JSON.stringify(spec)} [${kset.name}]: outputs, Σ_b gradTheta and per-row gradX, contiguous rows and row subsets`, () => {
        const model = createModel(spec) as BatchModel;
        const { inputDim: d, outputDim: K, numParams: P } = model;
        const rng = new Rng(7);
        const n = 23;
        const theta = randn(rng, P);
        const X = randn(rng, n * d);
        // Subsets: contiguous (rows null) from several starts, and listed rows (unsorted, repeated).
        const listed = Int32Array.from([5, 0, 22, 7, 7, 13, 2, 19, 11]);
        const cases: { rows: Int32Array | null; start: number; count: number }[] = [
          { rows: null, start: 0, count: n },
          { rows: null, start: 4, count: 11 },
          { rows: null, start: 22, count: 1 },
          { rows: listed, start: 0, count: listed.length },
          { rows: listed, start: 3, count: 5 },
        ];
        withKernels(kset, () => {
          const bws = model.createBatchWorkspace(n);
          for (const c of cases) {
            const rowsOf = Array.from({ length: c.count }, (_, b) => (c.rows ? c.rows[c.start + b] : c.start + b));
            const dOut = randn(rng, c.count * K);
            const g0 = randn(rng, P); // gradTheta accumulates: start from something non-zero
            const ref = reference(model, theta, X, rowsOf, dOut, g0);
            const out = new Float64Array(c.count * K);
            const gradTheta = Float64Array.from(g0);
            const gradX = new Float64Array(c.count * d).fill(NaN); // overwritten, whatever it held
            model.forwardBatch(theta, X, c.rows, c.start, c.count, out, bws);
            model.backwardBatch(theta, X, c.rows, c.start, c.count, dOut, gradTheta, gradX, bws);
            const what = `rows ${c.rows ? 'listed' : 'null'} start ${c.start} count ${c.count}`;
            assertAllClose(out, ref.out, BATCH_TOL, `${what}: out`);
            assertAllClose(gradTheta, ref.gradTheta, BATCH_TOL, `${what}: gradTheta`);
            assertAllClose(gradX, ref.gradX, BATCH_TOL, `${what}: gradX`);
            // Null gradients are skipped: gradTheta untouched, and the backward still runs for gradX.
            const untouched = Float64Array.from(g0);
            model.backwardBatch(theta, X, c.rows, c.start, c.count, dOut, null, gradX, bws);
            assertAllClose(gradX, ref.gradX, BATCH_TOL, `${what}: gradX (gradTheta null)`);
            model.backwardBatch(theta, X, c.rows, c.start, c.count, dOut, untouched, null, bws);
            assertAllClose(untouched, ref.gradTheta, BATCH_TOL, `${what}: gradTheta (gradX null)`);
          }
        });
      });
    }
  }

  it('a workspace for more rows than used works, and is not reallocated by the calls', () => {
    const model = createReluMlp({ inputDim: 4, depth: 3, width: 5, outputs: 2 }) as BatchModel;
    const rng = new Rng(3);
    const theta = model.init(rng, 1);
    const X = randn(rng, 6 * 4);
    const bws = model.createBatchWorkspace(50);
    const buffers = { ...bws.buffers };
    const out = new Float64Array(6 * 2);
    const dOut = randn(rng, 6 * 2);
    const gradTheta = new Float64Array(model.numParams);
    const gradX = new Float64Array(6 * 4);
    model.forwardBatch(theta, X, null, 0, 6, out, bws);
    model.backwardBatch(theta, X, null, 0, 6, dOut, gradTheta, gradX, bws);
    const ref = reference(model, theta, X, [0, 1, 2, 3, 4, 5], dOut, new Float64Array(model.numParams));
    assertAllClose(out, ref.out, BATCH_TOL, 'out');
    assertAllClose(gradTheta, ref.gradTheta, BATCH_TOL, 'gradTheta');
    assertAllClose(gradX, ref.gradX, BATCH_TOL, 'gradX');
    for (const [name, buf] of Object.entries(buffers)) assert.equal(bws.buffers[name], buf, `buffer ${name} replaced`);
  });

  it("relu-mlp keeps ReLU'(0) = 0 (and slope `leak` at 0) on the batch path", () => {
    for (const leak of [0, 0.25]) {
      // W1 = [[1, −1], [1, 1]], W2 = [1, 1]: x = (1, 1) puts z_1 exactly at 0, x = (2, 1) does not.
      const model = createReluMlp({ inputDim: 2, depth: 2, width: 2, leak }) as BatchModel;
      const theta = Float64Array.from([1, -1, 1, 1, 1, 1]);
      const X = Float64Array.from([1, 1, 2, 1]);
      const bws = model.createBatchWorkspace(2);
      const out = new Float64Array(2);
      const gradTheta = new Float64Array(6);
      const gradX = new Float64Array(4);
      model.forwardBatch(theta, X, null, 0, 2, out, bws);
      model.backwardBatch(theta, X, null, 0, 2, Float64Array.from([1, 1]), gradTheta, gradX, bws);
      // Row 0: z = (0, 2): unit 1 has slope `leak`; row 1: z = (1, 3), both slope 1.
      assert.deepEqual(Array.from(out), [2, 4]);
      assert.deepEqual(Array.from(gradX), [leak + 1, -leak + 1, 2, 0]);
      // ∂/∂W1 row 1 = leak·x_0 + x_1, row 2 = x_0 + x_1; ∂/∂W2 = σ(z) summed = (0 + 1, 2 + 3).
      assert.deepEqual(Array.from(gradTheta), [leak * 1 + 2, leak * 1 + 1, 3, 2, 1, 5]);
    }
  });
});

/** A data set with n rows of dimension d, binary (classes 2) or K-class labels. */
function makeData(seed: number, n: number, d: number, classes: number): Dataset {
  const rng = new Rng(seed);
  const X = randn(rng, n * d);
  const binary = classes === 2;
  const y = Int32Array.from({ length: n }, (_, i) => (binary ? (rng.uniform() < 0.5 ? 1 : -1) : Math.floor(rng.uniform() * classes)));
  return { name: `test:${seed}`, n, d, X, y, binary, classes };
}

describe('MarginEvaluator: batch path vs per-example path', () => {
  const cases: { name: string; model: Model; classes: number }[] = [
    { name: 'relu-mlp binary', model: createReluMlp({ inputDim: 5, depth: 3, width: 7 }), classes: 2 },
    { name: 'relu-mlp 4-class', model: createReluMlp({ inputDim: 5, depth: 3, width: [7, 6], outputs: 4 }), classes: 4 },
    // Presented as not linear in x, so that the β shortcut is off and the batch path runs.
    { name: 'deep-linear (no β)', model: { ...createModel({ kind: 'deep-linear', inputDim: 5, depth: 3, width: 4 }), linearInX: false, predictor: undefined }, classes: 2 },
  ];
  for (const c of cases) {
    for (const kset of KERNEL_SETS) {
      it(`${c.name} [${kset.name}]: margins, gradient and gradientAtLastMargins, passes of 7 rows`, () => {
        const n = 31;
        const data = makeData(5, n, c.model.inputDim, c.classes);
        const rng = new Rng(8);
        const theta = c.model.init(rng, 1);
        const slow = new MarginEvaluator(perExampleOnly(c.model), data);
        // 7 rows per pass: 31 = 4·7 + 3, and the 10-row subset is 7 + 3.
        const fast = new MarginEvaluator(c.model, data, { batchRows: 7 });
        const single = new MarginEvaluator(c.model, data); // one pass for every call here
        const g = slow.groupSize;
        const subset = Int32Array.from([30, 2, 9, 9, 17, 0, 25, 4, 11, 28]);
        withKernels(kset, () => {
          for (const indices of [null, subset]) {
            const count = indices ? indices.length : n;
            const weights = Float64Array.from({ length: count * g }, () => rng.uniform());
            // Exact zeros (a whole example's group for the first rows) exercise the skips.
            weights.fill(0, 0, 2 * g);
            const ref = { m: new Float64Array(count * g), grad: new Float64Array(c.model.numParams) };
            slow.margins(theta, data.X, indices, ref.m);
            slow.gradient(theta, data.X, indices, weights, ref.grad);
            for (const ev of [fast, single]) {
              const m = new Float64Array(count * g);
              const grad = new Float64Array(c.model.numParams).fill(NaN);
              const what = `${ev === fast ? 'passes of 7' : 'one pass'}, ${indices ? 'subset' : 'all'}`;
              ev.margins(theta, data.X, indices, m);
              assertAllClose(m, ref.m, BATCH_TOL, `${what}: margins`);
              ev.gradientAtLastMargins(weights, grad);
              assertAllClose(grad, ref.grad, BATCH_TOL, `${what}: gradientAtLastMargins`);
              grad.fill(NaN);
              ev.gradient(theta, data.X, indices, weights, grad);
              assertAllClose(grad, ref.grad, BATCH_TOL, `${what}: gradient`);
              // After `gradient` overwrote the workspace, gradientAtLastMargins still answers right.
              grad.fill(NaN);
              ev.gradientAtLastMargins(weights, grad);
              assertAllClose(grad, ref.grad, BATCH_TOL, `${what}: gradientAtLastMargins after gradient`);
            }
          }
        });
      });
    }
  }

  it('relu-cnn bounds its workspace by memory: fewer rows than asked, passes of that size, the same results, no new workspace per call', () => {
    // ~4 MB of im2col and activations per row: RELU_CNN_BATCH_BYTES (64 MiB) holds ~16 rows.
    const model = createModel({ kind: 'relu-cnn', inputDim: 10000, inputShape: [1, 100, 100], conv: [{ channels: 8, kernel: 3, pool: { kind: 'max', size: 2 } }], outputs: 3 }) as BatchModel;
    const asked = model.createBatchWorkspace(256);
    assert.ok(asked.maxRows >= 1 && asked.maxRows < 31, `maxRows ${asked.maxRows}`);
    const n = 31;
    const data = makeData(9, n, model.inputDim, 3);
    const theta = model.init(new Rng(4), 1);
    const slow = new MarginEvaluator(perExampleOnly(model), data);
    const fast = new MarginEvaluator(model, data);
    const g = slow.groupSize;
    const weights = Float64Array.from({ length: n * g }, (_, k) => 1 / (k + 1));
    const ref = { m: new Float64Array(n * g), grad: new Float64Array(model.numParams) };
    slow.margins(theta, data.X, null, ref.m);
    slow.gradient(theta, data.X, null, weights, ref.grad);
    const m = new Float64Array(n * g);
    const grad = new Float64Array(model.numParams);
    fast.margins(theta, data.X, null, m);
    const bws = fast.batchWorkspace;
    assert.ok(bws !== null && bws.maxRows < n, 'several passes');
    fast.gradientAtLastMargins(weights, grad);
    assertAllClose(m, ref.m, BATCH_TOL, 'margins');
    assertAllClose(grad, ref.grad, BATCH_TOL, 'gradient');
    fast.margins(theta, data.X, null, m);
    fast.gradient(theta, data.X, null, weights, grad);
    assert.equal(fast.batchWorkspace, bws, 'the workspace is reused');
    assertAllClose(grad, ref.grad, BATCH_TOL, 'gradient, second call');
  });

  it('gradientAtLastMargins reuses the activations of the margins pass (no forward pass) and equals gradient exactly', () => {
    const base = createReluMlp({ inputDim: 4, depth: 3, width: 6, outputs: 3 }) as BatchModel;
    let forwards = 0;
    const model: Model = { ...base, forwardBatch: (...args) => (forwards++, base.forwardBatch(...args)) };
    const data = makeData(2, 40, 4, 3);
    const theta = model.init(new Rng(1), 1);
    const ev = new MarginEvaluator(model, data);
    const indices = Int32Array.from([3, 1, 4, 15, 9, 26]);
    const m = new Float64Array(indices.length * 2);
    const weights = Float64Array.from({ length: indices.length * 2 }, (_, k) => 1 / (k + 1));
    const a = new Float64Array(model.numParams);
    const b = new Float64Array(model.numParams);
    ev.margins(theta, data.X, indices, m);
    assert.equal(forwards, 1);
    ev.gradientAtLastMargins(weights, a);
    assert.equal(forwards, 1, 'no second forward pass');
    ev.gradient(theta, data.X, indices, weights, b);
    assert.equal(forwards, 2);
    assert.deepEqual(Array.from(a), Array.from(b));
  });

  it('gradientAtLastMargins before any margins call is an error', () => {
    const model = createReluMlp({ inputDim: 2, depth: 2, width: 3 });
    const ev = new MarginEvaluator(model, makeData(1, 4, 2, 2));
    assert.throws(() => ev.gradientAtLastMargins(new Float64Array(4), new Float64Array(model.numParams)), /call margins\(\) first/);
  });

  it('no allocation in steady state: one batch workspace, sized min(rows, batchRows), reused across calls', () => {
    const base = createReluMlp({ inputDim: 3, depth: 2, width: 4 }) as BatchModel;
    let created = 0;
    const model: Model = { ...base, createBatchWorkspace: (r) => (created++, base.createBatchWorkspace(r)) };
    const data = makeData(4, MARGIN_BATCH_ROWS + 9, 3, 2);
    const theta = model.init(new Rng(2), 1);
    const ev = new MarginEvaluator(model, data);
    const indices = Int32Array.from({ length: 10 }, (_, i) => 3 * i);
    const m = new Float64Array(data.n);
    const w = new Float64Array(data.n).fill(0.5);
    const grad = new Float64Array(model.numParams);
    ev.margins(theta, data.X, indices, m);
    assert.equal(ev.batchWorkspace!.maxRows, 10, 'sized to the rows asked for');
    const first = ev.batchWorkspace;
    const buffers = { ...first!.buffers };
    for (let t = 0; t < 3; t++) {
      ev.margins(theta, data.X, indices, m);
      ev.gradientAtLastMargins(w, grad);
      ev.gradient(theta, data.X, indices, w, grad);
    }
    assert.equal(created, 1);
    assert.equal(ev.batchWorkspace, first);
    for (const [name, buf] of Object.entries(buffers)) assert.equal(ev.batchWorkspace!.buffers[name], buf, `buffer ${name}`);
    // All rows: grows once to the pass size, then stays.
    ev.margins(theta, data.X, null, m);
    assert.equal(ev.batchWorkspace!.maxRows, MARGIN_BATCH_ROWS);
    const grown = ev.batchWorkspace;
    for (let t = 0; t < 2; t++) {
      ev.margins(theta, data.X, null, m);
      ev.gradient(theta, data.X, null, w, grad);
      ev.margins(theta, data.X, indices, m);
    }
    assert.equal(created, 2);
    assert.equal(ev.batchWorkspace, grown);
  });

  it('binary linear-in-x models keep the β shortcut (no batch pass)', () => {
    const base = createModel({ kind: 'deep-linear', inputDim: 3, depth: 2, width: 4 }) as BatchModel;
    const model: Model = {
      ...base,
      forwardBatch: () => assert.fail('batch forward on the β path'),
      backwardBatch: () => assert.fail('batch backward on the β path'),
    };
    const data = makeData(9, 12, 3, 2);
    const theta = model.init(new Rng(3), 1);
    const ev = new MarginEvaluator(model, data);
    const m = new Float64Array(12);
    const grad = new Float64Array(model.numParams);
    ev.margins(theta, data.X, null, m);
    ev.gradientAtLastMargins(new Float64Array(12).fill(1), grad);
    ev.gradient(theta, data.X, null, new Float64Array(12).fill(1), grad);
    assert.equal(ev.batchWorkspace, null);
  });
});

describe('backwardBatch with overwrite', () => {
  it('overwrites gradTheta (NaN garbage before) with exactly the sum it would add to zeros', () => {
    const specs: ModelSpec[] = [
      { kind: 'relu-mlp', inputDim: 6, depth: 3, width: [7, 4], outputs: 3 },
      { kind: 'leaky-relu-mlp', inputDim: 6, depth: 2, width: 5, outputs: 1, leak: 0.1 },
      { kind: 'relu-mlp', inputDim: 6, depth: 1, outputs: 2 },
      { kind: 'deep-linear', inputDim: 6, depth: 3, width: 5 },
      { kind: 'deep-linear', inputDim: 6, depth: 1 },
      { kind: 'relu-cnn', inputDim: 6, inputShape: [1, 2, 3], conv: [{ channels: 2, kernel: 2 }], dense: [3], outputs: 2 },
      { kind: 'relu-cnn', inputDim: 6, inputShape: [1, 2, 3], conv: [{ channels: 3, kernel: 1, pool: { kind: 'max', size: 1 } }] },
    ];
    for (const k of KERNEL_SETS) {
      withKernels(k, () => {
        for (const spec of specs) {
          const model = createModel(spec) as BatchModel;
          assert.ok(hasBatch(model), spec.kind);
          const rng = new Rng(21);
          const theta = Float64Array.from({ length: model.numParams }, () => rng.normal());
          const count = 9;
          const X = Float64Array.from({ length: count * 6 }, () => rng.normal());
          const K = model.outputDim;
          const dOut = Float64Array.from({ length: count * K }, () => rng.normal());
          const bws = model.createBatchWorkspace(count);
          const out = new Float64Array(count * K);
          model.forwardBatch(theta, X, null, 0, count, out, bws);
          const added = new Float64Array(model.numParams);
          model.backwardBatch(theta, X, null, 0, count, dOut, added, null, bws);
          const over = new Float64Array(model.numParams).fill(NaN);
          model.backwardBatch(theta, X, null, 0, count, dOut, over, null, bws, true);
          for (let i = 0; i < over.length; i++) assert.ok(Object.is(over[i], added[i]) || over[i] === added[i], `${k.name} ${spec.kind} L=${spec.depth}: entry ${i} ${over[i]} vs ${added[i]}`);
        }
      });
    }
  });
});
