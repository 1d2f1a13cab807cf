/**
 * The optional kink methods of relu-mlp and leaky-relu-mlp (`nearKinks`, `backwardWithSlopes`): with no
 * slope chosen they are `backward` bit for bit; a chosen slope at a unit changes exactly what the
 * chain rule says; near-kink units are found by the relative tolerance |z_j| ≤ τ‖w_j‖‖a_in‖.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createReluMlp } from '../../src/models/relu-mlp.ts';
import { createLeakyReluMlp } from '../../src/models/leaky-relu-mlp.ts';
import { Rng } from '../../src/linalg/rng.ts';

test('backwardWithSlopes with every slope NaN, or each at its convention, is backward bit for bit', () => {
  for (const model of [createReluMlp({ inputDim: 3, depth: 3, width: 5, outputs: 2 }), createLeakyReluMlp({ inputDim: 3, depth: 4, width: [4, 6, 3] })]) {
    const rng = new Rng(3);
    const theta = model.init(rng, 1);
    const ws = model.createWorkspace();
    const x = Float64Array.from({ length: 3 }, () => rng.normal());
    const out = new Float64Array(model.outputDim);
    const dOut = Float64Array.from({ length: model.outputDim }, () => rng.normal());
    model.forward(theta, x, 0, out, ws);
    const want = new Float64Array(model.numParams);
    model.backward(theta, x, 0, dOut, want, null, 0, ws);
    const set = model.nearKinks!(theta, x, 0, Infinity, ws)!;
    assert.equal(set.units.length, set.hiddenUnits, 'τ = ∞: every hidden unit');
    const none = new Float64Array(set.hiddenUnits).fill(NaN);
    const got = new Float64Array(model.numParams);
    model.backwardWithSlopes!(theta, x, 0, dOut, none, got, ws);
    assert.deepEqual(got, want, model.kind);
    // Each slope set to its convention (1 on z > 0, a on z ≤ 0) reproduces backward as well.
    const conv = Float64Array.from({ length: set.hiddenUnits }, (_, j) => (ws.z[j] > 0 ? 1 : set.slopeLow));
    const got2 = new Float64Array(model.numParams);
    model.backwardWithSlopes!(theta, x, 0, dOut, conv, got2, ws);
    assert.deepEqual(got2, want, `${model.kind}, explicit slopes`);
  }
});

test('a kink unit switched on: the gradient gains v_j·x in its weight row (depth 2), and nearKinks finds it', () => {
  // W1 = [[1, 0], [0, 1]], W2 = [3, −2]; x = (1, 0): unit 2 has z = 0 exactly.
  for (const [model, a] of [[createReluMlp({ inputDim: 2, depth: 2, width: 2 }), 0], [createLeakyReluMlp({ inputDim: 2, depth: 2, width: 2, leak: 0.25 }), 0.25]] as const) {
    const theta = Float64Array.of(1, 0, 0, 1, 3, -2);
    const x = Float64Array.of(1, 0);
    const ws = model.createWorkspace();
    const out = new Float64Array(1);
    model.forward(theta, x, 0, out, ws);
    const set = model.nearKinks!(theta, x, 0, 1e-12, ws)!;
    assert.deepEqual(Array.from(set.units), [1]);
    assert.deepEqual(Array.from(set.layers), [1]);
    assert.deepEqual([set.slopeLow, set.slopeHigh], [a, 1]);
    const slopes = Float64Array.of(NaN, 1);
    const g = new Float64Array(6);
    model.backwardWithSlopes!(theta, x, 0, Float64Array.of(1), slopes, g, ws);
    // ∂f/∂W1[1,:] = v_2·s·x = −2·(1, 0); the rest as backward.
    assert.deepEqual(Array.from(g), [3, 0, -2, 0, 1, 0]);
    const g0 = new Float64Array(6);
    model.backward(theta, x, 0, Float64Array.of(1), g0, null, 0, ws);
    assert.deepEqual(Array.from(g0), [3, 0, -2 * a + 0, 0, 1, 0]);
    // Off the kink by a cosine of 0.0995: found at τ = 0.1, not at τ = 0.05.
    const y = Float64Array.of(1, 0.1);
    model.forward(theta, y, 0, out, ws);
    assert.equal(model.nearKinks!(theta, y, 0, 0.05, ws)!.units.length, 0);
    assert.deepEqual(Array.from(model.nearKinks!(theta, y, 0, 0.1, ws)!.units), [1]);
  }
});
