/**
 * What a model kind declares about itself (see src/kinds/descriptor.ts): its settings, its factory
 * and the traits that the attacks, metrics, solvers and experiments read instead of testing kind
 * names. Library code: no Node APIs.
 */
import type { KindDescriptor } from '../kinds/descriptor.ts';
import type { Model } from './model.ts';
import type { ConvLayerOptions } from './relu-cnn.ts';
import { InputError } from '../errors.ts';

/**
 * A model described as data (e.g. a field of an experiment config), as `createModel` takes it.
 * - `kind`: a registered model kind (`MODEL_KINDS`).
 * - `inputDim`: d, integer ≥ 1.
 * - `depth`: L, integer ≥ 1; default 1 for linear (which only allows 1), 2 otherwise.
 * - `width`: models with hidden dense layers only; integer ≥ 1 or L−1 integers ≥ 1; default `inputDim`.
 * - `outputs`: K, integer ≥ 1, default 1; only multi-class kinds allow K > 1 (the others are linear in x).
 * - `leak`: models with a leaky-ReLU slope only; in [0, 1), default 0 (leaky-relu-mlp: 0.1).
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

/** Interpolation-norm architectures of claim C3. */
export type C3Architecture = 'diagonal' | 'conv';

/** The reference problem the theory predicts for a model's limit direction (docs/THEORY.md §5). */
export type ReferenceProblem = 'adversarial-svm' | 'interpolation-norm';

/** What the rest of advbias needs to know about a model kind, beyond its `Model` object. */
export interface ModelTraits {
  /** f(θ; x) = ⟨β(θ), x⟩ for binary data: the exact worst case, β, the separability check apply. */
  readonly linearInX: boolean;
  /** K > 1 outputs (K-class labels) allowed. */
  readonly multiclass: boolean;
  /** The predictor-space interpolation norm of claim C3 (diagonal: ‖β‖_{2/L}, conv: ‖Fβ‖_{2/L}), or null. */
  readonly c3Architecture: C3Architecture | null;
  /**
   * The reference problem at depth L: the adversarial SVM (B) (claim C1), the interpolation-norm
   * problem (claim C3), or null (claim C2: KKT measurements only).
   */
  referenceProblem(depth: number): ReferenceProblem | null;
  /**
   * c_L in sup_θ γ̄(θ) = c_L · sup_β Γ(β) (docs/THEORY.md §4) at depth L: L^{−L/2} for product forms
   * (AM–GM over the L factors), 1 for the linear model and the ± diagonal form; null without a predictor.
   */
  marginConstant(depth: number): number | null;
  /** Layer-alignment and balancedness measurements apply (deep linear). */
  readonly layerAlignment: boolean;
  /**
   * Its layout blocks map one to one onto the tensors of a PyTorch export (bias-free nn.Linear
   * weights [out, in], or vectors), so `measure --params` / `--init-from` read .safetensors/.npy
   * layer by layer; false: a flat θ or a result.json only.
   */
  readonly separateTensors: boolean;
}

/**
 * Traits of a bias-free network that is not linear in x (claim C2): K outputs, no predictor, no
 * closed-form reference (KKT measurements only); its layout maps onto PyTorch tensors.
 */
export const NONLINEAR_TRAITS: ModelTraits = Object.freeze({
  linearInX: false,
  multiclass: true,
  c3Architecture: null,
  referenceProblem: () => null,
  marginConstant: () => null,
  layerAlignment: false,
  separateTensors: true,
});

/** A model kind: settings, traits and factory. */
export interface ModelDescriptor extends KindDescriptor {
  readonly traits: ModelTraits;
  /**
   * Why a setting this kind does not take is rejected, when more can be said than "only … take it"
   * (e.g. relu-cnn: its dense widths come from `dense`, not `width`).
   */
  readonly hints?: Readonly<Record<string, string>>;
  /**
   * Build the model from a spec whose kind, inputDim, outputs and inapplicable fields `createModel`
   * has checked; checks the kind's own fields (InputError naming the field and what is allowed).
   */
  create(spec: ModelSpec): Model;
}

/** A value as error messages show it. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(showValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** Throws the one-line InputError of a bad model field. */
export function failField(field: string, value: unknown, kind: string, allowed: string): never {
  throw new InputError(`invalid ${field} ${showValue(value)} for model "${kind}" (allowed: ${allowed})`, field);
}

/** The checked depth of a spec: default 2, an integer ≥ 1. */
export function checkedDepth(spec: ModelSpec, fallback = 2): number {
  if (spec.depth === undefined) return fallback;
  if (!isPositiveInteger(spec.depth)) failField('depth', spec.depth, spec.kind, 'an integer ≥ 1');
  return spec.depth;
}

/** The checked hidden widths of a spec (undefined: the factory's default). */
export function checkedWidth(spec: ModelSpec, depth: number): number | readonly number[] | undefined {
  const width = spec.width;
  if (width === undefined) return undefined;
  const allowed = `an integer ≥ 1 or ${depth - 1} integers ≥ 1, one per hidden layer of depth ${depth}`;
  if (Array.isArray(width)) {
    if (width.length !== depth - 1 || !width.every(isPositiveInteger)) failField('width', width, spec.kind, allowed);
  } else if (!isPositiveInteger(width)) failField('width', width, spec.kind, allowed);
  return width;
}

/** The checked leaky-ReLU slope: in [0, 1) (`open`: in (0, 1)), default `fallback`. */
export function checkedLeak(spec: ModelSpec, fallback = 0, open = false): number {
  const a = spec.leak;
  if (a === undefined) return fallback;
  if (typeof a !== 'number' || !((open ? a > 0 : a >= 0) && a < 1)) failField('leak', a, spec.kind, open ? 'a number in (0, 1)' : 'a number in [0, 1)');
  return a;
}
