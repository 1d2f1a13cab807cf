/**
 * The batched path of the gradient attacks (src/attacks/fgm.ts, src/attacks/pgd.ts) and of training
 * (MarginEvaluator.gradientAtLastMargins in src/train/trainer.ts) against the per-example path —
 * the same model with its batch methods removed: FGSM/FGM/PGD δ on relu-mlp (binary and K-class), relu-cnn
 * and deep-linear (presented as not linear in x, so the β shortcut is off), row subsets, passes
 * (counts above ATTACK_BATCH_ROWS that are not a multiple of it), rows listed twice, rows left
 * alone, reuse of the batch buffers, and whole training histories.
 *
 * Every comparison runs with the plain-TS kernels, with a gemm that sums in another order, and with
 * the WebAssembly kernels (every call in wasm), so the tolerances are exercised, not only bit-identity.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAttack, validateAttackConfig } from '../../src/attacks/index.ts';
import { ATTACK_BATCH_ROWS } from '../../src/attacks/fgm.ts';
import type { AttackConfig } from '../../src/attacks/attack.ts';
import type { BatchModel, BatchWorkspace, Model } from '../../src/models/model.ts';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { createReluCnn } from '../../src/models/relu-cnn.ts';
import { createDeepLinear } from '../../src/models/deep-linear.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { train, type TrainOptions } from '../../src/train/trainer.ts';
import type { Measurement } from '../../src/metrics/measure.ts';
import { jsKernels, setKernels, type Kernels } from '../../src/linalg/kernels.ts';
import { createWasmKernelsSync, wasmKernelsSupported } from '../../src/linalg/wasm/backend.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { TOL, assertAllClose, assertClose } from '../support/tolerance.ts';

/**
 * δ, batch vs per-example: ∇_x m differs by a few roundings (gemm vs gemv summation order); s_p is
 * Lipschitz away from g = 0 and the ℓp projection is non-expansive, so δ differs by a few roundings
 * too. (FGSM could flip a sign where a gradient entry is within rounding of 0: measure zero here.)
 */
const DELTA_TOL = TOL.reassociation;
/**
 * Training histories after a few hundred steps, batch vs per-example: rounding-level differences in
 * each step's gradient, carried through a few hundred contracting steps on the sphere — the tolerance
 * of a reproduced trace (docs/THEORY.md §8). A ReLU crossing its kink between the two runs would show as a
 * much larger gap, and would be a real finding.
 */
const HISTORY_TOL = TOL.golden;

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

function withKernels<T>(k: Kernels, body: () => T): T {
  const prev = setKernels(k);
  try {
    return body();
  } finally {
    setKernels(prev);
  }
}

/** The model with its batch methods removed: the per-example path. */
function perExampleOnly(model: Model): Model {
  return { ...model, createBatchWorkspace: undefined, forwardBatch: undefined, backwardBatch: undefined };
}

/** The model presented as not linear in x (β shortcut off), batch methods kept. */
function withoutBeta(model: Model): Model {
  return { ...model, linearInX: false, predictor: undefined };
}

/**
 * n Gaussian inputs labelled by a random linear teacher (binary: sign of ⟨t, x⟩; K-class: argmax of
 * T x), so that training makes progress.
 */
function makeData(seed: number, n: number, d: number, classes: number): Dataset {
  const rng = new Rng(seed);
  const X = Float64Array.from({ length: n * d }, () => rng.normal());
  const binary = classes === 2;
  const rowsT = binary ? 1 : classes;
  const T = Float64Array.from({ length: rowsT * d }, () => rng.normal());
  const score = (i: number, c: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) s += T[c * d + j] * X[i * d + j];
    return s;
  };
  const y = Int32Array.from({ length: n }, (_, i) => {
    if (binary) return score(i, 0) >= 0 ? 1 : -1;
    let best = 0;
    for (let c = 1; c < classes; c++) if (score(i, c) > score(i, best)) best = c;
    return best;
  });
  return { name: `test:${seed}`, n, d, X, y, binary, classes };
}

const D = 6;
const MODELS: { name: string; model: () => Model; classes: number }[] = [
  { name: 'relu-mlp binary', model: () => createReluMlp({ inputDim: D, depth: 3, width: 8 }), classes: 2 },
  { name: 'relu-mlp 4-class', model: () => createReluMlp({ inputDim: D, depth: 3, width: [8, 5], outputs: 4 }), classes: 4 },
  { name: 'relu-mlp leaky 3-class, L = 2', model: () => createReluMlp({ inputDim: D, depth: 2, width: 9, outputs: 3, leak: 0.1 }), classes: 3 },
  { name: 'deep-linear (no β)', model: () => withoutBeta(createDeepLinear({ inputDim: D, depth: 3, width: 5 })), classes: 2 },
  { name: 'relu-cnn 3-class', model: () => createReluCnn({ inputShape: [1, 2, 3], conv: [{ channels: 3, kernel: 2 }], dense: [4], outputs: 3 }), classes: 3 },
];

