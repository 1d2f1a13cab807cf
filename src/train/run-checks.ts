/**
 * Checks of a training config against its data before anything is allocated or trained: the
 * memory a run needs (parameters and per-run buffers), one-class data, a mini-batch larger than the
 * data. Library code (no Node APIs): the CLI (`train`, `reproduce`) calls {@link checkRunInput}
 * right after the data is loaded, so that a typo such as `--width 1e9` is one line naming the flag
 * instead of an out-of-memory crash.
 */
import { InputError } from '../errors.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Model } from '../models/model.ts';
import { MODELS } from '../models/registry.ts';
import { flagName, type TrainConfig } from './config.ts';
import { modelFromConfig } from './from-config.ts';

/**
 * The most float64 entries a run may hold in its parameters and per-run buffers: 2^28 entries =
 * 2 GiB. Far beyond every experiment here (mnist:all holds n·d ≈ 5.5·10^7 inputs; the C2 MNIST net
 * 8.7·10^5 parameters) and below what one Node process can allocate on a typical machine; a
 * config over it is a typo (`--width 1e9`), refused before it exhausts the memory.
 */
export const MAX_RUN_ENTRIES = 2 ** 28;

/** The entries {@link estimateRunEntries} counts, by kind. */
export interface RunSize {
  /** Parameters P (θ itself; the trainer keeps a few vectors of this size). */
  parameters: number;
  /** Inputs and their perturbations: 2·n·d. */
  inputs: number;
  /** Outputs and margins: n·K. */
  outputs: number;
  /** Activations of one pass: B × (units of every layer), B the batch rows (n for full batch). */
  activations: number;
  /** Their sum, with the parameters counted 4 times (θ, θ̂, the gradient, a rollback copy). */
  total: number;
}

/**
 * The float64 entries a run needs, estimated from the model's layout (no parameter is allocated):
 * P, 2·n·d, n·K and B·A with A the sum of the layers' output units (a [out, in] block: out; a
 * vector block [d]: d; a conv block [co, ci, k, k]: co × the input's spatial size, an upper bound).
 */
export function estimateRunEntries(model: Model, data: Pick<Dataset, 'n' | 'd'>, batchSize: number, inputShape: readonly number[] | null = null): RunSize {
  const n = data.n;
  const rows = batchSize > 0 && batchSize < n ? batchSize : n;
  const spatial = inputShape && inputShape.length === 3 ? inputShape[1] * inputShape[2] : data.d;
  let units = 0;
  for (const block of model.layout) units += block.shape.length === 4 ? block.shape[0] * spatial : block.shape[0];
  const parameters = model.numParams;
  const inputs = 2 * n * data.d;
  const outputs = n * Math.max(1, model.outputDim);
  const activations = rows * units;
  return { parameters, inputs, outputs, activations, total: 4 * parameters + inputs + outputs + activations };
}

/** A large count as text: 3000000000 → "3.0·10^9"; small ones exactly. */
function count(v: number): string {
  if (v < 1e6) return String(v);
  const e = Math.floor(Math.log10(v));
  return `${(v / 10 ** e).toFixed(1)}·10^${e}`;
}

const LIMIT_TEXT = `limit 2^28 = ${MAX_RUN_ENTRIES} float64 entries, 2 GiB`;

/** Model settings that set its size, in the order they are blamed when several are large. */
const SIZE_SETTINGS = ['width', 'depth', 'dense', 'conv'] as const;

function showSetting(c: TrainConfig, name: string): string {
  const v = (c as unknown as Record<string, unknown>)[name];
  return `${flagName(name)} ${Array.isArray(v) ? (v.every((x) => typeof x === 'number') ? v.join(',') : JSON.stringify(v)) : String(v)}`;
}

/**
 * Which model setting makes the model this big: the one whose default shrinks the estimate most
 * (null when none of them is set away from its default).
 */
