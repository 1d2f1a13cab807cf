/**
 * WebAssembly SIMD backend for the `Kernels` interface (src/linalg/kernels.ts): the AssemblyScript
 * kernels of assembly/kernels.ts, embedded as base64 (./kernels-wasm.generated.ts), so it loads in Node
 * and in browsers without fs, fetch or a bundler plugin.
 *
 * Memory strategy. The operands are the callers' `Float64Array`s, which WebAssembly cannot address.
 * Each call above a size threshold copies its contiguous operand blocks into the instance's linear
 * memory (`TypedArray.set` of a subarray: a memcpy), runs there, and copies the outputs back; C is not
 * copied in when beta = 0, A of `ger` and y of `axpy`/`gemv` are copied both ways. Below the threshold
 * the call goes to `jsKernels`, where the call and copy overhead would cost more than SIMD saves (the
 * crossovers, {@link DEFAULT_THRESHOLDS}, are near 100 multiply-adds for every kernel). Copying runs at
 * memcpy speed (30–80 GB/s in cache, ~40 GB/s for a 6 MB matrix), O(size of the operands): about 5 % of
 * a gemm of the models' sizes (O(m·n·k) work on O(mk + kn + mn) data), but more than half of a large
 * gemv (O(m·n) work on O(m·n) data), which still runs 3–5× faster than JS with the copy. The memory
 * grows to the largest call seen and is then reused (no allocation per call); callers' arrays are never
 * retained. One instance is not re-entrant, which single-threaded JS never asks for; each worker
 * creates its own.
 *
 * Semantics are those of `jsKernels`: offsets, beta = 0 overwrites whatever y / C held (NaN included),
 * beta = 1 accumulates, alpha scales. Rounding: axpy, ger and gemvT are bit-identical to `jsKernels` on
 * finite data; dot, gemv and gemm sum in a different order (SIMD accumulators, k in blocks), so they
 * agree to rounding, and are deterministic (same inputs, same bits). Like BLAS, outputs must not overlap
 * inputs. `jsKernels` skips products with a zero factor (so 0·∞ never makes a NaN there); the wasm
 * kernels skip them only where the JS reference tests the same scalar (rows of ger, gemvT).
 */
import { elementwiseReference, jsKernels, setKernels, type CompleteKernels, type Kernels } from '../kernels.ts';
import { KERNELS_WASM_BASE64 } from './kernels-wasm.generated.ts';

/**
 * Where each kernel switches from `jsKernels` to WebAssembly: the work of a call (gemm m·n·k; gemv,
 * gemvT, ger m·n; dot, axpy n) at or above which the wasm path is taken. `Infinity` keeps a kernel in
 * JS; 0 always uses wasm. Measured with bench/kernels.bench.ts (docs/BENCHMARKS.md, "Kernel backends").
 */
export interface WasmKernelThresholds {
  readonly gemm: number;
  readonly gemv: number;
  readonly gemvT: number;
  readonly ger: number;
  readonly dot: number;
  readonly axpy: number;
}

/**
 * Crossovers measured on the development machine (Node 20, x86-64; `bench/kernels.bench.ts
 * --crossover`): the forced-wasm ÷ JS ratio passes 1 between 64 and 125 multiply-adds for every kernel.
 */
export const DEFAULT_THRESHOLDS: WasmKernelThresholds = Object.freeze({
  gemm: 128,
  gemv: 128,
  gemvT: 128,
  ger: 144,
  dot: 128,
  axpy: 128,
});

/** Options of {@link createWasmKernels}. */
export interface WasmKernelsOptions {
  /** Override some crossovers (e.g. all 0 to run every call in WebAssembly, as the tests do). */
  readonly thresholds?: Partial<WasmKernelThresholds>;
  /** Kernel-set name (default `'wasm'`). */
  readonly name?: string;
}