const ATTACKS: AttackConfig[] = [
  validateAttackConfig({ kind: 'fgsm', eps: 0.1 }),
  validateAttackConfig({ kind: 'fgm', p: 1.5, eps: 0.2 }),
  validateAttackConfig({ kind: 'fgm', p: 1, eps: 0.2 }),
  validateAttackConfig({ kind: 'fgm', p: 2, eps: 0.2 }),
  validateAttackConfig({ kind: 'pgd', p: Infinity, eps: 0.1, steps: 5, stepSize: 0.04 }),
  validateAttackConfig({ kind: 'pgd', p: 2, eps: 0.3, steps: 4, stepSize: 0.1, randomStart: true }),
  validateAttackConfig({ kind: 'pgd', p: 3, eps: 0.3, steps: 3, stepSize: 0.15, randomStart: true }),
];

/** Fills δ before an attack so that rows the attack must leave alone are seen to be left alone. */
const SENTINEL = 7;

function perturb(cfg: AttackConfig, model: Model, theta: Float64Array, data: Dataset, indices: Int32Array | null): Float64Array {
  const delta = new Float64Array(data.n * data.d).fill(SENTINEL);
  createAttack(cfg).perturb(model, theta, data, indices, delta, model.createWorkspace(), cfg.randomStart ? new Rng(99) : null);
  return delta;
}

describe('attacks: batched margin input gradient vs per example', () => {
  // 2·ATTACK_BATCH_ROWS + 37 rows: three passes, the last one partial.
  const n = 2 * ATTACK_BATCH_ROWS + 37;
  for (const m of MODELS) {
    for (const kset of KERNEL_SETS) {
      it(`${m.name} [${kset.name}]: FGSM, FGM (p = 1, 1.5, 2), PGD (p = ∞, 2, 3, random starts) agree on all rows and on subsets`, () => {
        const model = m.model();
        const data = makeData(21, n, D, m.classes);
        const theta = model.init(new Rng(4), 1);
        const slowModel = perExampleOnly(model);
        // Unsorted, with a repeat, spanning the data; and a subset longer than one pass.
        const small = Int32Array.from([n - 1, 3, 200, 3, 57, ATTACK_BATCH_ROWS, 0]);
        const long = Int32Array.from({ length: ATTACK_BATCH_ROWS + 5 }, (_, k) => (7 * k + 2) % n);
        withKernels(kset, () => {
          for (const cfg of ATTACKS) {
            for (const indices of [null, small, long]) {
              const what = `${cfg.kind} p=${cfg.p} rows ${indices === null ? 'all' : indices.length}`;
              const fast = perturb(cfg, model, theta, data, indices);
              const slow = perturb(cfg, slowModel, theta, data, indices);
              assertAllClose(fast, slow, DELTA_TOL, what);
              if (indices !== null) {
                const listed = new Set(indices);
                for (let i = 0; i < n; i++) if (!listed.has(i)) for (let j = 0; j < D; j++) assert.equal(fast[i * D + j], SENTINEL, `${what}: row ${i} written`);
              }
              assert.ok(fast.some((v) => v !== 0 && v !== SENTINEL), `${what}: some δ non-zero`);
            }
          }
        });
      });
    }
  }

  it('attacks on binary linear-in-x models keep the β shortcut (no batch pass)', () => {
    const base = createDeepLinear({ inputDim: D, depth: 3, width: 5 }) as BatchModel;
    const model: Model = { ...base, forwardBatch: () => assert.fail('batch forward on the β path') };
    const data = makeData(3, 20, D, 2);
    const theta = model.init(new Rng(1), 1);
    for (const cfg of ATTACKS) perturb(cfg, model, theta, data, null);
  });

  it('no allocation in steady state: one batch workspace per attack and model, the same buffers on every pass', () => {
    const base = createReluMlp({ inputDim: D, depth: 3, width: 8, outputs: 3 }) as BatchModel;
    let created = 0;
    const seen = { bws: new Set<BatchWorkspace>(), out: new Set<Float64Array>(), gradX: new Set<Float64Array>(), dOut: new Set<Float64Array>() };
    const model: Model = {
      ...base,
      createBatchWorkspace: (r) => (created++, base.createBatchWorkspace(r)),
      forwardBatch: (theta, X, rows, start, count, out, bws) => {
        seen.bws.add(bws);
        seen.out.add(out);
        base.forwardBatch(theta, X, rows, start, count, out, bws);
      },
      backwardBatch: (theta, X, rows, start, count, dOut, gradTheta, gradX, bws) => {
        seen.bws.add(bws);
        seen.dOut.add(dOut);
        if (gradX) seen.gradX.add(gradX);
        base.backwardBatch(theta, X, rows, start, count, dOut, gradTheta, gradX, bws);
      },
    };
    const data = makeData(8, 100, D, 3);
    const theta = model.init(new Rng(5), 1);
    const delta = new Float64Array(data.n * D);
    const ws = model.createWorkspace();
    for (const cfg of [ATTACKS[0], ATTACKS[4], ATTACKS[5]]) {
      created = 0;
      for (const s of Object.values(seen)) s.clear();
      const attack = createAttack(cfg);
      const indices = Int32Array.from({ length: 80 }, (_, k) => k);
      for (let t = 0; t < 4; t++) attack.perturb(model, theta, data, indices, delta, ws, new Rng(t));
      assert.equal(created, 1, `${cfg.kind}: workspaces created`);
      for (const [name, s] of Object.entries(seen)) assert.equal(s.size, 1, `${cfg.kind}: distinct ${name}`);
    }
  });
});

