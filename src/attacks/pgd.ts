/** Projected gradient descent on the margin in an ℓp ball (Madry et al. 2018; docs/THEORY.md §3). */
import type { Attack, AttackConfig } from './attack.ts';
import { steepestAscent } from '../linalg/norms.ts';
import { projectBall, sampleBall } from '../linalg/projections.ts';
import { elementwiseOf, kernels } from '../linalg/kernels.ts';
import type { AttackDescriptor } from './descriptor.ts';
import { clipField, epsField, pField, randomStartField, stepSizeField, stepsField } from './fields.ts';
import { MarginScratch, checkModelData, clipOffset, marginInputGradient, marginInputGradientBatch, rowCount, rowIndex, zeroRows } from './fgm.ts';

/**
 * PGD with K = `steps` steps of size α = `stepSize`, iterated on the offset δ = x − x_i:
 *   δ₀ = 0, or a uniform point of B_p(0, ε) from `rng` when `randomStart` (`sampleBall`);
 *   δ_{k+1} = Π_{B_p(0, ε)}(δ_k + α·s_p(−∇_x m(θ; x_i + δ_k))),   δ_i = δ_K,
 * which is x ← Π_{B_p(x_i, ε)}(x + α s_p(−∇_x m(x))) with δ = x_K − x_i, written so that δ is
 * projected directly (no cancellation in x_K − x_i). Steps are steepest-ascent (sign/normalized)
 * directions, so PGD is scale-invariant in θ (bit-exact for c = 2).
 *
 * On a linear-in-x model the direction s = s_p(−yβ) is the same at every step. For p ∈ {1, 2, ∞} and
 * Kα ≥ ε, PGD then reaches the exact worst case ε·s. For other p it does not in general: the
 * Euclidean projection of t·s (t > ε) is not ε·s, and the fixed point of δ = Π(δ + α s) is
 * argmax_{‖δ‖_p ≤ ε} ⟨s, δ⟩ = ε s_p(s) ≠ ε s; with Kα = ε exactly (no projection ever active) it does.
 *
 * Random starts consume `rng` row by row in the order the rows are listed, so δ is a deterministic
 * function of the rng's state; `randomStart` with `rng === null` is a programming error (Error).
 * `config` is taken as validated.
 *
 * Models with batch methods (and no β shortcut) run each iterate as one batched forward/backward
 * pass over up to ATTACK_BATCH_ROWS rows; the per-row steps (random start, s_p, projection) are the
 * same arithmetic as the per-example loop, in the same order, so the random starts and the result
 * are the same up to the gemm summation order (see `createFgm`; tested to 1e-12 relative).
 */
