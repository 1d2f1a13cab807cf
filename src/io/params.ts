/**
 * Saved parameters: the `params` field of result.json, and parameters exported from PyTorch
 * (`.npy`, `.safetensors`) mapped onto a model's flat θ.
 *
 * θ = exp(logNorm)·θ̂ is saved as its direction θ̂ (`thetaUnit`, ‖θ̂‖ = 1) and `logNorm` = log‖θ‖,
 * because θ itself overflows float64 on long runs (‖θ‖^L grows like log t per layer). Numbers are
 * written by JSON.stringify, whose shortest round-trip decimals read back to the same doubles, so the
 * saved θ̂ is exact (−0 is written as 0: the same value).
 *
 * PyTorch layouts (bias-free `nn.Linear` stacks): `weight` has shape [out, in], which is exactly the
 * row-major [rows, cols] of our blocks W1…WL (deep-linear, relu-mlp), so tensors are copied as they
 * are; `linear` takes one weight of shape [1, d] (or [d]); `diagonal` and `conv` take L vectors
 * u_1…u_L of shape [d], `diagonal-pm` the two vectors u, v. Tensors are put in layer order by the
 * integers in their names (`0.weight`, `2.weight` of an nn.Sequential; `layers.0.weight`; `u.1`).
 *
 * Library code: no Node APIs; reading files lives in `src/node/params-io.ts`.
 */
import { MODELS } from '../models/registry.ts';
import { InputError } from '../errors.ts';
import type { Model, ParamBlock } from '../models/model.ts';

/** The `params` field of result.json. */
export interface ParamsDocument {
  /** The model's `spec` plus its order L: enough to rebuild it (`createModel`) and to check a match. */
  readonly model: Record<string, unknown>;
  /** The blocks of θ: name, start index and row-major shape. */
  readonly layout: { name: string; offset: number; shape: number[] }[];
  /** θ̂ = θ/‖θ‖, numParams entries in layout order. */
  readonly thetaUnit: number[];
  /** log‖θ‖ (natural log, Euclidean norm over all layers). */
  readonly logNorm: number;
}

/** θ as direction and log-norm, ready for `TrainOptions.start` or a measurement. */
export interface UnitParams {
  readonly thetaUnit: Float64Array;
  readonly logNorm: number;
}

/** One named array read from a file (safetensors tensor, or the single array of a `.npy`). */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** The `params` document of a model at θ = exp(logNorm)·θ̂. */
export function paramsDocument(model: Model, thetaUnit: Float64Array, logNorm: number): ParamsDocument {
  return {
    model: { ...model.spec, order: model.order },
    layout: model.layout.map((b) => ({ name: b.name, offset: b.offset, shape: [...b.shape] })),
    thetaUnit: Array.from(thetaUnit),
    logNorm,
  };
}

