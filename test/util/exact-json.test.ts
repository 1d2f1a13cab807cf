import test from 'node:test';
import assert from 'node:assert/strict';
import { parseExact, stringifyExact, float64ToBase64, base64ToFloat64 } from '../../src/util/exact-json.ts';
import { Rng } from '../../src/linalg/rng.ts';

const sameBits = (a: number, b: number): boolean => {
  const x = new Float64Array([a, b]);
  const u = new BigUint64Array(x.buffer);
  return u[0] === u[1];
};

test('exact JSON: every float64 comes back bit for bit (random doubles, subnormals, extremes, NaN, ±∞, −0)', () => {
  const rng = new Rng(7);
  const bits = new BigUint64Array(2000);
  for (let i = 0; i < bits.length; i++) bits[i] = (BigInt(Math.floor(rng.uniform() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng.uniform() * 2 ** 32));
  const randomDoubles = Array.from(new Float64Array(bits.buffer)).filter((v) => !Number.isNaN(v));
  const special = [0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, 2.2250738585072014e-308, 0.1, 1 / 3, -1e-300];
  const values = [...randomDoubles, ...special];
  const back = parseExact<{ v: number[] }>(stringifyExact({ v: values })).v;
  assert.equal(back.length, values.length);
  for (let i = 0; i < values.length; i++) assert.ok(sameBits(values[i], back[i]) || (Number.isNaN(values[i]) && Number.isNaN(back[i])), `${values[i]} → ${back[i]}`);
  // Plain JSON loses −0 and the non-finite values; this codec must not.
  assert.ok(Object.is(parseExact<number>(stringifyExact(-0)), -0));
});

test('exact JSON: Float64Arrays (NaN payloads included), nesting, undefined fields dropped', () => {
  const a = new Float64Array([1.5, -0, NaN, Infinity, 5e-324, Math.PI]);
  const raw = new Uint8Array(a.buffer);
  raw[16] ^= 1; // a NaN with a different payload
  const doc = { a, nested: [{ x: 1, y: undefined, z: [NaN, 'text', null, true] }] };
  const back = parseExact<typeof doc>(stringifyExact(doc));
  assert.ok(back.a instanceof Float64Array);
  assert.deepEqual(new Uint8Array(back.a.buffer), raw);
  assert.deepEqual(Object.keys(back.nested[0]), ['x', 'z']);
  assert.ok(Number.isNaN(back.nested[0].z[0] as number));
  assert.deepEqual(back.nested[0].z.slice(1), ['text', null, true]);
  for (const n of [0, 1, 2, 3, 17]) {
    const v = Float64Array.from({ length: n }, (_, i) => i * 0.3 - 1);
    assert.deepEqual(base64ToFloat64(float64ToBase64(v)), v);
  }
  assert.throws(() => base64ToFloat64('AAAA'), /multiple of 8/);
});
