/**
 * Native OpenBLAS backend for the `Kernels` interface (src/linalg/kernels.ts), Node only: the system's
 * OpenBLAS (Debian: `apt-get install libopenblas0`), loaded when present through the `koffi` FFI (its
 * prebuilt addon ships in an npm package; nothing is downloaded or compiled). gemm, gemv, gemvT and ger
 * above a work threshold go to `cblas_dgemm`, `cblas_dgemv` and `cblas_dger` on the callers' own
 * `Float64Array`s (no copies: koffi passes the arrays' memory); everything smaller, and dot and axpy, go
 * to the fallback kernels (WebAssembly SIMD, else the plain-TypeScript reference).
 *
 * Threads: `openblas_set_num_threads(threads)` (default 1). OpenBLAS splits a product over rows and
 * columns of C, never over k, so each entry is summed in the same order: results are float64 and
 * deterministic for a fixed library build and thread count (test/node/openblas.test.ts checks 1 against
 * 2 threads). The kernel-set name records the library, its core and the thread count, e.g.
 * `openblas 0.3.21 Zen ×1`; `train` and `measure` write it into every result.
 *
 * `sphereUpdate` (the training step's θ̂ ← (θ̂ + c·g)/‖θ̂ + c·g‖) runs as dcopy, daxpy, ddot and dscal by
 * 1/r: vectorized, ~3× the step's own scalar loops on an MNIST-sized θ; it rounds differently (a
 * product by 1/r, a blocked sum), as every other kernel of another backend does.
 *
 * Offsets: a call at a non-zero offset passes a cached `subarray` view (one per array and offset, kept
 * in a WeakMap), so a training step allocates nothing after its first step.
 */
import { createRequire } from 'node:module';
import { elementwiseOf, type CompleteKernels, type Kernels } from '../linalg/kernels.ts';

/** Options of {@link loadOpenblasKernels}. */
export interface OpenblasOptions {
  /** OpenBLAS threads (≥ 1; default 1). */
  readonly threads?: number;
  /** Kernels for the calls below the thresholds, and for dot and axpy. */
  readonly fallback: Kernels;
  /** Library file names or paths to try, in order (default: $ADVBIAS_OPENBLAS, then the usual names). */
  readonly libraries?: readonly string[];
  /** Work (gemm m·n·k; gemv, gemvT, ger m·n) at or above which a call goes to OpenBLAS. */
  readonly thresholds?: Partial<OpenblasThresholds>;
}

/** Where each kernel switches from the fallback to OpenBLAS (multiply-adds per call). */
export interface OpenblasThresholds {
  readonly gemm: number;
  readonly gemv: number;
  readonly ger: number;
}

/**
 * A call into OpenBLAS through koffi costs ~0.3–0.5 µs. gemm: below ~4096 multiply-adds the fallback
 * wins or ties (bench/kernels.bench.ts). gemv, gemvT and ger: the WebAssembly fallback copies the
 * matrix in (and out, for ger) on every call, and OpenBLAS, which works on the arrays in place, is
 * faster from ~100 entries on (50×50: 0.9 against 1.5 µs per gemv, 1.2 against 1.9 µs per ger;
 * 20×20: 0.3 against 0.5 µs), which is what the small deep-linear nets' predictor path calls.
 */
export const OPENBLAS_THRESHOLDS: OpenblasThresholds = Object.freeze({ gemm: 4096, gemv: 128, ger: 128 });

/** The library names tried when none are given. */
export const OPENBLAS_LIBRARIES: readonly string[] = ['libopenblas.so.0', 'libopenblas.so', 'libopenblas.dylib', 'libopenblas.dll'];

/** The OpenBLAS kernels, with what was loaded. */
export interface OpenblasKernels extends CompleteKernels {
  /** The library file that was loaded. */
  readonly library: string;
  /** OpenBLAS threads in use. */
  readonly threads: number;
  /** `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64". */
  readonly config: string;
}

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

type Fn = (...args: unknown[]) => unknown;

/**
 * Loads OpenBLAS and returns its kernels, or null with the reason when koffi or the library is not
 * available (the caller falls back to WebAssembly). Throws only on a bad `threads`.
 */
