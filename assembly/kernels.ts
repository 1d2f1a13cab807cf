// Float64 kernels for src/linalg/wasm/backend.ts, in AssemblyScript with 128-bit SIMD (f64x2).
//
// Built by `npm run build:wasm` (scripts/build-wasm.mjs) into src/linalg/wasm/kernels-wasm.generated.ts.
// Same semantics as `jsKernels` in src/linalg/kernels.ts, on row-major matrices in this module's linear
// memory addressed by byte pointers (the JS side places the operands; this module never allocates).
// No imports, no runtime: every export is a plain function of numbers.
//
// Rounding: axpy, ger and gemvT perform exactly the operations of the JS reference in the same order
// (bit-identical on finite data); dot, gemv and gemm sum in another order (several SIMD accumulators,
// k split into blocks of at most KC), so they agree with it to rounding only. No fused multiply-add is used
// (relaxed SIMD's madd may or may not fuse depending on the CPU): results are the same on every machine.

// ---------------------------------------------------------------------------------------------------
// gemm blocking (Goto/BLIS style). The MR×NR micro-kernel keeps MR·NR/2 = 12 v128 accumulators plus
// the B vectors of a step and one broadcast A value in registers (x86-64 has 16 xmm registers); two
// k-steps per iteration measured 3–5 % faster than one.
// A packed MC×KC block of op(A) lives in L2, a KC×NR sliver of packed op(B) in L1. op(A) and op(B) are
// formed while packing, so one micro-kernel serves all four transpose combinations; alpha is applied
// to A while packing (as the JS reference multiplies alpha into A's entry before the product).

const MR: i32 = 6;
const NR: i32 = 4;
const MC: i32 = 72; // multiple of MR
const KC: i32 = 256;
const NC: i32 = 1024; // multiple of NR

/** Bytes of scratch that `gemm` needs at `work`: the packed A and B blocks and one MR×NR tile. */
export function gemmWorkspaceBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) << 3;
}

/** Σ_j x_j y_j over n entries. */
export function dot(n: i32, x: usize, y: usize): f64 {
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let s2 = f64x2.splat(0);
  let s3 = f64x2.splat(0);
  let j: i32 = 0;
  for (; j + 8 <= n; j += 8) {
    const px = x + (<usize>j << 3);
    const py = y + (<usize>j << 3);
    s0 = f64x2.add(s0, f64x2.mul(v128.load(px), v128.load(py)));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(px, 16), v128.load(py, 16)));
    s2 = f64x2.add(s2, f64x2.mul(v128.load(px, 32), v128.load(py, 32)));
    s3 = f64x2.add(s3, f64x2.mul(v128.load(px, 48), v128.load(py, 48)));
  }
  for (; j + 2 <= n; j += 2) {
    s0 = f64x2.add(s0, f64x2.mul(v128.load(x + (<usize>j << 3)), v128.load(y + (<usize>j << 3))));
  }
  const t = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  if (j < n) s += load<f64>(x + (<usize>j << 3)) * load<f64>(y + (<usize>j << 3));
  return s;
}

/** y ← y + a·x (the products and sums of the JS reference, so bit-identical to it). */
export function axpy(n: i32, a: f64, x: usize, y: usize): void {
  const av = f64x2.splat(a);
  let j: i32 = 0;
  for (; j + 4 <= n; j += 4) {
    const px = x + (<usize>j << 3);
    const py = y + (<usize>j << 3);
    v128.store(py, f64x2.add(v128.load(py), f64x2.mul(av, v128.load(px))));
    v128.store(py, f64x2.add(v128.load(py, 16), f64x2.mul(av, v128.load(px, 16))), 16);
  }
  for (; j < n; j++) {
    const py = y + (<usize>j << 3);
    store<f64>(py, load<f64>(py) + a * load<f64>(x + (<usize>j << 3)));
  }
}

/** x ← a·x over n entries. */
function scale(n: i32, a: f64, x: usize): void {
  const av = f64x2.splat(a);
  let j: i32 = 0;
  for (; j + 2 <= n; j += 2) {
    const p = x + (<usize>j << 3);
    v128.store(p, f64x2.mul(v128.load(p), av));
  }
  if (j < n) {
    const p = x + (<usize>j << 3);
    store<f64>(p, load<f64>(p) * a);
  }
}