/** θ̂ = θ/‖θ‖₂ and log‖θ‖₂ (the trainer's own split); throws when θ is 0 or not finite. */
export function unitParams(theta: Float64Array, source: string, field: string): UnitParams {
  let ss = 0;
  for (let k = 0; k < theta.length; k++) {
    if (!Number.isFinite(theta[k])) throw new InputError(`${source}: parameter ${k} is ${theta[k]}: every entry must be finite`, field);
    ss += theta[k] * theta[k];
  }
  const norm = Math.sqrt(ss);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new InputError(`${source}: the parameters have norm ${norm}: need a finite, non-zero θ`, field);
  const thetaUnit = new Float64Array(theta.length);
  for (let k = 0; k < theta.length; k++) thetaUnit[k] = theta[k] / norm;
  return { thetaUnit, logNorm: Math.log(norm) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks that `raw` is a `params` document (see {@link ParamsDocument}) and returns it with θ̂ as a
 * Float64Array. `source` names the file in messages, `field` is the flag.
 */
export function readParamsDocument(raw: unknown, source: string, field: string): ParamsDocument & { theta: UnitParams } {
  const bad = (what: string): never => {
    throw new InputError(`${source}: "params" ${what}`, field);
  };
  if (!isObject(raw)) bad('must be an object {model, layout, thetaUnit, logNorm}');
  const p = raw as Record<string, unknown>;
  if (!isObject(p.model) || typeof p.model.kind !== 'string') bad('.model must be an object with a "kind"');
  if (!Array.isArray(p.layout) || p.layout.length === 0) bad('.layout must be a non-empty list of {name, offset, shape}');
  const layout = (p.layout as unknown[]).map((b, i) => {
    if (!isObject(b) || typeof b.name !== 'string' || !Number.isSafeInteger(b.offset) || !Array.isArray(b.shape) || !b.shape.every((v) => Number.isSafeInteger(v) && (v as number) >= 0))
      bad(`.layout[${i}] must be {name: string, offset: integer, shape: integers}`);
    const blk = b as { name: string; offset: number; shape: number[] };
    return { name: blk.name, offset: blk.offset, shape: [...blk.shape] };
  });
  if (!Array.isArray(p.thetaUnit) || !p.thetaUnit.every((v) => typeof v === 'number' && Number.isFinite(v))) bad('.thetaUnit must be a list of finite numbers');
  const numParams = layout.reduce((s, b) => s + size(b.shape), 0);
  const thetaUnit = p.thetaUnit as number[];
  if (thetaUnit.length !== numParams) bad(`.thetaUnit has ${thetaUnit.length} entries, its layout ${numParams}`);
  if (typeof p.logNorm !== 'number' || !Number.isFinite(p.logNorm)) bad('.logNorm must be a finite number');
  const logNorm = p.logNorm as number;
  return { model: p.model as Record<string, unknown>, layout, thetaUnit, logNorm, theta: { thetaUnit: Float64Array.from(thetaUnit), logNorm } };
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** "deep-linear (L = 2; W1 [3, 2], W2 [1, 3]; 9 parameters)": what a model needs, for messages. */
export function describeModel(model: Model): string {
  return `${model.kind} (L = ${model.order}; ${model.layout.map((b) => `${b.name} ${showShape(b.shape)}`).join(', ')}; ${model.numParams} parameters)`;
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/**
 * Throws `InputError` (naming `field`) unless the saved document describes `model`: the same spec
 * (kind, input dimension, depth, widths, outputs, leak, …), order and layout.
 */
export function checkParamsMatch(doc: ParamsDocument, model: Model, source: string, field: string): void {
  const want: Record<string, unknown> = { ...model.spec, order: model.order };
  const diffs: string[] = [];
  for (const key of new Set([...Object.keys(doc.model), ...Object.keys(want)])) {
    if (show(doc.model[key]) !== show(want[key])) diffs.push(`${key} ${show(doc.model[key])} in the file, ${show(want[key])} for the model`);
  }
  const layoutOk =
    doc.layout.length === model.layout.length &&
    doc.layout.every((b, i) => b.name === model.layout[i].name && b.offset === model.layout[i].offset && showShape(b.shape) === showShape(model.layout[i].shape));
  if (diffs.length === 0 && layoutOk) return;
  const theirs = `${show(doc.model.kind)} (${doc.layout.map((b) => `${b.name} ${showShape(b.shape)}`).join(', ')})`;
  throw new InputError(`${source}: the saved parameters are for ${theirs}, the model needs ${describeModel(model)}${diffs.length ? `: ${diffs.join('; ')}` : ''}`, field);
}

/** Kinds whose PyTorch-style tensors {@link thetaFromTensors} maps, one per layout block (the model trait `separateTensors`; relu-cnn: flat θ only). */
export const TENSOR_KINDS: readonly string[] = MODELS.all.filter((d) => d.traits.separateTensors).map((d) => d.kind);

/** The integers in a tensor name, in order: its layer index ("layers.10.weight" → [10]). */
function layerKey(name: string): number[] {
  return (name.match(/[0-9]+/g) ?? []).map(Number);
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The shape without its size-1 axes: [1, d] and [d, 1] hold the same row-major data as [d]. */
function squeeze(shape: readonly number[]): number[] {
  return shape.filter((s) => s !== 1);
}

/**
 * Maps arrays read from a file onto the flat θ of `model` (layout order), as described in the module
 * TSDoc:
 * - one 1-D array of numParams entries is θ itself, in our layout order (what
 *   `torch.cat([p.flatten() for p in net.parameters()])` gives for an nn.Linear stack);
 * - otherwise one array per layout block, put in layer order by the integers in their names (names
 *   "u", "v" for diagonal-pm), each of the block's shape (size-1 axes aside: [1, d] ↔ [d]).
 * Throws `InputError` naming `field`: bias tensors ("advbias models are bias-free"), a wrong count or
 * shape (naming what the file has and what the model needs), names without a layer index, and relu-cnn
 * given as separate tensors.
 */
export function thetaFromTensors(model: Model, tensors: readonly NamedTensor[], source: string, field: string): Float64Array {
  if (tensors.length === 0) throw new InputError(`${source}: the file holds no tensors; the model needs ${describeModel(model)}`, field);
  const biases = tensors.filter((t) => /bias/i.test(t.name.split('.').pop() ?? ''));
  if (biases.length > 0) {
    throw new InputError(
      `${source}: advbias models are bias-free; the file has bias tensors ${biases.map((t) => `"${t.name}" ${showShape(t.shape)}`).join(', ')} (export with nn.Linear(..., bias=False), or drop them if they are zero)`,
      field,
    );
  }
  const has = tensors.map((t) => `"${t.name}" ${showShape(t.shape)}`).join(', ');
  if (tensors.length === 1 && tensors[0].shape.length === 1 && tensors[0].shape[0] === model.numParams) return Float64Array.from(tensors[0].data);
  if (!TENSOR_KINDS.includes(model.kind)) {
    throw new InputError(`${source}: ${model.kind} parameters load from a result.json or a flat vector of ${model.numParams} entries in advbias's layout; the file has ${has}`, field);
  }
  const blocks: readonly ParamBlock[] = model.layout;
  if (tensors.length !== blocks.length) {
    throw new InputError(`${source}: the file has ${tensors.length} tensor(s) ${has}; the model needs ${describeModel(model)}, or one flat vector of ${model.numParams} entries`, field);
  }
  let ordered = [...tensors];
  if (tensors.length > 1) {
    const blockNames = blocks.map((b) => b.name);
    if (tensors.every((t) => blockNames.includes(t.name)) && new Set(tensors.map((t) => t.name)).size === tensors.length) {
      // Named as the model's own blocks (e.g. diagonal-pm's u, v): in layout order.
      ordered.sort((a, b) => blockNames.indexOf(a.name) - blockNames.indexOf(b.name));
    } else {
      const keys = new Map(tensors.map((t) => [t.name, layerKey(t.name)]));
      const unnumbered = tensors.find((t) => keys.get(t.name)!.length === 0);
      if (unnumbered) throw new InputError(`${source}: cannot tell the layer of tensor "${unnumbered.name}": name the tensors with layer indices (0.weight, 1.weight, … as nn.Sequential does)`, field);
      ordered = ordered.sort((a, b) => compareKeys(keys.get(a.name)!, keys.get(b.name)!));
      for (let i = 1; i < ordered.length; i++) {
        if (compareKeys(keys.get(ordered[i - 1].name)!, keys.get(ordered[i].name)!) === 0)
          throw new InputError(`${source}: tensors "${ordered[i - 1].name}" and "${ordered[i].name}" have the same layer index`, field);
      }
    }
  }
  const theta = new Float64Array(model.numParams);
  ordered.forEach((t, i) => {
    const b = blocks[i];
    if (showShape(squeeze(t.shape)) !== showShape(squeeze(b.shape))) {
      throw new InputError(
        `${source}: tensor "${t.name}" (layer ${i + 1} in name order) has shape ${showShape(t.shape)}, the model's ${b.name} needs ${showShape(b.shape)}${b.shape.length === 2 ? ' ([out, in], as nn.Linear.weight)' : ''}; the model is ${describeModel(model)}`,
        field,
      );
    }
    theta.set(t.data, b.offset);
  });
  return theta;
}
