/**
 * The model added through the descriptor registry: its own file (src/models/leaky-relu-mlp.ts), one
 * registry line, and this test. Its settings reach the config, the flags, --help and the JSON Schema
 * without any other change; the conformance suite (test/models/conformance.test.ts) runs on it too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModel, MODELS } from '../../src/models/registry.ts';
import { createLeakyReluMlp, DEFAULT_LEAK } from '../../src/models/leaky-relu-mlp.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { modelFromConfig } from '../../src/train/from-config.ts';
import { sectors } from '../../src/data/sectors.ts';
import { InputError } from '../../src/errors.ts';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('leaky-relu-mlp', () => {
  it('computes W2 σ(W1 x) with σ(z) = max(z, a·z), a = 0.1 by default', () => {
    const model = createLeakyReluMlp({ inputDim: 2, depth: 2, width: 2 });
    assert.equal(model.kind, 'leaky-relu-mlp');
    assert.equal(model.spec.leak, DEFAULT_LEAK);
    // W1 = [[1, 2], [−3, 1]], W2 = [[2, −1]]; x = (1, 1): z = (3, −2), σ(z) = (3, −0.2), f = 6 + 0.2.
    const theta = Float64Array.of(1, 2, -3, 1, 2, -1);
    const out = new Float64Array(1);
    model.forward(theta, Float64Array.of(1, 1), 0, out, model.createWorkspace());
    assert.equal(out[0], 2 * 3 + -1 * (0.1 * -2));
    // 2-homogeneous in θ: f(2θ) = 4 f(θ) exactly.
    const out2 = new Float64Array(1);
    model.forward(theta.map((v) => 2 * v), Float64Array.of(1, 1), 0, out2, model.createWorkspace());
    assert.equal(out2[0], 4 * out[0]);
  });

  it('is registered with its settings and traits, and the config gives it its own default slope', () => {
    const d = MODELS.find('leaky-relu-mlp')!;
    assert.deepEqual(Object.keys(d.fields), ['depth', 'width', 'leak']);
    assert.equal(d.traits.linearInX, false);
    assert.equal(d.traits.referenceProblem(3), null);
    const c = parseTrainConfig({ model: 'leaky-relu-mlp', depth: 3, width: 6 });
    assert.equal(c.leak, 0.1);
    const model = modelFromConfig(c, sectors());
    assert.equal(model.kind, 'leaky-relu-mlp');
    assert.equal(model.order, 3);
    assert.equal(model.spec.leak, 0.1);
  });

  it('refuses a slope outside (0, 1) — a = 0 is relu-mlp — naming the field', () => {
    for (const leak of [0, -0.1, 1]) {
      assert.throws(
        () => createModel({ kind: 'leaky-relu-mlp', inputDim: 3, leak }),
        (e: unknown) => e instanceof InputError && e.field === 'leak' && e.message.includes('(0, 1)'),
        String(leak),
      );
    }
    assert.throws(() => parseTrainConfig({ model: { kind: 'leaky-relu-mlp', leak: 0 } }), (e: unknown) => e instanceof InputError && e.message.includes('model.leak'));
  });

  it('trains from the CLI with FGSM on the sectors set: adversarially separable, γ̄ > 0', () => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'advbias.mjs'), 'train', '--data', 'sectors', '--model', 'leaky-relu-mlp', '--depth', '2', '--width', '20', '--leak', '0.2', '--attack', 'fgsm', '--eps', '0.05', '--steps', '3000', '--json'],
      { encoding: 'utf8', cwd: SCRATCH },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.run.model.kind, 'leaky-relu-mlp');
    assert.equal(doc.run.model.leak, 0.2);
    assert.equal(doc.final.trainAccuracy, 1);
    assert.ok(doc.final.adversarialNormalizedMargin > 0, `γ̄ = ${doc.final.adversarialNormalizedMargin}`);
    assert.ok(doc.final.kkt.stationarity < 1, 'KKT residuals are measured for it');
  });
});