/** The WebAssembly kernels, with their crossovers. */
export interface WasmKernels extends CompleteKernels {
  readonly thresholds: WasmKernelThresholds;
  /** Bytes of linear memory the instance holds now (it grows to the largest call seen). */
  memoryBytes(): number;
}

// --- the minimal WebAssembly JS API used here (the project's TS libs do not declare it) -----------

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<WasmInstance>;
  validate(bytes: Uint8Array): boolean;
}

/** The exports of assembly/kernels.ts (pointers are byte offsets into `memory`). */
interface Exports {
  memory: WasmMemory;
  gemmWorkspaceBytes(): number;
  dot(n: number, x: number, y: number): number;
  axpy(n: number, a: number, x: number, y: number): void;
  gemv(m: number, n: number, A: number, x: number, y: number, beta: number): void;
  gemvT(m: number, n: number, A: number, x: number, y: number, beta: number): void;
  ger(m: number, n: number, alpha: number, x: number, y: number, A: number): void;
  gemm(transA: number, transB: number, m: number, n: number, k: number, alpha: number, A: number, B: number, beta: number, C: number, work: number): void;
  slope(n: number, z: number, x: number, out: number, leak: number): void;
  linfStep(n: number, G: number, D: number, P: number, X: number, alpha: number, eps: number, points: number): void;
  im2col(ci: number, wi: number, k: number, s: number, ho: number, wo: number, count: number, src: number, exStride: number, chStride: number, col: number): void;
  col2im(ci: number, hi: number, wi: number, k: number, s: number, ho: number, wo: number, count: number, dcol: number, dst: number, exStride: number, chStride: number): void;
  maxPool(planes: number, ho: number, wo: number, ps: number, a: number, p: number, arg: number): void;
}

const PAGE = 65536;

function webAssembly(): WebAssemblyApi {
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!api) throw new Error('WebAssembly is not available in this environment');
  return api;
}

let bytesCache: Uint8Array | undefined;

/** The module's bytes, decoded from base64 once (atob: Node ≥ 16 and browsers). */
function moduleBytes(): Uint8Array {
  if (!bytesCache) {
    const s = atob(KERNELS_WASM_BASE64);
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    bytesCache = b;
  }
  return bytesCache;
}

/** Whether this engine can run the module (WebAssembly with 128-bit SIMD). */
export function wasmKernelsSupported(): boolean {
  try {
    return webAssembly().validate(moduleBytes());
  } catch {
    return false;
  }
}

let moduleSync: object | undefined;
let modulePromise: Promise<object> | undefined;

function compileSync(): object {
  moduleSync ??= new (webAssembly().Module)(moduleBytes());
  return moduleSync;
}

function compileAsync(): Promise<object> {
  if (moduleSync) return Promise.resolve(moduleSync);
  modulePromise ??= webAssembly()
    .compile(moduleBytes())
    .then((m) => (moduleSync = m));
  return modulePromise;
}

/**
 * The WebAssembly kernels, compiled and instantiated asynchronously (works everywhere, including a
 * browser's main thread). Each call returns a new instance with its own memory; the compiled module is
 * cached.
 */
export async function createWasmKernels(options: WasmKernelsOptions = {}): Promise<WasmKernels> {
  const module = await compileAsync();
  return wrap((await webAssembly().instantiate(module, {})).exports as unknown as Exports, options);
}

/**
 * The same, synchronously: for Node and workers. Browsers have refused synchronous compilation on a
 * page's main thread above a size limit (Chrome: 4 KB; this module is 4.4 KB, KERNELS_WASM_BYTES).
 * Chromium 156 accepted it, but prefer {@link createWasmKernels} on a main thread.
 */
export function createWasmKernelsSync(options: WasmKernelsOptions = {}): WasmKernels {
  return wrap(new (webAssembly().Instance)(compileSync(), {}).exports as unknown as Exports, options);
}

