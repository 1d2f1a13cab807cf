/**
 * Reader of NumPy's `.npy` format (versions 1.0, 2.0 and 3.0) for float arrays, as written by
 * `numpy.save` (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 *
 *   "\x93NUMPY", major, minor, header length (uint16 LE for v1, uint32 LE for v2/v3),
 *   an ASCII (v3: UTF-8) Python dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), },
 *   then the raw data.
 *
 * Library code: takes bytes, never touches the file system. Only little-endian float64 ('<f8') and
 * float32 ('<f4') are read; float32 values are widened to float64 exactly (and the caller is told, so
 * that it can say so). Every problem is one `InputError` naming the source and what is allowed.
 */
import { InputError } from '../errors.ts';

/** A float array read from a `.npy` file, in C (row-major) order. */
export interface NpyArray {
  /** The array's shape ([] for a scalar). */
  readonly shape: number[];
  /** The values, row-major, widened to float64. */
  readonly data: Float64Array;
  /** The dtype stored in the file: 'f8' (float64) or 'f4' (float32, widened on reading). */
  readonly dtype: 'f8' | 'f4';
  /** True when the file was in Fortran (column-major) order; `data` has been transposed to C order. */
  readonly fortranOrder: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** Bytes before the header dict: magic (6), version (2), header length (2 for v1, 4 for v2/v3). */
const PREAMBLE_V1 = 10;
const PREAMBLE_V2 = 12;

/**
 * Parses a `.npy` file. `source` names it in messages (e.g. `--params "w.npy"`); `field` is the
 * error's field (the flag).
 * Throws `InputError` for a bad magic string or version, a malformed header, a dtype other than
 * '<f8'/'<f4' (big-endian, integer, float16, object arrays are named and refused) and a data section
 * shorter or longer than the shape needs.
 */
export function parseNpy(bytes: Uint8Array, source: string, field = source): NpyArray {
  const bad = (what: string): never => {
    throw new InputError(`${source}: not a valid .npy file: ${what}`, field);
  };
  if (bytes.length < PREAMBLE_V1 || !MAGIC.every((b, i) => bytes[i] === b)) bad('it does not start with the magic string "\\x93NUMPY"');
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) bad(`unsupported format version ${major}.${minor} (allowed: 1.0, 2.0, 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = PREAMBLE_V1;
  } else {
    if (bytes.length < PREAMBLE_V2) bad('the file ends inside the preamble');
    headerLen = view.getUint32(8, true);
    start = PREAMBLE_V2;
  }
  if (start + headerLen > bytes.length) bad(`the header claims ${headerLen} bytes but the file has only ${bytes.length - start} after the preamble (truncated?)`);
  const headerBytes = bytes.subarray(start, start + headerLen);
  const header = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : latin1(headerBytes);
  const dict = parseHeaderDict(header, bad);

  const descr = dict.descr;
  let dtype: 'f8' | 'f4';
  if (descr === '<f8' || (descr === '=f8' && littleEndianHost())) dtype = 'f8';
  else if (descr === '<f4' || (descr === '=f4' && littleEndianHost())) dtype = 'f4';
  else {
    throw new InputError(
      `${source}: unsupported .npy dtype ${JSON.stringify(descr)} (allowed: '<f8' float64, '<f4' float32, little-endian; convert with arr.astype('<f8'))`,
      field,
    );
  }
  const shape = dict.shape;
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = dtype === 'f8' ? 8 : 4;
  const dataStart = start + headerLen;
  const have = bytes.length - dataStart;
  if (have !== count * itemSize) {
    bad(`shape (${shape.join(', ')}) of ${dtype === 'f8' ? 'float64' : 'float32'} needs ${count * itemSize} data bytes, the file has ${have}${have < count * itemSize ? ' (truncated?)' : ''}`);
  }
  const raw = new Float64Array(count);
  for (let k = 0; k < count; k++) raw[k] = dtype === 'f8' ? view.getFloat64(dataStart + 8 * k, true) : view.getFloat32(dataStart + 4 * k, true);
  const data = dict.fortranOrder && shape.length > 1 ? fortranToC(raw, shape) : raw;
  return { shape, data, dtype, fortranOrder: dict.fortranOrder };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function littleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * Reads the header's Python dict literal: exactly the keys 'descr' (a string), 'fortran_order'
 * (True/False) and 'shape' (a tuple of non-negative integers), in any order, with a trailing comma
 * and padding allowed. Structured dtypes (a list as descr) are refused.
 */
function parseHeaderDict(text: string, bad: (what: string) => never): { descr: string; fortranOrder: boolean; shape: number[] } {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) bad(`the header is not a Python dict literal: ${JSON.stringify(t.slice(0, 80))}`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(t);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(t);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(t);
  if (!descr) bad(`the header has no string 'descr' (structured dtypes are not supported): ${JSON.stringify(t.slice(0, 80))}`);
  if (!fortran) bad(`the header has no 'fortran_order': True/False: ${JSON.stringify(t.slice(0, 80))}`);
  if (!shape) bad(`the header has no 'shape' tuple: ${JSON.stringify(t.slice(0, 80))}`);
  const dims = shape![1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: number[] = [];
  for (const s of dims) {
    // Python 2 writers put an L suffix on longs.
    if (!/^[0-9]+L?$/.test(s)) bad(`shape entry ${JSON.stringify(s)} is not a non-negative integer`);
    const v = Number(s.replace(/L$/, ''));
    if (!Number.isSafeInteger(v)) bad(`shape entry ${s} is too large`);
    out.push(v);
  }
  return { descr: descr![1], fortranOrder: fortran![1] === 'True', shape: out };
}

/** Column-major data of `shape` rewritten in row-major order. */
function fortranToC(src: Float64Array, shape: readonly number[]): Float64Array {
  const n = shape.length;
  const out = new Float64Array(src.length);
  // Row-major strides of the output; column-major strides of the input.
  const fStride = new Array<number>(n);
  let s = 1;
  for (let a = 0; a < n; a++) {
    fStride[a] = s;
    s *= shape[a];
  }
  const idx = new Array<number>(n).fill(0);
  for (let k = 0; k < out.length; k++) {
    let f = 0;
    for (let a = 0; a < n; a++) f += idx[a] * fStride[a];
    out[k] = src[f];
    // Advance the row-major multi-index (last axis fastest).
    for (let a = n - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}
