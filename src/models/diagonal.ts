import type { Rng } from '../linalg/rng.ts';
import type { Model, ParamBlock, Workspace } from './model.ts';
import { kernels } from '../linalg/kernels.ts';
import { type ModelDescriptor, type ModelTraits, checkedDepth } from './descriptor.ts';
import { depthField } from './fields.ts';

/** Options of {@link createDiagonal} and {@link createDiagonalPm}. */
export interface DiagonalOptions {
  /** d, the input dimension. */
  readonly inputDim: number;
  /** L ≥ 1, the number of factors (homogeneity order). */
  readonly depth: number;
}

/**
 * Diagonal linear network (kind "diagonal"): β = u_1 ⊙ u_2 ⊙ ⋯ ⊙ u_L, f(θ; x) = ⟨β, x⟩, u_l ∈ R^d
 * (order L = depth). Layout: blocks "u1".."uL", shape [d] each.
 *
 * ∂f/∂u_l[j] = x_j Π_{k≠l} u_k[j], formed from prefix and suffix products (no division, so zero
 * entries are handled exactly).
 * Initialization: every entry ~ N(0, scale²). θ = 0 is a saddle for L ≥ 2 (all gradients vanish),
 * so never initialize at zero; a large scale keeps training in the kernel regime (docs/THEORY.md §7).
 *
 * Workspace: `beta` (β from the last forward), `suffix` (L+1 scratch products).
 */
export function createDiagonal(options: DiagonalOptions): Model {
  const d = options.inputDim;
  const L = options.depth;
  const layout: ParamBlock[] = [];
  for (let l = 0; l < L; l++) layout.push({ name: `u${l + 1}`, offset: l * d, shape: [d] });

  function computeBeta(theta: Float64Array, beta: Float64Array, betaOffset: number): void {
    for (let j = 0; j < d; j++) {
      let p = theta[j];
      for (let l = 1; l < L; l++) p *= theta[l * d + j];
      beta[betaOffset + j] = p;
    }
  }

  return {
    kind: 'diagonal',
    order: L,
    inputDim: d,
    outputDim: 1,
    numParams: L * d,
    layout,
    linearInX: true,
    spec: { kind: 'diagonal', inputDim: d, depth: L },
    init(rng: Rng, scale: number) {
      const theta = new Float64Array(L * d);
      for (let i = 0; i < L * d; i++) theta[i] = scale * rng.normal();
      return theta;
    },
    createWorkspace(): Workspace {
      return { beta: new Float64Array(d), suffix: new Float64Array(L + 1) };
    },
    forward(theta, x, xOffset, out, ws) {
      computeBeta(theta, ws.beta, 0);
      out[0] = kernels().dot(d, ws.beta, 0, x, xOffset);
    },
    backward(theta, x, xOffset, dOut, gradTheta, gradX, gradXOffset, ws) {
      const s = dOut[0];
      const beta = ws.beta;
      if (gradX) for (let j = 0; j < d; j++) gradX[gradXOffset + j] = s * beta[j];
      if (!gradTheta) return;
      const suffix = ws.suffix;
      for (let j = 0; j < d; j++) {
        // suffix[l] = Π_{k ≥ l} u_{k+1}[j] (0-based layers), suffix[L] = 1.
        suffix[L] = 1;
        for (let l = L - 1; l >= 0; l--) suffix[l] = suffix[l + 1] * theta[l * d + j];
        let prefix = s * x[xOffset + j];
        for (let l = 0; l < L; l++) {
          gradTheta[l * d + j] += prefix * suffix[l + 1];
          prefix *= theta[l * d + j];
        }
      }
    },
    predictor(theta, out) {
      computeBeta(theta, out, 0);
    },
  };
}

/**
 * Diagonal linear network in the ± form (kind "diagonal-pm"): β = u^{⊙L} − v^{⊙L},
 * f(θ; x) = ⟨β, x⟩, u, v ∈ R^d (order L = depth). Layout: blocks "u", "v", shape [d] each.
 *
 * Initialization (the standard one of Woodworth et al. 2020): u = v = scale·1, so β = 0 at init
 * while the gradient L·u^{⊙(L−1)} ⊙ x is not zero — unlike θ = 0, this is not a saddle. The scale
 * sets the regime (small: rich/sparse, large: kernel); `rng` is not used.
 * Powers are formed by repeated multiplication, so f(2θ) = 2^L f(θ) holds bit for bit.
 *
 * Workspace: `beta` (β from the last forward).
 */
