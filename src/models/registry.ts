import type { Model } from './model.ts';
import { InputError } from '../errors.ts';
import { createLinear } from './linear.ts';
import { createDeepLinear } from './deep-linear.ts';
import { createDiagonal, createDiagonalPm } from './diagonal.ts';
import { createConv } from './conv.ts';
import { createReluMlp } from './relu-mlp.ts';
import { createReluCnn, convOutputSize, type ConvLayerOptions } from './relu-cnn.ts';

/** Registry names of the models, in the order they are documented (THEORY §2). */
export const MODEL_KINDS = ['linear', 'deep-linear', 'diagonal', 'diagonal-pm', 'conv', 'relu-mlp', 'relu-cnn'] as const;

/** One of {@link MODEL_KINDS}. */
export type ModelKind = (typeof MODEL_KINDS)[number];

/** The depth used when a spec leaves `depth` out (linear: 1, every other kind: 2). */
export const DEFAULT_DEPTH = 2;

/**
 * A model described as data (e.g. a field of an experiment config).
 * - `kind`: one of {@link MODEL_KINDS}.
 * - `inputDim`: d, integer ≥ 1.
 * - `depth`: L, integer ≥ 1; default 1 for linear (which only allows 1), 2 otherwise.
 * - `width`: deep-linear and relu-mlp only; integer ≥ 1 or L−1 integers ≥ 1; default `inputDim`.
 * - `outputs`: K, integer ≥ 1, default 1; only relu-mlp and relu-cnn allow K > 1 (the others are linear in x).
 * - `leak`: relu-mlp and relu-cnn only; leaky-ReLU slope in [0, 1), default 0.
 *
 * relu-cnn only (see `createReluCnn`); its order L is conv.length + dense.length + 1, so `depth` may be
 * left out (or must equal that), and `outputs` may be K > 1:
 * - `inputShape`: [C, H, W], three integers ≥ 1 with C·H·W = `inputDim` (required).
 * - `conv`: at least one layer {channels ≥ 1, kernel k ≥ 1 with k ≤ the layer input's H and W,
 *   stride ≥ 1 (default 1), pool?: {kind: "max" | "avg", size p ≥ 1 dividing both sides
 *   ⌊(H − k)/s⌋ + 1 and ⌊(W − k)/s⌋ + 1 of the conv output} or null} (required).
 * - `dense`: hidden widths (integers ≥ 1) of the dense ReLU layers after the flatten; default [].
 */