/** Sum of the two lanes. */
// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** y ← A x + beta·y, A m×n row-major; beta = 0 overwrites y whatever it held. */
export function gemv(m: i32, n: i32, A: usize, x: usize, y: usize, beta: f64): void {
  const rowBytes = <usize>n << 3;
  let i: i32 = 0;
  // Four rows at a time: each x vector is loaded once for four rows, four independent add chains.
  for (; i + 4 <= m; i += 4) {
    const r0 = A + <usize>i * rowBytes;
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    const r3 = r2 + rowBytes;
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let s2 = f64x2.splat(0);
    let s3 = f64x2.splat(0);
    let j: i32 = 0;
    for (; j + 2 <= n; j += 2) {
      const o = <usize>j << 3;
      const xv = v128.load(x + o);
      s0 = f64x2.add(s0, f64x2.mul(v128.load(r0 + o), xv));
      s1 = f64x2.add(s1, f64x2.mul(v128.load(r1 + o), xv));
      s2 = f64x2.add(s2, f64x2.mul(v128.load(r2 + o), xv));
      s3 = f64x2.add(s3, f64x2.mul(v128.load(r3 + o), xv));
    }
    let t0 = hsum(s0);
    let t1 = hsum(s1);
    let t2 = hsum(s2);
    let t3 = hsum(s3);
    if (j < n) {
      const o = <usize>j << 3;
      const xj = load<f64>(x + o);
      t0 += load<f64>(r0 + o) * xj;
      t1 += load<f64>(r1 + o) * xj;
      t2 += load<f64>(r2 + o) * xj;
      t3 += load<f64>(r3 + o) * xj;
    }
    const py = y + (<usize>i << 3);
    if (beta == 0) {
      store<f64>(py, t0);
      store<f64>(py, t1, 8);
      store<f64>(py, t2, 16);
      store<f64>(py, t3, 24);
    } else {
      store<f64>(py, t0 + beta * load<f64>(py));
      store<f64>(py, t1 + beta * load<f64>(py, 8), 8);
      store<f64>(py, t2 + beta * load<f64>(py, 16), 16);
      store<f64>(py, t3 + beta * load<f64>(py, 24), 24);
    }
  }
  for (; i < m; i++) {
    const t = dot(n, A + <usize>i * rowBytes, x);
    const py = y + (<usize>i << 3);
    store<f64>(py, beta == 0 ? t : t + beta * load<f64>(py));
  }
}

/**
 * y ← Aᵀ x + beta·y, A m×n row-major. Rows are added to y in order, each as y + A_i·x_i, as the JS
 * reference does (bit-identical to it on finite data).
 */
export function gemvT(m: i32, n: i32, A: usize, x: usize, y: usize, beta: f64): void {
  if (beta == 0) memory.fill(y, 0, <usize>n << 3);
  else if (beta != 1) scale(n, beta, y);
  const rowBytes = <usize>n << 3;
  let i: i32 = 0;
  for (; i + 4 <= m; i += 4) {
    const px = x + (<usize>i << 3);
    const x0 = load<f64>(px);
    const x1 = load<f64>(px, 8);
    const x2 = load<f64>(px, 16);
    const x3 = load<f64>(px, 24);
    const v0 = f64x2.splat(x0);
    const v1 = f64x2.splat(x1);
    const v2 = f64x2.splat(x2);
    const v3 = f64x2.splat(x3);
    const r0 = A + <usize>i * rowBytes;
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    const r3 = r2 + rowBytes;
    let j: i32 = 0;
    for (; j + 2 <= n; j += 2) {
      const o = <usize>j << 3;
      let yv = v128.load(y + o);
      yv = f64x2.add(yv, f64x2.mul(v128.load(r0 + o), v0));
      yv = f64x2.add(yv, f64x2.mul(v128.load(r1 + o), v1));
      yv = f64x2.add(yv, f64x2.mul(v128.load(r2 + o), v2));
      yv = f64x2.add(yv, f64x2.mul(v128.load(r3 + o), v3));
      v128.store(y + o, yv);
    }
    if (j < n) {
      const o = <usize>j << 3;
      let yj = load<f64>(y + o);
      yj += load<f64>(r0 + o) * x0;
      yj += load<f64>(r1 + o) * x1;
      yj += load<f64>(r2 + o) * x2;
      yj += load<f64>(r3 + o) * x3;
      store<f64>(y + o, yj);
    }
  }
  for (; i < m; i++) {
    const xi = load<f64>(x + (<usize>i << 3));
    if (xi != 0) axpy(n, xi, A + <usize>i * rowBytes, y);
  }
}

