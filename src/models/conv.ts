import type { Rng } from '../linalg/rng.ts';
import type { Model, ParamBlock, Workspace } from './model.ts';
import { kernels } from '../linalg/kernels.ts';
import { type ModelDescriptor, checkedDepth } from './descriptor.ts';
import { depthField } from './fields.ts';

/** Options of {@link createConv}. */
export interface ConvOptions {
  /** d, the input dimension (also the filter length: full-width filters). */
  readonly inputDim: number;
  /** L ≥ 1: L−1 circular convolution layers and a final linear layer. */
  readonly depth: number;
}

/**
 * Linear full-width circular convolutional network (kind "conv", Gunasekar et al. 2018):
 *   h_0 = x;  h_l[k] = (1/√d) Σ_j u_l[j] h_{l−1}[(k + j) mod d]  for l = 1..L−1;  f = ⟨h_{L−1}, u_L⟩,
 * with u_l ∈ R^d (order L = depth). Layout: blocks "u1".."uL", shape [d] each.
 * The predictor β = ∇_x f is computed by back-propagation (f = ⟨β, x⟩).
 *
 * Fourier identity (verified numerically in test/models/conformance.test.ts): with the unitary DFT
 * (F a)[ω] = (1/√d) Σ_n a[n] e^{−2πiωn/d} (see `dftUnitary`),
 *   F β = F u_1 ⊙ F u_2 ⊙ ⋯ ⊙ F u_L   (elementwise; no conjugation, no extra factor),
 * equivalently, with the unnormalized DFT 𝓕 = √d·F, 𝓕β = d^{−(L−1)/2} · 𝓕u_1 ⊙ ⋯ ⊙ 𝓕u_L.
 * Why: each layer is a scaled circular cross-correlation, and the 1/√d of the layer cancels the
 * √d of the correlation theorem, so F h_l = conj(F u_l) ⊙ F h_{l−1}; the final inner product
 * ⟨h_{L−1}, u_L⟩ = Σ_ω conj(F h_{L−1})[ω] (F u_L)[ω] conjugates once more, so all conjugations cancel.
 *
 * Initialization: every entry ~ N(0, scale²/d), i.e. standard deviation scale/√d, so that
 * ‖u_l‖₂ ≈ scale for every layer and depth 1 is exactly the linear model's N(0, scale²/d). Then the
 * F u_l have entries of mean square scale²/d and, by the identity, ‖β‖₂ ≈ scale^L · d^{−(L−1)/2}.
 * θ = 0 is a saddle for L ≥ 2 (all gradients vanish there).
 *
 * Workspace: `h` holds h_0..h_{L−1}, each stored twice in a row (2d entries) so that the circular
 * shift (k + j) mod d is a contiguous slice; `g` holds ∂f/∂h_l for l = 1..L−1 (d entries each).
 * Cost O(L d²) per example.
 */
export function createConv(options: ConvOptions): Model {
  const d = options.inputDim;
  const L = options.depth;
  const c = 1 / Math.sqrt(d);
  const layout: ParamBlock[] = [];
  for (let l = 0; l < L; l++) layout.push({ name: `u${l + 1}`, offset: l * d, shape: [d] });
  const d2 = 2 * d;

  /**
   * g_{L−1} = s·u_L, then g_{l−1}[i] = (1/√d) Σ_k g_l[k] u_l[(i − k) mod d] down to l = 2; the last
   * step (g_0 = ∂f/∂x) goes into dst at dstOffset when dst is given.
   */
  function backChain(theta: Float64Array, s: number, g: Float64Array, dst: Float64Array | null, dstOffset: number): void {
    if (L === 1) {
      if (dst) for (let j = 0; j < d; j++) dst[dstOffset + j] = s * theta[j];
      return;
    }
    const top = (L - 1) * d;
    for (let k = 0; k < d; k++) g[top + k] = s * theta[(L - 1) * d + k];
    for (let l = L - 1; l >= 1; l--) {
      if (l === 1 && !dst) break;
      const target = l === 1 ? (dst as Float64Array) : g;
      const tOff = l === 1 ? dstOffset : (l - 1) * d;
      const gOff = l * d;
      const uOff = (l - 1) * d;
      for (let i = 0; i < d; i++) {
        let acc = 0;
        for (let k = 0; k <= i; k++) acc += g[gOff + k] * theta[uOff + i - k];
        for (let k = i + 1; k < d; k++) acc += g[gOff + k] * theta[uOff + i - k + d];
        target[tOff + i] = c * acc;
      }
    }
  }

  return {
    kind: 'conv',
    order: L,
    inputDim: d,
    outputDim: 1,
    numParams: L * d,
    layout,
    linearInX: true,
    spec: { kind: 'conv', inputDim: d, depth: L },
    init(rng: Rng, scale: number) {
      const theta = new Float64Array(L * d);
      const s = scale * c;
      for (let i = 0; i < L * d; i++) theta[i] = s * rng.normal();
      return theta;
    },
    createWorkspace(): Workspace {
      // g is indexed by layer l = 1..L−1 at l·d; slot 0 is unused.
      return { h: new Float64Array(L * d2), g: new Float64Array(L * d) };
    },
    forward(theta, x, xOffset, out, ws) {
      const K = kernels();
      const h = ws.h;
      for (let k = 0; k < d; k++) {
        const v = x[xOffset + k];
        h[k] = v;
        h[d + k] = v;
      }
      for (let l = 1; l < L; l++) {
        const prev = (l - 1) * d2;
        const cur = l * d2;
        const uOff = (l - 1) * d;
        for (let k = 0; k < d; k++) {
          const v = c * K.dot(d, theta, uOff, h, prev + k);
          h[cur + k] = v;
          h[cur + d + k] = v;
        }
      }
      out[0] = K.dot(d, h, (L - 1) * d2, theta, (L - 1) * d);
    },
    backward(theta, x, xOffset, dOut, gradTheta, gradX, gradXOffset, ws) {
      const s = dOut[0];
      const g = ws.g;
      const h = ws.h;
      backChain(theta, s, g, gradX, gradXOffset);
      if (!gradTheta) return;
      const K = kernels();
      // ∂f/∂u_L = s·h_{L−1}; ∂f/∂u_l[j] = (1/√d) Σ_k g_l[k] h_{l−1}[(k + j) mod d].
      K.axpy(d, s, h, (L - 1) * d2, gradTheta, (L - 1) * d);
      for (let l = L - 1; l >= 1; l--) {
        const uOff = (l - 1) * d;
        const prev = (l - 1) * d2;
        for (let j = 0; j < d; j++) gradTheta[uOff + j] += c * K.dot(d, g, l * d, h, prev + j);
      }
    },
    predictor(theta, out, ws) {
      backChain(theta, 1, ws.g, out, 0);
    },
  };
}

/** Linear circular convolutional network (claim C3, N = ‖Fβ‖_{2/L}). */
export const convDescriptor: ModelDescriptor = {
  kind: 'conv',
  summary: 'linear full-width circular convolutional network (claim C3)',
  fields: { depth: depthField() },
  traits: {
    linearInX: true,
    multiclass: false,
    c3Architecture: 'conv',
    referenceProblem: (L) => (L >= 2 ? 'interpolation-norm' : 'adversarial-svm'),
    marginConstant: (L) => Math.pow(L, -L / 2),
    layerAlignment: false,
    separateTensors: true,
  },
  create(spec) {
    return createConv({ inputDim: spec.inputDim, depth: checkedDepth(spec) });
  },
};