export interface ModelSpec {
  readonly kind: string;
  readonly inputDim: number;
  readonly depth?: number;
  readonly width?: number | readonly number[];
  readonly outputs?: number;
  readonly leak?: number;
  readonly inputShape?: readonly number[];
  readonly conv?: readonly ConvLayerOptions[];
  readonly dense?: readonly number[];
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

function fail(field: string, value: unknown, kind: string, allowed: string): never {
  throw new InputError(`invalid ${field} ${show(value)} for model "${kind}" (allowed: ${allowed})`, field);
}

/**
 * Checks `spec` and builds the model. Throws `InputError` (with `field` set) naming the field, the
 * value and what is allowed, e.g. `unknown model "foo" (allowed: linear, deep-linear, …)`.
 * Fields that a kind does not use (width for diagonal, leak for deep-linear, …) are rejected rather
 * than ignored, so a typo in a config cannot go unnoticed.
 */
export function createModel(spec: ModelSpec): Model {
  const kind = spec.kind;
  if (!(MODEL_KINDS as readonly unknown[]).includes(kind)) {
    throw new InputError(`unknown model ${show(kind)} (allowed: ${MODEL_KINDS.join(', ')})`, 'kind');
  }
  const k = kind as ModelKind;
  if (!isPositiveInteger(spec.inputDim)) fail('inputDim', spec.inputDim, k, 'an integer ≥ 1');
  const d = spec.inputDim;

  if (k === 'relu-cnn') return createReluCnnChecked(spec, d);
  for (const field of ['inputShape', 'conv', 'dense'] as const) {
    if (spec[field] !== undefined) fail(field, spec[field], k, `no ${field}: only relu-cnn has convolution layers`);
  }

  let depth: number;
  if (spec.depth === undefined) depth = k === 'linear' ? 1 : DEFAULT_DEPTH;
  else if (!isPositiveInteger(spec.depth)) fail('depth', spec.depth, k, k === 'linear' ? '1' : 'an integer ≥ 1');
  else depth = spec.depth;
  if (k === 'linear' && depth !== 1) fail('depth', spec.depth, k, '1; use deep-linear for depth > 1');

  const hasWidth = k === 'deep-linear' || k === 'relu-mlp';
  const width = spec.width;
  if (width !== undefined) {
    if (!hasWidth) fail('width', width, k, 'no width: only deep-linear and relu-mlp have hidden layers');
    if (Array.isArray(width)) {
      if (width.length !== depth - 1 || !width.every(isPositiveInteger)) {
        fail('width', width, k, `an integer ≥ 1 or ${depth - 1} integers ≥ 1, one per hidden layer of depth ${depth}`);
      }
    } else if (!isPositiveInteger(width)) {
      fail('width', width, k, `an integer ≥ 1 or ${depth - 1} integers ≥ 1, one per hidden layer of depth ${depth}`);
    }
  }

  const outputs = spec.outputs ?? 1;
  if (k === 'relu-mlp') {
    if (!isPositiveInteger(outputs)) fail('outputs', spec.outputs, k, 'an integer ≥ 1 (1 for binary labels ±1, K for K classes)');
  } else if (outputs !== 1) {
    fail('outputs', spec.outputs, k, '1: linear-in-x models are binary; use relu-mlp for K classes');
  }

  if (spec.leak !== undefined) {
    if (k !== 'relu-mlp') fail('leak', spec.leak, k, 'no leak: only relu-mlp and relu-cnn have a nonlinearity');
    const a = spec.leak;
    if (typeof a !== 'number' || !(a >= 0 && a < 1)) fail('leak', a, k, 'a number in [0, 1)');
  }

  switch (k) {
    case 'linear':
      return createLinear(d);
    case 'deep-linear':
      return createDeepLinear({ inputDim: d, depth, width });
    case 'diagonal':
      return createDiagonal({ inputDim: d, depth });
    case 'diagonal-pm':
      return createDiagonalPm({ inputDim: d, depth });
    case 'conv':
      return createConv({ inputDim: d, depth });
    case 'relu-mlp':
      return createReluMlp({ inputDim: d, depth, width, outputs, leak: spec.leak ?? 0 });
  }
}

/** Keys a conv layer of a relu-cnn spec may have (anything else is a typo). */
const CONV_KEYS = ['channels', 'kernel', 'stride', 'pool'];
const POOL_KEYS = ['kind', 'size'];

/**
 * The relu-cnn branch of {@link createModel}: walks the conv stack with the shape arithmetic of
 * `convStackShapes` and rejects the first layer that does not fit, naming it (`conv[1].kernel`, …);
 * `err.field` is the top-level field (inputShape, conv, dense, …).
 */
function createReluCnnChecked(spec: ModelSpec, d: number): Model {
  const k = 'relu-cnn';
  const at = (field: string, path: string, value: unknown, allowed: string): never => {
    throw new InputError(`invalid ${path} ${show(value)} for model "${k}" (allowed: ${allowed})`, field);
  };
  if (spec.width !== undefined) fail('width', spec.width, k, 'no width: relu-cnn takes the widths of its dense layers from `dense`');

  const shape = spec.inputShape;
  if (shape === undefined) fail('inputShape', shape, k, `[channels, height, width], 3 integers ≥ 1 with product inputDim = ${d}`);
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every(isPositiveInteger)) {
    fail('inputShape', shape, k, `[channels, height, width], 3 integers ≥ 1 with product inputDim = ${d}`);
  }
  const [c0, h0, w0] = shape as readonly number[];
  if (c0 * h0 * w0 !== d) fail('inputShape', shape, k, `[channels, height, width] with product inputDim = ${d} (got ${c0 * h0 * w0})`);

