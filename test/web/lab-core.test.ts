/**
 * The lab's engine (web/src/lab-core.ts) in Node: the library's training step converges to the
 * direction the lab predicts, for linear, deep linear, diagonal and conv nets; ReLU nets run with a
 * KKT residual; settings are validated by the library's config schema; runs are deterministic.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { LabEngine, LabError, labConfig } from '../../web/src/lab-core.ts';
import { decodeState } from '../../web/src/lab-state.ts';

test('deep linear, exact ℓ∞ on S2: the angle to the adversarial SVM and the objective gap go to ~0', () => {
  const e = new LabEngine(decodeState('preset=s2&model=deep-linear&attack=exact&p=inf&eps=0.3'));
  assert.equal(e.references.predicted, 'adv');
  const first = e.snapshot();
  e.advance(20000);
  const s = e.snapshot();
  assert.equal(s.t, 20000);
  assert.ok(first.angleDeg! > 1, `start ${first.angleDeg}°`);
  assert.ok(s.angleDeg! < 1e-3, `after 20000 steps ${s.angleDeg}°`);
  assert.ok(s.gap! >= -1e-12 && s.gap! < 1e-8, `gap ${s.gap}`);
  // The exact attack's adversarial points: x_i − ε y_i sign(β).
  const d = s.direction!;
  assert.ok(Math.abs(s.adversarial[0] - (1 - 0.3 * Math.sign(d[0]))) < 1e-12);
  assert.ok(s.alignment !== null && s.alignment > 0.999, `alignment ${s.alignment}`);
  // A KKT point of (P_adv): the stationarity residual vanishes (NaN at t = 0, before separation).
  assert.ok(s.kkt !== null && s.kkt < 1e-6, `KKT residual ${s.kkt}`);
});

for (const q of ['model=linear&attack=pgd&p=2&eps=0.3', 'preset=s1&model=diagonal&depth=2&attack=fgsm&eps=0.2', 'preset=s1&model=conv&depth=2&attack=exact&p=2&eps=0.3', 'preset=synthetic&seed=2&model=deep-linear&depth=3&attack=fgm&p=2&eps=0.05']) {
  test(`converges to the prediction: ${q}`, () => {
    // The direction converges like 1/t in angle under the default schedule (docs/BENCHMARKS.md,
    // "Default schedule"), not always monotonically: after 3·10⁴ steps within a few hundredths of a degree.
    const e = new LabEngine(decodeState(q));
    assert.ok(e.references.predicted !== null);
    const start = e.snapshot();
    e.advance(30000);
    const s = e.snapshot();
    assert.equal(e.error, null);
    assert.ok(s.angleDeg! < 0.05, `angle ${s.angleDeg}°`);
    assert.ok(s.gap !== null && s.gap > -1e-9 && s.gap < 5e-3, `gap ${s.gap}`);
    assert.ok(s.angleDeg! < start.angleDeg! / 10, `angle ${start.angleDeg}° at t = 0, ${s.angleDeg}° at 30000`);
  });
}

test('the ε-path: the predicted direction from ε = 0 (the ℓ2-SVM, or C3 at ε = 0) towards γ_q* (the ℓq-SVM)', () => {
  const lin = new LabEngine(decodeState('preset=s2&model=deep-linear&attack=exact&p=inf&eps=0.1')).references;
  assert.equal(lin.path.length, 40);
  const [a0, a1] = lin.path[0];
  assert.ok(Math.hypot(a0 - lin.l2!.direction[0], a1 - lin.l2!.direction[1]) < 1e-6, 'starts at the ℓ2-SVM');
  // Near γ_q*, the adversarial SVM approaches the ℓq-SVM (q = 1 here): the last point is closer to it than the first.
  const dist = (u: [number, number], v: [number, number]): number => Math.hypot(u[0] - v[0], u[1] - v[1]);
  assert.ok(dist(lin.path[39], lin.lq!.direction) < dist(lin.path[0], lin.lq!.direction));
  const diag = new LabEngine(decodeState('preset=s1&model=diagonal&depth=2&attack=exact&p=2&eps=0.1')).references;
  assert.equal(diag.predicted, 'c3');
  assert.equal(diag.path.length, 40);
});

test('ReLU MLP on sectors: no prediction, a KKT residual, a heat-map grid', () => {
  const e = new LabEngine(decodeState('preset=sectors&model=relu-mlp&depth=2&width=20&attack=fgsm&eps=0.05'));
  assert.equal(e.references.predicted, null);
  e.advance(2000);
  const s = e.snapshot();
  assert.equal(s.direction, null);
  assert.equal(s.angleDeg, null);
  assert.ok(s.kkt !== null && Number.isFinite(s.kkt));
  const g = e.grid(8, -2, 2, -2, 2);
  assert.equal(g.length, 64);
  assert.ok(g.some((v) => v > 0) && g.some((v) => v < 0));
});

test('the same state gives bit-identical runs', () => {
  const run = () => {
    const e = new LabEngine(decodeState('preset=synthetic&model=deep-linear&attack=pgd&p=inf&eps=0.05&seed=3'));
    e.advance(500);
    return e.snapshot();
  };
  const a = run();
  const b = run();
  assert.deepEqual(a.direction, b.direction);
  assert.equal(a.advMargin, b.advMargin);
});

test('settings go through the library config: FGSM is ℓ∞, width only where it applies, errors name the field', () => {
  assert.equal(labConfig(decodeState('attack=fgsm&p=2')).p, Infinity);
  assert.equal(labConfig(decodeState('model=relu-mlp&width=7')).width, 7);
  assert.throws(() => new LabEngine(decodeState('pts=')), (e: unknown) => e instanceof LabError && /no points/.test((e as Error).message));
  // ε above the data's robust separability threshold: the library refuses nothing here (training
  // runs), but the prediction is null: no adversarially separating direction exists.
  const e = new LabEngine(decodeState('preset=s2&attack=exact&p=inf&eps=5'));
  assert.equal(e.references.adv, null);
});
