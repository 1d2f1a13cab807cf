/**
 * Hot float64 kernels behind one small interface, so that a faster backend (WebAssembly SIMD)
 * can replace the plain-TypeScript reference without touching models or training.
 *
 * Matrices are row-major `Float64Array` blocks addressed by an offset; vectors have stride 1.
 * Kernels trust their callers (no bounds checks) and never allocate.
 */
export interface Kernels {
  readonly name: string;
  /** Σ_j x_j y_j over n entries. */
  dot(n: number, x: Float64Array, xo: number, y: Float64Array, yo: number): number;
  /** y ← y + a·x. */
  axpy(n: number, a: number, x: Float64Array, xo: number, y: Float64Array, yo: number): void;
  /** y ← A x + beta·y, A is m×n row-major at offset ao. */
  gemv(m: number, n: number, A: Float64Array, ao: number, x: Float64Array, xo: number, y: Float64Array, yo: number, beta: number): void;
  /** y ← Aᵀ x + beta·y, A is m×n row-major (x has m entries, y has n). */
  gemvT(m: number, n: number, A: Float64Array, ao: number, x: Float64Array, xo: number, y: Float64Array, yo: number, beta: number): void;
  /** A ← A + alpha·x yᵀ (A is m×n, x has m entries, y has n). */
  ger(m: number, n: number, alpha: number, x: Float64Array, xo: number, y: Float64Array, yo: number, A: Float64Array, ao: number): void;
  /**
   * C ← alpha·op(A)·op(B) + beta·C, C is m×n; op(A) is m×k, op(B) is k×n; `transA`/`transB` read the
   * stored matrix transposed (A stored k×m, B stored n×k).
   */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, A: Float64Array, ao: number, B: Float64Array, bo: number, beta: number, C: Float64Array, co: number): void;
  /**
   * Optional fused update of the training step on the sphere (src/train/step.ts): next ← from + c·g,
   * then next ← next/‖next‖; returns ‖from + c·g‖. Backends without it get the step's own loops
   * (next[k] = from[k] + c·g[k], Σ next², next[k] /= r, in index order).
   */
  sphereUpdate?(n: number, from: Float64Array, c: number, g: Float64Array, next: Float64Array): number;
  /**
   * Optional, with the three below (`elementwiseOf` gives the reference loops to a set without them):
   * zeroed float64 buffers of the given lengths for the elementwise kernels below, e.g. in
   * WebAssembly memory, where a backend runs those kernels in place without copying; the buffers of
   * one call may be passed together to one kernel call. They are ordinary `Float64Array`s everywhere
   * else (any kernel set accepts them) and are never moved or detached.
   */
  allocate?(lengths: readonly number[]): Float64Array[];
  /**
   * The leaky ReLU of the batched passes: a_i ← z_i·(s + leak·(1 − s)) with s = [z_i > 0] (0 or 1),
   * over n entries (a may be z). Elementwise kernels perform exactly these operations on every
   * backend (bit-identical results; a NaN result is a NaN, its sign bit the CPU's); a backend runs
   * them fast on buffers of one `allocate` call and as the reference loop on any others.
   */
  relu?(n: number, z: Float64Array, zo: number, a: Float64Array, ao: number, leak: number): void;
  /** Its derivative applied to the back-propagated g: g_i ← g_i·(s + leak·(1 − s)), s = [z_i > 0]. */
  reluMask?(n: number, g: Float64Array, go: number, z: Float64Array, zo: number, leak: number): void;
  /**
   * One ℓ∞ PGD step (src/attacks/pgd.ts) over n entries: v = D + α·([G < 0] − [G > 0]),
   * hi = [v > ε], lo = [v < −ε], D ← v·(1 − hi − lo) + ε·hi − ε·lo (the step, then the clip to
   * [−ε, ε]), and P ← X + D when `points`.
   */
  linfStep?(n: number, G: Float64Array, go: number, D: Float64Array, dOff: number, P: Float64Array, po: number, X: Float64Array, xo: number, alpha: number, eps: number, points: boolean): void;
  /**
   * im2col of a 'valid' convolution (g: C_in, H, W, kernel k, stride s, output H_o×W_o) over `count`
   * inputs: col[(c·k + u)·k + v, b·H_o·W_o + i·W_o + j] ← src[so + b·exStride + c·chStride + (i·s + u)·W + j·s + v],
   * a (C_in·k·k) × (count·H_o·W_o) row-major matrix at colOff. Pure copies.
   */
  im2col?(g: ConvGeometry, count: number, src: Float64Array, so: number, exStride: number, chStride: number, col: Float64Array, colOff: number): void;
  /**
   * Its adjoint (same strides): dst ← 0 over the count·C_in·H·W entries from dOff, then
   * dst[…] += dcol[…] over every window, each entry summing its windows in (c, u, v) order.
   */
  col2im?(g: ConvGeometry, count: number, dcol: Float64Array, dcolOff: number, dst: Float64Array, dOff: number, exStride: number, chStride: number): void;
  /**
   * Max pooling over non-overlapping ps×ps windows of `planes` planes of H_o×W_o entries from aOff
   * (ps divides H_o and W_o): p[pOff + o] ← the window's maximum, arg[argOff + o] ← its index
   * relative to aOff, o running over the outputs plane by plane, row-major. Ties and NaN: strict
   * `>` keeps the FIRST maximal entry in row-major window order (a NaN first entry stays).
   */
  maxPool?(planes: number, ho: number, wo: number, ps: number, a: Float64Array, aOff: number, p: Float64Array, pOff: number, arg: Float64Array, argOff: number): void;
}

