import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/errors.ts';
import { formatDataSpec, loadBuiltinData, parseDataSpec, type BuiltinDataSpec, type DataSpec } from '../../src/data/spec.ts';
import { datasetToCsv, datasetToJson } from '../../src/data/parse.ts';
import { s2 } from '../../src/data/builtin.ts';
import { loadData } from '../../src/node/load-data.ts';

function throwsInput(fn: () => unknown, ...texts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    for (const t of texts) assert.ok(e.message.includes(t), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(t)}`);
    return true;
  });
}

describe('parseDataSpec', () => {
  const cases: [string, DataSpec][] = [
    ['s1', { kind: 's1', mirrored: true }],
    ['s1-unmirrored', { kind: 's1', mirrored: false }],
    ['s2', { kind: 's2', mirrored: false }],
    [' s2-mirrored ', { kind: 's2', mirrored: true }],
    ['synthetic', { kind: 'synthetic', n: 100, d: 20, margin: 0.1, seed: 0 }],
    ['synthetic:', { kind: 'synthetic', n: 100, d: 20, margin: 0.1, seed: 0 }],
    ['synthetic:n=100,d=20,margin=0.1,seed=1', { kind: 'synthetic', n: 100, d: 20, margin: 0.1, seed: 1 }],
    ['synthetic: d = 5 , margin=2e-1', { kind: 'synthetic', n: 100, d: 5, margin: 0.2, seed: 0 }],
    ['synthetic:seed=-3', { kind: 'synthetic', n: 100, d: 20, margin: 0.1, seed: -3 }],
    ['mnist:3,8', { kind: 'mnist', digits: [3, 8] }],
    ['mnist: 3 , 8 ;per=500', { kind: 'mnist', digits: [3, 8], perClass: 500 }],
    ['mnist:all', { kind: 'mnist', digits: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }],
    ['mnist:all;offset=100;per=10', { kind: 'mnist', digits: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perClass: 10, offset: 100 }],
    ['mnist:0,4,7', { kind: 'mnist', digits: [0, 4, 7] }],
    ['data/train.json', { kind: 'file', path: 'data/train.json', format: 'json' }],
    ['C:\\data\\X.CSV', { kind: 'file', path: 'C:\\data\\X.CSV', format: 'csv' }],
    ['synthetic-run.csv', { kind: 'file', path: 'synthetic-run.csv', format: 'csv' }],
  ];
  for (const [text, spec] of cases) {
    it(`reads ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseDataSpec(text), spec);
      // The canonical text reads back to the same spec.
      assert.deepEqual(parseDataSpec(formatDataSpec(spec)), spec);
    });
  }

  it('formats canonical text', () => {
    assert.equal(formatDataSpec(parseDataSpec('synthetic:d=5')), 'synthetic:n=100,d=5,margin=0.1,seed=0');
    assert.equal(formatDataSpec(parseDataSpec('mnist:all;per=5')), 'mnist:all;per=5');
    assert.equal(formatDataSpec(parseDataSpec('mnist:8,3;offset=0')), 'mnist:8,3');
  });

  it('rejects everything else with an InputError naming --data and the value', () => {
    throwsInput(() => parseDataSpec(''), '--data', 'empty value');
    throwsInput(() => parseDataSpec('s3'), '--data "s3"', 'not a known data set', 'mnist:3,8');
    throwsInput(() => parseDataSpec('data.txt'), '--data "data.txt"', '.json/.csv');
    throwsInput(() => parseDataSpec('synthetic:n=10,k=3'), 'unknown key "k" (allowed: n, d, margin, seed)');
    throwsInput(() => parseDataSpec('synthetic:n=10,n=20'), 'key "n" is given twice');
    throwsInput(() => parseDataSpec('synthetic:n=0'), 'n=0 is not allowed: n must be an integer >= 1');
    throwsInput(() => parseDataSpec('synthetic:d=2.5'), 'd=2.5 is not allowed');
    throwsInput(() => parseDataSpec('synthetic:n='), 'key "n" has no value');
    throwsInput(() => parseDataSpec('synthetic:n'), '"n" is not key=value');
    throwsInput(() => parseDataSpec('synthetic:margin=0'), 'margin=0 is not allowed: margin must be a finite number > 0');
    throwsInput(() => parseDataSpec('synthetic:margin=abc'), 'margin=abc is not allowed');
    throwsInput(() => parseDataSpec('synthetic:seed=1.5'), 'seed=1.5 is not allowed');
    throwsInput(() => parseDataSpec('mnist'), 'name the digits');
    throwsInput(() => parseDataSpec('mnist:3'), 'need at least two digits');
    throwsInput(() => parseDataSpec('mnist:3,3'), 'digit 3 is listed twice');
    throwsInput(() => parseDataSpec('mnist:3,10'), '"10" is not a digit 0..9');
    throwsInput(() => parseDataSpec('mnist:3,8;per=0'), 'per=0 is not allowed');
    throwsInput(() => parseDataSpec('mnist:3,8;n=5'), 'unknown key "n" (allowed: per, offset)');
  });
});

