/** The lab's state and its URL and CSV forms (web/src/lab-state.ts). */
import test from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STATE, LabStateError, decodeState, encodeState, pointsFromCsv, pointsToCsv, presetPoints, LAB_PRESETS, type LabState } from '../../web/src/lab-state.ts';

test('encodeState/decodeState round-trip every field (defaults left out of the URL)', () => {
  const s: LabState = {
    preset: '',
    points: [
      { x: 1.25, y: -0.5, label: 1 },
      { x: -2, y: 3.1416, label: -1 },
    ],
    model: 'diagonal',
    depth: 3,
    width: 7,
    attack: 'pgd',
    p: 1.5,
    eps: 0.125,
    schedule: 'loss-scaled',
    lr: 0.05,
    initScale: 0.3,
    seed: 9,
    stepsPerFrame: 50,
  };
  const q = encodeState(s);
  assert.deepEqual(decodeState(q), s);
  assert.deepEqual(decodeState(`?${q}`), s);
  assert.match(q, /pts=1\.25,-0\.5,1;-2,3\.1416,-1/);
  // Defaults: only the points and the preset are written.
  const d = encodeState(DEFAULT_STATE);
  assert.equal(d, 'preset=s2&pts=1,0.5,1;3,-1,1');
  assert.deepEqual(decodeState(d), DEFAULT_STATE);
  // p = ∞ (the default) is left out and read back as ∞; the query form 'p=inf' reads as ∞.
  assert.equal(decodeState(encodeState({ ...s, p: Infinity })).p, Infinity);
  assert.doesNotMatch(encodeState({ ...s, p: Infinity }), /[?&]p=/);
  assert.equal(decodeState('p=inf').p, Infinity);
  assert.match(encodeState({ ...s, p: 2 }), /&p=2&/);
});

test('decodeState: an empty query is the default state; a preset without pts draws its points', () => {
  assert.deepEqual(decodeState(''), DEFAULT_STATE);
  const s = decodeState('preset=s1');
  assert.equal(s.points.length, 4);
  assert.equal(s.preset, 's1');
  // Hand-edited points (pts without preset) have no preset.
  assert.equal(decodeState('pts=1,1,1').preset, '');
});

test('decodeState: bad values throw LabStateError naming the parameter and what is allowed', () => {
  const cases: [string, string, RegExp][] = [
    ['model=resnet', 'model', /model=resnet is not allowed \(one of linear, deep-linear/],
    ['eps=-1', 'eps', /eps=-1 is not allowed \(a number ≥ 0\)/],
    ['p=0.5', 'p', /p=0.5 is not allowed \(a number ≥ 1 or inf\)/],
    ['depth=2.5', 'depth', /depth=2.5 is not allowed/],
    ['lr=0', 'lr', /lr=0 is not allowed \(a number > 0\)/],
    ['seed=x', 'seed', /seed=x/],
    ['pts=1,2', 'pts', /pts: point 1 "1,2" is not x,y,label/],
    ['pts=1,2,0', 'pts', /label 1 or -1/],
    ['attack=cw', 'attack', /attack=cw is not allowed/],
    ['spf=0', 'spf', /spf=0/],
  ];
  for (const [q, field, re] of cases) {
    assert.throws(
      () => decodeState(q),
      (e: unknown) => e instanceof LabStateError && e.field === field && re.test(e.message),
      q,
    );
  }
});

test('presets are deterministic per seed; synthetic is separable through 0 with margin ≥ 0.2; sectors alternate labels', () => {
  for (const p of LAB_PRESETS) assert.deepEqual(presetPoints(p, 4), presetPoints(p, 4), p);
  assert.notDeepEqual(presetPoints('synthetic', 1), presetPoints('synthetic', 2));
  const syn = presetPoints('synthetic', 5);
  assert.equal(syn.length, 20);
  // Some unit direction separates them (found by scanning angles).
  let best = -Infinity;
  for (let k = 0; k < 3600; k++) {
    const phi = (2 * Math.PI * k) / 3600;
    const m = Math.min(...syn.map((pt) => pt.label * (Math.cos(phi) * pt.x + Math.sin(phi) * pt.y)));
    best = Math.max(best, m);
  }
  assert.ok(best >= 0.199, `margin ${best}`);
  const sec = presetPoints('sectors', 0);
  assert.ok(sec.some((p) => p.label === 1) && sec.some((p) => p.label === -1));
});

test('CSV export and import round-trip; bad CSV names the line', () => {
  const pts = presetPoints('sectors', 2);
  assert.deepEqual(pointsFromCsv(pointsToCsv(pts)), pts);
  assert.deepEqual(pointsFromCsv('1,2,1\n-1,-2,-1\n'), [
    { x: 1, y: 2, label: 1 },
    { x: -1, y: -2, label: -1 },
  ]);
  assert.throws(() => pointsFromCsv('x,y,label\n1,2,1\n1,oops,1\n'), /CSV line 3 "1,oops,1"/);
  assert.throws(() => pointsFromCsv('x,y,label\n'), /no points/);
});