/** The shape of one 'valid' convolution for `im2col`/`col2im`: input C_in×H×W, kernel k, stride s, output H_o×W_o. */
export interface ConvGeometry {
  readonly ci: number;
  readonly hi: number;
  readonly wi: number;
  readonly k: number;
  readonly s: number;
  readonly ho: number;
  readonly wo: number;
}

/** The elementwise kernels of a kernel set (see `elementwiseOf`). */
export type ElementwiseKernels = Required<Pick<Kernels, 'allocate' | 'relu' | 'reluMask' | 'linfStep' | 'im2col' | 'col2im' | 'maxPool'>>;

/** A kernel set with every elementwise kernel (as the built-in ones are). */
export type CompleteKernels = Kernels & ElementwiseKernels;

/**
 * The window walk of im2col and its adjoint: for each (c, u, v), example b and output row i, the W_o
 * entries of col's row (c·k + u)·k + v at b·H_o·W_o + i·W_o and those of the image at
 * imgOff + b·exStride + c·chStride + (i·s + u)·W + v (step s): copied into col, or (adjoint) added
 * onto the image.
 */
function convWindows(g: ConvGeometry, count: number, img: Float64Array, imgOff: number, exStride: number, chStride: number, col: Float64Array, colOff: number, adjoint: boolean): void {
  const { ci, wi, k, s, ho, wo } = g;
  const width = count * ho * wo;
  let r = colOff;
  for (let c = 0; c < ci; c++) {
    for (let u = 0; u < k; u++) {
      for (let v = 0; v < k; v++) {
        let q = r;
        for (let b = 0; b < count; b++) {
          for (let i = 0; i < ho; i++) {
            const row = imgOff + b * exStride + c * chStride + (i * s + u) * wi + v;
            if (adjoint) {
              if (s === 1) for (let j = 0; j < wo; j++) img[row + j] += col[q + j];
              else for (let j = 0; j < wo; j++) img[row + j * s] += col[q + j];
            } else if (s === 1) for (let j = 0; j < wo; j++) col[q + j] = img[row + j];
            else for (let j = 0; j < wo; j++) col[q + j] = img[row + j * s];
            q += wo;
          }
        }
        r += width;
      }
    }
  }
}

/** The reference loops of the elementwise kernels (see `Kernels`), shared by every backend's fallback. */
export const elementwiseReference: ElementwiseKernels = Object.freeze({
  allocate(lengths: readonly number[]): Float64Array[] {
    return lengths.map((n) => new Float64Array(n));
  },
  relu(n: number, z: Float64Array, zo: number, a: Float64Array, ao: number, leak: number): void {
    // No data-dependent branch (half the signs are random: a branch mispredicts about every other
    // entry, ~3× slower); s ∈ {0, 1}, so the product is exactly v or v·leak.
    for (let i = 0; i < n; i++) {
      const v = z[zo + i];
      const s = +(v > 0);
      a[ao + i] = v * (s + leak * (1 - s));
    }
  },
  reluMask(n: number, g: Float64Array, go: number, z: Float64Array, zo: number, leak: number): void {
    for (let i = 0; i < n; i++) {
      const s = +(z[zo + i] > 0);
      g[go + i] *= s + leak * (1 - s);
    }
  },
  linfStep(n: number, G: Float64Array, go: number, D: Float64Array, dOff: number, P: Float64Array, po: number, X: Float64Array, xo: number, alpha: number, eps: number, points: boolean): void {
    // Sign and clip as 0/1 selections: exactly Math.sign(−g) + 0 and projectLinf's result for finite
    // values (no data-dependent branch).
    for (let i = 0; i < n; i++) {
      const gk = G[go + i];
      const v = D[dOff + i] + alpha * (+(gk < 0) - +(gk > 0));
      const hi = +(v > eps);
      const lo = +(v < -eps);
      const w = v * (1 - hi - lo) + eps * hi - eps * lo;
      D[dOff + i] = w;
      if (points) P[po + i] = X[xo + i] + w;
    }
  },
  im2col(g: ConvGeometry, count: number, src: Float64Array, so: number, exStride: number, chStride: number, col: Float64Array, colOff: number): void {
    convWindows(g, count, src, so, exStride, chStride, col, colOff, false);
  },
  col2im(g: ConvGeometry, count: number, dcol: Float64Array, dcolOff: number, dst: Float64Array, dOff: number, exStride: number, chStride: number): void {
    dst.fill(0, dOff, dOff + count * g.ci * g.hi * g.wi);
    convWindows(g, count, dst, dOff, exStride, chStride, dcol, dcolOff, true);
  },
  maxPool(planes: number, ho: number, wo: number, ps: number, a: Float64Array, aOff: number, p: Float64Array, pOff: number, arg: Float64Array, argOff: number): void {
    const hp = ho / ps;
    const wp = wo / ps;
    const nPos = ho * wo;
    let o = 0;
    for (let c = 0; c < planes; c++) {
      for (let pi = 0; pi < hp; pi++) {
        for (let pj = 0; pj < wp; pj++) {
          const top = c * nPos + pi * ps * wo + pj * ps;
          let best = a[aOff + top];
          let at = top;
          for (let u = 0; u < ps; u++) {
            const row = top + u * wo;
            for (let v = 0; v < ps; v++) {
              const val = a[aOff + row + v];
              if (val > best) {
                best = val;
                at = row + v;
              }
            }
          }
          p[pOff + o] = best;
          arg[argOff + o] = at;
          o++;
        }
      }
    }
  },
});

