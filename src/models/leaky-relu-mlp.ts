/**
 * Leaky-ReLU MLP (kind "leaky-relu-mlp"): the bias-free network of `createReluMlp` with
 * σ(z) = max(z, a·z), 0 < a < 1, default a = 0.1. Leaky ReLU is positively 1-homogeneous, so f is
 * L-homogeneous in θ and claim C2 applies (KKT measurements); unlike ReLU it has no dead units
 * (σ' ∈ {a, 1}, never 0), and σ'(0) = a by the same convention as ReLU'(0) = 0.
 *
 * This file is the whole of the model as far as the rest of advbias is concerned: the registry
 * lists its descriptor, and the config schema, the CLI flags, `--help` and the JSON Schema pick
 * up its settings from there (test/models/leaky-relu-mlp.test.ts).
 */
import type { Model } from './model.ts';
import { createReluMlp } from './relu-mlp.ts';
import { NONLINEAR_TRAITS, type ModelDescriptor, checkedDepth, checkedWidth, checkedLeak } from './descriptor.ts';
import { depthField, widthField, leakField } from './fields.ts';

/** Default slope a (the common choice in the leaky-ReLU literature). */
export const DEFAULT_LEAK = 0.1;

/** Options of {@link createLeakyReluMlp}. */
export interface LeakyReluMlpOptions {
  /** d, the input dimension. */
  readonly inputDim: number;
  /** L ≥ 1, the number of weight layers. */
  readonly depth: number;
  /** Hidden width (every hidden layer) or the L−1 widths; default d. */
  readonly width?: number | readonly number[];
  /** K outputs; default 1. */
  readonly outputs?: number;
  /** Slope a in (0, 1); default 0.1. */
  readonly leak?: number;
}

/** A bias-free leaky-ReLU MLP (layout, initialization and batch methods as relu-mlp's). */
export function createLeakyReluMlp(options: LeakyReluMlpOptions): Model {
  const leak = options.leak ?? DEFAULT_LEAK;
  const base = createReluMlp({ ...options, leak });
  return { ...base, kind: 'leaky-relu-mlp', spec: { ...base.spec, kind: 'leaky-relu-mlp' } };
}

export const leakyReluMlpDescriptor: ModelDescriptor = {
  kind: 'leaky-relu-mlp',
  summary: 'bias-free leaky-ReLU MLP, slope a > 0 (default 0.1), K outputs (claim C2)',
  fields: { depth: depthField(), width: widthField, leak: leakField(DEFAULT_LEAK, true) },
  traits: NONLINEAR_TRAITS,
  create(spec) {
    const depth = checkedDepth(spec);
    const leak = checkedLeak(spec, DEFAULT_LEAK, true);
    return createLeakyReluMlp({ inputDim: spec.inputDim, depth, width: checkedWidth(spec, depth), outputs: spec.outputs ?? 1, leak });
  },
};