export function createPgd(config: AttackConfig): Attack {
  const { p, eps, steps, stepSize, randomStart } = config;
  const box = config.clip ?? null;
  const s = new MarginScratch();
  let x = new Float64Array(0);
  let dir = new Float64Array(0);
  /** The linear-in-x path's δ for y = +1 and y = −1 (d entries each). */
  let linPlus = new Float64Array(0);
  let linMinus = new Float64Array(0);
  return {
    config,
    perturb(model, theta, data, indices, delta, ws, rng) {
      if (randomStart && rng === null) {
        throw new Error('pgd: config.randomStart is true but perturb was called with rng = null; pass the seeded attack rng');
      }
      checkModelData('pgd', model, data);
      const d = data.d;
      if (eps === 0) return zeroRows(delta, d, data.n, indices);
      s.ensure(d, model.outputDim);
      s.prepare(model, theta, data.binary, ws);
      if (x.length < d) {
        x = new Float64Array(d);
        dir = new Float64Array(d);
      }
      const g = s.grad;
      const X = data.X;
      const count = rowCount(data.n, indices);
      const bm = s.batch;
      if (bm !== null) {
        const B = s.ensureBatch(bm, count);
        // δ of the pass's rows lives in bDelta (row b ↔ listed row k0 + b) and is written back at the
        // end, so that a row listed twice behaves as in the per-example loop (the later one wins).
        const D = s.bDelta;
        const P = s.bPoints;
        const G = s.bGrad;
        for (let k0 = 0; k0 < count; k0 += B) {
          const c = Math.min(B, count - k0);
          for (let b = 0; b < c; b++) {
            const o = b * d;
            if (randomStart && rng !== null) {
              sampleBall(rng, p, eps, D, d, o);
              projectBall(p, D, null, eps, d, o);
              if (box) clipOffset(D, o, X, rowIndex(indices, k0 + b) * d, d, box[0], box[1]);
            } else D.fill(0, o, o + d);
          }
          // ℓ∞ without a box, the common case: the step, the projection and the next iterate's points
          // in one pass over the pass's rows (kernels' `linfStep`: the same arithmetic, in the same
          // order, as the general path below), reading the rows from their copy beside δ.
          const fusedLinf = p === Infinity && !box && !randomStart;
          const XR = s.bRows;
          for (let b = 0; b < c; b++) {
            const row = rowIndex(indices, k0 + b) * d;
            const o = b * d;
            if (fusedLinf) for (let j = 0; j < d; j++) XR[o + j] = X[row + j];
            for (let j = 0; j < d; j++) P[o + j] = X[row + j] + D[o + j];
          }
          for (let step = 0; step < steps; step++) {
            if (step > 0 && !fusedLinf) {
              for (let b = 0; b < c; b++) {
                const row = rowIndex(indices, k0 + b) * d;
                const o = b * d;
                for (let j = 0; j < d; j++) P[o + j] = X[row + j] + D[o + j];
              }
            }
            marginInputGradientBatch(bm, theta, P, null, 0, c, data.y, indices, k0, data.binary, s);
            if (fusedLinf) {
              // One pass over the rows: δ += α·sign(−g), δ ← clip(δ, −ε, ε), and the next iterate's points
              // x_i + δ (not after the last step, where only δ is read). Sign and clip are 0/1
              // selections (no data-dependent branch: half the signs are random), exactly
              // Math.sign(−g) + 0 and projectLinf's result for finite values (δ is never −0 here: it
              // starts at +0 and sums of ±α round to +0).
              elementwiseOf(kernels()).linfStep(c * d, G, 0, D, 0, P, 0, XR, 0, stepSize, eps, step < steps - 1);
              continue;
            }
            for (let b = 0; b < c; b++) {
              const o = b * d;
              for (let j = 0; j < d; j++) G[o + j] = -G[o + j];
              steepestAscent(G, p, dir, d, o, 0);
              for (let j = 0; j < d; j++) D[o + j] += stepSize * dir[j];
              projectBall(p, D, null, eps, d, o);
              if (box) clipOffset(D, o, X, rowIndex(indices, k0 + b) * d, d, box[0], box[1]);
            }
          }
          for (let b = 0; b < c; b++) {
            const row = rowIndex(indices, k0 + b) * d;
            const o = b * d;
            for (let j = 0; j < d; j++) delta[row + j] = D[o + j];
          }
        }
        return;
      }
      if (s.linear && !randomStart && !box) {
        // Binary linear-in-x model, no random start, no box: ∇_x m_i = y_i β for every x, so the K
        // iterates depend on the row only through y_i ∈ {±1}, and every map below is odd (sign,
        // ℓp steepest ascent, projection onto a centred ball). δ is computed once for y = +1 and
        // written as δ or 0 − δ (0 − x keeps +0 where the per-row loop has +0): bit for bit the
        // per-row loop's result, at O(K·d + count·d) instead of O(count·K·d).
        // The direction s_p(−β) is the same at every step: formed once. The rows are then copies of
        // δ₊ or of δ₋ = 0 − δ₊ (`set`, a memcpy per row).
        if (linPlus.length !== d) {
          linPlus = new Float64Array(d);
          linMinus = new Float64Array(d);
        }
        const plus = linPlus;
        const minus = linMinus;
        const q = x;
        plus.fill(0);
        const beta = s.beta;
        for (let j = 0; j < d; j++) g[j] = -beta[j];
        steepestAscent(g, p, q, d);
        for (let step = 0; step < steps; step++) {
          for (let j = 0; j < d; j++) plus[j] += stepSize * q[j];
          projectBall(p, plus, null, eps, d, 0);
        }
        for (let j = 0; j < d; j++) minus[j] = 0 - plus[j];
        for (let k = 0; k < count; k++) {
          const i = rowIndex(indices, k);
          delta.set(data.y[i] > 0 ? plus : minus, i * d);
        }
        return;
      }
      for (let k = 0; k < count; k++) {
        const i = rowIndex(indices, k);
        const row = i * d;
        // δ lives in its row of `delta` throughout; x = x_i + δ is the point the model sees.
        if (randomStart && rng !== null) {
          sampleBall(rng, p, eps, delta, d, row);
          // The sample is in the ball mathematically; projecting absorbs rounding in its scaling.
          projectBall(p, delta, null, eps, d, row);
          if (box) clipOffset(delta, row, X, row, d, box[0], box[1]);
        } else delta.fill(0, row, row + d);
        for (let step = 0; step < steps; step++) {
          for (let j = 0; j < d; j++) x[j] = X[row + j] + delta[row + j];
          marginInputGradient(model, theta, x, 0, data.y[i], data.binary, s, ws);
          for (let j = 0; j < d; j++) g[j] = -g[j];
          steepestAscent(g, p, dir, d);
          for (let j = 0; j < d; j++) delta[row + j] += stepSize * dir[j];
          projectBall(p, delta, null, eps, d, row);
          if (box) clipOffset(delta, row, X, row, d, box[0], box[1]);
        }
      }
    },
  };
}

export const pgdDescriptor: AttackDescriptor = {
  kind: 'pgd',
  summary: 'projected gradient descent, K steps of α·s_p in the ℓp ball',
  fields: { p: pField, eps: epsField, steps: stepsField, stepSize: stepSizeField, randomStart: randomStartField, clip: clipField },
  traits: { fixedNorm: null, needsLinearInX: false, perturbs: true },
  create: createPgd,
};
