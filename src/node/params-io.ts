/**
 * Node-only reading of saved parameters for `train --init-from` and `measure --params`: a result.json
 * of `advbias train` (its `params` field), a `.npy` array or a `.safetensors` file (PyTorch exports;
 * see `src/io/params.ts` for the layouts). Parsing lives in the library (`src/io/`).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { InputError } from '../errors.ts';
import type { Model } from '../models/model.ts';
import { parseNpy } from '../io/npy.ts';
import { parseSafetensors } from '../io/safetensors.ts';
import { checkParamsMatch, readParamsDocument, thetaFromTensors, unitParams, type NamedTensor, type ParamsDocument, type UnitParams } from '../io/params.ts';

/** File types a parameter file may have, by extension. */
export const PARAMS_EXTENSIONS = ['.json', '.npy', '.safetensors'] as const;

/** A parameter file as read, before it is matched to a model. */
export type LoadedParams =
  | {
      readonly format: 'result';
      readonly file: string;
      /** The whole result document ({config, final, run, params, …}). */
      readonly doc: Record<string, unknown>;
      readonly params: ParamsDocument & { theta: UnitParams };
    }
  | {
      readonly format: 'npy' | 'safetensors';
      readonly file: string;
      readonly tensors: readonly NamedTensor[];
      /** Stored dtype of each tensor ('float64' or 'float32'). */
      readonly dtypes: readonly ('float64' | 'float32')[];
    };

/**
 * Reads a parameter file named by `flag` (e.g. "--init-from"). Throws `InputError` naming the flag
 * for a missing or unreadable file, an extension other than .json/.npy/.safetensors, a JSON file that
 * is not a result.json with `params`, and any format error of the parsers.
 */
export function loadParamsFile(path: string, flag: string): LoadedParams {
  const source = `${flag} "${path}"`;
  const ext = extname(path).toLowerCase();
  if (!(PARAMS_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new InputError(
      `${source}: unsupported file type "${ext || '(none)'}" (allowed: a result.json of advbias train, .npy, .safetensors; save a PyTorch state_dict with safetensors.torch.save_file)`,
      flag,
    );
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${source}: cannot read the file: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`, flag);
  }
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ext === '.npy') {
    const a = parseNpy(u8, source, flag);
    return { format: 'npy', file: path, tensors: [{ name: 'array', shape: a.shape, data: a.data }], dtypes: [a.dtype === 'f8' ? 'float64' : 'float32'] };
  }
  if (ext === '.safetensors') {
    const ts = parseSafetensors(u8, source, flag);
    return { format: 'safetensors', file: path, tensors: ts, dtypes: ts.map((t) => (t.dtype === 'F64' ? 'float64' : 'float32')) };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InputError(`${source}: not valid JSON: ${(e as Error).message}`, flag);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !('params' in doc)) {
    throw new InputError(`${source}: a .json parameter file must be a result.json of advbias train with a "params" field (written by this version or later)`, flag);
  }
  const d = doc as Record<string, unknown>;
  return { format: 'result', file: path, doc: d, params: readParamsDocument(d.params, source, flag) };
}

/**
 * θ̂ and log‖θ‖ of the loaded parameters for `model`, after checking that they fit it (InputError
 * naming `flag`, what the file has and what the model needs).
 */
export function paramsForModel(loaded: LoadedParams, model: Model, flag: string): UnitParams {
  const source = `${flag} "${loaded.file}"`;
  if (loaded.format === 'result') {
    checkParamsMatch(loaded.params, model, source, flag);
    return loaded.params.theta;
  }
  return unitParams(thetaFromTensors(model, loaded.tensors, source, flag), source, flag);
}

/** What a result document records about where the parameters came from. */
export function paramsSourceInfo(loaded: LoadedParams): Record<string, unknown> {
  if (loaded.format === 'result') {
    const run = loaded.doc.run as Record<string, unknown> | undefined;
    return { file: loaded.file, format: 'result.json', stepsDone: run?.stepsDone ?? null, version: run?.version ?? null };
  }
  const converted = loaded.dtypes.includes('float32');
  return {
    file: loaded.file,
    format: loaded.format,
    tensors: loaded.tensors.map((t, i) => ({ name: t.name, shape: [...t.shape], dtype: loaded.dtypes[i] })),
    ...(converted ? { note: 'float32 values widened to float64 (exactly); they carry float32 precision' } : {}),
  };
}
