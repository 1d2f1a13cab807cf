/**
 * Kernel backends: wall time of gemm / gemv / gemvT / ger / dot, `jsKernels` against the WebAssembly
 * SIMD kernels (src/linalg/wasm/backend.ts), on the shapes this project meets (docs/BENCHMARKS.md,
 * "Kernel backends").
 *
 * The wasm timings include copying the operands into the module's memory and the result back (the
 * backend's memory strategy). Two wasm columns: `wasm` is the backend as installed (small calls go to
 * JS below the crossover), `wasm-only` forces WebAssembly for every call (thresholds 0).
 *
 * Per case and backend: warm-up, then REPEATS timed windows of about SECONDS each, the backends
 * interleaved within each repeat (this shared 2-core VM drifts); the median per call is reported.
 *
 * Usage: node --import tsx bench/kernels.bench.ts [--seconds S] [--repeats N] [--only SUBSTRING]
 *                                                  [--crossover] [--json FILE]
 *   --crossover  sweeps sizes around the crossovers instead (forced wasm against JS) and prints the
 *                ratio js ÷ wasm per size; the DEFAULT_THRESHOLDS of the backend come from this.
 * Timings never go into tests.
 */
import { cpus, platform, arch } from 'node:os';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { jsKernels, type Kernels } from '../src/linalg/kernels.ts';
import { createWasmKernelsSync, DEFAULT_THRESHOLDS } from '../src/linalg/wasm/backend.ts';
import { Rng } from '../src/linalg/rng.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
/** Seconds per timed window (short: the machine has 2 cores shared with other work). */
const SECONDS = Number(flag('--seconds') ?? 0.15);
const REPEATS = Number(flag('--repeats') ?? 5);
const ONLY = flag('--only');
const JSON_OUT = flag('--json');

const ALL_WASM = { gemm: 0, gemv: 0, gemvT: 0, ger: 0, dot: 0, axpy: 0 };
const backends: Record<string, Kernels> = {
  js: jsKernels,
  wasm: createWasmKernelsSync(),
  'wasm-only': createWasmKernelsSync({ thresholds: ALL_WASM, name: 'wasm-only' }),
};

const rng = new Rng(1);
const rand = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());

interface Case {
  readonly id: string;
  readonly what: string;
  /** Floating-point operations of one call (2 per multiply-add). */
  readonly flops: number;
  /** Makes one call of the kernel. */
  readonly make: (k: Kernels) => () => void;
}

/** C (m×n) ← op(A) op(B), beta = 0 (a forward / backward product). */
function gemmCase(id: string, what: string, ta: boolean, tb: boolean, m: number, n: number, k: number): Case {
  const A = rand(m * k);
  const B = rand(k * n);
  const C = new Float64Array(m * n);
  return { id, what, flops: 2 * m * n * k, make: (K) => () => K.gemm(ta, tb, m, n, k, 1, A, 0, B, 0, 0, C, 0) };
}

function gemvCase(id: string, what: string, trans: boolean, m: number, n: number): Case {
  const A = rand(m * n);
  const x = rand(trans ? m : n);
  const y = new Float64Array(trans ? n : m);
  return {
    id,
    what,
    flops: 2 * m * n,
    make: (K) => (trans ? () => K.gemvT(m, n, A, 0, x, 0, y, 0, 0) : () => K.gemv(m, n, A, 0, x, 0, y, 0, 0)),
  };
}

function gerCase(id: string, what: string, m: number, n: number): Case {
  const A = rand(m * n);
  const x = rand(m);
  const y = rand(n);
  return { id, what, flops: 2 * m * n, make: (K) => () => K.ger(m, n, 1e-9, x, 0, y, 0, A, 0) };
}

function axpyCase(n: number): Case {
  const x = rand(n);
  const y = rand(n);
  return { id: `axpy-${n}`, what: `axpy n=${n}`, flops: 2 * n, make: (K) => () => K.axpy(n, 1e-9, x, 0, y, 0) };
}

function dotCase(id: string, n: number): Case {
  const x = rand(n);
  const y = rand(n);
  let sink = 0;
  return { id, what: `dot n=${n}`, flops: 2 * n, make: (K) => () => void (sink += K.dot(n, x, 0, y, 0)) };
}

const CASES: Case[] = [
  // A 784 → 1024 layer on a batch of 80 (MNIST-sized): forward Z = X Wᵀ, backward ∇X = G W, ∇W = Gᵀ X.
  gemmCase('mnist-fwd', '80×784 · (1024×784)ᵀ: gemm(F,T) m=80 n=1024 k=784', false, true, 80, 1024, 784),
  gemmCase('mnist-dx', '80×1024 · 1024×784: gemm(F,F) m=80 n=784 k=1024', false, false, 80, 784, 1024),
  gemmCase('mnist-dw', '(80×1024)ᵀ · 80×784: gemm(T,F) m=1024 n=784 k=80', true, false, 1024, 784, 80),
  // 1024 → 64 layer, batch 80.
  gemmCase('hidden-fwd', '80×1024 · (64×1024)ᵀ: gemm(F,T) m=80 n=64 k=1024', false, true, 80, 64, 1024),
  gemmCase('hidden-nn', '80×1024 · 1024×64: gemm(F,F) m=80 n=64 k=1024', false, false, 80, 64, 1024),
  // The synthetic benchmark's first layer (n = 100 examples, d = 20, width 50), batched.
  gemmCase('synth-fwd', '100×20 · (50×20)ᵀ: gemm(F,T) m=100 n=50 k=20', false, true, 100, 50, 20),
  gemmCase('synth-nn', '100×20 · 20×50: gemm(F,F) m=100 n=50 k=20', false, false, 100, 50, 20),
  gemmCase('synth-dw', '(100×50)ᵀ · 100×20: gemm(T,F) m=50 n=20 k=100', true, false, 50, 20, 100),
  gemmCase('synth-tt', '(20×100)ᵀ · (50×20)ᵀ: gemm(T,T) m=100 n=50 k=20', true, true, 100, 50, 20),
  // Per-example matrix–vector products (what the models do today).
  gemvCase('gemv-mnist', 'gemv 1024×784 (W x)', false, 1024, 784),
  gemvCase('gemvT-mnist', 'gemvT 1024×784 (Wᵀ g)', true, 1024, 784),
  gerCase('ger-mnist', 'ger 1024×784 (W += g xᵀ)', 1024, 784),
  gemvCase('gemv-synth', 'gemv 50×20', false, 50, 20),
  gemvCase('gemvT-synth', 'gemvT 50×20', true, 50, 20),
  gerCase('ger-synth', 'ger 50×20', 50, 20),
  dotCase('dot-784', 784),
  dotCase('dot-20', 20),
];