/** Plain TypeScript reference kernels. */
export const jsKernels: CompleteKernels = {
  name: 'js',
  ...elementwiseReference,
  dot(n, x, xo, y, yo) {
    let s = 0;
    for (let j = 0; j < n; j++) s += x[xo + j] * y[yo + j];
    return s;
  },
  axpy(n, a, x, xo, y, yo) {
    for (let j = 0; j < n; j++) y[yo + j] += a * x[xo + j];
  },
  gemv(m, n, A, ao, x, xo, y, yo, beta) {
    for (let i = 0; i < m; i++) {
      let s = 0;
      const row = ao + i * n;
      for (let j = 0; j < n; j++) s += A[row + j] * x[xo + j];
      y[yo + i] = beta === 0 ? s : s + beta * y[yo + i];
    }
  },
  gemvT(m, n, A, ao, x, xo, y, yo, beta) {
    if (beta === 0) for (let j = 0; j < n; j++) y[yo + j] = 0;
    else if (beta !== 1) for (let j = 0; j < n; j++) y[yo + j] *= beta;
    for (let i = 0; i < m; i++) {
      const xi = x[xo + i];
      if (xi === 0) continue;
      const row = ao + i * n;
      for (let j = 0; j < n; j++) y[yo + j] += A[row + j] * xi;
    }
  },
  ger(m, n, alpha, x, xo, y, yo, A, ao) {
    for (let i = 0; i < m; i++) {
      const a = alpha * x[xo + i];
      if (a === 0) continue;
      const row = ao + i * n;
      for (let j = 0; j < n; j++) A[row + j] += a * y[yo + j];
    }
  },
  gemm(transA, transB, m, n, k, alpha, A, ao, B, bo, beta, C, co) {
    for (let i = 0; i < m; i++) {
      const crow = co + i * n;
      if (beta === 0) for (let j = 0; j < n; j++) C[crow + j] = 0;
      else if (beta !== 1) for (let j = 0; j < n; j++) C[crow + j] *= beta;
      for (let l = 0; l < k; l++) {
        const a = alpha * (transA ? A[ao + l * m + i] : A[ao + i * k + l]);
        if (a === 0) continue;
        if (transB) for (let j = 0; j < n; j++) C[crow + j] += a * B[bo + j * k + l];
        else {
          const brow = bo + l * n;
          for (let j = 0; j < n; j++) C[crow + j] += a * B[brow + j];
        }
      }
    }
  },
};

/**
 * The elementwise kernels of `k`: k itself when it has all of them, else the reference loops (kernel
 * sets written before they existed keep working, with the same results).
 */
export function elementwiseOf(k: Kernels): ElementwiseKernels {
  return k.allocate && k.relu && k.reluMask && k.linfStep && k.im2col && k.col2im && k.maxPool ? (k as ElementwiseKernels) : elementwiseReference;
}

let active: Kernels = jsKernels;

/** The kernels in use. */
export function kernels(): Kernels {
  return active;
}

/** Replace the kernels in use (e.g. by a WebAssembly backend); returns the previous ones. */
export function setKernels(k: Kernels): Kernels {
  const prev = active;
  active = k;
  return prev;
}
