import test from 'node:test';
import assert from 'node:assert/strict';
import { sectors } from '../../src/data/sectors.ts';
import { parseDataSpec, loadBuiltinData, formatDataSpec } from '../../src/data/spec.ts';
import { solve } from '../../src/solvers/index.ts';
import { InputError } from '../../src/errors.ts';

test('sectors: deterministic, alternating angular labels, gap respected, not linearly separable', async () => {
  const a = sectors();
  const b = sectors();
  assert.deepEqual(Array.from(a.X), Array.from(b.X));
  assert.notDeepEqual(Array.from(a.X), Array.from(sectors({ seed: 1 }).X));
  assert.equal(a.n, 40);
  for (let i = 0; i < a.n; i++) {
    const angle = Math.atan2(a.X[2 * i + 1], a.X[2 * i]);
    const turn = (angle < 0 ? angle + 2 * Math.PI : angle) / (Math.PI / 2);
    const sector = Math.floor(turn);
    const frac = turn - sector;
    assert.ok(frac >= 0.25 - 1e-12 && frac <= 0.75 + 1e-12, `angular gap: ${frac}`);
    assert.equal(a.y[i], sector % 2 === 0 ? 1 : -1);
    const r = Math.hypot(a.X[2 * i], a.X[2 * i + 1]);
    assert.ok(r >= 1 && r <= 2);
  }
  // An independent check that no linear classifier through the origin separates it.
  assert.equal((await solve('svm', a, { q: 2 })).status, 'not-separable');
});

test('sectors spec: defaults, round trip, errors name the value', () => {
  const spec = parseDataSpec('sectors');
  assert.deepEqual(spec, { kind: 'sectors', n: 40, k: 4, seed: 0, gap: 0.25 });
  assert.equal(formatDataSpec(spec), 'sectors:n=40,k=4,seed=0,gap=0.25');
  const six = loadBuiltinData(parseDataSpec('sectors:n=12,k=6,seed=3,gap=0.1') as never);
  assert.equal(six.n, 12);
  for (const bad of ['sectors:k=5', 'sectors:k=2', 'sectors:n=3', 'sectors:gap=0.5', 'sectors:foo=1']) assert.throws(() => parseDataSpec(bad), InputError, bad);
});