/** Every numeric field of two histories, row by row. */
function assertHistoriesClose(a: Measurement[], b: Measurement[], what: string): void {
  assert.equal(a.length, b.length, `${what}: history lengths`);
  for (let r = 0; r < a.length; r++) {
    assert.equal(a[r].step, b[r].step);
    for (const [k, v] of Object.entries(a[r])) {
      if (typeof v !== 'number') continue;
      const w = (b[r] as unknown as Record<string, number>)[k];
      if (Number.isNaN(v)) assert.ok(Number.isNaN(w), `${what}: step ${a[r].step} ${k}`);
      else assertClose(v, w, HISTORY_TOL, `${what}: step ${a[r].step} ${k}`);
    }
  }
}

describe('training: batch path vs per-example path', () => {
  const STEPS = 300;
  const runs: { name: string; model: () => Model; classes: number; attack: AttackConfig; batchSize: number; schedule: TrainOptions['schedule'] }[] = [
    {
      name: 'relu-mlp binary, FGSM, mini-batch 16, logistic, loss-scaled',
      model: MODELS[0].model,
      classes: 2,
      attack: ATTACKS[0],
      batchSize: 16,
      schedule: { kind: 'loss-scaled', lr: 0.2, decay: 'sqrt', form: 'sphere' },
    },
    {
      name: 'relu-mlp 4-class, PGD-5 ℓ∞, mini-batch 20, logistic, loss-scaled',
      model: MODELS[1].model,
      classes: 4,
      attack: ATTACKS[4],
      batchSize: 20,
      schedule: { kind: 'loss-scaled', lr: 0.2, decay: 'sqrt', form: 'sphere' },
    },
    {
      name: 'relu-mlp leaky 3-class, PGD ℓ2 random start, full batch, loss-based (rollbacks)',
      model: MODELS[2].model,
      classes: 3,
      attack: ATTACKS[5],
      batchSize: 0,
      schedule: { kind: 'loss-based', lr: 0.5, decay: 'none', form: 'sphere' },
    },
    {
      name: 'relu-cnn 3-class, PGD-5 ℓ∞, mini-batch 16, logistic, loss-scaled',
      model: MODELS[4].model,
      classes: 3,
      attack: ATTACKS[4],
      batchSize: 16,
      schedule: { kind: 'loss-scaled', lr: 0.2, decay: 'sqrt', form: 'sphere' },
    },
    {
      name: 'deep-linear (no β), FGM ℓ1.5, mini-batch 16, constant',
      model: MODELS[3].model,
      classes: 2,
      attack: ATTACKS[1],
      batchSize: 16,
      schedule: { kind: 'constant', lr: 0.05, decay: 'none', form: 'sphere' },
    },
  ];
  for (const r of runs) {
    for (const kset of KERNEL_SETS) {
      it(`${r.name} [${kset.name}]: ${STEPS}-step histories, final θ̂ and log ρ agree`, () => {
        const data = makeData(31, 64, D, r.classes);
        const model = r.model();
        const opts = (m: Model): TrainOptions => ({
          model: m,
          data,
          attack: r.attack,
          loss: 'logistic',
          schedule: r.schedule,
          steps: STEPS,
          batchSize: r.batchSize,
          initScale: 1,
          seed: 3,
          record: { kind: 'every', interval: 25 },
        });
        const fast = withKernels(kset, () => train(opts(model)));
        const slow = withKernels(kset, () => train(opts(perExampleOnly(model))));
        assertHistoriesClose(fast.history, slow.history, r.name);
        assertAllClose(fast.thetaUnit, slow.thetaUnit, HISTORY_TOL, `${r.name}: θ̂`);
        assertClose(fast.logNorm, slow.logNorm, HISTORY_TOL, `${r.name}: log ρ`);
        assert.equal(fast.rollbacks, slow.rollbacks, 'rollbacks');
        // Training did something: the loss moved.
        assert.ok(fast.history[fast.history.length - 1].logLoss < fast.history[0].logLoss, `${r.name}: loss decreased`);
      });
    }
  }
});
