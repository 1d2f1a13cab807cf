/**
 * relu-cnn checks that the shared conformance suite (conformance.test.ts) does not make: shape
 * arithmetic and layout, a hand-computed example, translation behaviour, unread strided borders, the
 * He initialization, registry and config validation, and the agreement of its two matrix-product
 * paths (register-blocked loops under the plain-TS kernels, kernels().gemm under any other backend).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Model, Workspace } from '../../src/models/model.ts';
import { createModel, type ModelSpec } from '../../src/models/registry.ts';
import { createReluCnn, convOutputSize, convStackShapes, type ReluCnn } from '../../src/models/relu-cnn.ts';
import { jsKernels, setKernels, type Kernels } from '../../src/linalg/kernels.ts';
import { createWasmKernelsSync, wasmKernelsSupported } from '../../src/linalg/wasm/backend.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { modelFromConfig } from '../../src/train/from-config.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { InputError } from '../../src/errors.ts';
import { TOL, assertAllClose } from '../support/tolerance.ts';

/** The MNIST-sized network of the brief: 1×28×28 → 8@5×5, max 2 → 16@5×5, max 2 → 10 outputs. */
const MNIST_CONV = [
  { channels: 8, kernel: 5, pool: { kind: 'max' as const, size: 2 } },
  { channels: 16, kernel: 5, pool: { kind: 'max' as const, size: 2 } },
];