/** A ← A + alpha·x yᵀ, A m×n row-major (bit-identical to the JS reference). */
export function ger(m: i32, n: i32, alpha: f64, x: usize, y: usize, A: usize): void {
  const rowBytes = <usize>n << 3;
  for (let i: i32 = 0; i < m; i++) {
    const a = alpha * load<f64>(x + (<usize>i << 3));
    if (a != 0) axpy(n, a, y, A + <usize>i * rowBytes);
  }
}

// ---------------------------------------------------------------------------------------------------
// gemm

/**
 * Packs alpha·op(A)[ic .. ic+mc, pc .. pc+kc) into MR-row panels: panel p holds, for each l, the MR
 * values of column l of rows p·MR .. p·MR+MR (rows past mc are zero). op(A)[i, l] is A[i·k + l], or
 * A[l·m + i] when transA (A stored k×m).
 */
function packA(transA: bool, m: i32, k: i32, A: usize, ic: i32, mc: i32, pc: i32, kc: i32, alpha: f64, pa: usize): void {
  for (let p: i32 = 0; p < mc; p += MR) {
    const rows = min(MR, mc - p);
    const dst = pa + (<usize>(p * kc) << 3);
    if (!transA) {
      for (let r: i32 = 0; r < MR; r++) {
        const d = dst + (<usize>r << 3);
        if (r < rows) {
          const src = A + (<usize>((ic + p + r) * k + pc) << 3);
          for (let l: i32 = 0; l < kc; l++) store<f64>(d + <usize>(l * MR) * 8, alpha * load<f64>(src + (<usize>l << 3)));
        } else {
          for (let l: i32 = 0; l < kc; l++) store<f64>(d + <usize>(l * MR) * 8, 0);
        }
      }
    } else {
      for (let l: i32 = 0; l < kc; l++) {
        const src = A + (<usize>((pc + l) * m + ic + p) << 3);
        const d = dst + <usize>(l * MR) * 8;
        for (let r: i32 = 0; r < MR; r++) store<f64>(d + (<usize>r << 3), r < rows ? alpha * load<f64>(src + (<usize>r << 3)) : 0);
      }
    }
  }
}

/**
 * Packs op(B)[pc .. pc+kc, jc .. jc+nc) into NR-column panels: panel q holds, for each l, the NR values
 * of row l in columns q·NR .. q·NR+NR (columns past nc are zero). op(B)[l, j] is B[l·n + j], or
 * B[j·k + l] when transB (B stored n×k).
 */
function packB(transB: bool, n: i32, k: i32, B: usize, pc: i32, kc: i32, jc: i32, nc: i32, pb: usize): void {
  for (let q: i32 = 0; q < nc; q += NR) {
    const cols = min(NR, nc - q);
    const dst = pb + (<usize>(q * kc) << 3);
    if (!transB) {
      const src0 = B + (<usize>(pc * n + jc + q) << 3);
      const ldb = <usize>n << 3;
      if (cols == NR) {
        for (let l: i32 = 0; l < kc; l++) {
          const src = src0 + <usize>l * ldb;
          const d = dst + <usize>(l * NR) * 8;
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
        }
      } else {
        for (let l: i32 = 0; l < kc; l++) {
          const src = src0 + <usize>l * ldb;
          const d = dst + <usize>(l * NR) * 8;
          for (let c: i32 = 0; c < NR; c++) store<f64>(d + (<usize>c << 3), c < cols ? load<f64>(src + (<usize>c << 3)) : 0);
        }
      }
    } else {
      for (let c: i32 = 0; c < NR; c++) {
        const d = dst + (<usize>c << 3);
        if (c < cols) {
          const src = B + (<usize>((jc + q + c) * k + pc) << 3);
          for (let l: i32 = 0; l < kc; l++) store<f64>(d + <usize>(l * NR) * 8, load<f64>(src + (<usize>l << 3)));
        } else {
          for (let l: i32 = 0; l < kc; l++) store<f64>(d + <usize>(l * NR) * 8, 0);
        }
      }
    }
  }
}

