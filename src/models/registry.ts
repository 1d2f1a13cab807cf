/**
 * The model registry: every model kind's descriptor, in the documented order, and `createModel`.
 * A new model is its own file (the model and its descriptor), one line in {@link MODEL_DESCRIPTORS}
 * and its test (the conformance suite runs over every registered kind).
 */
import type { Model } from './model.ts';
import { InputError } from '../errors.ts';
import { DescriptorFamily } from '../kinds/descriptor.ts';
import { depthField, widthField, leakField, inputShapeField, convField, denseField } from './fields.ts';
import { type ModelDescriptor, type ModelSpec, failField, isPositiveInteger, showValue } from './descriptor.ts';
import { linearDescriptor } from './linear.ts';
import { deepLinearDescriptor } from './deep-linear.ts';
import { diagonalDescriptor, diagonalPmDescriptor } from './diagonal.ts';
import { convDescriptor } from './conv.ts';
import { reluMlpDescriptor } from './relu-mlp.ts';
import { leakyReluMlpDescriptor } from './leaky-relu-mlp.ts';
import { reluCnnDescriptor } from './relu-cnn.ts';

export type { ModelSpec, ModelDescriptor, ModelTraits, C3Architecture, ReferenceProblem } from './descriptor.ts';

/** Every model kind, in the order they are documented (docs/THEORY.md §2). */
export const MODELS = new DescriptorFamily<ModelDescriptor>('model', [
  linearDescriptor,
  deepLinearDescriptor,
  diagonalDescriptor,
  diagonalPmDescriptor,
  convDescriptor,
  reluMlpDescriptor,
  leakyReluMlpDescriptor,
  reluCnnDescriptor,
], [depthField(), widthField, leakField(), inputShapeField, convField, denseField]);

/** Registry names of the models, in the documented order. */
export const MODEL_KINDS: readonly string[] = MODELS.kinds;

/** A registered model kind. */
export type ModelKind = string;

/** The depth used when a spec leaves `depth` out (linear: 1, every other kind: 2). */
export const DEFAULT_DEPTH = 2;

/** The descriptor of a registered kind; InputError naming `field` for an unknown one. */
export function modelDescriptor(kind: unknown, field = 'kind'): ModelDescriptor {
  const d = MODELS.find(kind);
  if (!d) throw new InputError(`unknown model ${showValue(kind)} (allowed: ${MODEL_KINDS.join(', ')})`, field);
  return d;
}

/** Spec fields that only some kinds take (depth is checked by each kind: relu-cnn derives it). */
const KIND_FIELDS = ['width', 'leak', 'inputShape', 'conv', 'dense'] as const;

/**
 * Checks `spec` and builds the model. Throws `InputError` (with `field` set) naming the field, the
 * value and what is allowed, e.g. `unknown model "foo" (allowed: linear, deep-linear, …)`.
 * Fields that a kind does not take (width for diagonal, leak for deep-linear, …) are rejected rather
 * than ignored, so a typo in a config cannot go unnoticed.
 */
export function createModel(spec: ModelSpec): Model {
  const desc = modelDescriptor(spec.kind);
  const k = desc.kind;
  if (!isPositiveInteger(spec.inputDim)) failField('inputDim', spec.inputDim, k, 'an integer ≥ 1');
  for (const field of KIND_FIELDS) {
    if (spec[field] === undefined || desc.fields[field] !== undefined) continue;
    const takers = MODELS.kindsTaking(field);
    failField(field, spec[field], k, `no ${field}: ${desc.hints?.[field] ?? `only ${takers.join(', ')} take${takers.length === 1 ? 's' : ''} it`}`);
  }
  const outputs = spec.outputs ?? 1;
  if (desc.traits.multiclass) {
    if (!isPositiveInteger(outputs)) failField('outputs', spec.outputs, k, 'an integer ≥ 1 (1 for binary labels ±1, K for K classes)');
  } else if (outputs !== 1) {
    failField('outputs', spec.outputs, k, `1: linear-in-x models are binary; use ${MODELS.all.filter((d) => d.traits.multiclass).map((d) => d.kind).join(' or ')} for K classes`);
  }
  return desc.create(spec);
}