function culprit(c: TrainConfig, data: Dataset, size: (cc: TrainConfig) => number): string | null {
  const desc = MODELS.find(c.model);
  if (!desc) return null;
  let best: string | null = null;
  let bestSize = size(c);
  for (const name of SIZE_SETTINGS) {
    const field = Object.values(desc.fields).find((f) => f.name === name);
    if (!field) continue;
    const def = field.schema.safeParse(undefined);
    if (!def.success) continue;
    let s: number;
    try {
      s = size({ ...c, [name]: def.data } as TrainConfig);
    } catch {
      continue; // the default does not fit the other settings (relu-cnn's shapes): not this one
    }
    if (s < bestSize) {
      best = name;
      bestSize = s;
    }
  }
  void data;
  return best;
}

/**
 * Refuses, with one InputError line naming the flag, a config that this data cannot train:
 * - a model or buffers over {@link MAX_RUN_ENTRIES} (`--width 1000000000 gives 3.0·10^9 parameters …`);
 * - K-class data with one class only (no margin between classes can grow);
 * - `--batch-size` above n (it would silently mean the full batch).
 * Returns the model it built to measure (no parameters allocated).
 */
export function checkRunInput(c: TrainConfig, data: Dataset): Model {
  checkClasses(data);
  if (c.batchSize > data.n)
    throw new InputError(
      `--batch-size ${c.batchSize} is larger than the data: "${c.data}" has n = ${data.n} examples (use a mini-batch B < ${data.n}, or 0 or ${data.n} for the full batch)`,
      'batchSize',
    );
  const inputShape = (cc: TrainConfig): readonly number[] | null => (Array.isArray(cc.inputShape) ? cc.inputShape : null);
  const model = modelFromConfig(c, data);
  const size = estimateRunEntries(model, data, c.batchSize, inputShape(c));
  if (size.parameters > MAX_RUN_ENTRIES) {
    const who = culprit(c, data, (cc) => modelFromConfig(cc, data).numParams);
    const what = who ? showSetting(c, who) : `model ${c.model}`;
    throw new InputError(`${what} gives ${count(size.parameters)} parameters (model ${c.model}, d = ${data.d}; ${LIMIT_TEXT}): use a smaller ${who ? flagName(who) : 'model'}`, who ?? 'model');
  }
  if (size.total > MAX_RUN_ENTRIES) {
    const terms = `parameters 4 × ${count(size.parameters)}, inputs and perturbations 2·n·d = ${count(size.inputs)}, activations ${count(size.activations)}`;
    if (size.inputs + size.outputs >= size.activations && size.inputs + size.outputs >= 4 * size.parameters)
      throw new InputError(`--data "${c.data}" (n = ${data.n}, d = ${data.d}) needs about ${count(size.total)} float64 entries (${terms}; ${LIMIT_TEXT}): use fewer examples`, 'data');
    const who = culprit(c, data, (cc) => estimateRunEntries(modelFromConfig(cc, data), data, cc.batchSize, inputShape(cc)).total);
    const what = who ? showSetting(c, who) : `model ${c.model}`;
    const batchHint = c.batchSize === 0 || c.batchSize >= data.n ? `, or a mini-batch (--batch-size) on n = ${data.n}` : '';
    throw new InputError(`${what} needs about ${count(size.total)} float64 entries (${terms}; ${LIMIT_TEXT}): use a smaller ${who ? flagName(who) : 'model'}${batchHint}`, who ?? 'model');
  }
  return model;
}

/**
 * K-class training data in which only one class occurs: an InputError naming --data (a margin
 * between classes cannot grow; labels all 1 read as class indices land here too). Binary data with
 * one label is allowed: it is the z_i = y_i·x_i form of S1 and S2 (every label +1), where the
 * margin y·f(x) of a homogeneous odd model is f(z).
 */
export function checkClasses(data: Dataset): void {
  if (data.binary || data.n === 0) return;
  const first = data.y[0];
  for (let i = 1; i < data.n; i++) if (data.y[i] !== first) return;
  const hint =
    first === 1 && data.classes === 2
      ? '; if these are binary labels folded into x (the z = y·x form of S1, S2), write them as +1'
      : '';
  throw new InputError(
    `--data "${data.name}" has only one class (every label is ${first}, read as class indices 0..${data.classes - 1}): a margin between classes cannot grow with one class present; give examples of at least two classes${hint}`,
    'data',
  );
}