describe('loadBuiltinData', () => {
  it('builds s1, s2 and synthetic without files', () => {
    assert.equal(loadBuiltinData({ kind: 's1', mirrored: true }).n, 4);
    assert.equal(loadBuiltinData({ kind: 's2', mirrored: true }).name, 's2-mirrored');
    const syn = loadBuiltinData(parseDataSpec('synthetic:n=10,d=3,seed=4') as BuiltinDataSpec);
    assert.equal(syn.name, 'synthetic:n=10,d=3,margin=0.1,seed=4');
    assert.equal(syn.X.length, 30);
  });

  it('needs a pixel source for MNIST and refuses files', () => {
    throwsInput(() => loadBuiltinData({ kind: 'mnist', digits: [3, 8] }), 'MNIST needs a pixel source');
    throwsInput(() => loadBuiltinData({ kind: 'file', path: 'a.csv', format: 'csv' } as never), 'read files with loadData');
  });
});

describe('loadData (Node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'advbias-data-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads JSON and CSV files by extension', () => {
    const ds = s2({ mirrored: true });
    const jsonPath = join(dir, 'a.json');
    const csvPath = join(dir, 'a.CSV');
    writeFileSync(jsonPath, datasetToJson(ds));
    writeFileSync(csvPath, datasetToCsv(ds));
    for (const p of [jsonPath, csvPath]) {
      const r = loadData(p);
      assert.equal(r.name, p);
      assert.deepEqual(r.X, ds.X);
      assert.deepEqual(r.y, ds.y);
    }
  });

  it('passes parse options through and names the file in errors', () => {
    const p = join(dir, 'b.csv');
    writeFileSync(p, 'x1,x2,y\n1,2,1\n3,4\n');
    throwsInput(() => loadData(p), `data file "${p}": line 3 has 2 values, expected 3`);
    const q = join(dir, 'c.csv');
    writeFileSync(q, '1,2,0\n3,4,1\n');
    assert.deepEqual(Array.from(loadData(q, { labels: 'binary' }).y), [-1, 1]);
    throwsInput(() => loadData(q, { expectDim: 3, expectDimFrom: 'the model' }), 'line 1 has d = 2 features, but the model expects d = 3');
  });

  it('reports missing files and directories on one line', () => {
    const missing = join(dir, 'nope.csv');
    throwsInput(() => loadData(missing), `cannot read data file "${missing}": no such file`);
    const sub = join(dir, 'sub.json');
    mkdirSync(sub);
    throwsInput(() => loadData(sub), `cannot read data file "${sub}": it is a directory`);
  });

  it('loads built-in kinds and MNIST, checking expectDim and labels', () => {
    assert.equal(loadData('s1').n, 4);
    assert.equal(loadData('synthetic:n=5,d=3').d, 3);
    throwsInput(() => loadData('s2', { expectDim: 3, expectDimFrom: 'the model' }), 'data "s2" has d = 2 features, but the model expects d = 3');
    throwsInput(() => loadData('s2', { labels: 'multiclass' }), 'data "s2" has binary labels (-1/+1), but multiclass labels were requested');
    const m = loadData('mnist:3,8;per=20');
    assert.equal(m.name, 'mnist:3,8;per=20');
    assert.equal(m.n, 40);
    assert.equal(m.d, 784);
    assert.equal(m.binary, true);
    throwsInput(() => loadData('mnist:3,8;per=2000'), 'digit 3 has 1032 samples');
  });
});