export function loadOpenblasKernels(options: OpenblasOptions): { kernels: OpenblasKernels | null; reason: string } {
  const threads = options.threads ?? 1;
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > 256) throw new RangeError(`threads must be an integer in 1…256, got ${threads}`);
  let koffi: { load(path: string): { func(name: string, ret: string, args: string[]): Fn } };
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch (e) {
    return { kernels: null, reason: `the koffi FFI addon did not load (${(e as Error).message.split('\n')[0]})` };
  }
  const env = process.env.ADVBIAS_OPENBLAS;
  const names = options.libraries ?? (env ? [env] : OPENBLAS_LIBRARIES);
  let lib: ReturnType<typeof koffi.load> | null = null;
  let library = '';
  const tried: string[] = [];
  for (const name of names) {
    try {
      lib = koffi.load(name);
      library = name;
      break;
    } catch {
      tried.push(name);
    }
  }
  if (!lib) return { kernels: null, reason: `no OpenBLAS library found (tried ${tried.join(', ')}; Debian: apt-get install libopenblas0)` };
  let dgemm: Fn, dgemv: Fn, dger: Fn, ddot: Fn, daxpy: Fn, dscal: Fn, setThreads: Fn, getConfig: Fn, getCore: Fn;
  try {
    dgemm = lib.func('cblas_dgemm', 'void', ['int', 'int', 'int', 'int', 'int', 'int', 'double', 'double *', 'int', 'double *', 'int', 'double', 'double *', 'int']);
    dgemv = lib.func('cblas_dgemv', 'void', ['int', 'int', 'int', 'int', 'double', 'double *', 'int', 'double *', 'int', 'double', 'double *', 'int']);
    dger = lib.func('cblas_dger', 'void', ['int', 'int', 'int', 'double', 'double *', 'int', 'double *', 'int', 'double *', 'int']);
    ddot = lib.func('cblas_ddot', 'double', ['int', 'double *', 'int', 'double *', 'int']);
    daxpy = lib.func('cblas_daxpy', 'void', ['int', 'double', 'double *', 'int', 'double *', 'int']);
    dscal = lib.func('cblas_dscal', 'void', ['int', 'double', 'double *', 'int']);
    setThreads = lib.func('openblas_set_num_threads', 'void', ['int']);
    getConfig = lib.func('openblas_get_config', 'const char *', []);
    getCore = lib.func('openblas_get_corename', 'const char *', []);
  } catch (e) {
    return { kernels: null, reason: `${library} is not OpenBLAS with CBLAS (${(e as Error).message.split('\n')[0]})` };
  }
  setThreads(threads);
  const config = String(getConfig());
  const fb = options.fallback;
  const ew = elementwiseOf(fb);
  const th = { ...OPENBLAS_THRESHOLDS, ...options.thresholds };
  const views = new WeakMap<Float64Array, Map<number, Float64Array>>();
  const at = (a: Float64Array, offset: number): Float64Array => {
    if (offset === 0) return a;
    let m = views.get(a);
    if (!m) views.set(a, (m = new Map()));
    let v = m.get(offset);
    if (!v) m.set(offset, (v = a.subarray(offset)));
    return v;
  };
  const version = /OpenBLAS\s+(\S+)/.exec(config)?.[1] ?? '';
  const core = String(getCore() ?? '');
  const kernels: OpenblasKernels = {
    name: `openblas${version ? ` ${version}` : ''}${core ? ` ${core}` : ''} ×${threads}`,
    library,
    threads,
    config,
    // The elementwise kernels run where the fallback runs them (WebAssembly arenas: in place).
    allocate: (lengths) => ew.allocate(lengths),
    relu: (n, z, zo, a, ao, leak) => ew.relu(n, z, zo, a, ao, leak),
    reluMask: (n, g, go, z, zo, leak) => ew.reluMask(n, g, go, z, zo, leak),
    linfStep: (n, G, go, D, dOff, P, po, X, xo, alpha, eps, points) => ew.linfStep(n, G, go, D, dOff, P, po, X, xo, alpha, eps, points),
    im2col: (g, count, src, so, exStride, chStride, col, colOff) => ew.im2col(g, count, src, so, exStride, chStride, col, colOff),
    col2im: (g, count, dcol, dcolOff, dst, dOff, exStride, chStride) => ew.col2im(g, count, dcol, dcolOff, dst, dOff, exStride, chStride),
    maxPool: (planes, ho, wo, ps, a, aOff, p, pOff, arg, argOff) => ew.maxPool(planes, ho, wo, ps, a, aOff, p, pOff, arg, argOff),
    dot: (n, x, xo, y, yo) => fb.dot(n, x, xo, y, yo),
    axpy: (n, a, x, xo, y, yo) => fb.axpy(n, a, x, xo, y, yo),
    gemv(m, n, A, ao, x, xo, y, yo, beta) {
      if (m * n < th.gemv) return fb.gemv(m, n, A, ao, x, xo, y, yo, beta);
      dgemv(ROW_MAJOR, NO_TRANS, m, n, 1, at(A, ao), n, at(x, xo), 1, beta, at(y, yo), 1);
    },
    gemvT(m, n, A, ao, x, xo, y, yo, beta) {
      if (m * n < th.gemv) return fb.gemvT(m, n, A, ao, x, xo, y, yo, beta);
      dgemv(ROW_MAJOR, TRANS, m, n, 1, at(A, ao), n, at(x, xo), 1, beta, at(y, yo), 1);
    },
    ger(m, n, alpha, x, xo, y, yo, A, ao) {
      if (m * n < th.ger) return fb.ger(m, n, alpha, x, xo, y, yo, A, ao);
      dger(ROW_MAJOR, m, n, alpha, at(x, xo), 1, at(y, yo), 1, at(A, ao), n);
    },
    sphereUpdate(n, from, c, g, next) {
      if (next !== from) next.set(from.subarray(0, n));
      daxpy(n, c, g, 1, next, 1);
      const r = Math.sqrt(ddot(n, next, 1, next, 1) as number);
      if (r > 0 && Number.isFinite(r)) dscal(n, 1 / r, next, 1);
      return r;
    },
    gemm(transA, transB, m, n, k, alpha, A, ao, B, bo, beta, C, co) {
      if (m * n * k < th.gemm || m === 0 || n === 0) return fb.gemm(transA, transB, m, n, k, alpha, A, ao, B, bo, beta, C, co);
      dgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, at(A, ao), transA ? m : k, at(B, bo), transB ? k : n, beta, at(C, co), n);
    },
  };
  return { kernels: Object.freeze(kernels), reason: '' };
}