function randn(rng: Rng, n: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

function run(model: Model, theta: Float64Array, x: Float64Array, dOut: Float64Array, ws: Workspace = model.createWorkspace()) {
  const out = new Float64Array(model.outputDim);
  model.forward(theta, x, 0, out, ws);
  const gTheta = new Float64Array(model.numParams);
  const gX = new Float64Array(model.inputDim);
  model.backward(theta, x, 0, dOut, gTheta, gX, 0, ws);
  return { out, gTheta, gX, ws };
}

/** Element-wise a[i] === b[i] (so 0 and −0 are equal, unlike deepStrictEqual). */
function assertSame(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) assert.ok(a[i] === b[i], `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

describe('relu-cnn shapes and layout', () => {
  it('computes ⌊(n − k)/s⌋ + 1 for valid convolutions', () => {
    assert.equal(convOutputSize(28, 5, 1), 24);
    assert.equal(convOutputSize(7, 2, 2), 3);
    assert.equal(convOutputSize(8, 3, 2), 3);
    assert.equal(convOutputSize(5, 5, 1), 1);
    assert.equal(convOutputSize(5, 5, 3), 1);
  });

  it('MNIST-sized default: 1×28×28 → 8×24×24 → 8×12×12 → 16×8×8 → 16×4×4 → 10', () => {
    const model = createReluCnn({ inputShape: [1, 28, 28], conv: MNIST_CONV, outputs: 10 });
    assert.deepEqual(model.shapes, [
      { input: [1, 28, 28], conv: [8, 24, 24], output: [8, 12, 12] },
      { input: [8, 12, 12], conv: [16, 8, 8], output: [16, 4, 4] },
    ]);
    assert.deepEqual(convStackShapes([1, 28, 28], MNIST_CONV), model.shapes);
    assert.equal(model.inputDim, 784);
    assert.equal(model.outputDim, 10);
    assert.equal(model.order, 3);
    assert.deepEqual(
      model.layout.map((b) => [b.name, b.offset, b.shape]),
      [
        ['conv1', 0, [8, 1, 5, 5]],
        ['conv2', 200, [16, 8, 5, 5]],
        ['out', 3400, [10, 256]],
      ],
    );
    assert.equal(model.numParams, 200 + 3200 + 2560);
    const ws = model.createWorkspace();
    assert.equal(ws.z.length, 8 * 24 * 24 + 16 * 8 * 8, 'z: every conv pre-activation');
    assert.equal(ws.arg.length, 8 * 12 * 12 + 16 * 4 * 4, 'arg: one winner per max-pool output');
  });

  it('dense layers and strides: order = convs + dense + 1', () => {
    const model = createReluCnn({ inputShape: [3, 9, 9], conv: [{ channels: 4, kernel: 3, stride: 2 }, { channels: 5, kernel: 1, pool: { kind: 'avg', size: 2 } }], dense: [6, 7], outputs: 3 });
    assert.deepEqual(model.shapes, [
      { input: [3, 9, 9], conv: [4, 4, 4], output: [4, 4, 4] },
      { input: [4, 4, 4], conv: [5, 4, 4], output: [5, 2, 2] },
    ]);
    assert.equal(model.order, 5);
    assert.deepEqual(
      model.layout.map((b) => [b.name, b.shape]),
      [
        ['conv1', [4, 3, 3, 3]],
        ['conv2', [5, 4, 1, 1]],
        ['dense1', [6, 20]],
        ['dense2', [7, 6]],
        ['out', [3, 7]],
      ],
    );
    assert.deepEqual(model.spec, {
      kind: 'relu-cnn',
      inputDim: 243,
      inputShape: [3, 9, 9],
      conv: [
        { channels: 4, kernel: 3, stride: 2, pool: null },
        { channels: 5, kernel: 1, stride: 1, pool: { kind: 'avg', size: 2 } },
      ],
      dense: [6, 7],
      outputs: 3,
      leak: 0,
      depth: 5,
    });
  });

  it('the factory refuses shapes that do not fit (createModel gives the user-facing message)', () => {
    assert.throws(() => createReluCnn({ inputShape: [1, 4, 4], conv: [{ channels: 1, kernel: 5 }] }), RangeError);
    assert.throws(() => createReluCnn({ inputShape: [1, 6, 6], conv: [{ channels: 1, kernel: 2, pool: { kind: 'max', size: 2 } }] }), RangeError);
  });
});

describe('relu-cnn hand-computed example', () => {
  // x (1×3×3) = [[1, −2, 3], [−4, 5, −6], [7, −8, 9]], one 2×2 filter F = [[2, −1], [0.5, 1]], no pool:
  //   z = [[2+2−2+5, −4−3+2.5−6], [−8−5+3.5−8, 10+6−4+9]] = [[7, −10.5], [−17.5, 21]], σ(z) = [7, 0, 0, 21];
  //   f = ⟨v, σ(z)⟩ with v = [1, 2, 3, −0.5]: f = 7 − 10.5 = −3.5.
  //   ∂f/∂z = v ⊙ σ'(z) = [1, 0, 0, −0.5]; ∂f/∂F[u, w] = x[u, w] − 0.5·x[1+u, 1+w] = [−1.5, 1, 0, 0.5];
  //   ∂f/∂v = σ(z); ∂f/∂x = F placed at (0, 0) minus 0.5·F placed at (1, 1).
  const model = createReluCnn({ inputShape: [1, 3, 3], conv: [{ channels: 1, kernel: 2 }] });
  const theta = Float64Array.of(2, -1, 0.5, 1, 1, 2, 3, -0.5);
  const x = Float64Array.of(1, -2, 3, -4, 5, -6, 7, -8, 9);

  it('matches the literal values (all exact in float64)', () => {
    assert.equal(model.numParams, 8);
    const { out, gTheta, gX, ws } = run(model, theta, x, Float64Array.of(1));
    assertSame(ws.z, [7, -10.5, -17.5, 21], 'z');
    assertSame(out, [-3.5], 'f');
    assertSame(gTheta, [-1.5, 1, 0, 0.5, 7, 0, 0, 21], '∇θ f');
    assertSame(gX, [2, -1, 0, 0.5, 0, 0.5, 0, -0.25, -0.5], '∇x f');
    // Euler: ⟨θ, ∇θ f⟩ = 2f.
    assert.equal(theta.reduce((s, t, i) => s + t * gTheta[i], 0), 2 * out[0]);
  });

  it('scales the seed dOut and reads x at an offset', () => {
    const xBuf = new Float64Array(12).fill(99);
    xBuf.set(x, 2);
    const ws = model.createWorkspace();
    const out = new Float64Array(1);
    model.forward(theta, xBuf, 2, out, ws);
    assertSame(out, [-3.5], 'f at offset 2');
    const gX = new Float64Array(9);
    model.backward(theta, xBuf, 2, Float64Array.of(-2), null, gX, 0, ws);
    assertSame(gX, [-4, 2, 0, -1, 0, -1, 0, 0.5, 1], '∇x (−2f)');
  });
});

describe('relu-cnn translation behaviour', () => {
  const rng = new Rng(11);
  /** An 8×8 image that is zero except for `patch` (3×3) with its top-left corner at (r, c). */
  function placed(patch: Float64Array, r: number, c: number): Float64Array {
    const img = new Float64Array(64);
    for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) img[(r + u) * 8 + c + v] = patch[u * 3 + v];
    return img;
  }
  const patch = randn(rng, 9);

  it('a conv layer is translation-equivariant: shifting x by (2, 3) shifts z by (2, 3), bit for bit', () => {
    const model = createReluCnn({ inputShape: [1, 8, 8], conv: [{ channels: 2, kernel: 3 }] });
    const theta = model.init(rng, 1);
    // The patch starts k − 1 = 2 rows and columns in, so windows above or left of z1's frame would see
    // only zeros: z is [2, 6, 6], z2[c, i + 2, j + 3] = z1[c, i, j], and rows < 2 or columns < 3 of z2 are 0.
    const z1 = run(model, theta, placed(patch, 2, 2), Float64Array.of(1)).ws.z.slice();
    const z2 = run(model, theta, placed(patch, 4, 5), Float64Array.of(1)).ws.z.slice();
    assert.ok(z1.filter((v) => v !== 0).length >= 2 * 9, 'the patch reaches every window that overlaps it');
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 6; j++) {
          const v2 = z2[c * 36 + i * 6 + j];
          const expected = i >= 2 && j >= 3 ? z1[c * 36 + (i - 2) * 6 + (j - 3)] : 0;
          assert.ok(v2 === expected, `z2[${c}, ${i}, ${j}] = ${v2}, expected ${expected}`);
        }
      }
    }
  });

  it('after max pooling of size 2, a shift by (2, 2) shifts the pooled map by (1, 1)', () => {
    const model = createReluCnn({ inputShape: [1, 8, 8], conv: [{ channels: 3, kernel: 3, pool: { kind: 'max', size: 2 } }] });
    const theta = model.init(rng, 1);
    // p is [3, 3, 3]; the first row and column of p2 pool conv windows that see only zeros (σ(0) = 0).
    const p1 = run(model, theta, placed(patch, 2, 2), Float64Array.of(1)).ws.p.slice();
    const p2 = run(model, theta, placed(patch, 4, 4), Float64Array.of(1)).ws.p.slice();
    assert.ok(p1.some((v) => v > 0), 'some pooled output is positive (the check is not vacuous)');
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const expected = i >= 1 && j >= 1 ? p1[c * 9 + (i - 1) * 3 + (j - 1)] : 0;
          assert.ok(p2[c * 9 + i * 3 + j] === expected, `p2[${c}, ${i}, ${j}]`);
        }
      }
    }
  });

  it('inputs beyond the last strided window are never read: f ignores them and their gradient is 0', () => {
    // 7×7, k = 2, s = 2: windows cover rows and columns 0..5; row 6 and column 6 are unread.
    const model = createReluCnn({ inputShape: [1, 7, 7], conv: [{ channels: 2, kernel: 2, stride: 2 }], dense: [3] });
    const theta = model.init(rng, 1);
    const x = randn(rng, 49);
    const base = run(model, theta, x, Float64Array.of(1));
    const edge = Array.from({ length: 7 }, (_, t) => [6 * 7 + t, t * 7 + 6]).flat();
    for (const j of edge) assert.ok(base.gX[j] === 0, `∂f/∂x[${j}] = ${base.gX[j]}`);
    const x2 = x.slice();
    for (const j of edge) x2[j] = 1000 * (j + 1);
    assertSame(run(model, theta, x2, Float64Array.of(1)).out, base.out, 'f with the unread entries changed');
  });
});

describe('relu-cnn initialization', () => {
  it('draws He N(0, 2·scale²/fanIn) block by block (fanIn = C_in·k·k, or the columns)', () => {
    const model = createReluCnn({ inputShape: [2, 6, 6], conv: [{ channels: 3, kernel: 3, pool: { kind: 'avg', size: 2 } }], dense: [5], outputs: 4 });
    const scale = 0.5;
    const theta = model.init(new Rng(9), scale);
    const rng = new Rng(9);
    const expected = new Float64Array(model.numParams);
    for (const b of model.layout) {
      const fanIn = b.shape.slice(1).reduce((p, s) => p * s, 1);
      const sd = scale * Math.sqrt(2 / fanIn);
      const size = b.shape.reduce((p, s) => p * s, 1);
      for (let i = 0; i < size; i++) expected[b.offset + i] = sd * rng.normal();
    }
    assertSame(theta, expected, 'θ');
    assert.deepEqual(
      model.layout.map((b) => b.shape.slice(1).reduce((p, s) => p * s, 1)),
      [18, 12, 5],
      'fan-ins',
    );
  });
});

describe('relu-cnn in the registry', () => {
  const base = { kind: 'relu-cnn', inputDim: 36, inputShape: [1, 6, 6], conv: [{ channels: 2, kernel: 3 }] };
  const bad: Array<[ModelSpec, string, string[]]> = [
    [{ ...base, inputShape: undefined }, 'inputShape', ['inputShape undefined', 'product inputDim = 36']],
    [{ ...base, inputShape: [1, 6] }, 'inputShape', ['[1, 6]', '[channels, height, width]']],
    [{ ...base, inputShape: [1, 6, 0] }, 'inputShape', ['[1, 6, 0]', 'integers ≥ 1']],
    [{ ...base, inputShape: [1, 6, 5] }, 'inputShape', ['[1, 6, 5]', 'product inputDim = 36 (got 30)']],
    [{ ...base, conv: undefined }, 'conv', ['conv undefined', 'at least one layer']],
    [{ ...base, conv: [] }, 'conv', ['conv []', 'at least one layer']],
    [{ ...base, conv: [{ channels: 2, kernel: 7 }] }, 'conv', ['conv[0].kernel 7', 'from 1 to 6', '6×6 input']],
    [
      { ...base, inputDim: 64, inputShape: [1, 8, 8], conv: [{ channels: 2, kernel: 3, pool: { kind: 'max', size: 2 } }, { channels: 2, kernel: 4 }] },
      'conv',
      ['conv[1].kernel 4', 'from 1 to 3', '3×3 input'],
    ],
    [{ ...base, conv: [{ channels: 2, kernel: 2, pool: { kind: 'max', size: 2 } }] }, 'conv', ['conv[0].pool.size 2', 'dividing both sides of the 5×5 conv output']],
    [{ ...base, conv: [{ channels: 2, kernel: 3, pool: { kind: 'min' as 'max', size: 2 } }] }, 'conv', ['conv[0].pool.kind "min"', '"max" or "avg"']],
    [{ ...base, conv: [{ channels: 2, kernel: 3, pool: { kind: 'max', size: 2, stride: 1 } as never }] }, 'conv', ['conv[0].pool.stride 1', 'kind, size']],
    [{ ...base, conv: [{ channels: 2, kernel: 3, stride: 0 }] }, 'conv', ['conv[0].stride 0', 'integer ≥ 1']],
    [{ ...base, conv: [{ channels: 0, kernel: 3 }] }, 'conv', ['conv[0].channels 0', 'integer ≥ 1']],
    [{ ...base, conv: [{ channels: 2, kernel: 3, padding: 1 } as never] }, 'conv', ['conv[0].padding 1', 'channels, kernel, stride, pool']],
    [{ ...base, conv: [3 as never] }, 'conv', ['conv[0] 3', 'an object']],
    [{ ...base, dense: [4, 0] }, 'dense', ['dense [4, 0]', 'integers ≥ 1']],
    [{ ...base, depth: 3 }, 'depth', ['depth 3', '2 = conv layers + dense layers + 1']],
    [{ ...base, width: 4 }, 'width', ['width 4', '`dense`']],
    [{ ...base, outputs: 0 }, 'outputs', ['outputs 0', 'integer ≥ 1']],
    [{ ...base, leak: 1 }, 'leak', ['leak 1', '[0, 1)']],
    [{ ...base, inputDim: 0 }, 'inputDim', ['inputDim 0']],
    [{ kind: 'relu-mlp', inputDim: 36, conv: [{ channels: 2, kernel: 3 }] }, 'conv', ['conv', 'only relu-cnn']],
    [{ kind: 'linear', inputDim: 36, inputShape: [1, 6, 6] }, 'inputShape', ['inputShape [1, 6, 6]', 'only relu-cnn']],
    [{ kind: 'deep-linear', inputDim: 3, dense: [2] }, 'dense', ['dense [2]', 'only relu-cnn']],
  ];
  for (const [spec, field, fragments] of bad) {
    it(`rejects ${JSON.stringify(spec)} naming ${field}`, () => {
      assert.throws(
        () => createModel(spec),
        (err: unknown) => {
          assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
          assert.equal(err.field, field);
          for (const f of fragments) assert.ok(err.message.includes(f), `message has "${f}": ${err.message}`);
          assert.ok(err.message.includes('allowed'), `message says what is allowed: ${err.message}`);
          assert.ok(err.message.includes(`model "${spec.kind}"`), `message names the model: ${err.message}`);
          assert.ok(!err.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }

  it('applies the documented defaults (stride 1, no pool, dense [], K = 1, leak 0; depth optional)', () => {
    const model = createModel(base);
    assert.equal(model.kind, 'relu-cnn');
    assert.equal(model.order, 2);
    assert.equal(model.outputDim, 1);
    assert.equal(model.linearInX, false);
    assert.equal(model.predictor, undefined);
    assert.deepEqual(model.spec.conv, [{ channels: 2, kernel: 3, stride: 1, pool: null }]);
    assert.deepEqual(model.spec.dense, []);
    assert.equal(model.spec.leak, 0);
    assert.equal(createModel({ ...base, depth: 2 }).order, 2);
    assert.equal(createModel({ ...base, conv: [{ channels: 2, kernel: 3, pool: null }] }).order, 2);
  });
});

describe('relu-cnn from a training config', () => {
  const data = (d: number, classes: number): Dataset => ({ name: `fake d=${d}`, n: 1, d, X: new Float64Array(d), y: Int32Array.of(0), binary: classes === 2, classes });

  it('defaults: inputShape null → [1, 28, 28] for d = 784, the LeNet-like conv stack, no dense layers', () => {
    const c = parseTrainConfig({ model: 'relu-cnn' });
    assert.equal(c.inputShape, null);
    assert.deepEqual(c.conv, [
      { channels: 8, kernel: 5, stride: 1, pool: { kind: 'max', size: 2 } },
      { channels: 16, kernel: 5, stride: 1, pool: { kind: 'max', size: 2 } },
    ]);
    assert.deepEqual(c.dense, []);
    const model = modelFromConfig(c, data(784, 10));
    assert.equal(model.kind, 'relu-cnn');
    assert.deepEqual(model.spec.inputShape, [1, 28, 28]);
    assert.equal(model.outputDim, 10);
    assert.equal(model.order, 3);
    assert.equal(model.numParams, 5960);
    assert.equal(modelFromConfig(c, data(784, 2)).outputDim, 1);
  });

  it('passes inputShape, conv, dense and leak through', () => {
    const c = parseTrainConfig({ model: 'relu-cnn', inputShape: [2, 5, 5], conv: [{ channels: 3, kernel: 2, pool: { kind: 'avg', size: 2 } }], dense: [4], leak: 0.1 });
    const model = modelFromConfig(c, data(50, 3));
    assert.deepEqual(model.spec.inputShape, [2, 5, 5]);
    assert.deepEqual(model.spec.conv, [{ channels: 3, kernel: 2, stride: 1, pool: { kind: 'avg', size: 2 } }]);
    assert.deepEqual(model.spec.dense, [4]);
    assert.equal(model.spec.leak, 0.1);
    assert.equal(model.outputDim, 3);
  });

  it('requires inputShape when d ≠ 784, and reports shapes that do not fit', () => {
    const c = parseTrainConfig({ model: 'relu-cnn' });
    assert.throws(
      () => modelFromConfig(c, data(36, 2)),
      (e: unknown) => e instanceof InputError && e.field === 'inputShape' && e.message.includes('d = 36'),
    );
    const small = parseTrainConfig({ model: 'relu-cnn', inputShape: [1, 6, 6] });
    assert.throws(
      () => modelFromConfig(small, data(36, 2)),
      (e: unknown) => e instanceof InputError && e.field === 'conv' && e.message.includes('conv[1].kernel 5'),
    );
  });

  it('keeps the schema strict and names nested fields', () => {
    const cases: Array<[unknown, string, string]> = [
      [{ conv: [{ channels: 8, kernel: 0 }] }, 'conv', 'conv[0].kernel: must be ≥ 1'],
      [{ conv: [{ channels: 8, kernel: 3, padding: 1 }] }, 'conv', 'padding'],
      [{ conv: [{ channels: 8, kernel: 3, pool: { kind: 'min', size: 2 } }] }, 'conv', 'conv[0].pool.kind: must be max or avg'],
      [{ conv: [] }, 'conv', 'at least one layer'],
      [{ inputShape: [1, 28] }, 'inputShape', '[channels, height, width]'],
      [{ dense: [0] }, 'dense', 'dense[0]: must be ≥ 1'],
    ];
    for (const [raw, field, fragment] of cases) {
      assert.throws(
        () => parseTrainConfig(raw),
        (e: unknown) => e instanceof InputError && e.field === field && e.message.includes(fragment) && !e.message.includes('unknown field'),
        JSON.stringify(raw),
      );
    }
  });
});

describe('relu-cnn matrix-product paths agree', () => {
  // Under jsKernels the convolutions use the model's register-blocked loops; any other kernel set
  // (here jsKernels' own gemm under another name, and WebAssembly with every call in wasm) uses
  // kernels().gemm. Same sums in another order: TOL.reassociation.
  const jsGemm: Kernels = { ...jsKernels, name: 'js-gemm' };
  const ALL_WASM = { gemm: 0, gemv: 0, gemvT: 0, ger: 0, dot: 0, axpy: 0 };
  const others: Kernels[] = [jsGemm, ...(wasmKernelsSupported() ? [createWasmKernelsSync({ thresholds: ALL_WASM, name: 'wasm-all' })] : [])];
  const specs = [
    { inputShape: [2, 5, 5], conv: [{ channels: 3, kernel: 2, pool: { kind: 'avg' as const, size: 2 } }], dense: [4], outputs: 3 },
    { inputShape: [1, 8, 8], conv: [{ channels: 3, kernel: 3, stride: 2, pool: { kind: 'max' as const, size: 3 } }], dense: [3, 4], outputs: 2, leak: 0.2 },
    { inputShape: [1, 28, 28], conv: MNIST_CONV, outputs: 10 },
  ];
  for (const opts of specs) {
    it(JSON.stringify(opts), () => {
      const model = createReluCnn(opts);
      const rng = new Rng(31);
      const theta = model.init(rng, 1);
      const x = randn(rng, model.inputDim);
      const dOut = randn(rng, model.outputDim);
      const ref = run(model, theta, x, dOut);
      for (const k of others) {
        const prev = setKernels(k);
        try {
          const r = run(model, theta, x, dOut);
          assertAllClose(r.out, ref.out, TOL.reassociation, `${k.name}: f`);
          assertAllClose(r.gTheta, ref.gTheta, TOL.reassociation, `${k.name}: ∇θ f`);
          assertAllClose(r.gX, ref.gX, TOL.reassociation, `${k.name}: ∇x f`);
          // Exact homogeneity holds on this path too.
          const r2 = run(model, theta.map((t) => 2 * t), x, dOut);
          assertSame(r2.out, r.out.map((v) => 2 ** model.order * v), `${k.name}: f(2θ)`);
        } finally {
          setKernels(prev);
        }
      }
    });
  }
});
