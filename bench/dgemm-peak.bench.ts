/**
 * The ceiling of issue 12's MNIST table: OpenBLAS dgemm throughput on a large square product
 * (n = 1536, row-major, through the same koffi binding advbias uses), GFLOP/s, median of 7.
 * Usage: node --import tsx bench/dgemm-peak.bench.ts [--threads N] [--n 1536] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { jsKernels } from '../src/linalg/kernels.ts';
import { loadOpenblasKernels } from '../src/node/openblas.ts';

const args = process.argv.slice(2);
const opt = (name: string, d: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const threads = Number(opt('--threads', '1'));
const n = Number(opt('--n', '1536'));
const { kernels: k, reason } = loadOpenblasKernels({ fallback: jsKernels, threads });
if (!k) {
  console.error(`no OpenBLAS: ${reason}`);
  process.exit(2);
}
const A = Float64Array.from({ length: n * n }, (_, i) => Math.sin(i));
const B = Float64Array.from({ length: n * n }, (_, i) => Math.cos(i));
const C = new Float64Array(n * n);
k.gemm(false, false, n, n, n, 1, A, 0, B, 0, 0, C, 0);
const rates: number[] = [];
for (let r = 0; r < 7; r++) {
  const t0 = performance.now();
  k.gemm(false, false, n, n, n, 1, A, 0, B, 0, 0, C, 0);
  rates.push((2 * n ** 3) / ((performance.now() - t0) / 1000) / 1e9);
}
rates.sort((a, b) => a - b);
const result = { kernels: k.name, threads, n, gflops: rates[3], min: rates[0], max: rates[6] };
console.log(`dgemm ${n}³, ${k.name}: ${result.gflops.toFixed(1)} GFLOP/s [${result.min.toFixed(1)}–${result.max.toFixed(1)}]`);
const json = opt('--json', '');
if (json) writeFileSync(json, JSON.stringify(result));