export function createDiagonalPm(options: DiagonalOptions): Model {
  const d = options.inputDim;
  const L = options.depth;

  function computeBeta(theta: Float64Array, beta: Float64Array, betaOffset: number): void {
    for (let j = 0; j < d; j++) {
      const u = theta[j];
      const v = theta[d + j];
      let pu = u;
      let pv = v;
      for (let l = 1; l < L; l++) {
        pu *= u;
        pv *= v;
      }
      beta[betaOffset + j] = pu - pv;
    }
  }

  return {
    kind: 'diagonal-pm',
    order: L,
    inputDim: d,
    outputDim: 1,
    numParams: 2 * d,
    layout: [
      { name: 'u', offset: 0, shape: [d] },
      { name: 'v', offset: d, shape: [d] },
    ],
    linearInX: true,
    spec: { kind: 'diagonal-pm', inputDim: d, depth: L },
    init(_rng: Rng, scale: number) {
      return new Float64Array(2 * d).fill(scale);
    },
    createWorkspace(): Workspace {
      return { beta: new Float64Array(d) };
    },
    forward(theta, x, xOffset, out, ws) {
      computeBeta(theta, ws.beta, 0);
      out[0] = kernels().dot(d, ws.beta, 0, x, xOffset);
    },
    backward(theta, x, xOffset, dOut, gradTheta, gradX, gradXOffset, ws) {
      const s = dOut[0];
      const beta = ws.beta;
      if (gradX) for (let j = 0; j < d; j++) gradX[gradXOffset + j] = s * beta[j];
      if (!gradTheta) return;
      for (let j = 0; j < d; j++) {
        const u = theta[j];
        const v = theta[d + j];
        // u^{L−1}, v^{L−1} (1 when L = 1).
        let pu = 1;
        let pv = 1;
        for (let l = 1; l < L; l++) {
          pu *= u;
          pv *= v;
        }
        const c = L * s * x[xOffset + j];
        gradTheta[j] += c * pu;
        gradTheta[d + j] -= c * pv;
      }
    },
    predictor(theta, out) {
      computeBeta(theta, out, 0);
    },
  };
}

/** Both diagonal forms: C3's ‖β‖_{2/L} at depth ≥ 2 (depth 1 is the linear model: adversarial SVM), c_L = L^{−L/2}. */
const DIAGONAL_TRAITS: ModelTraits = Object.freeze({
  linearInX: true,
  multiclass: false,
  c3Architecture: 'diagonal',
  referenceProblem: (L: number) => (L >= 2 ? 'interpolation-norm' : 'adversarial-svm'),
  marginConstant: (L: number) => Math.pow(L, -L / 2),
  layerAlignment: false,
  separateTensors: true,
});

/** Diagonal network, product form β = u_1 ⊙ ⋯ ⊙ u_L (claim C3, N = ‖β‖_{2/L}). */
export const diagonalDescriptor: ModelDescriptor = {
  kind: 'diagonal',
  summary: 'diagonal linear network β = u_1 ⊙ ⋯ ⊙ u_L (claim C3)',
  fields: { depth: depthField() },
  traits: DIAGONAL_TRAITS,
  create(spec) {
    return createDiagonal({ inputDim: spec.inputDim, depth: checkedDepth(spec) });
  },
};

/**
 * Diagonal network, ± form β = u^{⊙L} − v^{⊙L} (claim C3). c_L = 1: ‖θ‖² ≥ Σ_j |β_j|^{2/L}, with
 * equality when one of u_j, v_j is 0.
 */
export const diagonalPmDescriptor: ModelDescriptor = {
  kind: 'diagonal-pm',
  summary: 'diagonal linear network, ± form β = u^{⊙L} − v^{⊙L} (claim C3)',
  fields: { depth: depthField() },
  traits: { ...DIAGONAL_TRAITS, marginConstant: () => 1 },
  create(spec) {
    return createDiagonalPm({ inputDim: spec.inputDim, depth: checkedDepth(spec) });
  },
};
