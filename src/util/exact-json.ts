/**
 * JSON that gives every float64 back bit for bit: finite numbers are written by JSON.stringify (the
 * shortest decimal that reads back to the same double, so exact), and the values JSON cannot hold
 * are tagged — NaN, ±Infinity and −0 as {"$f": "NaN" | "Infinity" | "-Infinity" | "-0"}, a
 * Float64Array as {"$f64": base64 of its little-endian bytes} (exact, compact, keeps NaN payloads).
 * Plain objects, arrays, strings, booleans and null pass through. Library code: no Node APIs (the
 * base64 is written by hand so that it runs in a browser too).
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out += B64[v >> 18] + B64[(v >> 12) & 63] + '==';
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + '=';
  }
  return out;
}

function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let k = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) throw new Error(`invalid base64 character at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (acc >> bits) & 255;
    }
  }
  return out;
}

/** Float64Array → base64 of its bytes in little-endian order (whatever the platform's order). */
export function float64ToBase64(a: Float64Array): string {
  const bytes = new Uint8Array(a.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat64(i * 8, a[i], true);
  return bytesToBase64(bytes);
}

/** Inverse of {@link float64ToBase64}. */
export function base64ToFloat64(text: string): Float64Array {
  const bytes = base64ToBytes(text);
  if (bytes.length % 8 !== 0) throw new Error(`base64 float64 data has ${bytes.length} bytes, not a multiple of 8`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

function encodeValue(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $f: 'NaN' };
    if (v === Infinity) return { $f: 'Infinity' };
    if (v === -Infinity) return { $f: '-Infinity' };
    if (Object.is(v, -0)) return { $f: '-0' };
    return v;
  }
  if (v instanceof Float64Array) return { $f64: float64ToBase64(v) };
  if (Array.isArray(v)) return v.map(encodeValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = encodeValue(x);
    return out;
  }
  return v;
}

function decodeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$f') {
      const t = o.$f;
      if (t === 'NaN') return NaN;
      if (t === 'Infinity') return Infinity;
      if (t === '-Infinity') return -Infinity;
      if (t === '-0') return -0;
    }
    if (keys.length === 1 && keys[0] === '$f64' && typeof o.$f64 === 'string') return base64ToFloat64(o.$f64);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = decodeValue(x);
    return out;
  }
  return v;
}

/** Text of a value such that {@link parseExact} returns it with every number bit for bit. */
export function stringifyExact(value: unknown): string {
  return JSON.stringify(encodeValue(value));
}

/** Inverse of {@link stringifyExact}. */
export function parseExact<T = unknown>(text: string): T {
  return decodeValue(JSON.parse(text)) as T;
}