/** Creates the WebAssembly kernels and installs them with `setKernels`. */
export async function useWasmKernels(options: WasmKernelsOptions = {}): Promise<void> {
  setKernels(await createWasmKernels(options));
}

/**
 * Arenas of `allocate`: each call gets its own instance of the module, whose memory is grown once to
 * hold the buffers and never again (growing would detach the views), keyed here by that memory's
 * ArrayBuffer so that the elementwise kernels find the instance of the arrays they are given.
 */
const arenas = new WeakMap<ArrayBuffer, Exports>();

/** Zeroed float64 buffers in one new instance's memory, each 16-byte aligned; null when that fails. */
function allocateArena(lengths: readonly number[]): Float64Array[] | null {
  let total = 0;
  for (const n of lengths) total += even(n);
  try {
    const ex = new (webAssembly().Instance)(compileSync(), {}).exports as unknown as Exports;
    const memory = ex.memory;
    const need = Math.ceil((total * 8) / PAGE) - memory.buffer.byteLength / PAGE;
    if (need > 0) memory.grow(need);
    const buffer = memory.buffer;
    arenas.set(buffer, ex);
    let at = 0;
    return lengths.map((n) => {
      const view = new Float64Array(buffer, at * 8, n);
      at += even(n);
      return view;
    });
  } catch {
    return null;
  }
}

/** The instance whose arena holds all of these arrays, else undefined. */
function arenaOf(a: Float64Array, b: Float64Array, c?: Float64Array, d?: Float64Array): Exports | undefined {
  const buffer = a.buffer;
  if (b.buffer !== buffer || (c !== undefined && c.buffer !== buffer) || (d !== undefined && d.buffer !== buffer)) return undefined;
  return arenas.get(buffer as ArrayBuffer);
}

/** Blocks shorter than this are copied in and out of the heap by a loop, longer ones by `set`. */
const COPY_BY_SET = 256;
/** Key of a cached view: offset·VIEW_KEY + length (exact below 2^53 for offsets below 2^26). */
const VIEW_KEY = 2 ** 27;

/** Views of callers' arrays for `set` copies: array → (offset·VIEW_KEY + length) → subarray. */
const callerViews = new WeakMap<Float64Array, Map<number, Float64Array>>();

/** src[off .. off+len) as a view, cached (no allocation after the first call with that block). */
function cachedView(src: Float64Array, off: number, len: number): Float64Array {
  let m = callerViews.get(src);
  if (m === undefined) callerViews.set(src, (m = new Map()));
  const key = off * VIEW_KEY + len;
  let v = m.get(key);
  if (v === undefined) m.set(key, (v = src.subarray(off, off + len)));
  return v;
}

/** Rounds a count of float64 up to an even number (16-byte alignment for v128 loads of the packing). */
function even(n: number): number {
  return n + (n & 1);
}

