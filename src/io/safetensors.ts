/**
 * Reader of the `.safetensors` format (https://github.com/huggingface/safetensors):
 *
 *   N: uint64 little-endian, the header length in bytes;
 *   the header: N bytes of UTF-8 JSON, {"name": {"dtype": "F64", "shape": [3, 2], "data_offsets": [begin, end]}, …}
 *     plus an optional "__metadata__" object of strings (it may be padded with trailing spaces);
 *   the data: raw little-endian, row-major tensors; offsets are relative to the start of this section.
 *
 * Library code: takes bytes, never touches the file system. Only F64 and F32 tensors are read (F32
 * widened to float64 exactly; the tensor says so); any other dtype is refused by name. Every problem
 * is one `InputError` naming the source, the tensor and what is allowed.
 */
import { InputError } from '../errors.ts';

/** One tensor of a `.safetensors` file, widened to float64. */
export interface SafeTensor {
  readonly name: string;
  /** Shape, row-major ([] for a scalar). */
  readonly shape: number[];
  /** The values, row-major. */
  readonly data: Float64Array;
  /** The stored dtype: 'F64', or 'F32' (widened on reading). */
  readonly dtype: 'F64' | 'F32';
}

/** Bytes of the header-length prefix. */
const PREFIX = 8;
/** Upper bound on the header size the reference implementation accepts (100 MB). */
const MAX_HEADER = 100_000_000;
/** The dtypes the format defines, so that a refused one is named as such. */
const KNOWN_DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

/**
 * Parses a `.safetensors` file into its tensors, in header order. `source` names the file in
 * messages; `field` is the error's field (the flag). Throws `InputError` for a truncated file, a
 * header that is not a JSON object of tensor entries, offsets outside the data section or not
 * matching dtype × shape, and dtypes other than F64/F32.
 */
export function parseSafetensors(bytes: Uint8Array, source: string, field = source): SafeTensor[] {
  const bad = (what: string): never => {
    throw new InputError(`${source}: not a valid .safetensors file: ${what}`, field);
  };
  if (bytes.length < PREFIX) bad(`it has ${bytes.length} bytes, fewer than the 8-byte header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) bad(`header length ${n64} is larger than the format allows (${MAX_HEADER} bytes)`);
  const n = Number(n64);
  if (PREFIX + n > bytes.length) bad(`the header claims ${n} bytes but only ${bytes.length - PREFIX} follow (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX, PREFIX + n)));
  } catch (e) {
    bad(`the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) bad('the header is not a JSON object');
  const dataStart = PREFIX + n;
  const dataLen = bytes.length - dataStart;
  const out: SafeTensor[] = [];
  let covered = 0;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const at = `tensor "${name}"`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) bad(`${at} is not an object {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string') bad(`${at} has no string "dtype"`);
    if (dtype !== 'F64' && dtype !== 'F32') {
      const known = KNOWN_DTYPES.includes(dtype as string);
      throw new InputError(
        `${source}: ${at} has dtype ${known ? dtype : JSON.stringify(dtype)}, which advbias does not read (allowed: F64, F32; convert with tensor.double())`,
        field,
      );
    }
    if (!Array.isArray(shape) || !shape.every((v) => Number.isSafeInteger(v) && v >= 0)) bad(`${at}: "shape" must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((v) => Number.isSafeInteger(v) && v >= 0)) bad(`${at}: "data_offsets" must be [begin, end], got ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as number[];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const itemSize = dtype === 'F64' ? 8 : 4;
    if (end < begin || end - begin !== count * itemSize) bad(`${at}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${count * itemSize}`);
    if (end > dataLen) bad(`${at}: data_offsets end at byte ${end} but the data section has ${dataLen} bytes (truncated?)`);
    const data = new Float64Array(count);
    const base = dataStart + begin;
    for (let k = 0; k < count; k++) data[k] = dtype === 'F64' ? view.getFloat64(base + 8 * k, true) : view.getFloat32(base + 4 * k, true);
    covered += end - begin;
    out.push({ name, shape: [...(shape as number[])], data, dtype });
  }
  // The reference writer leaves no gaps and no overlaps: other totals mean a foreign or damaged file.
  if (covered !== dataLen) bad(`the tensors cover ${covered} bytes but the data section has ${dataLen}`);
  return out;
}
