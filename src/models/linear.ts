import type { Rng } from '../linalg/rng.ts';
import type { Model, Workspace } from './model.ts';
import { kernels } from '../linalg/kernels.ts';
import * as z from 'zod';
import { type ModelDescriptor, failField } from './descriptor.ts';
import { depthField } from './fields.ts';

/**
 * Linear model f(w; x) = ⟨w, x⟩ (order L = 1, β = w).
 * Initialization: w_j ~ N(0, scale²/d).
 */
export function createLinear(inputDim: number): Model {
  const d = inputDim;
  return {
    kind: 'linear',
    order: 1,
    inputDim: d,
    outputDim: 1,
    numParams: d,
    layout: [{ name: 'w', offset: 0, shape: [d] }],
    linearInX: true,
    spec: { kind: 'linear', inputDim: d },
    init(rng: Rng, scale: number) {
      const theta = new Float64Array(d);
      const s = scale / Math.sqrt(d);
      for (let j = 0; j < d; j++) theta[j] = s * rng.normal();
      return theta;
    },
    createWorkspace(): Workspace {
      return {};
    },
    forward(theta, x, xOffset, out) {
      out[0] = kernels().dot(d, theta, 0, x, xOffset);
    },
    backward(theta, x, xOffset, dOut, gradTheta, gradX, gradXOffset) {
      const g = dOut[0];
      if (gradTheta) kernels().axpy(d, g, x, xOffset, gradTheta, 0);
      if (gradX) for (let j = 0; j < d; j++) gradX[gradXOffset + j] = g * theta[j];
    },
    predictor(theta, out) {
      out.set(theta.subarray(0, d));
    },
  };
}

/** Linear model: order 1, β = w; its reference is the adversarial SVM (B) (claim C1). */
export const linearDescriptor: ModelDescriptor = {
  kind: 'linear',
  summary: 'linear model f = ⟨w, x⟩ (L = 1)',
  fields: { depth: { ...depthField('depth: 1 (use deep-linear for L > 1)'), schema: z.literal(1, { error: 'must be 1 (use deep-linear for depth > 1)' }).default(1) } },
  traits: {
    linearInX: true,
    multiclass: false,
    c3Architecture: null,
    referenceProblem: () => 'adversarial-svm',
    marginConstant: () => 1,
    layerAlignment: false,
    separateTensors: true,
  },
  create(spec) {
    if (spec.depth !== undefined && spec.depth !== 1) failField('depth', spec.depth, spec.kind, '1; use deep-linear for depth > 1');
    return createLinear(spec.inputDim);
  },
};
