import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/errors.ts';
import {
  datasetToCsv,
  datasetToJson,
  parseCsvDataset,
  parseJsonDataset,
  type ParseOptions,
} from '../../src/data/parse.ts';
import { s2 } from '../../src/data/builtin.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import type { Dataset } from '../../src/data/dataset.ts';

/** Assert that `fn` throws ONE-line InputError whose message matches every pattern. */
function throwsInput(fn: () => unknown, ...patterns: (RegExp | string)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `message must be one line: ${JSON.stringify(e.message)}`);
    for (const p of patterns) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(p)}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

const json = (text: string, options?: ParseOptions): Dataset => parseJsonDataset(text, 'f.json', options);
const csv = (text: string, options?: ParseOptions): Dataset => parseCsvDataset(text, 'f.csv', options);

function bitsEqual(a: Float64Array, b: Float64Array): void {
  assert.equal(a.length, b.length);
  assert.deepEqual(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

describe('parseJsonDataset', () => {
  it('reads X and y, ignoring extra fields', () => {
    const ds = json('{"X": [[1, 2.5], [-3, 4e-3]], "y": [1, -1], "note": "extra"}');
    assert.equal(ds.name, 'f.json');
    assert.equal(ds.n, 2);
    assert.equal(ds.d, 2);
    assert.ok(ds.X instanceof Float64Array);
    assert.ok(ds.y instanceof Int32Array);
    assert.deepEqual(Array.from(ds.X), [1, 2.5, -3, 4e-3]);
    assert.deepEqual(Array.from(ds.y), [1, -1]);
    assert.equal(ds.binary, true);
    assert.equal(ds.classes, 2);
  });

  it('accepts a UTF-8 byte-order mark', () => {
    assert.equal(json('\uFEFF{"X": [[1]], "y": [1]}').n, 1);
  });

  it('reports invalid JSON with line, column and offset', () => {
    throwsInput(() => json('{"X": [[1, 2],\n  [3, }'), 'data file "f.json"', 'invalid JSON at line 2, column 7 (offset 21)', "expected a value");
    throwsInput(() => json('{"X": [[1, 2]'), 'invalid JSON', 'end of input');
    throwsInput(() => json(''), 'invalid JSON at line 1, column 1 (offset 0)');
    throwsInput(() => json('{"X": [[1]], "y": [1]} x'), 'offset 23', 'after the end of the JSON value');
    throwsInput(() => json('{X: 1}'), 'expected a quoted field name');
    throwsInput(() => json('{"X": [[01]], "y": [1]}'), "expected ',' or ']'");
    throwsInput(() => json('{"X": [[NaN]], "y": [1]}'), 'column 9', 'expected a value, found "N"');
  });

  it('names missing or mistyped X and y', () => {
    throwsInput(() => json('[1, 2]'), 'f.json', 'expected a JSON object', 'got an array');
    throwsInput(() => json('{"y": [1]}'), 'f.json', 'field "X" is missing');
    throwsInput(() => json('{"X": [[1]]}'), 'field "y" is missing');
    throwsInput(() => json('{"X": "abc", "y": [1]}'), 'field "X" must be an array, got string "abc"');
    throwsInput(() => json('{"X": [[1]], "y": 1}'), 'field "y" must be an array, got number 1');
  });

  it('rejects an empty data set, d = 0 and a length mismatch', () => {
    throwsInput(() => json('{"X": [], "y": []}'), 'f.json', 'empty data set');
    throwsInput(() => json('{"X": [[], []], "y": [1, 1]}'), 'row 1', 'd = 0');
    throwsInput(() => json('{"X": [[1], [2]], "y": [1]}'), '"X" has 2 rows but "y" has 1 label');
  });

  it('names ragged rows and bad values by row and column', () => {
    throwsInput(
      () => json('{"X": [[1,2,3,4,5], [1,2,3,4,5], [1,2,3,4]], "y": [1, 1, 1]}'),
      'data file "f.json": row 3 has 4 values, expected 5',
    );
    throwsInput(() => json('{"X": [[1, 2], 3], "y": [1, 1]}'), 'row 2 of "X" must be an array of numbers, got number 3');
    throwsInput(() => json('{"X": [[1, 2], [3, "4"]], "y": [1, 1]}'), 'row 2, column 2: expected a number, got string "4"');
    throwsInput(() => json('{"X": [[1, null]], "y": [1]}'), 'row 1, column 2: expected a number, got null');
    throwsInput(() => json('{"X": [[1, 2], [1e999, 0]], "y": [1, 1]}'), 'row 2, column 1: value is not finite');
    throwsInput(() => json('{"X": [[1], [2]], "y": [1, "a"]}'), 'row 2: label must be a number');
  });

  it('checks the expected dimension', () => {
    throwsInput(
      () => json('{"X": [[1, 2, 3]], "y": [1]}', { expectDim: 2, expectDimFrom: 'the model' }),
      'f.json',
      'row 1 has d = 3 features, but the model expects d = 2',
    );
    assert.equal(json('{"X": [[1, 2]], "y": [1]}', { expectDim: 2 }).d, 2);
  });
});

describe('labels', () => {
  const X = '[[1], [2], [3], [4]]';
  const withY = (y: string, options?: ParseOptions): Dataset => json(`{"X": ${X}, "y": ${y}}`, options);

  it('auto: ±1 → binary, 0..K−1 → K-class (K = max + 1)', () => {
    const b = withY('[1, -1, -1, 1]');
    assert.equal(b.binary, true);
    assert.equal(b.classes, 2);
    const onlyPositive = withY('[1, 1, 1, 1]');
    assert.equal(onlyPositive.binary, true);
    const k = withY('[0, 2, 1, 4]');
    assert.equal(k.binary, false);
    assert.equal(k.classes, 5);
    assert.deepEqual(Array.from(k.y), [0, 2, 1, 4]);
    // 0/1 labels are read as binary (0 → −1, 1 → +1) unless more classes are declared or asked for.
    const zeroOne = withY('[0, 1, 1, 0]');
    assert.equal(zeroOne.binary, true);
    assert.equal(zeroOne.classes, 2);
    assert.deepEqual(Array.from(zeroOne.y), [-1, 1, 1, -1]);
    const heldOut = withY('[0, 1, 1, 0]', { classes: 3 });
    assert.equal(heldOut.binary, false);
    assert.equal(heldOut.classes, 3);
    const asked = withY('[0, 1, 1, 0]', { labels: 'multiclass' });
    assert.equal(asked.binary, false);
    assert.deepEqual(Array.from(asked.y), [0, 1, 1, 0]);
  });

  it('binary: ±1 kept, 0/1 mapped to −1/+1, anything else rejected', () => {
    assert.deepEqual(Array.from(withY('[0, 1, 1, 0]', { labels: 'binary' }).y), [-1, 1, 1, -1]);
    assert.deepEqual(Array.from(withY('[1, -1, 1, 1]', { labels: 'binary' }).y), [1, -1, 1, 1]);
    throwsInput(() => withY('[1, -1, 0, 1]', { labels: 'binary' }), 'f.json', 'row 3: label 0 is not allowed', 'binary');
    throwsInput(() => withY('[0, 1, 2, 1]', { labels: 'binary' }), 'row 3: label 2 is not allowed');
  });

  it('multiclass: −1 rejected, classes option widens K', () => {
    throwsInput(() => withY('[1, -1, 1, 1]', { labels: 'multiclass' }), 'row 2: label -1 is negative');
    const k = withY('[0, 1, 1, 0]', { labels: 'multiclass', classes: 10 });
    assert.equal(k.classes, 10);
    throwsInput(() => withY('[0, 1, 3, 0]', { classes: 3 }), 'row 3: label 3 is not below classes = 3');
  });

  it('rejects labels outside the allowed set', () => {
    throwsInput(() => withY('[1, 0.5, 1, 1]'), 'f.json', 'row 2: label 0.5 is not an integer');
    throwsInput(() => withY('[0, 1, -2, 1]'), 'row 3: label -2 is negative');
    throwsInput(() => withY('[1, -1, 2, 1]'), 'row 2: label -1 is negative');
    throwsInput(() => withY('[0, 0, 0, 0]'), 'all labels are 0', 'K >= 2');
    throwsInput(() => withY('[0, 1, 5000, 1]'), 'row 3: label 5000 is too large');
  });
});

describe('parseCsvDataset', () => {
  it('reads rows with the label last, trimming whitespace and skipping blank lines', () => {
    const ds = csv('1, 2 ,1\n\n  \n-3,4e-3,  -1\r\n0.5,.25,1\n');
    assert.equal(ds.n, 3);
    assert.equal(ds.d, 2);
    assert.deepEqual(Array.from(ds.X), [1, 2, -3, 4e-3, 0.5, 0.25]);
    assert.deepEqual(Array.from(ds.y), [1, -1, 1]);
    assert.equal(ds.binary, true);
  });

  it('skips a header only when it is the first line and entirely non-numeric', () => {
    const h = csv('x1,x2,label\n1,2,0\n3,4,1\n5,6,2\n');
    assert.equal(h.n, 3);
    assert.equal(h.classes, 3);
    const quoted = csv('"a","b","y"\n"1","2","1"\n');
    assert.deepEqual(Array.from(quoted.X), [1, 2]);
    // Blank lines before the header do not count.
    assert.equal(csv('\n\nx,y\n1,1\n').n, 1);
    // Partly numeric first line: it is data, and the message says why.
    throwsInput(() => csv('x1,2,label\n1,2,1\n'), 'data file "f.csv": line 1, column 1: "x1" is not a number', 'header row must be entirely non-numeric');
    // A header anywhere else is just a bad row.
    throwsInput(() => csv('1,2,1\nx1,x2,y\n'), 'line 2, column 1: "x1" is not a number');
    // The header fixes the column count.
    throwsInput(() => csv('a,b,y\n1,2,3,1\n'), 'line 2 has 4 values, expected 3 (the header on line 1 has 3 names)');
    throwsInput(() => csv('a,b,y\n'), 'empty data set: no data rows after the header on line 1');
  });

  it('names ragged lines, bad values and d = 0 by line number', () => {
    throwsInput(() => csv('1,2,3,4,1\n\n1,2,3,1\n'), 'data file "f.csv": line 3 has 4 values, expected 5');
    throwsInput(() => csv('1,2,1\n1,abc,1\n'), 'line 2, column 2: "abc" is not a number');
    throwsInput(() => csv('1,2,1\n1,,1\n'), 'line 2, column 2: empty value');
    throwsInput(() => csv('1,2,1\n1,NaN,1\n'), 'line 2, column 2: value "NaN" is not finite');
    throwsInput(() => csv('1,2,1\n1,-Infinity,1\n'), 'value "-Infinity" is not finite');
    throwsInput(() => csv('1,2,1\n1,1e999,1\n'), 'line 2, column 2: value "1e999" is not finite');
    throwsInput(() => csv('1,0x10,1\n'), 'line 1, column 2: "0x10" is not a number');
    throwsInput(() => csv('1,2,yes\n'), 'line 1, label (last column): "yes" is not a number');
    throwsInput(() => csv('1\n2\n'), 'line 1 has only 1 value', 'd = 0');
    throwsInput(() => csv('1;2;1\n'), 'fields must be separated by commas');
    throwsInput(() => csv('1,2,1\n1;2;1\n'), 'line 2 has 1 value, expected 3 (fields must be separated by commas)');
    throwsInput(() => csv(''), 'f.csv', 'empty data set');
    throwsInput(() => csv('\n \n'), 'empty data set');
  });

  it('names the line of a bad label', () => {
    throwsInput(() => csv('h1,h2,y\n1,2,1\n\n1,2,0.5\n'), 'data file "f.csv": line 4: label 0.5 is not an integer');
    throwsInput(() => csv('1,2,0\n1,2,-1\n'), 'line 2: label -1 is negative');
  });

  it('checks the expected dimension on the first data line', () => {
    throwsInput(() => csv('a,b,c,y\n1,2,3,1\n', { expectDim: 2 }), 'f.csv', 'line 2 has d = 3 features, but the caller expects d = 2');
  });
});

describe('round trip JSON ↔ CSV', () => {
  const sets: Dataset[] = [
    s2({ mirrored: true }),
    syntheticSeparable({ n: 40, d: 7, margin: 0.3, seed: 5 }),
    {
      name: 'k',
      n: 4,
      d: 3,
      X: Float64Array.from([0.1, -0, 1e-300, 5e-324, -1.7976931348623157e308, 1 / 3, 2, 3, 4, 5, 6, 7]),
      y: Int32Array.from([0, 2, 1, 2]),
      binary: false,
      classes: 3,
    },
  ];
  for (const ds of sets) {
    it(`${ds.name}: X bit-identical, labels and classes preserved`, () => {
      const viaJson = parseJsonDataset(datasetToJson(ds), 'a.json');
      const viaCsv = parseCsvDataset(datasetToCsv(ds), 'a.csv');
      const back = parseJsonDataset(datasetToJson(viaCsv), 'b.json');
      for (const r of [viaJson, viaCsv, back]) {
        assert.equal(r.n, ds.n);
        assert.equal(r.d, ds.d);
        bitsEqual(r.X, ds.X);
        assert.deepEqual(r.y, ds.y);
        assert.equal(r.binary, ds.binary);
        assert.equal(r.classes, ds.classes);
      }
    });
  }
});