function wrap(ex: Exports, options: WasmKernelsOptions): WasmKernels {
  const th: WasmKernelThresholds = Object.freeze({ ...DEFAULT_THRESHOLDS, ...options.thresholds });
  const workDoubles = ex.gemmWorkspaceBytes() / 8;
  const memory = ex.memory;
  let heap = new Float64Array(memory.buffer);

  /** Makes the memory hold at least `doubles` float64; false if it cannot grow (then use JS). */
  function reserve(doubles: number): boolean {
    const bytes = doubles * 8;
    const have = memory.buffer.byteLength;
    if (bytes > have) {
      try {
        memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch {
        return false;
      }
    }
    // Growing replaces memory.buffer (the old one is detached): view the new one.
    if (heap.buffer !== memory.buffer) heap = new Float64Array(memory.buffer);
    return true;
  }

  // Copies without allocation in steady state: short blocks by a loop, longer ones by `set` (a memcpy)
  // from views cached per array, offset and length (the calls of a training step repeat the same few
  // shapes, so the caches stay small; a heap view cache is dropped when the memory grows).
  const heapViews = new Map<number, Float64Array>();
  let heapViewsOf: ArrayBufferLike = memory.buffer;

  /** Copies src[off .. off+len) into the heap at float64 index p. */
  function put(src: Float64Array, off: number, len: number, p: number): void {
    if (len < COPY_BY_SET) {
      for (let i = 0; i < len; i++) heap[p + i] = src[off + i];
      return;
    }
    heap.set(len === src.length && off === 0 ? src : cachedView(src, off, len), p);
  }

  /** Copies the heap's [p .. p+len) into dst at off. */
  function get(dst: Float64Array, off: number, len: number, p: number): void {
    if (len < COPY_BY_SET) {
      for (let i = 0; i < len; i++) dst[off + i] = heap[p + i];
      return;
    }
    if (heapViewsOf !== heap.buffer) {
      heapViews.clear();
      heapViewsOf = heap.buffer;
    }
    const key = p * VIEW_KEY + len;
    let v = heapViews.get(key);
    if (v === undefined) heapViews.set(key, (v = heap.subarray(p, p + len)));
    dst.set(v, off);
  }

  const ref = elementwiseReference;
  return {
    name: options.name ?? 'wasm',
    thresholds: th,
    memoryBytes: () => memory.buffer.byteLength,

    allocate(lengths) {
      return allocateArena(lengths) ?? ref.allocate(lengths);
    },

    relu(n, z, zo, a, ao, leak) {
      const ax = arenaOf(z, a);
      if (ax === undefined) return ref.relu(n, z, zo, a, ao, leak);
      ax.slope(n, z.byteOffset + zo * 8, z.byteOffset + zo * 8, a.byteOffset + ao * 8, leak);
    },

    reluMask(n, g, go, z, zo, leak) {
      const ax = arenaOf(g, z);
      if (ax === undefined) return ref.reluMask(n, g, go, z, zo, leak);
      const pg = g.byteOffset + go * 8;
      ax.slope(n, z.byteOffset + zo * 8, pg, pg, leak);
    },

    linfStep(n, G, go, D, dOff, P, po, X, xo, alpha, eps, points) {
      const ax = arenaOf(G, D, P, X);
      if (ax === undefined) return ref.linfStep(n, G, go, D, dOff, P, po, X, xo, alpha, eps, points);
      ax.linfStep(n, G.byteOffset + go * 8, D.byteOffset + dOff * 8, P.byteOffset + po * 8, X.byteOffset + xo * 8, alpha, eps, points ? 1 : 0);
    },

    im2col(g, count, src, so, exStride, chStride, col, colOff) {
      const ax = arenaOf(src, col);
      if (ax === undefined) return ref.im2col(g, count, src, so, exStride, chStride, col, colOff);
      ax.im2col(g.ci, g.wi, g.k, g.s, g.ho, g.wo, count, src.byteOffset + so * 8, exStride, chStride, col.byteOffset + colOff * 8);
    },

    col2im(g, count, dcol, dcolOff, dst, dOff, exStride, chStride) {
      const ax = arenaOf(dcol, dst);
      if (ax === undefined) return ref.col2im(g, count, dcol, dcolOff, dst, dOff, exStride, chStride);
      ax.col2im(g.ci, g.hi, g.wi, g.k, g.s, g.ho, g.wo, count, dcol.byteOffset + dcolOff * 8, dst.byteOffset + dOff * 8, exStride, chStride);
    },

    maxPool(planes, ho, wo, ps, a, aOff, p, pOff, arg, argOff) {
      const ax = arenaOf(a, p, arg);
      if (ax === undefined) return ref.maxPool(planes, ho, wo, ps, a, aOff, p, pOff, arg, argOff);
      ax.maxPool(planes, ho, wo, ps, a.byteOffset + aOff * 8, p.byteOffset + pOff * 8, arg.byteOffset + argOff * 8);
    },

    dot(n, x, xo, y, yo) {
      if (n < th.dot || n <= 0) return jsKernels.dot(n, x, xo, y, yo);
      const same = x === y && xo === yo;
      const px = 0;
      const py = same ? px : even(n);
      if (!reserve(py + n)) return jsKernels.dot(n, x, xo, y, yo);
      put(x, xo, n, px);
      if (!same) put(y, yo, n, py);
      return ex.dot(n, px * 8, py * 8);
    },

    axpy(n, a, x, xo, y, yo) {
      if (n < th.axpy || n <= 0) return jsKernels.axpy(n, a, x, xo, y, yo);
      const px = 0;
      const py = even(n);
      if (!reserve(py + n)) return jsKernels.axpy(n, a, x, xo, y, yo);
      put(x, xo, n, px);
      put(y, yo, n, py);
      ex.axpy(n, a, px * 8, py * 8);
      get(y, yo, n, py);
    },

    gemv(m, n, A, ao, x, xo, y, yo, beta) {
      if (m * n < th.gemv || m <= 0 || n <= 0) return jsKernels.gemv(m, n, A, ao, x, xo, y, yo, beta);
      const pA = 0;
      const px = even(m * n);
      const py = px + even(n);
      if (!reserve(py + m)) return jsKernels.gemv(m, n, A, ao, x, xo, y, yo, beta);
      put(A, ao, m * n, pA);
      put(x, xo, n, px);
      if (beta !== 0) put(y, yo, m, py);
      ex.gemv(m, n, pA * 8, px * 8, py * 8, beta);
      get(y, yo, m, py);
    },

    gemvT(m, n, A, ao, x, xo, y, yo, beta) {
      if (m * n < th.gemvT || m <= 0 || n <= 0) return jsKernels.gemvT(m, n, A, ao, x, xo, y, yo, beta);
      const pA = 0;
      const px = even(m * n);
      const py = px + even(m);
      if (!reserve(py + n)) return jsKernels.gemvT(m, n, A, ao, x, xo, y, yo, beta);
      put(A, ao, m * n, pA);
      put(x, xo, m, px);
      if (beta !== 0) put(y, yo, n, py);
      ex.gemvT(m, n, pA * 8, px * 8, py * 8, beta);
      get(y, yo, n, py);
    },

    ger(m, n, alpha, x, xo, y, yo, A, ao) {
      if (m * n < th.ger || m <= 0 || n <= 0 || alpha === 0) return jsKernels.ger(m, n, alpha, x, xo, y, yo, A, ao);
      const pA = 0;
      const px = even(m * n);
      const py = px + even(m);
      if (!reserve(py + n)) return jsKernels.ger(m, n, alpha, x, xo, y, yo, A, ao);
      put(A, ao, m * n, pA);
      put(x, xo, m, px);
      put(y, yo, n, py);
      ex.ger(m, n, alpha, px * 8, py * 8, pA * 8);
      get(A, ao, m * n, pA);
    },

    gemm(transA, transB, m, n, k, alpha, A, ao, B, bo, beta, C, co) {
      // alpha = 0 or k = 0 only scales C, which JS does without reading A and B.
      if (m * n * k < th.gemm || m <= 0 || n <= 0 || k <= 0 || alpha === 0)
        return jsKernels.gemm(transA, transB, m, n, k, alpha, A, ao, B, bo, beta, C, co);
      const pA = 0;
      const pB = even(m * k);
      const pC = pB + even(k * n);
      const pW = pC + even(m * n);
      if (!reserve(pW + workDoubles)) return jsKernels.gemm(transA, transB, m, n, k, alpha, A, ao, B, bo, beta, C, co);
      put(A, ao, m * k, pA);
      put(B, bo, k * n, pB);
      if (beta !== 0) put(C, co, m * n, pC);
      ex.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, pA * 8, pB * 8, beta, pC * 8, pW * 8);
      get(C, co, m * n, pC);
    },
  };
}