/** Calls per timed window so that a window lasts about `seconds`. */
function calibrate(f: () => void, seconds: number): number {
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    const dt = (performance.now() - t0) / 1000;
    if (dt > seconds / 4 || reps > 1e8) return Math.max(1, Math.round((reps * seconds) / Math.max(dt, 1e-9)));
    reps *= 4;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median µs per call of each function, interleaved over REPEATS windows. */
function time(fs: Record<string, () => void>, seconds: number, repeats: number): Record<string, number> {
  const reps: Record<string, number> = {};
  for (const [name, f] of Object.entries(fs)) reps[name] = calibrate(f, seconds);
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(fs).map((n) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (const [name, f] of Object.entries(fs)) {
      const n = reps[name];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) f();
      samples[name].push(((performance.now() - t0) * 1000) / n);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([n, s]) => [n, median(s)]));
}

const fmt = (us: number): string => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2));

function header(): void {
  const cpu = cpus()[0]?.model ?? 'unknown';
  console.log(`## kernels — ${cpu} (${cpus().length} logical CPUs), ${platform()}-${arch()}, Node ${process.version}, single thread\n`);
}

function mainCases(): void {
  header();
  console.log(`thresholds: ${JSON.stringify(DEFAULT_THRESHOLDS)}; ${REPEATS} windows of ${SECONDS}s, medians\n`);
  console.log('| case | js µs | wasm µs | wasm-only µs | js ÷ wasm | wasm GFLOP/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const results = [];
  for (const c of CASES) {
    if (ONLY && !c.id.includes(ONLY)) continue;
    const fs = Object.fromEntries(Object.entries(backends).map(([n, K]) => [n, c.make(K)]));
    const t = time(fs, SECONDS, REPEATS);
    const speedup = t.js / t.wasm;
    console.log(`| ${c.what} | ${fmt(t.js)} | ${fmt(t.wasm)} | ${fmt(t['wasm-only'])} | ${speedup.toFixed(2)} | ${(c.flops / t.wasm / 1e3).toFixed(2)} |`);
    results.push({ id: c.id, what: c.what, flops: c.flops, usPerCall: t });
  }
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ cpu: cpus()[0]?.model, node: process.version, results }, null, 2));
}

/** js ÷ forced-wasm time per size: where the copy-in/out stops costing more than SIMD saves. */
function crossover(): void {
  header();
  const forced = backends['wasm-only'];
  const sweeps: { name: string; sizes: number[]; work: (s: number) => number; make: (s: number) => Case }[] = [
    { name: 'gemm s×s×s (F,F)', sizes: [3, 4, 5, 6, 7, 8, 12, 16, 32], work: (s) => s ** 3, make: (s) => gemmCase('', '', false, false, s, s, s) },
    { name: 'gemm s×s×s (F,T)', sizes: [3, 4, 5, 6, 7, 8, 12, 16, 32], work: (s) => s ** 3, make: (s) => gemmCase('', '', false, true, s, s, s) },
    { name: 'gemm 100×50×k (F,T), k = s', sizes: [1, 2, 3, 4, 8], work: (s) => 5000 * s, make: (s) => gemmCase('', '', false, true, 100, 50, s) },
    { name: 'gemv s×s', sizes: [6, 8, 10, 12, 16, 32, 64, 256, 784], work: (s) => s * s, make: (s) => gemvCase('', '', false, s, s) },
    { name: 'gemvT s×s', sizes: [6, 8, 10, 12, 16, 32, 64, 256, 784], work: (s) => s * s, make: (s) => gemvCase('', '', true, s, s) },
    { name: 'ger s×s', sizes: [6, 8, 10, 12, 16, 32, 64, 256, 784], work: (s) => s * s, make: (s) => gerCase('', '', s, s) },
    { name: 'dot n', sizes: [16, 32, 64, 96, 128, 192, 256, 1024, 4096], work: (s) => s, make: (s) => dotCase('', s) },
    { name: 'axpy n', sizes: [16, 32, 64, 96, 128, 192, 256, 1024, 4096], work: (s) => s, make: (s) => axpyCase(s) },
  ];
  for (const sw of sweeps) {
    if (ONLY && !sw.name.includes(ONLY)) continue;
    const cells: string[] = [];
    for (const s of sw.sizes) {
      const c = sw.make(s);
      const t = time({ js: c.make(jsKernels), wasm: c.make(forced) }, SECONDS / 3, 3);
      cells.push(`${s} (${sw.work(s)}): ${(t.js / t.wasm).toFixed(2)}`);
    }
    console.log(`${sw.name} — size (work): js ÷ wasm\n  ${cells.join(', ')}`);
  }
}

if (args.includes('--crossover')) crossover();
else mainCases();