/** C tile (rows × cols of an MR × NR tile, row stride ldc bytes) += packed A panel × packed B panel. */
// @ts-ignore: decorator
@inline function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, rows: i32, cols: i32, tmp: usize): void {
  let c00 = f64x2.splat(0);
  let c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0);
  let c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0);
  let c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0);
  let c31 = f64x2.splat(0);
  let c40 = f64x2.splat(0);
  let c41 = f64x2.splat(0);
  let c50 = f64x2.splat(0);
  let c51 = f64x2.splat(0);
  let l: i32 = 0;
  // Two steps of l per iteration (a few % faster: fewer loop branches and pointer updates).
  for (; l + 2 <= kc; l += 2) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    c00 = f64x2.add(c00, f64x2.mul(a, b0));
    c01 = f64x2.add(c01, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 8);
    c10 = f64x2.add(c10, f64x2.mul(a, b0));
    c11 = f64x2.add(c11, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 16);
    c20 = f64x2.add(c20, f64x2.mul(a, b0));
    c21 = f64x2.add(c21, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 24);
    c30 = f64x2.add(c30, f64x2.mul(a, b0));
    c31 = f64x2.add(c31, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 32);
    c40 = f64x2.add(c40, f64x2.mul(a, b0));
    c41 = f64x2.add(c41, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 40);
    c50 = f64x2.add(c50, f64x2.mul(a, b0));
    c51 = f64x2.add(c51, f64x2.mul(a, b1));
    const e0 = v128.load(pb, 32);
    const e1 = v128.load(pb, 48);
    a = v128.load64_splat(pa, 48);
    c00 = f64x2.add(c00, f64x2.mul(a, e0));
    c01 = f64x2.add(c01, f64x2.mul(a, e1));
    a = v128.load64_splat(pa, 56);
    c10 = f64x2.add(c10, f64x2.mul(a, e0));
    c11 = f64x2.add(c11, f64x2.mul(a, e1));
    a = v128.load64_splat(pa, 64);
    c20 = f64x2.add(c20, f64x2.mul(a, e0));
    c21 = f64x2.add(c21, f64x2.mul(a, e1));
    a = v128.load64_splat(pa, 72);
    c30 = f64x2.add(c30, f64x2.mul(a, e0));
    c31 = f64x2.add(c31, f64x2.mul(a, e1));
    a = v128.load64_splat(pa, 80);
    c40 = f64x2.add(c40, f64x2.mul(a, e0));
    c41 = f64x2.add(c41, f64x2.mul(a, e1));
    a = v128.load64_splat(pa, 88);
    c50 = f64x2.add(c50, f64x2.mul(a, e0));
    c51 = f64x2.add(c51, f64x2.mul(a, e1));
    pa += 2 * MR * 8;
    pb += 2 * NR * 8;
  }
  for (; l < kc; l++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    c00 = f64x2.add(c00, f64x2.mul(a, b0));
    c01 = f64x2.add(c01, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 8);
    c10 = f64x2.add(c10, f64x2.mul(a, b0));
    c11 = f64x2.add(c11, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 16);
    c20 = f64x2.add(c20, f64x2.mul(a, b0));
    c21 = f64x2.add(c21, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 24);
    c30 = f64x2.add(c30, f64x2.mul(a, b0));
    c31 = f64x2.add(c31, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 32);
    c40 = f64x2.add(c40, f64x2.mul(a, b0));
    c41 = f64x2.add(c41, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 40);
    c50 = f64x2.add(c50, f64x2.mul(a, b0));
    c51 = f64x2.add(c51, f64x2.mul(a, b1));
    pa += MR * 8;
    pb += NR * 8;
  }
  if (rows == MR && cols == NR) {
    let p = c;
    v128.store(p, f64x2.add(v128.load(p), c00));
    v128.store(p, f64x2.add(v128.load(p, 16), c01), 16);
    p += ldc;
    v128.store(p, f64x2.add(v128.load(p), c10));
    v128.store(p, f64x2.add(v128.load(p, 16), c11), 16);
    p += ldc;
    v128.store(p, f64x2.add(v128.load(p), c20));
    v128.store(p, f64x2.add(v128.load(p, 16), c21), 16);
    p += ldc;
    v128.store(p, f64x2.add(v128.load(p), c30));
    v128.store(p, f64x2.add(v128.load(p, 16), c31), 16);
    p += ldc;
    v128.store(p, f64x2.add(v128.load(p), c40));
    v128.store(p, f64x2.add(v128.load(p, 16), c41), 16);
    p += ldc;
    v128.store(p, f64x2.add(v128.load(p), c50));
    v128.store(p, f64x2.add(v128.load(p, 16), c51), 16);
  } else {
    // Edge tile: spill the accumulators, add the part inside C.
    v128.store(tmp, c00);
    v128.store(tmp, c01, 16);
    v128.store(tmp, c10, 32);
    v128.store(tmp, c11, 48);
    v128.store(tmp, c20, 64);
    v128.store(tmp, c21, 80);
    v128.store(tmp, c30, 96);
    v128.store(tmp, c31, 112);
    v128.store(tmp, c40, 128);
    v128.store(tmp, c41, 144);
    v128.store(tmp, c50, 160);
    v128.store(tmp, c51, 176);
    for (let r: i32 = 0; r < rows; r++) {
      const p = c + <usize>r * ldc;
      const t = tmp + <usize>(r * NR) * 8;
      for (let j: i32 = 0; j < cols; j++) {
        const o = <usize>j << 3;
        store<f64>(p + o, load<f64>(p + o) + load<f64>(t + o));
      }
    }
  }
}

