import type { Model } from './model.ts';
import { InputError } from '../errors.ts';
import { createLinear } from './linear.ts';
import { createDeepLinear } from './deep-linear.ts';
import { createDiagonal, createDiagonalPm } from './diagonal.ts';
import { createConv } from './conv.ts';
import { createReluMlp } from './relu-mlp.ts';

/** Registry names of the models, in the order they are documented (THEORY §2). */
export const MODEL_KINDS = ['linear', 'deep-linear', 'diagonal', 'diagonal-pm', 'conv', 'relu-mlp'] as const;

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
 * - `outputs`: K, integer ≥ 1, default 1; only relu-mlp allows K > 1 (the others are linear in x).
 * - `leak`: relu-mlp only; leaky-ReLU slope in [0, 1), default 0.
 */
export interface ModelSpec {
  readonly kind: string;
  readonly inputDim: number;
  readonly depth?: number;
  readonly width?: number | readonly number[];
  readonly outputs?: number;
  readonly leak?: number;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
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
    if (k !== 'relu-mlp') fail('leak', spec.leak, k, 'no leak: only relu-mlp has a nonlinearity');
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