  const conv = spec.conv;
  if (!Array.isArray(conv) || conv.length === 0) {
    fail('conv', conv, k, 'a list of at least one layer {channels, kernel, stride?, pool?: {kind: "max" | "avg", size}}');
  }
  let [h, w] = [h0, w0];
  (conv as readonly unknown[]).forEach((raw, l) => {
    const path = `conv[${l}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) at('conv', path, raw, 'an object {channels, kernel, stride?, pool?}');
    const layer = raw as Record<string, unknown>;
    for (const key of Object.keys(layer)) if (!CONV_KEYS.includes(key)) at('conv', `${path}.${key}`, layer[key], `no ${key}: a conv layer has ${CONV_KEYS.join(', ')}`);
    if (!isPositiveInteger(layer.channels)) at('conv', `${path}.channels`, layer.channels, 'an integer ≥ 1');
    const stride = layer.stride ?? 1;
    if (!isPositiveInteger(stride)) at('conv', `${path}.stride`, layer.stride, 'an integer ≥ 1 (default 1)');
    const kernel = layer.kernel;
    const side = Math.min(h, w);
    if (!isPositiveInteger(kernel) || kernel > side) {
      at('conv', `${path}.kernel`, kernel, `an integer from 1 to ${side}, the smaller side of this layer's ${h}×${w} input ('valid' padding)`);
    }
    const ho = convOutputSize(h, kernel as number, stride as number);
    const wo = convOutputSize(w, kernel as number, stride as number);
    let p = 1;
    const pool = layer.pool;
    if (pool !== undefined && pool !== null) {
      if (typeof pool !== 'object' || Array.isArray(pool)) at('conv', `${path}.pool`, pool, '{kind: "max" | "avg", size}, or null for none');
      const pl = pool as Record<string, unknown>;
      for (const key of Object.keys(pl)) if (!POOL_KEYS.includes(key)) at('conv', `${path}.pool.${key}`, pl[key], `no ${key}: a pool has ${POOL_KEYS.join(', ')}`);
      if (pl.kind !== 'max' && pl.kind !== 'avg') at('conv', `${path}.pool.kind`, pl.kind, '"max" or "avg"');
      if (!isPositiveInteger(pl.size) || ho % pl.size !== 0 || wo % pl.size !== 0) {
        at('conv', `${path}.pool.size`, pl.size, `an integer ≥ 1 dividing both sides of the ${ho}×${wo} conv output (non-overlapping windows)`);
      }
      p = pl.size as number;
    }
    [h, w] = [ho / p, wo / p];
  });

  const dense = spec.dense ?? [];
  if (!Array.isArray(dense) || !dense.every(isPositiveInteger)) fail('dense', spec.dense, k, 'a list of integers ≥ 1, the hidden widths of the dense ReLU layers (default [])');

  const order = (conv as readonly unknown[]).length + dense.length + 1;
  if (spec.depth !== undefined && spec.depth !== order) {
    fail('depth', spec.depth, k, `${order} = conv layers + dense layers + 1, or leave depth out`);
  }
  const outputs = spec.outputs ?? 1;
  if (!isPositiveInteger(outputs)) fail('outputs', spec.outputs, k, 'an integer ≥ 1 (1 for binary labels ±1, K for K classes)');
  const leak = spec.leak ?? 0;
  if (typeof leak !== 'number' || !(leak >= 0 && leak < 1)) fail('leak', spec.leak, k, 'a number in [0, 1)');

  return createReluCnn({ inputShape: [c0, h0, w0], conv: conv as readonly ConvLayerOptions[], dense, outputs, leak });
}