/**
 * C ← alpha·op(A)·op(B) + beta·C, C m×n row-major, op(A) m×k, op(B) k×n; transA reads A stored k×m,
 * transB reads B stored n×k. beta = 0 overwrites C whatever it held; alpha = 0 (or k = 0) only scales C.
 * `work` points at gemmWorkspaceBytes() bytes of scratch (16-byte aligned).
 */
export function gemm(transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f64, A: usize, B: usize, beta: f64, C: usize, work: usize): void {
  if (m <= 0 || n <= 0) return;
  const mn = m * n;
  if (beta == 0) memory.fill(C, 0, <usize>mn << 3);
  else if (beta != 1) scale(mn, beta, C);
  if (alpha == 0 || k <= 0) return;
  const pa = work;
  const pb = pa + (<usize>(MC * KC) << 3);
  const tmp = pb + (<usize>(KC * NC) << 3);
  const ldc = <usize>n << 3;
  const ta = transA != 0;
  const tb = transB != 0;
  // k in equal blocks of at most KC (784 = 4 × 196 rather than 3 × 256 + 16).
  const kBlocks = (k + KC - 1) / KC;
  const kcEven = (k + kBlocks - 1) / kBlocks;
  for (let jc: i32 = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc: i32 = 0; pc < k; pc += kcEven) {
      const kc = min(kcEven, k - pc);
      packB(tb, n, k, B, pc, kc, jc, nc, pb);
      for (let ic: i32 = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(ta, m, k, A, ic, mc, pc, kc, alpha, pa);
        for (let jr: i32 = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const bp = pb + (<usize>(jr * kc) << 3);
          const cc = C + <usize>(ic * n + jc + jr) * 8;
          for (let ir: i32 = 0; ir < mc; ir += MR) {
            microKernel(kc, pa + (<usize>(ir * kc) << 3), bp, cc + <usize>ir * ldc, ldc, min(MR, mc - ir), cols, tmp);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Elementwise kernels of the batched passes (src/linalg/kernels.ts: `relu` and `reluMask` both run
// `slope`; `linfStep`). Each performs exactly the IEEE operations of the JS reference loop in the same
// order, with the 0/1 selections as float64 lanes (a comparison mask ANDed with the bits of 1.0), so
// the results are bit-identical to it on every finite input and signed zero (a NaN stays a NaN; its
// sign bit is the CPU's). The arrays live in this module's memory (an arena:
// src/linalg/wasm/backend.ts), so nothing is copied.

/**
 * out_i ← x_i·(s + leak·(1 − s)) with s = [z_i > 0], over n entries (arrays may coincide): the leaky
 * ReLU with x = z (a = σ(z)), its derivative applied to the back-propagated g with x = out = g.
 */
export function slope(n: i32, z: usize, x: usize, out: usize, leak: f64): void {
  const one = f64x2.splat(1);
  const zero = f64x2.splat(0);
  const lk = f64x2.splat(leak);
  let j: i32 = 0;
  for (; j + 2 <= n; j += 2) {
    const off = <usize>j << 3;
    const s = v128.and(f64x2.gt(v128.load(z + off), zero), one);
    v128.store(out + off, f64x2.mul(v128.load(x + off), f64x2.add(s, f64x2.mul(lk, f64x2.sub(one, s)))));
  }
  if (j < n) {
    const off = <usize>j << 3;
    const s: f64 = load<f64>(z + off) > 0 ? 1 : 0;
    store<f64>(out + off, load<f64>(x + off) * (s + leak * (1 - s)));
  }
}

/**
 * One ℓ∞ PGD step over n entries: v = D + α·([G < 0] − [G > 0]), hi = [v > ε], lo = [v < −ε],
 * D ← v·(1 − hi − lo) + ε·hi − ε·lo, and P ← X + D when `points` is non-zero.
 */
export function linfStep(n: i32, G: usize, D: usize, P: usize, X: usize, alpha: f64, eps: f64, points: i32): void {
  const one = f64x2.splat(1);
  const zero = f64x2.splat(0);
  const av = f64x2.splat(alpha);
  const ev = f64x2.splat(eps);
  const nev = f64x2.splat(-eps);
  let j: i32 = 0;
  for (; j + 2 <= n; j += 2) {
    const off = <usize>j << 3;
    const g = v128.load(G + off);
    const sgn = f64x2.sub(v128.and(f64x2.lt(g, zero), one), v128.and(f64x2.gt(g, zero), one));
    const v = f64x2.add(v128.load(D + off), f64x2.mul(av, sgn));
    const hi = v128.and(f64x2.gt(v, ev), one);
    const lo = v128.and(f64x2.lt(v, nev), one);
    const w = f64x2.sub(f64x2.add(f64x2.mul(v, f64x2.sub(f64x2.sub(one, hi), lo)), f64x2.mul(ev, hi)), f64x2.mul(ev, lo));
    v128.store(D + off, w);
    if (points) v128.store(P + off, f64x2.add(v128.load(X + off), w));
  }
  if (j < n) {
    const off = <usize>j << 3;
    const g = load<f64>(G + off);
    const sgn: f64 = (g < 0 ? 1.0 : 0.0) - (g > 0 ? 1.0 : 0.0);
    const v = load<f64>(D + off) + alpha * sgn;
    const hi: f64 = v > eps ? 1 : 0;
    const lo: f64 = v < -eps ? 1 : 0;
    const w = v * (1 - hi - lo) + eps * hi - eps * lo;
    store<f64>(D + off, w);
    if (points) store<f64>(P + off, load<f64>(X + off) + w);
  }
}

/**
 * The window walk of im2col and its adjoint (src/linalg/kernels.ts, `convWindows`): for each
 * (c, u, v) a col row of count·H_o·W_o entries; entry b·H_o·W_o + i·W_o + j pairs with the image's
 * b·exStride + c·chStride + (i·s + u)·W + j·s + v (strides in float64 entries): copied into col, or
 * (adjoint) added onto the image, in the reference's order (the same sums).
 */
function convWindows(ci: i32, wi: i32, k: i32, s: i32, ho: i32, wo: i32, count: i32, img: usize, exStride: i32, chStride: i32, col: usize, adjoint: bool): void {
  const rowBytes = (<usize>count * <usize>ho * <usize>wo) << 3;
  let r = col;
  for (let c = 0; c < ci; c++) {
    for (let u = 0; u < k; u++) {
      for (let v = 0; v < k; v++) {
        let q = r;
        for (let b = 0; b < count; b++) {
          for (let i = 0; i < ho; i++) {
            const row = img + ((<usize>b * <usize>exStride + <usize>c * <usize>chStride + <usize>(i * s + u) * <usize>wi + <usize>v) << 3);
            if (s == 1) {
              let j = 0;
              if (adjoint) {
                for (; j + 2 <= wo; j += 2) {
                  const p = row + (<usize>j << 3);
                  v128.store(p, f64x2.add(v128.load(p), v128.load(q + (<usize>j << 3))));
                }
                if (j < wo) {
                  const p = row + (<usize>j << 3);
                  store<f64>(p, load<f64>(p) + load<f64>(q + (<usize>j << 3)));
                }
              } else {
                for (; j + 2 <= wo; j += 2) v128.store(q + (<usize>j << 3), v128.load(row + (<usize>j << 3)));
                if (j < wo) store<f64>(q + (<usize>j << 3), load<f64>(row + (<usize>j << 3)));
              }
            } else {
              for (let j = 0; j < wo; j++) {
                const p = row + (<usize>(j * s) << 3);
                const e = q + (<usize>j << 3);
                if (adjoint) store<f64>(p, load<f64>(p) + load<f64>(e));
                else store<f64>(e, load<f64>(p));
              }
            }
            q += <usize>wo << 3;
          }
        }
        r += rowBytes;
      }
    }
  }
}

/** im2col (`im2col`): the windows of `count` images copied into col. Pure copies. */
export function im2col(ci: i32, wi: i32, k: i32, s: i32, ho: i32, wo: i32, count: i32, src: usize, exStride: i32, chStride: i32, col: usize): void {
  convWindows(ci, wi, k, s, ho, wo, count, src, exStride, chStride, col, false);
}

/** Its adjoint (`col2im`): dst ← 0 over count·C_in·H·W entries, then every window of dcol added on. */
export function col2im(ci: i32, hi: i32, wi: i32, k: i32, s: i32, ho: i32, wo: i32, count: i32, dcol: usize, dst: usize, exStride: i32, chStride: i32): void {
  memory.fill(dst, 0, (<usize>count * <usize>ci * <usize>hi * <usize>wi) << 3);
  convWindows(ci, wi, k, s, ho, wo, count, dst, exStride, chStride, dcol, true);
}

/**
 * Max pooling (`maxPool`): over `planes` H_o×W_o planes at a, non-overlapping ps×ps windows; p ← the
 * maximum, arg ← its index (float64, relative to a, in entries). Strict `>` keeps the first maximal
 * entry, as a branch-free `select` (the same comparisons as the reference's `if`).
 */
export function maxPool(planes: i32, ho: i32, wo: i32, ps: i32, a: usize, p: usize, arg: usize): void {
  const hp = ho / ps;
  const wp = wo / ps;
  const nPos = ho * wo;
  let o: usize = 0;
  for (let c = 0; c < planes; c++) {
    for (let pi = 0; pi < hp; pi++) {
      for (let pj = 0; pj < wp; pj++) {
        const top = c * nPos + pi * ps * wo + pj * ps;
        let best = load<f64>(a + (<usize>top << 3));
        let at = top;
        for (let u = 0; u < ps; u++) {
          const row = top + u * wo;
          for (let v = 0; v < ps; v++) {
            const val = load<f64>(a + (<usize>(row + v) << 3));
            const gt = val > best;
            best = select<f64>(val, best, gt);
            at = select<i32>(row + v, at, gt);
          }
        }
        store<f64>(p + (o << 3), best);
        store<f64>(arg + (o << 3), <f64>at);
        o++;
      }
    }
  }
}
